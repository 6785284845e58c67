// Automatic metadata registration end to end on the local stand-ins: NDJSON files through `tributary ingest`'s
// code path into the registry, the Glue-shaped catalog, chDB and the lake. The steps build on each other.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingestFile } from '../../functions/cli/commands/ingest.js';
import { schemaPin, schemaPush, type SchemaCommandContext } from '../../functions/cli/commands/schema.js';
import { openLocalRuntime, openSchemaContext, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { ingestBatch, type IngestDeps } from '../../functions/core/ingest.js';
import { SchemaRegistry } from '../../functions/core/schema/registry.js';
import { emptySchema } from '../../functions/core/schema/model.js';
import { mskEvent, NOW } from '../helpers.js';

let rt: LocalRuntime;
let home: string;
let work: string;
let now = NOW;
let fileNo = 0;

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'tributary-schema-'));
  work = mkdtempSync(join(tmpdir(), 'tributary-schema-files-'));
  // An empty schemas directory: every event here is registered from its data or by `schema push`.
  rt = await openLocalRuntime({ home, schemasDir: join(work, 'none'), clock: () => now, piiSalt: 'test-salt', maxNewColumnsPerHour: 8 });
});
after(async () => rt.close());

const TS = '2026-11-19T10:15:00Z';
const signup = (id: string, properties: Record<string, unknown>): Record<string, unknown> => ({ event: 'signup', event_id: id, ts: TS, user_id: `u-${id}`, properties });

/** Writes envelopes (or raw lines) as an NDJSON file with a fresh topic name and ingests it like the CLI. */
async function ingest(lines: readonly unknown[]): Promise<Awaited<ReturnType<typeof ingestFile>>> {
  const file = join(work, `step${++fileNo}.ndjson`);
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'));
  return ingestFile({ file, batchSize: 1000 }, rt.deps);
}

const rows = <T>(sql: string): Promise<T[]> => rt.warehouse.query<T>(sql);
const chType = async (table: string, column: string): Promise<string | undefined> =>
  (await rows<{ type: string }>(`SELECT type FROM system.columns WHERE database = 'tributary' AND table = '${table}' AND name = '${column}'`))[0]?.type;
const catalogColumn = async (table: string, column: string): Promise<string | undefined> =>
  (await rt.catalog.read(table))?.TableInput.StorageDescriptor.Columns.find((c) => c.Name === column)?.Type;

