// The two paths of the `split` topology: the lake path never calls the warehouse, the fresh path never
// writes a lake file or calls the catalog; both name the same rows the way the coupled path does, so a
// change of topology deduplicates against what was delivered before.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalJsonCatalog } from '../../functions/adapters/catalog/local-json.js';
import { ingestBatch, type IngestDeps, type Sinks } from '../../functions/core/ingest.js';
import type { Catalog, IngestLogEntry, Warehouse } from '../../functions/core/ports.js';
import { SchemaRegistry } from '../../functions/core/schema/registry.js';
import { memoryStore, mskEvent, NOW, pageView } from '../helpers.js';
import { lakeWritesSetting, readIngestEnvironment } from '../../functions/adapters/environment.js';
import { INGEST_SERVICES, ingestServiceName } from '../../functions/adapters/telemetry.js';

/** Every call a port gets, by method name. */
function spy<T extends object>(inner: T, calls: string[], name: string): T {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => { calls.push(`${name}.${String(prop)}`); return (v as (...a: unknown[]) => unknown).apply(target, args); };
    },
  });
}

interface Insert { table: string; key: string; token: string }

function warehouse(inserts: Insert[], logs: IngestLogEntry[][]): Warehouse {
  return {
    database: 'tributary',
    async ensureTable() {}, async ensureQuarantineTable() {},
    async insertParquet(table, _columns, file, token) { inserts.push({ table, key: file.key, token }); },
    async recordIngest(entries) { logs.push([...entries]); },
    async query() { return []; }, async replacePartition() {}, async close() {},
  };
}

const ago = (minutes: number): string => new Date(NOW - minutes * 60_000).toISOString();

/** A batch over two partitions and two hours, with a quarantined record. */
function batch() {
  const p0 = mskEvent([pageView('a', {}, ago(5)), pageView('b', {}, ago(65)), { event: 'click', event_id: 'k', ts: ago(5) }, 'not json'], { partition: 0 });
  const p1 = mskEvent([pageView('c', {}, ago(5)), pageView('d', {}, ago(65))], { partition: 1 });
  return { ...p0, records: { ...p0.records, ...p1.records } };
}

async function run(sinks: Sinks, lakeWrites: 'direct' | 'spool' = 'direct') {
  const calls: string[] = [];
  const inserts: Insert[] = [];
  const logs: IngestLogEntry[][] = [];
  const store = memoryStore();
  const catalog: Catalog = new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-sinks-')));
  const deps: IngestDeps = {
    store: spy(store, calls, 'store'), catalog: spy(catalog, calls, 'catalog'), warehouse: spy(warehouse(inserts, logs), calls, 'warehouse'),
    registry: new SchemaRegistry(store, { clock: () => NOW }), clock: () => NOW, config: { sinks, lakeWrites },
  };
  const report = await ingestBatch(batch(), deps);
  const lakeKeys = [...store.objects.keys()].filter((k) => k.startsWith('lake/')).sort();
  return { calls, inserts, logs, report, lakeKeys, storeKeys: [...store.objects.keys()] };
}

