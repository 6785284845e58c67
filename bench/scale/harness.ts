// Runs the real ingestBatch (functions/core/ingest.ts) as one Lambda container of a grid point would, on a
// simulated clock, and counts what it does through its ports: object store calls by kind, Glue API calls
// (the real GlueCatalog adapter against an in-process Glue endpoint, so its caches count too), warehouse
// inserts per table. Batches keep the shape of a full batch (which tables, partitions and hours it holds)
// with fewer rows per (table, partition) cell; the rows left out are added back as measured time per record.
import { encodeMskEvent, type MskEvent } from '../../functions/core/decode/msk-event.js';
import { DEFAULT_INGEST_CONFIG, ingestBatch, type IngestConfig, type IngestReport } from '../../functions/core/ingest.js';
import { inKeyRange, type Catalog, type ObjectStore, type Warehouse } from '../../functions/core/ports.js';
import { SchemaRegistry } from '../../functions/core/schema/registry.js';
import { GlueCatalog } from '../../functions/adapters/catalog/glue.js';
import type { FakeGlue } from '../../test/glue-endpoint.js';
import { rng } from '../../functions/cli/traffic.js';

export const HOUR = 3_600_000;
export const REGISTRY_TTL_MS = 30_000;

/** Request counts; S3 requests as the S3 adapter makes them (one request per put/putIfAbsent/get, LIST pages of 1,000). */
export class Counts {
  s3Put = 0;
  s3Get = 0;
  s3List = 0;
  lakeFiles = 0;
  lakeBytes = 0;
  glue = 0;
  inserts = 0;
  ingestLogInserts = 0;
  /** spool objects written (lakeWrites 'spool'), and their bytes */
  spools = 0;
  spoolBytes = 0;
  /** data-file inserts by table */
  readonly insertsByTable = new Map<string, number>();
  readonly filesByTable = new Map<string, number>();

  minus(o: Counts): Counts {
    const d = new Counts();
    for (const k of ['s3Put', 's3Get', 's3List', 'lakeFiles', 'lakeBytes', 'glue', 'inserts', 'ingestLogInserts', 'spools', 'spoolBytes'] as const) d[k] = this[k] - o[k];
    for (const [m, om, dm] of [[this.insertsByTable, o.insertsByTable, d.insertsByTable], [this.filesByTable, o.filesByTable, d.filesByTable]] as const) {
      for (const [t, n] of m) dm.set(t, n - (om.get(t) ?? 0));
    }
    return d;
  }

  copy(): Counts {
    return this.minus(new Counts());
  }
}

const bump = (m: Map<string, number>, k: string, n = 1): void => { m.set(k, (m.get(k) ?? 0) + n); };

/** An object store that keeps everything and counts requests as S3 bills them (DELETE is free). */
export function keepingStore(counts: () => Counts): ObjectStore & { objects: Map<string, Uint8Array> } {
  const objects = new Map<string, Uint8Array>();
  return {
    objects,
    async put(key, body) { counts().s3Put++; objects.set(key, body); },
    async putIfAbsent(key, body) { counts().s3Put++; if (objects.has(key)) return false; objects.set(key, body); return true; },
    async get(key) { counts().s3Get++; return objects.get(key); },
    async delete(keys) { for (const k of keys) objects.delete(k); },
    async list(prefix, range) {
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && inKeyRange(k, range)).sort();
      counts().s3List += Math.max(1, Math.ceil(keys.length / 1000));
      return keys;
    },
    uri: (key) => `s3://bench-lake/${key}`,
  };
}

/**
 * The object store: registry documents kept (the handler reads them back), data files counted and dropped
 * (every batch here is new, so a data file's conditional put is always a first write).
 */
export function countingStore(counts: () => Counts): ObjectStore & { readonly kept: Map<string, Uint8Array>; sample?: Uint8Array } {
  const kept = new Map<string, Uint8Array>();
  // spool objects are counted and dropped like lake files (the materializer's cost is measured on its own: scale/spool.ts)
  const keep = (key: string): boolean => !key.startsWith('lake/') && !key.startsWith('_spool/');
  const store: ObjectStore & { readonly kept: Map<string, Uint8Array>; sample?: Uint8Array } = {
    kept,
    async put(key, body) {
      counts().s3Put++;
      if (keep(key)) kept.set(key, body);
      else countFile(key, body);
    },
    async putIfAbsent(key, body) {
      counts().s3Put++;
      if (!keep(key)) { countFile(key, body); return true; }
      if (kept.has(key)) return false;
      kept.set(key, body);
      return true;
    },
    async get(key) { counts().s3Get++; return kept.get(key); },
    async delete() {},
    async list(prefix, range) {
      const keys = [...kept.keys()].filter((k) => k.startsWith(prefix) && inKeyRange(k, range)).sort();
      counts().s3List += Math.max(1, Math.ceil(keys.length / 1000));
      return keys;
    },
    uri: (key) => `s3://bench-lake/${key}`,
  };
  function countFile(key: string, body: Uint8Array): void {
    const c = counts();
    if (key.startsWith('_spool/')) { c.spools++; c.spoolBytes += body.byteLength; return; }
    const table = key.split('/')[1]!;
    c.lakeFiles++;
    c.lakeBytes += body.byteLength;
    bump(c.filesByTable, table);
    if (table === 'ev_00' && !store.sample) store.sample = body; // one real lake file for the ClickHouse parts run
  }
  return store;
}

