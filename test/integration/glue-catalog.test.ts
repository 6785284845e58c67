// The Glue adapter through the real AWS SDK against a Glue-protocol endpoint in the test process.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AccessDeniedException, AlreadyExistsException, BatchGetPartitionCommand, ConcurrentModificationException, CreateTableCommand,
  GetTableCommand, GlueClient, UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { GLUE_CLIENT_CONFIG, GlueCatalog } from '../../functions/adapters/catalog/glue.js';
import { LocalJsonCatalog } from '../../functions/adapters/catalog/local-json.js';
import { ingestBatch, type IngestDeps } from '../../functions/core/ingest.js';
import type { Catalog } from '../../functions/core/ports.js';
import { SchemaRegistry } from '../../functions/core/schema/registry.js';
import { fromTableInput, toTableInput } from '../../functions/core/lake/glue-table.js';
import { parseDeclaredSchema } from '../../functions/core/schema/declared-schema.js';
import type { TableSchema } from '../../functions/core/schema/model.js';
import { startFakeGlue, type FakeGlue } from '../glue-endpoint.js';
import { memoryStore, mskEvent, NOW, pageView, recordingWarehouse } from '../helpers.js';

let glue: FakeGlue;
let catalog: GlueCatalog;
before(async () => {
  glue = await startFakeGlue();
  catalog = new GlueCatalog(glue.client, 'tributary_test');
});
after(async () => glue.close());

const schema: TableSchema = {
  ...parseDeclaredSchema('purchase', { properties: { price: { type: 'number' }, email: { type: 'string', 'x-pii': 'hash' } }, required: ['price'] }),
};
const location = 's3://lake-bucket/lake/purchase/';

describe('GlueCatalog', () => {
  it('creates a Parquet table with Hive partition keys and reads the same schema back', async () => {
    assert.equal(await catalog.getTable('purchase'), undefined);
    await catalog.upsertTable(schema, location);
    const stored = glue.tables.get('purchase')!;
    assert.equal(stored['StorageDescriptor']['Location'], location);
    assert.equal(stored['Parameters']['classification'], 'parquet');
    assert.deepEqual(stored['PartitionKeys'].map((k: { Name: string }) => k.Name), ['dt', 'hour']);
    const back = await catalog.getTable('purchase');
    assert.deepEqual(back?.properties, schema.properties);
    assert.deepEqual(back?.required, ['price']);
  });

  it('merges with a table another invocation created first, keeping its columns', async () => {
    const other = { ...schema, table: 'click', properties: [{ name: 'element', type: 'string' as const, nullable: true, origin: 'inferred' as const }] };
    await catalog.upsertTable(other, 's3://lake-bucket/lake/click/');
    const mine = { ...other, properties: [{ name: 'page', type: 'string' as const, nullable: true, origin: 'inferred' as const }] };
    await catalog.upsertTable(mine, 's3://lake-bucket/lake/click/');
    const cols = (await catalog.getTable('click'))!.properties.map((c) => c.name);
    assert.deepEqual(cols.sort(), ['element', 'page']);
    assert.deepEqual(glue.calls.filter((c) => c.body['TableInput']?.['Name'] === 'click').map((c) => c.op), ['CreateTable', 'CreateTable', 'UpdateTable']);
  });

  it('never narrows a column that a newer registry version widened, in Glue and in the local catalog', async () => {
    // An invocation still on version 1 (price bigint) syncs after one on version 2 (price double, coupon).
    const v1: TableSchema = { ...schema, table: 'stale', properties: [{ name: 'price', type: 'int64', nullable: true, origin: 'inferred' }] };
    const v2: TableSchema = { ...v1, properties: [{ name: 'price', type: 'double', nullable: true, origin: 'inferred' }, { name: 'coupon', type: 'string', nullable: true, origin: 'inferred' }] };
    const local = new LocalJsonCatalog(mkdtempSync(join(tmpdir(), 'tributary-stale-')));
    for (const c of [catalog, local]) {
      await c.upsertTable(v2, 's3://lake-bucket/lake/stale/');
      await c.upsertTable(v1, 's3://lake-bucket/lake/stale/');
      const back = (await c.getTable('stale'))!.properties.map((p) => `${p.name}:${p.type}`);
      assert.deepEqual(back.sort(), ['coupon:string', 'price:double'], c.constructor.name);
    }
  });

  it('retries a concurrent modification', async () => {
    glue.failNext.set('UpdateTable', 'ConcurrentModificationException');
    await catalog.upsertTable({ ...schema, description: 'v2' }, location);
    assert.equal(glue.tables.get('purchase')!['Description'], 'v2');
  });

  it('registers partitions in calls of at most 100, ignores existing ones and caches what it saw', async () => {
    const parts = Array.from({ length: 150 }, (_, i) => ({ dt: `2026-11-${String(1 + Math.floor(i / 24)).padStart(2, '0')}`, hour: i % 24 }));
    glue.partitions.set('purchase', [{ Values: ['2026-11-01', '00'], StorageDescriptor: {} }]);
    const before = glue.calls.length;
    await catalog.addPartitions('purchase', parts, (p) => `${location}dt=${p.dt}/hour=${String(p.hour).padStart(2, '0')}/`);
    const batches = glue.calls.slice(before).filter((c) => c.op === 'BatchCreatePartition');
    assert.deepEqual(batches.map((b) => b.body['PartitionInputList'].length), [100, 50]);
    assert.equal(glue.partitions.get('purchase')!.length, 150);
    const p = glue.partitions.get('purchase')!.find((x) => x['Values'].join('/') === '2026-11-02/05')!;
    assert.equal(p['StorageDescriptor']['Location'], `${location}dt=2026-11-02/hour=05/`);
    const n = glue.calls.length;
    await catalog.addPartitions('purchase', parts.slice(0, 10), () => 'unused');
    assert.equal(glue.calls.length, n, 'known partitions cost no call');
    assert.equal((await catalog.listPartitions('purchase')).length, 150);
  });

  it('surfaces partition errors other than AlreadyExists', async () => {
    glue.failNext.set('BatchCreatePartition', 'ResourceNumberLimitExceededException');
    await assert.rejects(catalog.addPartitions('purchase', [{ dt: '2026-12-01', hour: 0 }], () => 'x'), /ResourceNumberLimitExceeded/);
  });

  it('round-trips TableInput without losing hints', () => {
    assert.deepEqual(fromTableInput(toTableInput(schema, location)), schema);
  });
});