describe('automatic metadata registration', () => {
  it('an unseen event gets an inferred schema, a catalog table and a ClickHouse table, and lands every row', async () => {
    const s = await ingest([
      signup('1', { plan: 'pro', seats: 3, trial: false, visits: 10, meta: { via: 'ad' }, started_at: '2026-11-19T09:00:00Z' }),
      signup('2', { plan: 'free', seats: 1, trial: true, visits: 2, meta: [1, 2], started_at: '2026-11-19T09:30:00.5Z' }),
      signup('3', { plan: 'team', seats: 12, trial: null, visits: 7 }),
    ]);
    assert.equal(s.stored, 3);
    assert.deepEqual([...s.tablesCreated], ['signup']);

    const entry = (await rt.registry.read('signup'))!;
    assert.equal(entry.status, 'inferred');
    assert.deepEqual(entry.fields.map((f) => `${f.name}:${f.type}`), ['plan:string', 'seats:int64', 'trial:boolean', 'visits:int64', 'meta:json', 'started_at:timestamp']);
    assert.match(entry.fields[0]!.source, /^inferred from step1\[0\]@1$/);

    const table = (await rt.catalog.read('signup'))!.TableInput;
    assert.equal(table.StorageDescriptor.SerdeInfo.SerializationLibrary, 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
    assert.deepEqual(table.PartitionKeys.map((k) => k.Name), ['dt', 'hour']);
    assert.match(table.StorageDescriptor.Location, /lake\/signup\/$/);
    assert.equal(await catalogColumn('signup', 'started_at'), 'timestamp');
    assert.equal(await chType('signup', 'started_at'), "Nullable(DateTime64(3, 'UTC'))");
    assert.equal(await chType('signup', 'meta'), 'Nullable(String)');
    assert.deepEqual(await rows('SELECT event_id, meta FROM tributary.signup ORDER BY event_id'), [
      { event_id: '1', meta: '{"via":"ad"}' }, { event_id: '2', meta: '[1,2]' }, { event_id: '3', meta: null },
    ]);
  });

  it('a new field adds the column everywhere before the batch is written; old rows read NULL', async () => {
    const s = await ingest([signup('4', { plan: 'pro', seats: 2, coupon: 'WELCOME' })]);
    assert.equal(s.stored, 1);
    assert.deepEqual(s.columnsAdded, [{ table: 'signup', column: 'coupon', type: 'string' }]);
    assert.equal((await rt.registry.read('signup'))!.version, 2);
    assert.equal(await catalogColumn('signup', 'coupon'), 'string');
    assert.deepEqual((await rt.catalog.read('signup'))!.TableInput.PartitionKeys.map((k) => k.Name), ['dt', 'hour']);
    assert.equal(await chType('signup', 'coupon'), 'Nullable(String)');
    assert.deepEqual(await rows('SELECT event_id, coupon FROM tributary.signup ORDER BY event_id'), [
      { event_id: '1', coupon: null }, { event_id: '2', coupon: null }, { event_id: '3', coupon: null }, { event_id: '4', coupon: 'WELCOME' },
    ]);
    await rt.refreshLakeViews();
    assert.deepEqual(await rows('SELECT toUInt32(count()) AS n, toUInt32(countIf(coupon IS NULL)) AS nulls FROM lake.signup'), [{ n: 4, nulls: 3 }]);
  });

  it('a changed type quarantines exactly those records and leaves the table as it was', async () => {
    const s = await ingest([
      signup('5', { plan: 'pro', seats: 'many' }),
      signup('6', { plan: 'pro', seats: 4 }),
      signup('7', { plan: 'pro', trial: 'maybe' }),
    ]);
    assert.equal(s.stored, 1);
    assert.deepEqual(s.quarantinedByReason, { type_conflict: 2 });
    assert.equal((await rt.registry.read('signup'))!.version, 2);
    assert.equal(await chType('signup', 'seats'), 'Nullable(Int64)');
    const q = await rows<{ reason: string; event: string; detail: string }>(`SELECT reason, event, detail FROM tributary_ops._quarantine WHERE _topic = 'step3' ORDER BY _offset`);
    assert.deepEqual(q.map((r) => [r.reason, r.event]), [['type_conflict', 'signup'], ['type_conflict', 'signup']]);
    assert.match(q[0]!.detail, /expected an integer, got "many" \(column type int64\)/);
  });

  it('int64 widens to double in the registry, the catalog and ClickHouse; every row stays readable', async () => {
    const s = await ingest([signup('8', { plan: 'pro', seats: 2.5 })]);
    assert.equal(s.stored, 1);
    const entry = (await rt.registry.read('signup'))!;
    assert.equal(entry.version, 3);
    assert.match(entry.history.at(-1)!.change, /widened seats int64 → double/);
    assert.equal(await catalogColumn('signup', 'seats'), 'double');
    assert.equal(await chType('signup', 'seats'), 'Nullable(Float64)');
    assert.deepEqual(await rows('SELECT sum(seats) AS s FROM tributary.signup FINAL'), [{ s: 24.5 }]);
    await rt.refreshLakeViews();
    // The lake now mixes files with int64 and double seats; the view reads both as the catalog's type.
    assert.deepEqual(await rows('SELECT sum(seats) AS s, toUInt32(count()) AS n FROM lake.signup'), [{ s: 24.5, n: 6 }]);
  });

  it('hostile event and property names are quarantined, never executed or turned into paths', async () => {
    const hostile = ["a'b", 'x`y', '../../etc/passwd', 'a; DROP TABLE tributary.signup; --', 'événement', 'table\u0000name', 'e'.repeat(10_000)];
    const tablesBefore = (await rows<{ name: string }>("SELECT name FROM system.tables WHERE database = 'tributary' ORDER BY name")).map((r) => r.name);
    const s = await ingest([
      ...hostile.map((name, i) => ({ event: name, event_id: `h${i}`, ts: TS })),
      ...hostile.map((name, i) => signup(`hp${i}`, { [name]: 1 })),
    ]);
    assert.equal(s.stored, 0);
    assert.deepEqual(s.quarantinedByReason, { invalid_event_name: hostile.length, invalid_property_name: hostile.length });
    assert.deepEqual((await rows<{ name: string }>("SELECT name FROM system.tables WHERE database = 'tributary' ORDER BY name")).map((r) => r.name), tablesBefore);
    assert.deepEqual(readdirSync(join(home, 'lake')).sort(), ['_quarantine', 'signup']);
    assert.deepEqual(await rt.registry.tables(), ['signup']);
    assert.equal((await rt.registry.read('signup'))!.version, 3);
    const longest = await rows<{ n: string }>(`SELECT max(length(detail)) AS n FROM tributary_ops._quarantine WHERE _topic = 'step5'`);
    assert.ok(Number(longest[0]!.n) < 300, 'details quote an excerpt of a 10,000-character name, not all of it');
  });

  it('schema pin → edit → schema push changes the next batch once the TTL passes, with no restart', async () => {
    const ctx: SchemaCommandContext = { registry: new SchemaRegistry(rt.store, { clock: () => now }), schemas: rt.schemas, schemasDir: work };
    assert.match(await schemaPin(ctx, 'signup', {}), /Wrote .*signup\.json \(signup v3, 7 properties\)/);
    const file = join(work, 'signup.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(doc.properties.visits, { type: ['integer', 'null'] });
    doc.properties.visits = { type: 'number', description: 'visits before signing up' };
    doc.properties.plan['x-pii'] = 'hash';
    doc.required = ['plan'];
    delete doc.properties.coupon;
    writeFileSync(file, JSON.stringify(doc, null, 2));
    assert.match(await schemaPush(ctx, file, undefined), /signup: pinned as version 4/);
    assert.match(await schemaPush(ctx, file, undefined), /already in force \(version 4\)/);

    // Within the TTL the running ingest still uses the schema it loaded.
    const early = await ingest([signup('9', { plan: 'pro', visits: 3 })]);
    assert.equal(early.stored, 1);
    assert.deepEqual(await rows(`SELECT plan FROM tributary.signup WHERE event_id = '9'`), [{ plan: 'pro' }]);

    now += 31_000;
    const late = await ingest([signup('10', { plan: 'pro', visits: 3 }), signup('11', { visits: 1 })]);
    assert.equal(late.stored, 1);
    assert.deepEqual(late.quarantinedByReason, { missing_required: 1 });
    assert.equal(await chType('signup', 'visits'), 'Nullable(Float64)');
    assert.equal(await catalogColumn('signup', 'visits'), 'double');
    const [row] = await rows<{ plan: string; visits: number }>(`SELECT plan, visits FROM tributary.signup WHERE event_id = '10'`);
    assert.match(row!.plan, /^[0-9a-f]{64}$/);
    assert.equal(row!.visits, 3);
    const entry = (await rt.registry.read('signup'))!;
    assert.equal(entry.status, 'pinned');
    assert.equal(entry.fields.find((f) => f.name === 'visits')!.origin, 'declared');
    assert.equal(entry.fields.find((f) => f.name === 'visits')!.since, 1, 'a pinned field keeps its provenance');
    assert.equal(entry.fields.find((f) => f.name === 'coupon')!.origin, 'inferred', 'fields the pin omits are kept');
  });

  it('schema push for a table only the catalog has is checked against the catalog\'s columns', async () => {
    await rt.catalog.upsertTable({ ...emptySchema('orders', 'inferred'), properties: [{ name: 'amount', type: 'int64', nullable: true, origin: 'inferred' }] }, 'file:///lake/orders/');
    const ctx = await openSchemaContext({ home, schemasDir: join(work, 'none'), clock: () => now });
    const file = join(work, 'orders.json');
    writeFileSync(file, JSON.stringify({ title: 'orders', properties: { amount: { type: 'string' } } }));
    await assert.rejects(schemaPush(ctx, file, undefined), /amount is int64 in the table; string is not a safe change/);
    assert.equal(await ctx.registry.read('orders'), undefined);
  });

  it('a pushed schema that would change a type unsafely is refused and changes nothing', async () => {
    const ctx: SchemaCommandContext = { registry: new SchemaRegistry(rt.store, { clock: () => now }), schemas: rt.schemas, schemasDir: work };
    const file = join(work, 'signup-bad.json');
    writeFileSync(file, JSON.stringify({ title: 'signup', properties: { trial: { type: 'string' } } }));
    await assert.rejects(schemaPush(ctx, file, undefined), /trial is boolean in the table; string is not a safe change/);
    assert.equal((await rt.registry.read('signup'))!.version, 4);
  });

  it('guards: at most N new columns per table per hour; the rest wait in quarantine', async () => {
    const wide = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`p${i + 1}`, i]));
    const s = await ingest([
      { event: 'wide', event_id: 'w1', ts: TS, properties: { p1: 1, p2: 2 } },
      { event: 'wide', event_id: 'w2', ts: TS, properties: wide },
    ]);
    assert.equal(s.stored, 1);
    assert.deepEqual(s.quarantinedByReason, { column_limit: 1 });
    // The wide record would overflow the budget: it is refused whole and adds none of its columns.
    assert.deepEqual((await rt.registry.read('wide'))!.fields.map((f) => f.name), ['p1', 'p2']);
    const [q] = await rows<{ detail: string }>(`SELECT detail FROM tributary_ops._quarantine WHERE event = 'wide'`);
    assert.match(q!.detail, /new property p3 would exceed the limit of 8 new columns per table per hour/);

    now += 61 * 60_000; // an hour later the budget is back
    const retry = await ingest([{ event: 'wide', event_id: 'w2', ts: TS, properties: wide }]);
    assert.equal(retry.stored, 1);
    assert.equal(await chType('wide', 'p10'), 'Nullable(Int64)');
  });

  it('two invocations discovering the same new field at once converge on one column', async () => {
    // A second container: its own registry cache, the same bucket, catalog and ClickHouse.
    const other: IngestDeps = { ...rt.deps, registry: new SchemaRegistry(rt.store, { clock: () => now }) };
    // boolean and int64 conflict both ways (a number would fit a string column, so strings are not used).
    const mine = mskEvent([signup('c1', { plan: 'a', flag: true, shade: 1 })], { topic: 'race', partition: 0 });
    const theirs = mskEvent([signup('c2', { plan: 'b', flag: 7, shade: 2 })], { topic: 'race', partition: 1 });
    const [a, b] = await Promise.all([ingestBatch(mine, rt.deps), ingestBatch(theirs, other)]);
    const entry = (await rt.registry.read('signup'))!;
    const flag = entry.fields.find((f) => f.name === 'flag')!;
    assert.equal(entry.fields.filter((f) => f.name === 'shade').length, 1);
    // Whichever wrote the version first decided flag's type; the other's record is a type conflict.
    const [winner, loser] = flag.type === 'boolean' ? [a, b] : [b, a];
    assert.equal(winner.stored, 1);
    assert.deepEqual(loser.quarantinedByReason, { type_conflict: 1 });
    assert.equal(await chType('signup', 'flag'), flag.type === 'boolean' ? 'Nullable(Bool)' : 'Nullable(Int64)');
    assert.equal(await chType('signup', 'shade'), 'Nullable(Int64)');
    assert.equal(await catalogColumn('signup', 'flag'), flag.type === 'boolean' ? 'boolean' : 'bigint');
  });
  it('dates and times before 1970 or after 2149 read back as sent in ClickHouse and the lake; outside 1900–2299 they are refused', async () => {
    const ctx: SchemaCommandContext = { registry: new SchemaRegistry(rt.store, { clock: () => now }), schemas: rt.schemas, schemasDir: work };
    const file = join(work, 'member.json');
    writeFileSync(file, JSON.stringify({ title: 'member', properties: { born: { type: 'string', format: 'date' }, joined_at: { type: 'string', format: 'date-time' } } }));
    await schemaPush(ctx, file, undefined);
    const member = (id: string, born: string, joined: string): Record<string, unknown> => ({ event: 'member', event_id: id, ts: TS, properties: { born, joined_at: joined } });
    const s = await ingest([
      member('m1', '1965-05-01', '1969-07-20T20:17:40Z'),
      member('m2', '1900-01-01', '2299-12-31T23:59:59.999Z'),
      member('m3', '2200-02-29', '2150-01-01T00:00:00Z'), // 2200 is no leap year
      member('m4', '1899-12-31', '2026-11-19T09:00:00Z'),
      member('m5', '2026-11-19', '2300-01-01T00:00:00Z'),
    ]);
    assert.equal(s.stored, 2);
    assert.deepEqual(s.quarantinedByReason, { uncoercible_value: 3 });
    assert.equal(await chType('member', 'born'), 'Nullable(Date32)');
    const back = await rows<{ event_id: string; born: string; joined: string }>(
      `SELECT event_id, toString(born) AS born, toString(joined_at) AS joined FROM tributary.member ORDER BY event_id`);
    assert.deepEqual(back, [
      { event_id: 'm1', born: '1965-05-01', joined: '1969-07-20 20:17:40.000' },
      { event_id: 'm2', born: '1900-01-01', joined: '2299-12-31 23:59:59.999' },
    ]);
    const lake = readdirSync(join(home, 'lake/member'), { recursive: true }).map(String).filter((f) => f.endsWith('.parquet'));
    const [file0] = lake;
    const fromLake = await rows<{ born: string }>(`SELECT toString(born) AS born FROM file('${join(home, 'lake/member', file0!)}', Parquet) ORDER BY born`);
    assert.deepEqual(fromLake.map((r) => r.born), ['1900-01-01', '1965-05-01']);
  });
});