/** Counts the inserts the handler makes; `inner` (chDB) receives them too when given. */
export function countingWarehouse(counts: () => Counts, inner?: Warehouse): Warehouse {
  return {
    database: inner?.database ?? 'tributary',
    async ensureTable(s) { await inner?.ensureTable(s); },
    async ensureQuarantineTable() { await inner?.ensureQuarantineTable(); },
    async insertParquet(table, columns, file, token) {
      const c = counts();
      c.inserts++;
      bump(c.insertsByTable, table);
      await inner?.insertParquet(table, columns, file, token);
    },
    async recordIngest(entries, token) { counts().ingestLogInserts++; await inner?.recordIngest(entries, token); },
    async query() { return []; },
    async replacePartition() {},
    async close() {},
  };
}

/** Zipf(1) weights over the event types: a few events carry most of the traffic, as in tracking. */
export function typeWeights(eventTypes: number): number[] {
  const raw = Array.from({ length: eventTypes }, (_, k) => 1 / (k + 1));
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / sum);
}

export const tableName = (k: number): string => `ev_${String(k).padStart(2, '0')}`;

const PAGES = ['/', '/search', '/product/42', '/cart', '/checkout', '/help'];

function envelope(k: number, id: string, ts: number, r: () => number): string {
  return JSON.stringify({
    event: tableName(k), event_id: id, ts: new Date(ts).toISOString(), user_id: `u${String(Math.floor(r() * 100_000)).padStart(6, '0')}`,
    properties: { page: PAGES[Math.floor(r() * PAGES.length)], position: Math.floor(r() * 1000), is_mobile: r() < 0.6, amount: Math.round(r() * 10_000) / 100 },
  });
}

/** Mean NDJSON bytes of an event and its share of the MSK payload (base64 value plus the record's JSON). */
export function recordSizes(): { ndjson: number; payload: number } {
  const r = rng(7);
  const values = Array.from({ length: 2000 }, (_, i) => Buffer.from(envelope(i % 5, `size-${i}`, Date.UTC(2026, 11, 6, 10), r)));
  const event = encodeMskEvent(values.map((value, i) => ({ topic: 'tracking', partition: i % 4, offset: 1_000_000 + i, timestamp: Date.UTC(2026, 11, 6, 10), key: Buffer.from(`u${i}`), value })));
  return { ndjson: values.reduce((n, v) => n + v.length + 1, 0) / values.length, payload: JSON.stringify(event).length / values.length };
}

function poisson(lambda: number, r: () => number): number {
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian(r)));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do { k++; p *= r(); } while (p > l);
  return k - 1;
}

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
}

export interface SampledBatch {
  readonly event: MskEvent;
  /** records the full batch would hold */
  readonly fullRecords: number;
  /** records actually in `event` */
  readonly records: number;
}

/**
 * A batch of the full batch's shape: for every (event type, partition) cell, a Poisson count of the full
 * batch's records; kept cells carry max(1, count × scale) records. Event times fall in the window before
 * `now`; offsets continue per partition.
 */
export function sampleBatch(o: {
  fullRecords: number; partitions: number; weights: readonly number[]; scale: number; now: number; windowMs: number;
  offsets: Map<number, number>; r: () => number; firstPartition: number; topic: string;
}): SampledBatch {
  const records: Array<{ topic: string; partition: number; offset: number; timestamp: number; key: Buffer; value: Buffer }> = [];
  let full = 0;
  for (let j = 0; j < o.partitions; j++) {
    const partition = o.firstPartition + j;
    for (let k = 0; k < o.weights.length; k++) {
      const c = poisson((o.fullRecords * o.weights[k]!) / o.partitions, o.r);
      if (c === 0) continue;
      full += c;
      const keep = Math.max(1, Math.round(c * o.scale));
      for (let i = 0; i < keep; i++) {
        const offset = o.offsets.get(partition) ?? 0;
        o.offsets.set(partition, offset + 1);
        const ts = o.now - Math.floor(o.r() * o.windowMs);
        records.push({ topic: o.topic, partition, offset, timestamp: ts, key: Buffer.from(`k${offset}`), value: Buffer.from(envelope(k, `${o.topic}-${partition}-${offset}`, ts, o.r)) });
      }
    }
  }
  records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  return { event: encodeMskEvent(records), fullRecords: full, records: records.length };
}

/** One Lambda container: its own registry cache, Glue client caches and warehouse connection, a shared store. */
export interface Container {
  /** `seconds`: the process's CPU time during the batch (the handler, the SDK clients, the in-process Glue stand-in) */
  ingest(event: MskEvent, now: number): Promise<{ seconds: number; report: IngestReport }>;
}

/** `counts` is read at each call: the caller switches it between the phases it measures. */
export function openContainer(o: { store: ObjectStore; glue: FakeGlue; counts: () => Counts; warehouse?: Warehouse; config?: Partial<IngestConfig> }): Container {
  let now = 0;
  const clock = (): number => now;
  const catalog: Catalog = new GlueCatalog(o.glue.client, 'tributary');
  const registry = new SchemaRegistry(o.store, { clock, ttlMs: REGISTRY_TTL_MS, adopt: (t) => catalog.getTable(t) });
  const deps = { store: o.store, catalog, warehouse: o.warehouse ?? countingWarehouse(o.counts), registry, clock, config: { ...DEFAULT_INGEST_CONFIG, piiSalt: 'bench', ...o.config } };
  return {
    async ingest(event, at) {
      now = at;
      const glueBefore = o.glue.calls.length;
      // CPU time, not wall time: on this shared machine wall time was up to 3× the CPU time between runs; the
      // network waits Lambda would bill are added by the model (bench/scale.bench.ts WAIT_MS).
      const cpu0 = process.cpuUsage();
      const report = await ingestBatch(event, deps);
      const cpu = process.cpuUsage(cpu0);
      const seconds = (cpu.user + cpu.system) / 1e6;
      o.counts().glue += o.glue.calls.length - glueBefore;
      return { seconds, report };
    },
  };
}
