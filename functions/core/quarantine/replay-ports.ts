// The ports a replay hands to ingestBatch: the same ones, with three differences that keep a replay from
// touching what earlier deliveries wrote, and that tell it which records were quarantined again.
//
// - The lake: a replay never overwrites an object. Its records are a subset of earlier batches, so a key
//   (named by offset ranges) may already hold another set of records, e.g. a quarantine file of records
//   3, 5 and 7 when only 3 and 7 are replayed. It writes beside it, `<name>~<digest>.parquet`, instead.
// - The quarantine's insert token also covers the rows' bytes (reason, detail, received_at): a record that
//   fails again, perhaps for another reason, is inserted again and `FINAL` shows its latest row, where the
//   token over positions alone would drop the row as a repeat of the first delivery's insert.
// - The ingest log's token likewise, with the file keys the lake really got.
import { createHash } from 'node:crypto';
import type { IngestDeps } from '../ingest.js';
import { LAKE_PREFIX, QUARANTINE_TABLE } from '../lake/layout.js';
import { parquetPositions } from '../parquet/lake-file.js';
import type { IngestLogEntry, ObjectStore, Warehouse } from '../ports.js';
import { formatRecordId } from './record-id.js';

const digest = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex').slice(0, 16);

const QUARANTINE_PREFIX = `${LAKE_PREFIX}/${QUARANTINE_TABLE}/`;

/** `<name>.parquet` → `<name>~<digest of the bytes>.parquet`: deterministic, so a retried replay rewrites its own file. */
export const besideKey = (key: string, body: Uint8Array): string => key.replace(/\.parquet$/, `~${digest(body)}.parquet`);

export interface ReplayTap {
  readonly deps: IngestDeps;
  /** ids (`topic:partition:offset`) of the records the batch quarantined again */
  requarantined(): Promise<Set<string>>;
}

export function replayPorts(deps: IngestDeps): ReplayTap {
  const inner = deps.store;
  const quarantined: Uint8Array[] = [];
  const movedTo = new Map<string, string>();
  const store: ObjectStore = {
    async put(key, body, options) {
      if (key.startsWith(QUARANTINE_PREFIX)) quarantined.push(body);
      if (!key.startsWith(`${LAKE_PREFIX}/`) || !key.endsWith('.parquet')) return inner.put(key, body, options);
      if (await inner.putIfAbsent(key, body, options)) return;
      const existing = await inner.get(key);
      if (existing && Buffer.compare(existing, body) === 0) return;
      const beside = besideKey(key, body);
      movedTo.set(key, beside);
      await inner.put(beside, body, options);
    },
    putIfAbsent: (key, body, options) => inner.putIfAbsent(key, body, options),
    get: (key) => inner.get(key),
    delete: (keys) => inner.delete(keys),
    list: (prefix, range) => inner.list(prefix, range),
    uri: (key) => inner.uri(key),
  };
  const w = deps.warehouse;
  const warehouse: Warehouse = {
    database: w.database,
    ensureTable: (schema) => w.ensureTable(schema),
    ensureQuarantineTable: () => w.ensureQuarantineTable(),
    async insertParquet(table, columns, file, token) {
      if (table !== QUARANTINE_TABLE) return w.insertParquet(table, columns, file, token);
      quarantined.push(file.bytes);
      return w.insertParquet(table, columns, file, `${token}~${digest(file.bytes)}`);
    },
    query: (sql, params) => w.query(sql, params),
    replacePartition: (table, orderBy, partition, file) => w.replacePartition(table, orderBy, partition, file),
    recordIngest(entries: readonly IngestLogEntry[], token: string) {
      const actual = entries.map((e) => (movedTo.has(e.file_key) ? { ...e, file_key: movedTo.get(e.file_key)! } : e));
      const outcome = actual.map((e) => `${e.file_key}\u0000${e.outcome}\u0000${e._topic}\u0000${e._partition}\u0000${e.rows}`).join('\n');
      return w.recordIngest(actual, `${token}~${digest(outcome)}`);
    },
    close: () => w.close(),
  };
  return {
    deps: { ...deps, store, warehouse },
    async requarantined() {
      const ids = new Set<string>();
      for (const body of quarantined) {
        const p = await parquetPositions(body);
        for (let i = 0; i < p.offsets.length; i++) ids.add(formatRecordId({ topic: p.topics[i]!, partition: p.partitions[i]!, offset: p.offsets[i]! }));
      }
      return ids;
    },
  };
}
