// Fault injection for the ingest path: an in-process stand-in for the event source mapping delivers
// batches to the real ingestBatch over the local adapters (directory lake, Glue-shaped catalog, chDB), while
// wrappers around those adapters inject the failures real deployments see. Afterwards (and after
// compaction) the lake and the ClickHouse dedup views must each hold exactly the distinct valid events,
// and every invalid record must be in quarantine.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalRuntime, PACKAGE_ROOT, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { rng } from '../../functions/cli/traffic.js';
import { compactClosedPartitions } from '../../functions/core/lake/compact-partition.js';
import { ingestBatch, type IngestDeps } from '../../functions/core/ingest.js';
import { encodeMskEvent } from '../../functions/core/decode/msk-event.js';
import type { Catalog, ObjectStore, Warehouse } from '../../functions/core/ports.js';

export const FAULT_KINDS = [
  'crash_after_parquet_write', 'crash_after_catalog_registration', 'crash_after_clickhouse_insert', 'crash_before_offset_commit',
  'object_store_5xx', 'object_store_throttling', 'clickhouse_unavailable', 'catalog_throttling', 'catalog_concurrent_modification',
  'duplicate_delivery', 'rebalance_new_boundaries', 'poison_record',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  readonly events: number;
  readonly partitions: number;
  /** every kind of fault is injected at least this many times */
  readonly faultsPerKind: number;
  readonly seed?: number;
  readonly home?: string;
  readonly log?: (line: string) => void;
}

export interface ChaosResult {
  readonly events: number;
  readonly validEvents: number;
  readonly distinctValid: number;
  readonly invalid: number;
  readonly invocations: number;
  readonly failedInvocations: number;
  readonly faults: Record<FaultKind, number>;
  readonly lake: { rows: number; lost: number; duplicated: number; unexpected: number };
  readonly clickhouse: { rows: number; lost: number; duplicated: number; unexpected: number };
  readonly quarantined: number;
  readonly quarantineMissing: number;
  readonly seconds: number;
}

class InjectedFault extends Error {
  override readonly name = 'InjectedFault';
  constructor(readonly kind: FaultKind, readonly $metadata?: { httpStatusCode: number }) { super(`injected: ${kind}`); }
}


interface Input {
  readonly topic: string;
  readonly partitions: Array<Array<{ offset: number; value: Buffer }>>;
  readonly expected: Map<string, Set<string>>;
  readonly poison: Set<string>;
}

/** Tracking events over three tables, with producer duplicates (same event_id resent) and poison records. */
function generate(o: ChaosOptions, random: () => number, hourStart: number): Input {
  const tables = ['page_view', 'click', 'signup'];
  const partitions: Input['partitions'] = Array.from({ length: o.partitions }, () => []);
  const expected = new Map(tables.map((t) => [t, new Set<string>()]));
  const poison = new Set<string>();
  const sent: Array<{ table: string; value: Buffer }> = [];
  for (let i = 0; i < o.events; i++) {
    const p = Math.floor(random() * o.partitions);
    const list = partitions[p]!;
    const offset = list.length;
    let value: Buffer;
    const r = random();
    if (r < 0.01 || i % 997 === 500) {
      value = Buffer.from(`{"event": "page_view", "event_id": "poison-${i}", "properties": {`); // truncated JSON
      poison.add(`${p}:${offset}`);
    } else if (r < 0.04 && sent.length > 0) {
      value = sent[Math.floor(random() * sent.length)]!.value; // the producer sent it again
    } else {
      const table = tables[i % tables.length]!;
      const id = `${table}-${i}`;
      const ts = hourStart + Math.floor(random() * 3_600_000);
      value = Buffer.from(JSON.stringify({ event: table, event_id: id, ts, user_id: `u${i % 500}`, properties: { n: i, label: `x${i % 7}` } }));
      expected.get(table)!.add(id);
      sent.push({ table, value });
    }
    list.push({ offset, value });
  }
  return { topic: 'chaos', partitions, expected, poison };
}

/** The fault plan: which invocation gets which fault, round-robin so every kind recurs. */
class Faults {
  readonly counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  private next = 0;
  current: FaultKind | undefined;
  clickhouseDownFor = 0;
  constructor(private readonly random: () => number) {}

  /** Every other invocation carries the next fault (so a retry can succeed and the run makes progress). */
  plan(invocation: number): void {
    const kinds = FAULT_KINDS.filter((k) => k !== 'poison_record');
    this.current = invocation % 2 === 0 ? kinds[this.next++ % kinds.length] : undefined;
    if (this.current === 'clickhouse_unavailable') this.clickhouseDownFor = 2 + Math.floor(this.random() * 4);
  }

  fire(kind: FaultKind, extra?: { httpStatusCode: number }): never {
    this.counts[kind]++;
    this.current = undefined; // one fault per invocation
    throw new InjectedFault(kind, extra);
  }
}

function faultBefore(f: Faults): void {
  if (f.current === 'object_store_5xx') f.fire('object_store_5xx', { httpStatusCode: 503 });
  if (f.current === 'object_store_throttling') f.fire('object_store_throttling', { httpStatusCode: 503 });
}