describe('GlueCatalog retries', () => {
  it('backs off on ThrottlingException with the adaptive client settings', async () => {
    const throttled = new GlueClient({ ...GLUE_CLIENT_CONFIG, endpoint: glue.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      glue.throttle.set('GetTable', 3);
      const before = glue.calls.filter((c) => c.op === 'GetTable').length;
      const t = await new GlueCatalog(throttled, 'tributary_test').getTable('purchase');
      assert.equal(t?.table, 'purchase');
      assert.equal(glue.calls.filter((c) => c.op === 'GetTable').length - before, 4, 'three throttled attempts, then success');
    } finally {
      throttled.destroy();
    }
  });
});

describe('GlueCatalog error branches (aws-sdk-client-mock)', () => {
  // mockClient patches every GlueClient, so it is installed only while this block runs.
  let glueMock: ReturnType<typeof mockClient>;
  let mocked: GlueCatalog;
  before(() => {
    glueMock = mockClient(GlueClient);
    mocked = new GlueCatalog(new GlueClient({ region: 'eu-west-1' }), 'db');
  });
  after(() => glueMock.restore());

  it('rethrows errors other than EntityNotFound from GetTable', async () => {
    glueMock.reset();
    glueMock.on(GetTableCommand).rejects(new AccessDeniedException({ message: 'no glue:GetTable', $metadata: {} }));
    await assert.rejects(mocked.getTable('purchase'), AccessDeniedException);
  });

  it('gives up after repeated ConcurrentModificationException instead of looping', async () => {
    glueMock.reset();
    glueMock.on(CreateTableCommand).rejects(new AlreadyExistsException({ message: 'exists', $metadata: {} }));
    glueMock.on(GetTableCommand).resolves({ Table: { Name: 'purchase', DatabaseName: 'db', VersionId: '1', StorageDescriptor: { Columns: [] } } });
    glueMock.on(UpdateTableCommand).rejects(new ConcurrentModificationException({ message: 'busy', $metadata: {} }));
    await assert.rejects(mocked.upsertTable(schema, location), ConcurrentModificationException);
    assert.equal(glueMock.commandCalls(UpdateTableCommand).length, 5);
  });

  it('retries keys Glue left unprocessed in any chunk of a long list, not just in the first four', async () => {
    glueMock.reset();
    let calls = 0;
    glueMock.on(BatchGetPartitionCommand).callsFake((input: { PartitionsToGet: Array<{ Values: string[] }> }) => {
      calls++;
      // The fifth call (the fifth chunk of 1,000) leaves one key unprocessed once.
      const [left, ...done] = input.PartitionsToGet;
      const served = calls === 5 ? done : input.PartitionsToGet;
      return { Partitions: served.map((k) => ({ Values: k.Values, StorageDescriptor: { Location: 's3://b/x/' } })), UnprocessedKeys: calls === 5 ? [left] : [] };
    });
    const hours = Array.from({ length: 4_500 }, (_, i) => new Date(Date.UTC(2020, 0, 1) + i * 3_600_000)); // distinct hour partitions
    const got = await mocked.getPartitions('t', hours.map((d) => ({ dt: d.toISOString().slice(0, 10), hour: d.getUTCHours() })));
    assert.equal(got.size, 4_500);
    assert.equal(calls, 6);
  });

  it('keeps columns only Glue has and takes the new type of a widened column', async () => {
    glueMock.reset();
    glueMock.on(CreateTableCommand).rejects(new AlreadyExistsException({ message: 'exists', $metadata: {} }));
    glueMock.on(GetTableCommand).resolves({ Table: { Name: 'purchase', DatabaseName: 'db', VersionId: '7', StorageDescriptor: { Columns: [{ Name: 'price', Type: 'bigint' }, { Name: 'legacy', Type: 'string' }] } } });
    glueMock.on(UpdateTableCommand).resolves({});
    await mocked.upsertTable(schema, location);
    const input = glueMock.commandCalls(UpdateTableCommand)[0]!.args[0].input;
    assert.equal(input.VersionId, '7');
    const cols = input.TableInput!.StorageDescriptor!.Columns!;
    assert.equal(cols.find((c) => c.Name === 'price')!.Type, 'double');
    assert.ok(cols.some((c) => c.Name === 'legacy'));
    assert.deepEqual(input.TableInput!.PartitionKeys!.map((k) => k.Name), ['dt', 'hour']);
  });
});

/** Ingest into each catalog on its own: a store, registry and recording warehouse per catalog. */
function ingestInto(catalogs: readonly Catalog[]): Array<{ catalog: Catalog; deps: IngestDeps }> {
  return catalogs.map((catalog) => {
    const store = memoryStore();
    return { catalog, deps: { store, catalog, warehouse: recordingWarehouse(), registry: new SchemaRegistry(store, { clock: () => NOW }), clock: () => NOW } };
  });
}

describe('local and Glue catalogs receive identical inputs', () => {
  it('for a new table, a new column and a widened column', async () => {
    const fake = await startFakeGlue();
    const home = mkdtempSync(join(tmpdir(), 'tributary-glue-'));
    try {
      const local = new LocalJsonCatalog(join(home, 'catalog'), 'tributary_test');
      const runs = ingestInto([new GlueCatalog(fake.client, 'tributary_test'), local]);
      const batches = [
        mskEvent([pageView('a', { score: 1 }), pageView('b', { score: 2 }, '2026-11-19T11:00:00Z')]),
        mskEvent([pageView('c', { score: 2.5, referrer: 'mail' })], { firstOffset: 2 }),
      ];
      for (const [i, batch] of batches.entries()) {
        for (const run of runs) await ingestBatch(batch, run.deps);
        const { VersionId: _v, DatabaseName: _d, ...glueTable } = fake.tables.get('page_view')!;
        const stored = (await local.read('page_view'))!;
        assert.deepEqual(glueTable, stored.TableInput, `table input after batch ${i + 1}`);
        assert.deepEqual(fake.partitions.get('page_view'), stored.Partitions, `partitions after batch ${i + 1}`);
      }
      // A compaction switches a partition to its new version: both catalogs get the same PartitionInput.
      for (const run of runs) await run.catalog.switchPartition('page_view', { dt: '2026-11-19', hour: 10 }, 1, 's3://test-bucket/lake/page_view/dt=2026-11-19/hour=10/_v0001/');
      assert.deepEqual(fake.partitions.get('page_view'), (await local.read('page_view'))!.Partitions);
      const states = await Promise.all(runs.map((r) => r.catalog.getPartitions('page_view', [{ dt: '2026-11-19', hour: 10 }, { dt: '2026-11-19', hour: 3 }])));
      for (const s of states) assert.deepEqual([...s.values()].map(({ columns: _c, ...state }) => state), [{ dt: '2026-11-19', hour: 10, version: 1, location: 's3://test-bucket/lake/page_view/dt=2026-11-19/hour=10/_v0001/' }]);
      const columns = (await local.read('page_view'))!.TableInput.StorageDescriptor.Columns;
      assert.deepEqual(columns.filter((c) => ['page', 'score', 'referrer'].includes(c.Name)).map((c) => `${c.Name}:${c.Type}`), ['page:string', 'score:double', 'referrer:string']);
    } finally {
      await fake.close();
    }
  });
});

describe('a partition a batch writes to has the table\'s current columns', () => {
  it('after a column was added and another widened, in Glue and locally, its location and version kept', async () => {
    const fake = await startFakeGlue();
    const home = mkdtempSync(join(tmpdir(), 'tributary-glue-'));
    try {
      const local = new LocalJsonCatalog(join(home, 'catalog'), 'tributary_test');
      const runs = ingestInto([new GlueCatalog(fake.client, 'tributary_test'), local]);
      const typesOf = (columns: ReadonlyArray<{ Name: string; Type: string }>): string[] => columns.map((c) => `${c.Name}:${c.Type}`).sort();
      const hour10 = (list: ReadonlyArray<{ Values: string[] }>) => list.find((p) => p.Values.join('/') === '2026-11-19/10')!;
      const v1 = 's3://test-bucket/lake/page_view/dt=2026-11-19/hour=10/_v0001/';
      for (const run of runs) {
        await ingestBatch(mskEvent([pageView('a', { score: 1 })]), run.deps);
        // A compaction moved the hour to version 1 before the schema changed.
        await run.catalog.switchPartition('page_view', { dt: '2026-11-19', hour: 10 }, 1, v1);
        await ingestBatch(mskEvent([pageView('b', { score: 2.5, referrer: 'mail' })], { firstOffset: 1 }), run.deps);
      }
      const stored = (await local.read('page_view'))!;
      const glueTable = fake.tables.get('page_view')!;
      for (const [name, table, partition] of [
        ['glue', glueTable, hour10(fake.partitions.get('page_view')! as Array<{ Values: string[] }>)],
        ['local', stored.TableInput, hour10(stored.Partitions)],
      ] as const) {
        const p = partition as unknown as { StorageDescriptor: { Columns: Array<{ Name: string; Type: string }>; Location: string }; Parameters: Record<string, string> };
        const t = table as unknown as { StorageDescriptor: { Columns: Array<{ Name: string; Type: string }> } };
        assert.ok(typesOf(t.StorageDescriptor.Columns).includes('score:double') && typesOf(t.StorageDescriptor.Columns).includes('referrer:string'), name);
        assert.deepEqual(typesOf(p.StorageDescriptor.Columns), typesOf(t.StorageDescriptor.Columns), `${name}: partition columns = table columns`);
        assert.equal(p.StorageDescriptor.Location, v1, `${name}: location kept`);
        assert.equal(p.Parameters['tributary.version'], '1', `${name}: version kept`);
      }
      assert.deepEqual(fake.partitions.get('page_view'), stored.Partitions, 'Glue and the local catalog hold the same partition inputs');
      // The partition's state says which columns it has: the same as the table's.
      const [state] = (await runs[0]!.catalog.getPartitions('page_view', [{ dt: '2026-11-19', hour: 10 }])).values();
      assert.deepEqual(state!.columns!.map((c) => `${c.name}:${c.type}`).filter((c) => /score|referrer/.test(c)), ['score:double', 'referrer:string']);

      // Once in step, another batch into the hour costs no partition call.
      const before = fake.calls.length;
      await ingestBatch(mskEvent([pageView('c', { score: 3.5, referrer: 'ads' })], { firstOffset: 2 }), runs[0]!.deps);
      assert.deepEqual(fake.calls.slice(before).map((c) => c.op).filter((op) => /Partition/.test(op)), ['BatchGetPartition', 'BatchGetPartition'], 'only the late-hour version lookup, and the look again after the write (a compaction may have switched the hour meanwhile)');
    } finally {
      await fake.close();
    }
  });
});
