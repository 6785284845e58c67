// What one materializer run asks of S3 and Glue, per run and per table (docs/lake.md#spool-writes): the real
// materializeSpool over spools the real ingestBatch wrote, a counting object store and the real GlueCatalog
// against the in-process Glue endpoint, one catalog across runs as the warm Lambda container keeps it. With
// many tables, a run's requests beyond its data files must not grow with the tables: these counts fail if a
// per-table request (a GetTable, a lineage or log object, a partition lookup) comes back.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { GlueCatalog } from '../../functions/adapters/catalog/glue.js';
import { encodeMskEvent, type MskEvent } from '../../functions/core/decode/msk-event.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { materializeSpool } from '../../functions/core/lake/materialize.js';
import { tablePrefix } from '../../functions/core/lake/layout.js';
import type { ObjectStore } from '../../functions/core/ports.js';
import { SchemaRegistry } from '../../functions/core/schema/registry.js';
import { duckRows, tempParquet } from '../duckdb.js';
import { startFakeGlue, type FakeGlue } from '../glue-endpoint.js';
import { memoryStore, NOW, recordingWarehouse } from '../helpers.js';

/** Requests by kind; keys by what they are (a data file, the lineage, a manifest, the offsets, a spool). */
function countingStore(): ObjectStore & { objects: Map<string, Uint8Array>; ops: Map<string, number>; reset(): void } {
  const inner = memoryStore();
  const ops = new Map<string, number>();
  const kind = (key: string): string =>
    key.startsWith('_spool/') ? key.split('/').slice(0, 2).join('/').replace(/\.json$/, '') : key.startsWith('lake/_ingest_log/') ? 'lineage' : key.startsWith('lake/') ? 'data' : key.split('/')[0]!;
  const bump = (op: string, key: string): void => { const k = `${op} ${kind(key)}`; ops.set(k, (ops.get(k) ?? 0) + 1); };
  return {
    ...inner,
    ops,
    reset: () => ops.clear(),
    async put(key, body, o) { bump('PUT', key); await inner.put(key, body, o); },
    async putIfAbsent(key, body, o) { bump('PUT', key); return inner.putIfAbsent(key, body, o); },
    async get(key) { bump('GET', key); return inner.get(key); },
    async list(prefix, range) { bump('LIST', prefix); return inner.list(prefix, range); },
  };
}

const table = (k: number): string => `ev_${String(k).padStart(2, '0')}`;

/** One batch: `rows` records of every one of `tables` tables over `partitions` partitions, in the hour of `at`. */
function batch(tables: number, partitions: number, firstOffset: number, rows: number, at: number, n: (i: number) => number = (i) => i): MskEvent {
  const records = [];
  for (let p = 0; p < partitions; p++) {
    for (let i = 0; i < tables * rows; i++) {
      const offset = firstOffset + i;
      records.push({
        topic: 'tracking', partition: p, offset, timestamp: at, key: null,
        value: Buffer.from(JSON.stringify({ event: table(i % tables), event_id: `p${p}-o${offset}`, ts: new Date(at - 1000).toISOString(), properties: { n: n(offset), page: `/p${offset % 7}` } })),
      });
    }
  }
  return encodeMskEvent(records);
}

interface Deployment { store: ReturnType<typeof countingStore>; catalog: GlueCatalog; registry: SchemaRegistry; now: number; offset: number }

function deployment(glue: FakeGlue, database: string): Deployment {
  const store = countingStore();
  return { store, catalog: new GlueCatalog(glue.client, database), registry: new SchemaRegistry(store), now: NOW, offset: 0 };
}

async function spool(d: Deployment, tables: number, batches: number, n?: (i: number) => number): Promise<void> {
  for (let b = 0; b < batches; b++) {
    const event = batch(tables, 2, d.offset, 2, d.now, n);
    d.offset += tables * 2;
    await ingestBatch(event, { store: d.store, catalog: d.catalog, warehouse: recordingWarehouse(), registry: d.registry, clock: () => d.now, config: { sinks: { lake: true, warehouse: false }, lakeWrites: 'spool' } });
    d.now += 1000;
  }
}

