// The two topologies on the local stand-ins (directory lake, Glue-shaped catalog, chDB), side by side:
// `coupled` (one function, both sinks) and `split` (the same batches delivered once to a lake-path function
// and once to a fresh-path function, as two event source mappings with their own consumer groups would).
// Each topology is its own deployment: its own lake directory, catalog and registry, and its own ClickHouse
// database in the one chDB this process may open, so their results compare one to one.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { LocalJsonCatalog } from '../../functions/adapters/catalog/local-json.js';
import { DuckDbCompactionEngine } from '../../functions/adapters/compaction/duckdb-engine.js';
import { LocalDirectoryStore } from '../../functions/adapters/object-store/local-directory.js';
import { ClickHouseWarehouse, type ParquetInserter } from '../../functions/adapters/warehouse/clickhouse.js';
import { openLocalRuntime, PACKAGE_ROOT, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { encodeMskEvent, type MskEvent } from '../../functions/core/decode/msk-event.js';
import { quoteIdentifier, quoteString } from '../../functions/core/identifiers.js';
import { compactClosedPartitions } from '../../functions/core/lake/compact-partition.js';
import { ingestBatch, type IngestDeps, type Sinks } from '../../functions/core/ingest.js';
import type { Catalog, Warehouse } from '../../functions/core/ports.js';
import { SchemaRegistry } from '../../functions/core/schema/registry.js';
import { qualified } from '../../functions/core/warehouse/clickhouse-ddl.js';
import { NOW } from '../helpers.js';

type Topology = 'coupled' | 'split';

/** One deployment: its lake, catalog, registry and ClickHouse database. */
interface Site {
  readonly topology: Topology;
  readonly home: string;
  readonly store: LocalDirectoryStore;
  readonly catalog: LocalJsonCatalog;
  readonly registry: SchemaRegistry;
  readonly warehouse: ClickHouseWarehouse;
}

let rt: LocalRuntime;
let now = NOW;
const sites = new Map<Topology, Site>();

before(async () => {
  const home = mkdtempSync(join(tmpdir(), 'tributary-topology-'));
  rt = await openLocalRuntime({ home: join(home, 'coupled'), schemasDir: join(PACKAGE_ROOT, 'schemas/events'), clock: () => now });
  sites.set('coupled', { topology: 'coupled', home: rt.home, store: rt.store, catalog: rt.catalog, registry: rt.registry, warehouse: rt.warehouse });
  // The split deployment: another directory, and the database `split` in the same chDB. chDB's client
  // connection passes insert bodies as text, so Parquet goes in through file(), as the local runtime does.
  const splitHome = join(home, 'split');
  mkdirSync(join(splitHome, 'scratch'), { recursive: true });
  const insertParquet: ParquetInserter = async (client, i) => {
    const file = join(splitHome, 'scratch', `${randomUUID()}.parquet`);
    writeFileSync(file, i.file.bytes);
    const cols = i.columns.map((c) => quoteIdentifier(c.name)).join(', ');
    try {
      await client.command({
        query: `INSERT INTO ${qualified(i.database, i.table)} (${cols}) SETTINGS insert_deduplication_token = ${quoteString(i.dedupToken)}, insert_deduplicate = 1 ` +
          `SELECT ${cols} FROM file(${quoteString(file)}, 'Parquet')`,
      });
    } finally {
      await rm(file, { force: true });
    }
  };
  const store = new LocalDirectoryStore(splitHome);
  const catalog = new LocalJsonCatalog(join(splitHome, 'catalog'));
  sites.set('split', {
    topology: 'split', home: splitHome, store, catalog,
    registry: new SchemaRegistry(store, { clock: () => now, declared: rt.schemas, adopt: (t) => catalog.getTable(t) }),
    warehouse: new ClickHouseWarehouse(rt.warehouse.client, { database: 'split', insertParquet }),
  });
});
after(async () => rt.close());

/** A port a path must never reach, as the Lambda wiring gives it (functions/adapters/aws-services.ts). */
function absent<T extends object>(what: string): T {
  return new Proxy({} as T, { get: (_t, prop) => (prop === 'then' ? undefined : () => { throw new Error(`${what}.${String(prop)} called on a path without it`); }) });
}

function deps(site: Site, sinks: Sinks, warehouse: Warehouse = site.warehouse): IngestDeps {
  return {
    store: site.store,
    catalog: sinks.lake ? site.catalog : absent<Catalog>('catalog'),
    warehouse: sinks.warehouse ? warehouse : absent<Warehouse>('warehouse'),
    registry: site.registry, clock: () => now, config: { ...rt.deps.config, sinks },
  };
}

const LAKE_PATH: Sinks = { lake: true, warehouse: false };
const FRESH_PATH: Sinks = { lake: false, warehouse: true };

/** One batch as the topology's event source mapping(s) deliver it. */
async function deliver(site: Site, event: MskEvent): Promise<void> {
  if (site.topology === 'coupled') {
    await ingestBatch(event, deps(site, { lake: true, warehouse: true }));
    return;
  }
  await ingestBatch(event, deps(site, LAKE_PATH));
  await ingestBatch(event, deps(site, FRESH_PATH));
}

// ---- the records: two topic-partitions, two tables, three hours, a few that cannot be parsed ----

const PARTITIONS = [0, 1];
const hourStart = (hour: number): number => Date.UTC(2026, 10, 19, hour);
const isBad = (offset: number): boolean => offset % 50 === 7;
const tableOf = (scenario: string, offset: number): string => `${scenario}_${offset % 4 === 3 ? 'click' : 'view'}`;
const hourOf = (offset: number): number => 8 + (offset % 3);

/** The records at offsets [from, to) of every partition, in one MSK batch. */
function batch(scenario: string, from: number, to: number, o: { partitions?: readonly number[]; hours?: (offset: number) => number } = {}): MskEvent {
  const hours = o.hours ?? hourOf;
  const records = (o.partitions ?? PARTITIONS).flatMap((partition) => Array.from({ length: to - from }, (_, i) => {
    const offset = from + i;
    const value = isBad(offset) ? 'not json' : JSON.stringify({
      event: tableOf(scenario, offset), event_id: `p${partition}-${offset}`, ts: new Date(hourStart(hours(offset)) + (offset % 60) * 60_000).toISOString(),
      user_id: `u${offset % 7}`, properties: { n: offset },
    });
    return { topic: scenario, partition, offset, timestamp: NOW - 60_000, key: Buffer.from(`k${offset}`), value: Buffer.from(value) };
  }));
  return encodeMskEvent(records);
}

/** Batches over offsets [0, total) cut at the given sizes. */
function batches(scenario: string, sizes: readonly number[]): MskEvent[] {
  let at = 0;
  return sizes.map((n) => batch(scenario, at, (at += n)));
}

/** What the lake and ClickHouse must hold once per event: rows per (table, hour). */
function expected(scenario: string, total: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let offset = 0; offset < total; offset++) {
    if (isBad(offset)) continue;
    const k = `${tableOf(scenario, offset)} 2026-11-19 ${hourOf(offset)}`;
    out.set(k, (out.get(k) ?? 0) + PARTITIONS.length);
  }
  return out;
}
const sum = (m: ReadonlyMap<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
const badCount = (total: number): number => Array.from({ length: total }, (_, o) => o).filter(isBad).length * PARTITIONS.length;

// ---- what a reader sees ----

/** A statement with no result (SYSTEM, OPTIMIZE). */
async function command(sql: string): Promise<void> {
  await rt.warehouse.client.command({ query: sql });
}

async function scalar(sql: string): Promise<number> {
  return Number((await rt.warehouse.query<{ n: string }>(sql))[0]!.n);
}

/** Lake rows per (table, hour) as a reader of the catalog sees them (each partition at its current version). */
async function lakeHours(site: Site, tables: readonly string[]): Promise<Map<string, { rows: number; ids: number }>> {
  const out = new Map<string, { rows: number; ids: number }>();
  for (const table of tables) {
    for (const p of await site.catalog.listPartitions(table)) {
      const glob = `${fileURLToPath(p.location)}*.parquet`; // one folder: a version's files, not its sub-versions
      const [r] = await rt.warehouse.query<{ rows: string; ids: string }>(`SELECT count() AS rows, uniqExact(event_id) AS ids FROM file(${quoteString(glob)}, 'Parquet')`);
      out.set(`${table} ${p.dt} ${p.hour}`, { rows: Number(r!.rows), ids: Number(r!.ids) });
    }
  }
  return out;
}

/** Lake rows in total and distinct event_ids over every partition of the tables. */
async function lakeTotals(site: Site, tables: readonly string[]): Promise<{ rows: number; ids: number }> {
  const globs: string[] = [];
  for (const table of tables) for (const p of await site.catalog.listPartitions(table)) globs.push(`${fileURLToPath(p.location)}*.parquet`);
  const rows = await rt.warehouse.query<{ rows: string; ids: string }>(
    `SELECT count() AS rows, uniqExact(event_id) AS ids FROM (${globs.map((g) => `SELECT event_id FROM file(${quoteString(g)}, 'Parquet')`).join(' UNION ALL ')})`);
  return { rows: Number(rows[0]!.rows), ids: Number(rows[0]!.ids) };
}

async function lakeFiles(site: Site, prefix: string): Promise<string[]> {
  return (await site.store.list(prefix)).filter((k) => k.endsWith('.parquet')).sort();
}

interface Snapshot {
  readonly lake: ReadonlyMap<string, { rows: number; ids: number }>;
  readonly files: readonly string[];
  readonly quarantineFiles: readonly string[];
  /** per table: rows in the table without FINAL, rows and distinct event_ids in `<table>_dedup` */
  readonly clickhouse: ReadonlyMap<string, { raw: number; dedup: number; ids: number }>;
  readonly quarantine: { raw: number; final: number };
  /** `_ingest_log` without FINAL: one line per file and topic-partition */
  readonly ingestLog: readonly string[];
  readonly loggedBytes: number;
}

async function snapshot(site: Site, scenario: string): Promise<Snapshot> {
  const tables = [`${scenario}_view`, `${scenario}_click`];
  const db = site.warehouse.database;
  const ops = site.warehouse.opsDatabase;
  const clickhouse = new Map<string, { raw: number; dedup: number; ids: number }>();
  for (const t of tables) {
    clickhouse.set(t, {
      raw: await scalar(`SELECT count() AS n FROM ${qualified(db, t)}`),
      dedup: await scalar(`SELECT count() AS n FROM ${qualified(db, `${t}_dedup`)}`),
      ids: await scalar(`SELECT uniqExact(event_id) AS n FROM ${qualified(db, `${t}_dedup`)}`),
    });
  }
  const topic = quoteString(scenario);
  const log = await rt.warehouse.query<{ line: string }>(
    `SELECT concat(file_key, ' p', toString(_partition), ' ', toString(first_offset), '-', toString(last_offset), ' rows=', toString(rows), ' ', outcome) AS line ` +
    `FROM ${qualified(ops, '_ingest_log')} WHERE _topic = ${topic} ORDER BY line`);
  return {
    lake: await lakeHours(site, tables),
    files: (await Promise.all(tables.map((t) => lakeFiles(site, `lake/${t}/`)))).flat(),
    quarantineFiles: (await lakeFiles(site, 'lake/_quarantine/')).filter((k) => k.includes(`/${scenario}+`)),
    clickhouse,
    quarantine: {
      raw: await scalar(`SELECT count() AS n FROM ${qualified(ops, '_quarantine')} WHERE _topic = ${topic}`),
      final: await scalar(`SELECT count() AS n FROM ${qualified(ops, '_quarantine')} FINAL WHERE _topic = ${topic}`),
    },
    ingestLog: log.map((r) => r.line),
    loggedBytes: await scalar(`SELECT sum(bytes) AS n FROM ${qualified(ops, '_ingest_log')} WHERE _topic = ${topic}`),
  };
}

/** Stops background merges, so a count without FINAL shows every row that went in. */
async function stopMerges(site: Site, scenario: string): Promise<void> {
  for (const t of [`${scenario}_view`, `${scenario}_click`]) await command(`SYSTEM STOP MERGES ${qualified(site.warehouse.database, t)}`);
  await command(`SYSTEM STOP MERGES ${qualified(site.warehouse.opsDatabase, '_quarantine')}`);
  await command(`SYSTEM STOP MERGES ${qualified(site.warehouse.opsDatabase, '_ingest_log')}`);
}

/** What both topologies must show once each batch is in, however often it was delivered. */
function assertComplete(s: Snapshot, scenario: string, total: number, files: number, logLines: number): void {
  const want = expected(scenario, total);
  assert.deepEqual(new Map([...s.lake].map(([k, v]) => [k, v.rows])), want, 'lake rows per (table, hour)');
  assert.ok([...s.lake.values()].every((v) => v.ids === v.rows), 'every event_id once in the lake');
  assert.equal(s.files.length, files);
  for (const [table, c] of s.clickhouse) {
    const n = sum(new Map([...want].filter(([k]) => k.startsWith(`${table} `))));
    assert.deepEqual(c, { raw: n, dedup: n, ids: n }, `${table}: every event once in ClickHouse, without FINAL too`);
  }
  assert.deepEqual(s.quarantine, { raw: badCount(total), final: badCount(total) });
  assert.equal(s.ingestLog.length, logLines);
}

/** Snapshots of the two topologies, equal but for what differs by design (named and checked here). */
function assertSameAcrossTopologies(coupled: Snapshot, split: Snapshot): void {
  const { loggedBytes: cb, ...c } = coupled;
  const { loggedBytes: sb, ...s } = split;
  assert.deepEqual(s, c);
  // By design: the fresh path wrote no file, so it logs no bytes; the coupled path logs the lake file's.
  assert.ok(cb > 0);
  assert.equal(sb, 0);
}

describe('topologies: coupled and split', () => {
  it('a batch redelivered with the same boundaries changes nothing anywhere, in both topologies alike', async () => {
    const scenario = 'same';
    const snaps = new Map<Topology, Snapshot[]>();
    for (const site of sites.values()) {
      const events = batches(scenario, [100, 100, 100]);
      for (const e of events) await deliver(site, e);
      await stopMerges(site, scenario);
      const first = await snapshot(site, scenario);
      // Three batches × two tables × three hours, each file holding both partitions; lineage per partition.
      assertComplete(first, scenario, 300, 18, 18 * 2 + 3 * 2);
      assert.ok(first.files.every((k) => /\/same\+2p\+[0-9a-f]{8}-[0-9a-f]{8}\.parquet$/.test(k)), first.files.join('\n'));
      // The event source mapping redelivers every batch, one of them twice.
      for (const e of [...events, events[1]!]) await deliver(site, e);
      const again = await snapshot(site, scenario);
      assert.deepEqual(again, first);
      snaps.set(site.topology, [first, again]);
    }
    assertSameAcrossTopologies(snaps.get('coupled')![0]!, snaps.get('split')![0]!);
  });

  it('the same records redelivered with other boundaries: duplicates in the lake until compaction and in ClickHouse until a merge, in both alike', async () => {
    const scenario = 'other';
    const snaps = new Map<Topology, Snapshot[]>();
    for (const site of sites.values()) {
      for (const e of batches(scenario, [100, 100, 100])) await deliver(site, e);
      await stopMerges(site, scenario);
      const first = await snapshot(site, scenario);
      assertComplete(first, scenario, 300, 18, 42);

      // The same offsets again, cut 150 + 150: other files, other tokens.
      for (const e of batches(scenario, [150, 150])) await deliver(site, e);
      const other = await snapshot(site, scenario);
      const want = expected(scenario, 300);
      // Lake: every row twice, under the first delivery's keys and the second's; each event_id is still one.
      assert.deepEqual(new Map([...other.lake].map(([k, v]) => [k, v.rows])), new Map([...want].map(([k, n]) => [k, 2 * n])));
      assert.deepEqual(new Map([...other.lake].map(([k, v]) => [k, v.ids])), want);
      assert.equal(other.files.length, 18 + 12);
      assert.deepEqual(other.files.filter((k) => first.files.includes(k)), first.files, 'the first delivery\'s files stay');
      // ClickHouse: the table holds both copies until ReplacingMergeTree merges; FINAL and the view hold one.
      for (const [table, c] of other.clickhouse) {
        const n = first.clickhouse.get(table)!.raw;
        assert.deepEqual(c, { raw: 2 * n, dedup: n, ids: n }, table);
      }
      assert.deepEqual(other.quarantine, { raw: 2 * badCount(300), final: badCount(300) });
      // The quarantine has no compaction: the files of both deliveries stay (three and two; the same records).
      assert.equal(other.quarantineFiles.length, first.quarantineFiles.length + 2);
      // Lineage: the second delivery's files are logged beside the first's.
      assert.equal(other.ingestLog.length, 42 + 12 * 2 + 2 * 2);
      assert.deepEqual(other.ingestLog.filter((l) => first.ingestLog.includes(l)), first.ingestLog);
      snaps.set(site.topology, [first, other]);

      // Compaction removes the lake's duplicates, and a merge ClickHouse's.
      const engine = new DuckDbCompactionEngine({ localPath: (key) => site.store.path(key), scratchDir: join(site.home, 'tmp') });
      const compaction = (clock: number) => ({ store: site.store, catalog: site.catalog, engine, clock: () => clock, options: { owner: `test-${site.topology}` } });
      const results = await compactClosedPartitions(compaction(now), { tables: [`${scenario}_view`, `${scenario}_click`], graceMs: 0 });
      assert.equal(results.filter((r) => r.outcome === 'compacted').length, 6);
      assert.equal(results.reduce((n, r) => n + r.duplicatesRemoved, 0), sum(want));
      const compacted = await snapshot(site, scenario);
      assert.deepEqual(new Map([...compacted.lake].map(([k, v]) => [k, v.rows])), want, 'one row per event after compaction');
      assert.deepEqual(await lakeTotals(site, [`${scenario}_view`, `${scenario}_click`]), { rows: sum(want), ids: sum(want) });
      // Superseded files go once their retention has passed.
      await compactClosedPartitions(compaction(now + 61 * 60_000), { tables: [`${scenario}_view`, `${scenario}_click`], graceMs: 0 });
      assert.equal((await snapshot(site, scenario)).files.length, 6, 'one file per (table, hour)');

      for (const t of [`${scenario}_view`, `${scenario}_click`]) {
        const table = qualified(site.warehouse.database, t);
        await command(`SYSTEM START MERGES ${table}`);
        await command(`OPTIMIZE TABLE ${table} FINAL`);
        assert.equal(await scalar(`SELECT count() AS n FROM ${table}`), first.clickhouse.get(t)!.raw, `${t} after a merge`);
      }
    }
    const [c, s] = [snaps.get('coupled')!, snaps.get('split')!];
    assertSameAcrossTopologies(c[0]!, s[0]!);
    assertSameAcrossTopologies(c[1]!, s[1]!);
  });

  it('split: a ClickHouse outage leaves the lake complete; the fresh path\'s retries then make ClickHouse complete with nothing doubled', async () => {
    const scenario = 'outage';
    const site = sites.get('split')!;
    const events = batches(scenario, [100, 100, 100]);
    // ClickHouse goes down in the middle of the first batch: its first insert has gone in, the rest fail,
    // and so does every call until it returns.
    let down = false;
    let inserts = 0;
    const inFlight: Array<Promise<unknown>> = [];
    const flaky: Warehouse = new Proxy(site.warehouse, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (prop === 'insertParquet' && !down && ++inserts === 2) down = true;
          if (down) return Promise.reject(new Error(`ClickHouse: connect ECONNREFUSED (injected, ${String(prop)})`));
          const p = (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          inFlight.push(p.catch(() => undefined));
          return p;
        };
      },
    });
    const fresh = (e: MskEvent) => ingestBatch(e, deps(site, FRESH_PATH, flaky));
    const lake = (e: MskEvent) => ingestBatch(e, deps(site, LAKE_PATH));

    await assert.rejects(fresh(events[0]!), /ECONNREFUSED \(injected/);
    await Promise.all(inFlight); // the insert that went in before the outage has landed
    assert.ok(down);
    await stopMerges(site, scenario);
    const partial = await snapshot(site, scenario);
    const inClickHouse = (s: Snapshot): number => [...s.clickhouse.values()].reduce((n, c) => n + c.raw, 0);
    assert.ok(inClickHouse(partial) > 0 && inClickHouse(partial) < sum(expected(scenario, 100)), 'one table of the first batch went in');
    assert.equal(partial.ingestLog.length, 0, 'a failed invocation is not logged as done');

    // The fresh path's mapping retries the first batch while ClickHouse is down; the lake path's mapping,
    // on its own consumer group, goes on through every batch.
    for (let attempt = 0; attempt < 3; attempt++) await assert.rejects(fresh(events[0]!), /ECONNREFUSED \(injected/);
    for (const e of events) await lake(e);
    const during = await snapshot(site, scenario);
    assert.deepEqual(new Map([...during.lake].map(([k, v]) => [k, v.rows])), expected(scenario, 300), 'the lake is complete');
    assert.deepEqual(await lakeTotals(site, [`${scenario}_view`, `${scenario}_click`]), { rows: sum(expected(scenario, 300)), ids: sum(expected(scenario, 300)) });
    assert.equal(during.quarantineFiles.length, 3);
    assert.equal(inClickHouse(during), inClickHouse(partial), 'ClickHouse still has only what went in before the outage');

    // ClickHouse returns: the fresh path's retry of the first batch succeeds, then it goes on.
    down = false;
    for (const e of events) await fresh(e);
    const recovered = await snapshot(site, scenario);
    assertComplete(recovered, scenario, 300, 18, 42);
    assert.deepEqual(recovered.files, during.files, 'the fresh path wrote no lake file');
  });

  it('split with each path cutting its own batches (their windows and sizes differ): each sink holds every event once; the log names keys the lake path never wrote', async () => {
    const scenario = 'ownpace';
    const site = sites.get('split')!;
    for (const e of batches(scenario, [100, 100, 100])) await ingestBatch(e, deps(site, LAKE_PATH)); // large batches
    for (const e of batches(scenario, [25, 50, 75, 150])) await ingestBatch(e, deps(site, FRESH_PATH)); // small ones
    await stopMerges(site, scenario);
    const s = await snapshot(site, scenario);
    assertComplete(s, scenario, 300, 18, 4 * 6 * 2 + 4 * 2);
    // Lineage in ClickHouse is the fresh path's: keys the lake path would give its batches, not the lake's files.
    const logged = new Set(s.ingestLog.map((l) => l.split(' ')[0]!));
    assert.equal([...logged].filter((k) => s.files.includes(k)).length, 0);
  });

  it('one ClickHouse insert per table per batch, whatever hours, days and partitions it spans; one lake file per (table, hour)', async () => {
    // Three partitions × four hours over midnight (two ClickHouse partitions) × two tables, and the quarantine.
    const scenario = 'fanout';
    // Ten offsets an hour: 22:00 and 23:00 on the 19th, 00:00 and 01:00 on the 20th.
    const event = batch(scenario, 0, 40, { partitions: [0, 1, 2], hours: (offset) => 22 + Math.floor(offset / 10) });
    now = Date.UTC(2026, 10, 20, 2, 30);
    try {
      for (const site of sites.values()) {
        const calls: string[] = [];
        const counting: Warehouse = new Proxy(site.warehouse, {
          get(target, prop, receiver) {
            const v = Reflect.get(target, prop, receiver) as unknown;
            if (prop !== 'insertParquet' || typeof v !== 'function') return v;
            return (table: string, ...rest: unknown[]) => { calls.push(table); return (v as (...a: unknown[]) => unknown).call(target, table, ...rest); };
          },
        });
        let files = 0;
        if (site.topology === 'coupled') {
          files = (await ingestBatch(event, deps(site, { lake: true, warehouse: true }, counting))).files.length;
        } else {
          files = (await ingestBatch(event, deps(site, LAKE_PATH, counting))).files.length;
          assert.deepEqual(calls, [], 'the lake path makes no insert');
          await ingestBatch(event, deps(site, FRESH_PATH, counting));
        }
        assert.deepEqual(calls.sort(), ['_quarantine', 'fanout_click', 'fanout_view'], `${site.topology}: one insert per table and one for the quarantine`);
        assert.equal(files, 8, `${site.topology}: one file per (table, hour) for all three partitions`);
        const db = site.warehouse.database;
        assert.equal(await scalar(`SELECT count() AS n FROM ${qualified(db, 'fanout_view')}`) + await scalar(`SELECT count() AS n FROM ${qualified(db, 'fanout_click')}`), 3 * 39);
        assert.equal(await scalar(`SELECT uniqExact(_partition_id) AS n FROM ${qualified(db, 'fanout_view')}`), 2, 'the insert spanned two days');
      }
    } finally {
      now = NOW;
    }
  });
});