function faultAfter(f: Faults, key: string): void {
  if (f.current === 'crash_after_parquet_write' && key.startsWith('lake/') && !key.includes('_quarantine')) f.fire('crash_after_parquet_write');
}

function faultyStore(inner: ObjectStore, f: Faults): ObjectStore {
  return {
    uri: (k) => inner.uri(k),
    get: (k) => inner.get(k),
    list: (p, range) => inner.list(p, range),
    delete: (k) => inner.delete(k),
    // Both writes fail alike: a data file's first write is a conditional put, a changed one a plain put.
    async putIfAbsent(key, body, options) {
      faultBefore(f);
      const written = await inner.putIfAbsent(key, body, options);
      faultAfter(f, key);
      return written;
    },
    async put(key, body, options) {
      faultBefore(f);
      await inner.put(key, body, options);
      faultAfter(f, key);
    },
  };
}

function faultyCatalog(inner: Catalog, f: Faults): Catalog {
  return {
    getTable: (t) => inner.getTable(t),
    listTables: () => inner.listTables(),
    listPartitions: (t) => inner.listPartitions(t),
    async getPartitions(t, p) {
      // Ingest looks up the versions of closed hours (late data): a read Glue throttles under load.
      if (f.current === 'catalog_throttling') f.fire('catalog_throttling');
      return inner.getPartitions(t, p);
    },
    switchPartition: (t, p, v, l) => inner.switchPartition(t, p, v, l),
    upsertDerivedTable: (t, l) => inner.upsertDerivedTable(t, l),
    async upsertTable(schema, location) {
      if (f.current === 'catalog_concurrent_modification') f.fire('catalog_concurrent_modification');
      return inner.upsertTable(schema, location);
    },
    async addPartitions(t, parts, locationOf) {
      // Another writer updating the table at the same moment (Glue's ConcurrentModificationException).
      if (f.current === 'catalog_concurrent_modification') f.fire('catalog_concurrent_modification');
      await inner.addPartitions(t, parts, locationOf);
      if (f.current === 'crash_after_catalog_registration') f.fire('crash_after_catalog_registration');
    },
  };
}

