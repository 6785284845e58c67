// ingestBatch and the registry, on in-memory ports: adoption of catalog tables, the catalog sync cache,
// and what the report says about schema changes.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalJsonCatalog } from '../../functions/adapters/catalog/local-json.js';
import { parseDeclaredSchema } from '../../functions/core/schema/declared-schema.js';
import { DEFAULT_INGEST_CONFIG, ingestBatch, type IngestDeps } from '../../functions/core/ingest.js';
import type { Catalog, IngestLogEntry } from '../../functions/core/ports.js';
import { SchemaRegistry } from '../../functions/core/schema/registry.js';
import { memoryStore, mskEvent, NOW, pageView, recordingWarehouse } from '../helpers.js';

/** A catalog that counts the calls made to it. */
function counting(inner: Catalog): Catalog & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    getTable: (t) => { calls.push(`getTable ${t}`); return inner.getTable(t); },
    upsertTable: (s, l) => { calls.push(`upsertTable ${s.table}`); return inner.upsertTable(s, l); },
    addPartitions: (t, p, l) => { calls.push(`addPartitions ${t}`); return inner.addPartitions(t, p, l); },
    listTables: () => inner.listTables(),
    listPartitions: (t) => inner.listPartitions(t),
    getPartitions: (t, p) => { calls.push(`getPartitions ${t}`); return inner.getPartitions(t, p); },
    switchPartition: (t, p, v, l) => inner.switchPartition(t, p, v, l),
    upsertDerivedTable: (t, l) => inner.upsertDerivedTable(t, l),
  };
}

function deps(catalog: Catalog, store = memoryStore()): IngestDeps {
  return { store, catalog, warehouse: recordingWarehouse(), registry: new SchemaRegistry(store, { clock: () => NOW }), clock: () => NOW };
}

