// The Glue adapter through the real AWS SDK against a Glue-protocol endpoint in the test process.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GlueCatalog } from '../../functions/adapters/catalog/glue.js';
import { fromTableInput, toTableInput } from '../../functions/core/glue-table.js';
import { parseDeclaredSchema } from '../../functions/core/declared-schema.js';
import type { TableSchema } from '../../functions/core/schema.js';
import { startFakeGlue, type FakeGlue } from '../glue-endpoint.js';

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