function faultyWarehouse(inner: Warehouse, f: Faults): Warehouse {
  const down = (): void => {
    if (f.clickhouseDownFor > 0) {
      f.clickhouseDownFor--;
      f.counts.clickhouse_unavailable++;
      throw new InjectedFault('clickhouse_unavailable');
    }
  };
  return {
    database: inner.database,
    ensureTable: async (s) => { down(); return inner.ensureTable(s); },
    ensureQuarantineTable: async () => { down(); return inner.ensureQuarantineTable(); },
    query: (sql, params) => inner.query(sql, params),
    replacePartition: (t, o, p, file) => inner.replacePartition(t, o, p, file),
    recordIngest: async (e, t) => { down(); return inner.recordIngest(e, t); },
    close: () => inner.close(),
    async insertParquet(table, columns, file, token) {
      down();
      await inner.insertParquet(table, columns, file, token);
      if (f.current === 'crash_after_clickhouse_insert') f.fire('crash_after_clickhouse_insert');
    },
  };
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const started = performance.now();
  const log = o.log ?? (() => {});
  const random = rng(o.seed ?? 7);
  const hourStart = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000; // the previous hour: closed, compactable
  const input = generate(o, random, hourStart);
  const rt: LocalRuntime = await openLocalRuntime({ home: o.home ?? mkdtempSync(join(tmpdir(), 'tributary-chaos-')), schemasDir: join(PACKAGE_ROOT, 'test/chaos/no-schemas') });
  const faults = new Faults(random);
  faults.counts.poison_record = input.poison.size;
  const deps: IngestDeps = { ...rt.deps, store: faultyStore(rt.store, faults), catalog: faultyCatalog(rt.catalog, faults), warehouse: faultyWarehouse(rt.warehouse, faults) };

  // The event source mapping, simplified: per partition in offset order, a batch from the committed offset;
  // commit only after success; on failure retry, sometimes with other boundaries (a rebalance).
  const committed = input.partitions.map(() => 0);
  const batchSize = input.partitions.map(() => 50 + Math.floor(random() * 200));
  let invocations = 0;
  let failed = 0;
  const target = o.faultsPerKind;
  const enough = (): boolean => FAULT_KINDS.every((k) => faults.counts[k] >= target);
  let replays = 0;
  for (let round = 0; committed.some((c, p) => c < input.partitions[p]!.length); round++) {
    for (let p = 0; p < input.partitions.length; p++) {
      const records = input.partitions[p]!;
      if (committed[p]! >= records.length) continue;
      const batch = records.slice(committed[p]!, committed[p]! + batchSize[p]!);
      const event = encodeMskEvent(batch.map((r) => ({ topic: input.topic, partition: p, offset: r.offset, timestamp: hourStart, key: null, value: r.value })));
      // Keep injecting until every kind has its count, then let the run finish cleanly.
      if (!enough()) faults.plan(invocations); else faults.current = undefined;
      invocations++;
      try {
        await ingestBatch(event, deps);
      } catch (err) {
        if (!(err instanceof InjectedFault)) throw err;
        failed++;
        if (random() < 0.5) { batchSize[p] = 30 + Math.floor(random() * 250); faults.counts.rebalance_new_boundaries++; }
        continue;
      }
      if (faults.current === 'crash_before_offset_commit') { faults.counts.crash_before_offset_commit++; faults.current = undefined; continue; }
      if (faults.current === 'duplicate_delivery') {
        faults.counts.duplicate_delivery++;
        faults.current = undefined;
        invocations++;
        await ingestBatch(event, deps); // the same batch again, as after a lost acknowledgement
      }
      if (faults.current === 'rebalance_new_boundaries') {
        // A rebalance right after this batch: the next owner redelivers from an earlier offset, other boundaries.
        faults.counts.rebalance_new_boundaries++;
        faults.current = undefined;
        committed[p] = Math.max(0, committed[p]! + batch.length - Math.floor(batch.length / 2));
        batchSize[p] = 30 + Math.floor(random() * 250);
        continue;
      }
      committed[p]! += batch.length;
    }
    if (round % 20 === 0) log(`round ${round}: ${committed.reduce((a, b) => a + b, 0)}/${o.events} records committed, ${invocations} invocations, ${failed} failed`);
    if (!enough() && committed.every((c, p) => c >= input.partitions[p]!.length)) {
      // Not every fault has its count yet: replay the topic from the earliest offset (a consumer-group
      // offset reset), which must itself change nothing. A fault that never fires (its hook no longer
      // on the path it was meant for) must fail the run, not replay it forever.
      if (++replays > 20) throw new Error(`faults never injected after ${replays} replays: ${FAULT_KINDS.filter((k) => faults.counts[k] < target).join(', ')}`);
      log('replaying the topic from the earliest offset');
      committed.fill(0);
    }
  }

  // Compaction, then count what each view of the data holds.
  await compactClosedPartitions(rt.compaction(), { graceMs: 0 });
  await rt.refreshLakeViews();
  const compare = async (from: (table: string) => string): Promise<ChaosResult['lake']> => {
    let rows = 0; let lost = 0; let duplicated = 0; let unexpected = 0;
    for (const [table, ids] of input.expected) {
      const got = await rt.warehouse.query<{ event_id: string; n: string }>(`SELECT event_id, count() AS n FROM ${from(table)} GROUP BY event_id`);
      const seen = new Set<string>();
      for (const g of got) {
        rows += Number(g.n);
        if (Number(g.n) > 1) duplicated += Number(g.n) - 1;
        if (!ids.has(g.event_id)) unexpected++;
        seen.add(g.event_id);
      }
      for (const id of ids) if (!seen.has(id)) lost++;
    }
    return { rows, lost, duplicated, unexpected };
  };
  const lake = await compare((t) => `lake.${t}`);
  const clickhouse = await compare((t) => `tributary.${t}_dedup`);
  const quarantinedRows = await rt.warehouse.query<{ p: number; o: string }>(`SELECT DISTINCT _partition AS p, _offset AS o FROM tributary_ops._quarantine WHERE _topic = 'chaos'`);
  const inQuarantine = new Set(quarantinedRows.map((r) => `${r.p}:${r.o}`));
  const quarantineMissing = [...input.poison].filter((k) => !inQuarantine.has(k)).length;
  await rt.close();
  const validEvents = input.partitions.reduce((n, l) => n + l.length, 0) - input.poison.size;
  return {
    events: o.events, validEvents, distinctValid: [...input.expected.values()].reduce((n, s) => n + s.size, 0), invalid: input.poison.size,
    invocations, failedInvocations: failed, faults: faults.counts, lake, clickhouse,
    quarantined: inQuarantine.size, quarantineMissing, seconds: (performance.now() - started) / 1000,
  };
}

export function formatChaos(r: ChaosResult): string {
  const lost = r.lake.lost + r.clickhouse.lost + r.quarantineMissing;
  const duplicated = r.lake.duplicated + r.clickhouse.duplicated;
  return [
    `events ${r.events} (${r.distinctValid} distinct valid, ${r.validEvents - r.distinctValid} producer duplicates, ${r.invalid} poison) · ${r.invocations} invocations, ${r.failedInvocations} failed and retried · ${r.seconds.toFixed(1)} s`,
    'faults injected:',
    ...FAULT_KINDS.map((k) => `  ${k.padEnd(34)} ${r.faults[k]}`),
    `lake (after compaction): ${r.lake.rows} rows, lost ${r.lake.lost}, duplicated ${r.lake.duplicated}, unexpected ${r.lake.unexpected}`,
    `ClickHouse (<event>_dedup): ${r.clickhouse.rows} rows, lost ${r.clickhouse.lost}, duplicated ${r.clickhouse.duplicated}, unexpected ${r.clickhouse.unexpected}`,
    `quarantined: ${r.quarantined} records (${r.quarantineMissing} poison records missing)`,
    `lost ${lost} · duplicated ${duplicated}`,
  ].join('\n');
}