describe('ingest with the schema registry', () => {
  it('adopts a table that the catalog has from before the registry, keeping its columns', async () => {
    const local = new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-adopt-')));
    await local.upsertTable({ ...parseDeclaredSchema('page_view', { properties: { page: { type: 'string' }, legacy: { type: 'integer' } } }), origin: 'inferred' }, 's3://b/lake/page_view/');
    const d = deps(local);
    const report = await ingestBatch(mskEvent([pageView('a', { legacy: '7' })]), d);
    assert.equal(report.stored, 1);
    assert.deepEqual(report.tablesCreated, []);
    const entry = (await d.registry.read('page_view'))!;
    assert.equal(entry.version, 1);
    assert.match(entry.history[0]!.change, /^adopted from the catalog/);
    assert.deepEqual(entry.fields.map((f) => `${f.name}:${f.type}:${f.source}`), ['page:string:catalog', 'legacy:int64:catalog']);
  });

  it('checks a schema file for a table only the catalog has against the catalog\'s columns', async () => {
    const local = new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-adopt-declared-')));
    const learnt = parseDeclaredSchema('page_view', { properties: { page: { type: 'string' }, legacy: { type: 'integer' }, other: { type: 'integer' } } });
    await local.upsertTable({ ...learnt, origin: 'inferred', properties: learnt.properties.map((c) => ({ ...c, origin: 'inferred' as const })) }, 's3://b/lake/page_view/');
    const file = (doc: object) => ({ declared: () => parseDeclaredSchema('page_view', doc), sourceOf: () => 'schema file page_view.json' });
    const store = memoryStore();
    const withFile = (doc: object): IngestDeps => ({
      ...deps(local, store), registry: new SchemaRegistry(store, { clock: () => NOW, declared: file(doc), adopt: (t) => local.getTable(t) }),
    });
    // legacy is int64 in the catalog (and its files): a file that makes it a string is refused.
    const refused = await ingestBatch(mskEvent([pageView('a', { legacy: 7 })]), withFile({ properties: { page: { type: 'string' }, legacy: { type: 'string' } } }));
    assert.match(refused.schemaProblems.join(), /legacy/);
    assert.equal((await local.getTable('page_view'))!.properties.find((c) => c.name === 'legacy')!.type, 'int64');
    // A compatible file applies on top of the catalog's columns, which keep their provenance.
    const applied = await ingestBatch(mskEvent([pageView('b', { legacy: 8 })], { firstOffset: 1 }), withFile({ properties: { page: { type: 'string', description: 'path' } } }));
    assert.deepEqual(applied.schemaProblems, []);
    const entry = (await new SchemaRegistry(store, { clock: () => NOW }).read('page_view'))!;
    assert.deepEqual(entry.fields.map((f) => `${f.name}:${f.type}:${f.source}`), ['page:string:catalog', 'legacy:int64:catalog', 'other:int64:catalog']);
  });

  it('does not count the columns it adopted from the catalog against the hourly new-column budget', async () => {
    const local = new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-adopt-budget-')));
    const legacy = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`legacy_${i}`, { type: 'integer' }]));
    const learnt = parseDeclaredSchema('page_view', { properties: { page: { type: 'string' }, ...legacy } });
    // Columns an earlier pipeline learnt from data: inferred, as the catalog's parameters say.
    await local.upsertTable({ ...learnt, origin: 'inferred', properties: learnt.properties.map((c) => ({ ...c, origin: 'inferred' as const })) }, 's3://b/lake/page_view/');
    const d = { ...deps(local), config: { maxNewColumnsPerHour: 5 } };
    assert.equal((await ingestBatch(mskEvent([pageView('a')]), d)).stored, 1);
    const next = await ingestBatch(mskEvent([pageView('b', { brand_new: 'x' })], { firstOffset: 1 }), d);
    assert.deepEqual([next.stored, next.quarantinedByReason], [1, {}]);
    assert.deepEqual(next.columnsAdded.map((c) => c.column), ['brand_new']);
  });

  it('a warm invocation makes no catalog call for a table and partition it has already synced', async () => {
    const catalog = counting(new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-warm-'))));
    const d = deps(catalog);
    await ingestBatch(mskEvent([pageView('a')]), d);
    // getPartitions: the events' hour has ended, so it may have been compacted (late rows go to its version),
    // and again after the write, in case a compaction switched it meanwhile.
    assert.deepEqual(catalog.calls, ['getTable page_view', 'getTable page_view', 'upsertTable page_view', 'getPartitions page_view', 'getPartitions page_view', 'addPartitions page_view']);
    catalog.calls.length = 0;
    await ingestBatch(mskEvent([pageView('b', {}, new Date(NOW - 60_000).toISOString())], { firstOffset: 1 }), d);
    // An open hour needs no partition lookup; addPartitions is the adapter's own cache (Glue keeps one).
    assert.deepEqual(catalog.calls, ['addPartitions page_view']);
    catalog.calls.length = 0;
    const evolved = await ingestBatch(mskEvent([pageView('c', { referrer: 'mail' }, new Date(NOW - 60_000).toISOString())], { firstOffset: 2 }), d);
    assert.deepEqual(evolved.columnsAdded, [{ table: 'page_view', column: 'referrer', type: 'string' }]);
    assert.deepEqual(catalog.calls, ['getTable page_view', 'upsertTable page_view', 'addPartitions page_view']);
  });

  it('sets up the tables a batch meets side by side, all before any file is written', async () => {
    // A catalog whose calls take a while, as Glue's round trips do: count how many are in flight at once.
    const local = new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-parallel-')));
    let inFlight = 0;
    let most = 0;
    const slow = <T>(call: () => Promise<T>): Promise<T> => {
      most = Math.max(most, ++inFlight);
      return new Promise((resolve) => setTimeout(resolve, 20)).then(call).finally(() => inFlight--);
    };
    const catalog: Catalog = { ...local, getTable: (t) => slow(() => local.getTable(t)), upsertTable: (sc, l) => slow(() => local.upsertTable(sc, l)),
      addPartitions: (t, p, l) => slow(() => local.addPartitions(t, p, l)), getPartitions: (t, p) => slow(() => local.getPartitions(t, p)),
      listTables: () => local.listTables(), listPartitions: (t) => local.listPartitions(t), switchPartition: (t, p, v, l) => local.switchPartition(t, p, v, l),
      upsertDerivedTable: (t, l) => local.upsertDerivedTable(t, l) };
    const store = memoryStore();
    const written: number[] = [];
    // catalog calls in flight at each conditional write (registry versions, data files): none
    const d = deps(catalog, { ...store, putIfAbsent: (k, b, o) => { written.push(inFlight); return store.putIfAbsent(k, b, o); } });
    const events = ['signup', 'login', 'logout', 'search'].map((e, i) => ({ event: e, event_id: `e${i}`, ts: new Date(NOW - 60_000).toISOString(), properties: { n: i } }));
    const report = await ingestBatch(mskEvent(events), d);
    assert.equal(report.stored, 4);
    assert.deepEqual(report.tablesCreated, ['login', 'logout', 'search', 'signup']);
    assert.ok(written.length >= 4 && written.every((n) => n === 0), `in flight at each write: ${written.join(', ')}`);
    assert.ok(most > 1, `catalog calls overlapped (at most ${most} at once)`);
    assert.ok(most <= DEFAULT_INGEST_CONFIG.concurrency, 'no more than the configured concurrency');
    assert.deepEqual(await local.listTables().then((t) => t.sort()), ['login', 'logout', 'search', 'signup']);
  });

  it('keeps a batch\'s ClickHouse inserts in flight together, up to insertConcurrency, one per table', async () => {
    // Inserts that take a while, as ClickHouse's round trips do: 40 tables in one batch.
    const warehouse = recordingWarehouse();
    let inFlight = 0;
    let most = 0;
    const insertParquet = warehouse.insertParquet.bind(warehouse);
    warehouse.insertParquet = async (t, c, f, token) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight--;
      return insertParquet(t, c, f, token);
    };
    const store = memoryStore();
    const d: IngestDeps = { ...deps(new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-inserts-'))), store), warehouse };
    const events = Array.from({ length: 40 }, (_, i) => ({ event: `ev_${String(i).padStart(2, '0')}`, event_id: `e${i}`, ts: new Date(NOW - 60_000).toISOString(), properties: { n: i } }));
    const report = await ingestBatch(mskEvent(events), { ...d, config: { ...DEFAULT_INGEST_CONFIG, lakeWrites: 'spool', maxNewTablesPerBatch: 40 } });
    assert.equal(report.stored, 40);
    assert.equal(warehouse.inserts.length, 40, 'one insert per table');
    assert.equal(most, DEFAULT_INGEST_CONFIG.insertConcurrency, `inserts in flight at once: ${most}`);
    assert.ok(most > DEFAULT_INGEST_CONFIG.concurrency, 'more inserts in flight than file writes');
    // and the bound holds when configured lower
    most = 0;
    warehouse.inserts.length = 0;
    await ingestBatch(mskEvent(events.map((e) => ({ ...e, event_id: `${e.event_id}b` })), { firstOffset: 40 }), { ...d, config: { ...DEFAULT_INGEST_CONFIG, lakeWrites: 'spool', insertConcurrency: 5 } });
    assert.equal(warehouse.inserts.length, 40);
    assert.equal(most, 5);
  });

  it('repairs a catalog that missed a registry change (a crash between the two)', async () => {
    const local = new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-repair-')));
    const store = memoryStore();
    await ingestBatch(mskEvent([pageView('a', { referrer: 'x' })]), deps(local, store));
    // The registry has referrer; this catalog's table lacks it, as if an invocation died after the registry write.
    const fresh = new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-repair2-')));
    await fresh.upsertTable({ ...(await local.getTable('page_view'))!, properties: [] }, 's3://test-bucket/lake/page_view/');
    // A new container (empty caches) over the same bucket and the damaged catalog re-applies the registry's schema.
    await ingestBatch(mskEvent([pageView('b')], { firstOffset: 1 }), deps(fresh, store));
    assert.deepEqual((await fresh.getTable('page_view'))!.properties.map((c) => c.name), ['page', 'referrer']);
  });

  it('reports an event named after an Object.prototype member like any other, without touching Object', async () => {
    const d = deps(new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-proto-'))));
    const ts = new Date(NOW - 60_000).toISOString();
    const report = await ingestBatch(mskEvent([{ event: 'constructor', event_id: 'c1', ts }, { event: 'constructor', event_id: 'c2', ts }, { event: 'valueOf', event_id: 'v1', ts }]), d);
    assert.equal(report.stored, 3);
    assert.deepEqual([...report.tables.keys()].sort(), ['constructor', 'value_of']);
    assert.equal(report.tables.get('constructor')!.rows, 2);
    assert.equal(report.tables.get('value_of')!.rows, 1);
    assert.equal(Object.prototype.hasOwnProperty.call(Object, 'rows'), false, 'the global Object was written to');
  });

  it('reports rows, files and freshness (now − event time, median and maximum) per table, and the batch key', async () => {
    const logged: Array<{ entries: readonly IngestLogEntry[]; token: string }> = [];
    const d = { ...deps(new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-report-')))), warehouse: { ...recordingWarehouse(), async recordIngest(entries: readonly IngestLogEntry[], token: string) { logged.push({ entries, token }); } } };
    const ago = (minutes: number): string => new Date(NOW - minutes * 60_000).toISOString();
    // Two partitions of page_view (lags 1, 2, 3, 50 and 70 min), one click (lag 5 min), one record quarantined.
    const report = await ingestBatch(mskEvent([
      pageView('a', {}, ago(3)), pageView('b', {}, ago(70)), pageView('c', {}, ago(1)), pageView('d', {}, ago(50)), pageView('e', {}, ago(2)),
      { event: 'click', event_id: 'k', ts: ago(5) }, 'not json',
    ], { firstOffset: 40 }), d);
    assert.equal(report.tables.get('page_view')!.rows, 5);
    assert.equal(report.tables.get('page_view')!.freshnessP50Ms, 3 * 60_000);
    assert.equal(report.tables.get('page_view')!.freshnessMaxMs, 70 * 60_000);
    assert.equal(report.tables.get('click')!.freshnessP50Ms, 5 * 60_000);
    assert.equal(report.tables.get('click')!.freshnessMaxMs, 5 * 60_000);
    assert.deepEqual(report.quarantinedByReason, { malformed_json: 1 });
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.token, 'ingest-log:tracking+0+40-46');
    const rowsBy = new Map<string, number>();
    for (const e of logged[0]!.entries) rowsBy.set(`${e.event}:${e.outcome}`, (rowsBy.get(`${e.event}:${e.outcome}`) ?? 0) + e.rows);
    assert.deepEqual(Object.fromEntries(rowsBy), { 'click:stored': 1, 'page_view:stored': 5, '_quarantine:quarantined': 1 });
    assert.equal(logged[0]!.entries.length, report.files.length + 1, 'one entry per file, the quarantine file included');
    assert.ok(logged[0]!.entries.every((e) => e.batch_key === 'tracking+0+40-46'));
  });

  it('bounds a table\'s columns in all, as well as per hour, and says which limit a record met', async () => {
    const d = { ...deps(new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-total-')))), config: { maxNewColumnsPerHour: 50, maxColumnsPerTable: 3 } };
    assert.equal((await ingestBatch(mskEvent([pageView('a', { a: 1, b: 2 })]), d)).stored, 1); // page, a, b
    const next = await ingestBatch(mskEvent([pageView('b', { c: 3 }), pageView('c', { a: 4 })], { firstOffset: 1 }), d);
    assert.deepEqual([next.stored, next.quarantinedByReason, next.columnsAdded], [1, { column_limit: 1 }, []]);
    const stored = await ingestBatch(mskEvent([pageView('d', { c: 3 })], { firstOffset: 3 }), { ...d, config: { maxColumnsPerTable: 4 } });
    assert.deepEqual(stored.columnsAdded.map((c) => c.column), ['c'], 'a higher limit lets the column in');
  });
});