/** One run's requests: the store's by kind, Glue's by operation. */
async function run(d: Deployment, glue: FakeGlue): Promise<{ s3: Record<string, number>; glue: Record<string, number>; files: number }> {
  d.store.reset();
  const from = glue.calls.length;
  const report = await materializeSpool({ store: d.store, catalog: d.catalog, clock: () => d.now, options: { owner: 'test' } });
  const ops: Record<string, number> = {};
  for (const c of glue.calls.slice(from)) ops[c.op] = (ops[c.op] ?? 0) + 1;
  return { s3: Object.fromEntries([...d.store.ops].sort()), glue: ops, files: report.manifests.reduce((n, m) => n + m.files.length, 0) };
}

describe('the materializer\'s requests per run', () => {
  // one Glue endpoint per test: the stand-in keys tables and partitions by name alone
  let glue: FakeGlue;
  beforeEach(async () => { glue = await startFakeGlue(); });
  afterEach(async () => { await glue.close(); });

  for (const tables of [3, 30]) {
    it(`${tables} tables, 4 spools, a warm container: a file per table, and beyond the files the same requests whatever the tables`, async () => {
      const d = deployment(glue, 'tributary');
      await spool(d, tables, 4);
      // the container's first run registers the hour's partitions (a BatchCreatePartition per table, once)
      // (more than 20 new tables in one batch: ingest quarantines the rest of the first batch, a file more)
      const first = await run(d, glue);
      assert.ok(first.files >= tables);
      await spool(d, tables, 4);
      const steady = await run(d, glue);
      assert.equal(steady.files, tables);
      assert.deepEqual(steady.s3, {
        // the data files: one per table (and hour), the data's own requests
        'PUT data': tables,
        // per run: the manifests' listing (before and after the claim), the pending spools' (before and after)
        'LIST _spool/manifests': 2, 'LIST _spool/pending': 2,
        // per manifest: claim, planned, consumed; the offsets read (before and after the claim, at the step) and written; one lineage object
        'PUT _spool/manifests': 3, 'GET _spool/offsets': 3, 'PUT _spool/offsets': 1, 'PUT lineage': 1,
        // per spool: its one read
        'GET _spool/pending': 4,
      });
      // the tables' columns in one GetTables; partitions known to the container: no call
      assert.deepEqual(steady.glue, { GetTables: 1 });
    });
  }

  it('a table widened by another writer between two runs: the next run writes the widened columns, and brings its known partition up to them', async () => {
    const d = deployment(glue, 'tributary');
    await spool(d, 2, 2);
    await run(d, glue);
    // The next batch spools `n` as an integer; then another ingest container widens `n` to double in the
    // catalog (it registers a column before it spools a row with it) and has not written its spool yet.
    await spool(d, 2, 2);
    const other = new GlueCatalog(glue.client, 'tributary');
    const current = (await other.getTable(table(0)))!;
    assert.equal(current.properties.find((c) => c.name === 'n')?.type, 'int64');
    await other.upsertTable({ ...current, properties: current.properties.map((c) => (c.name === 'n' ? { ...c, type: 'double' as const } : c)) }, d.store.uri(tablePrefix(table(0))));
    const widened = await run(d, glue);
    assert.equal(widened.files, 2);
    // the file has the table's columns as they are now, not as the container last saw them
    const files = [...d.store.objects.keys()].filter((k) => k.startsWith(`lake/${table(0)}/`) && k.endsWith('.parquet'));
    assert.equal(files.length, 2, `two files of ${table(0)}: ${files.join(', ')}`);
    const types = await Promise.all(files.map(async (k) => (await duckRows(`DESCRIBE SELECT n FROM read_parquet('${await tempParquet(d.store.objects.get(k)!)}')`))[0]!['column_type']));
    assert.deepEqual(types.sort(), ['BIGINT', 'DOUBLE'], 'the first run\'s file int64, the second\'s double');
    // and the partition the container knew is brought up to the widened columns (one GetTable, one update)
    assert.equal(widened.glue['BatchUpdatePartition'], 1);
    const partitions = glue.partitions.get(table(0)) ?? [];
    const types0 = partitions.map((p) => (p['StorageDescriptor']['Columns'] as Array<{ Name: string; Type: string }>).find((c) => c.Name === 'n')?.Type);
    assert.deepEqual(types0, ['double']);
  });
});