describe('ingest sinks', () => {
  it('coupled: one lake file per (table, hour) for every partition, one insert per table and one for the quarantine', async () => {
    const r = await run({ lake: true, warehouse: true });
    assert.equal(r.report.stored, 5);
    assert.equal(r.report.quarantined, 1);
    assert.deepEqual(r.lakeKeys.map((k) => k.replace(/dt=[^/]+\/hour=\d+/, 'dt/hour').replace(/[0-9a-f]{8}-[0-9a-f]{8}/, 'D')),
      ['lake/_quarantine/dt/hour/tracking+0+3-3.parquet', 'lake/click/dt/hour/tracking+0+2-2.parquet', 'lake/page_view/dt/hour/tracking+2p+D.parquet', 'lake/page_view/dt/hour/tracking+2p+D.parquet']);
    assert.deepEqual(r.inserts.map((i) => i.table).sort(), ['_quarantine', 'click', 'page_view']);
    assert.equal(r.report.inserts, 3);
    assert.equal(r.logs.length, 1);
    assert.equal(r.logs[0]!.filter((e) => e.event === 'page_view').length, 4, 'two files × two partitions');
  });

  it('lake path: files, catalog and quarantine files; not one warehouse call', async () => {
    const r = await run({ lake: true, warehouse: false });
    assert.deepEqual(r.calls.filter((c) => c.startsWith('warehouse.')), []);
    assert.equal(r.lakeKeys.length, 4);
    assert.equal(r.report.stored, 5);
    assert.equal(r.report.inserts, 0);
    assert.ok(r.calls.includes('catalog.addPartitions'));
  });

  it('fresh path: the warehouse only; no lake object, no catalog call; the same rows named as the coupled path names them', async () => {
    const fresh = await run({ lake: false, warehouse: true });
    assert.deepEqual(fresh.calls.filter((c) => c.startsWith('catalog.')), []);
    assert.deepEqual(fresh.lakeKeys, []);
    assert.ok(fresh.storeKeys.every((k) => k.startsWith('_registry/')), fresh.storeKeys.join(', '));
    assert.deepEqual(fresh.report.files, []);
    assert.equal(fresh.report.stored, 5);
    const coupled = await run({ lake: true, warehouse: true });
    const tokens = (r: { inserts: Insert[] }): string[] => r.inserts.map((i) => i.token).sort();
    assert.deepEqual(tokens(fresh), tokens(coupled), 'a switch of topology deduplicates against earlier deliveries');
    const lineage = (r: { logs: IngestLogEntry[][] }) => r.logs[0]!.map((e) => `${e.file_key} ${e._partition} ${e.rows}`).sort();
    assert.deepEqual(lineage(fresh), lineage(coupled));
  });

  it('lake path spooling: one store write for the whole batch (quarantine included), no partition registered, no warehouse call', async () => {
    const r = await run({ lake: true, warehouse: false }, 'spool');
    const writes = r.calls.filter((c) => c === 'store.put' || c === 'store.putIfAbsent');
    assert.deepEqual(writes, ['store.putIfAbsent'], r.calls.join(', ')); // the registry has its own (unspied) store handle
    assert.deepEqual(r.lakeKeys, []);
    assert.equal(r.storeKeys.filter((k) => k.startsWith('_spool/pending/')).length, 1);
    assert.ok(!r.calls.includes('catalog.addPartitions'));
    assert.deepEqual(r.calls.filter((c) => c.startsWith('warehouse.')), []);
    assert.equal(r.report.stored, 5);
    assert.equal(r.report.quarantined, 1);
    assert.match(r.report.spool?.key ?? '', /^_spool\/pending\//);
  });

  it('TRIBUTARY_LAKE_WRITES: direct by default, spool when asked, anything else refused with the two choices; never on the fresh path', () => {
    const base = { TRIBUTARY_BUCKET: 'b', TRIBUTARY_GLUE_DATABASE: 'g', TRIBUTARY_PII_SALT: 's', TRIBUTARY_SINKS: 'lake' };
    assert.equal(readIngestEnvironment(base).lakeWrites, 'direct');
    assert.equal(readIngestEnvironment({ ...base, TRIBUTARY_LAKE_WRITES: 'spool' }).lakeWrites, 'spool');
    assert.throws(() => readIngestEnvironment({ ...base, TRIBUTARY_LAKE_WRITES: 'spooled' }), /TRIBUTARY_LAKE_WRITES must be direct .* or spool .*got "spooled"/);
    assert.throws(() => readIngestEnvironment({ TRIBUTARY_BUCKET: 'b', TRIBUTARY_PII_SALT: 's', TRIBUTARY_SINKS: 'clickhouse', CLICKHOUSE_URL: 'http://x', TRIBUTARY_LAKE_WRITES: 'spool' }), /TRIBUTARY_LAKE_WRITES is set, but TRIBUTARY_SINKS=clickhouse never reads it/);
    const problems: string[] = [];
    assert.equal(lakeWritesSetting('', problems), 'direct');
    assert.deepEqual(problems, []);
  });

  it('each path publishes its metrics under its own service, so split does not count a table twice', () => {
    assert.equal(ingestServiceName(undefined), 'tributary-ingest');
    assert.equal(ingestServiceName('lake,clickhouse'), 'tributary-ingest');
    assert.equal(ingestServiceName('lake'), 'tributary-ingest-lake');
    assert.equal(ingestServiceName('clickhouse'), 'tributary-ingest-fresh');
    assert.equal(new Set(Object.values(INGEST_SERVICES)).size, 3);
  });

  it('refuses a configuration with no sink', async () => {
    await assert.rejects(run({ lake: false, warehouse: false }), /at least one sink/);
  });
});
