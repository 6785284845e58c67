import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDeclaredSchema } from '../../functions/core/schema/declared-schema.js';
import {
  fromTableInput, mergeColumns, partitionColumnsUpdate, partitionLag, partitionStateOf, toPartitionInput, toTableInput, withPartitionColumns, type GlueColumn,
} from '../../functions/core/lake/glue-table.js';
import { schemaSignature } from '../../functions/core/schema/model.js';

const col = (Name: string, Type: string): GlueColumn => ({ Name, Type });

describe('mergeColumns', () => {
  it('keeps every existing column and the wider of two types (bigint → double, timestamp → string)', () => {
    const merged = mergeColumns(
      [col('a', 'bigint'), col('b', 'timestamp'), col('c', 'string'), col('new', 'int')],
      [col('a', 'double'), col('b', 'string'), col('c', 'string'), col('old', 'date')],
    );
    assert.deepEqual(merged.map((c) => `${c.Name}:${c.Type}`), ['a:double', 'b:string', 'c:string', 'new:int', 'old:date']);
  });

  it('takes the incoming type when it is the wider one, and keeps its comment', () => {
    const merged = mergeColumns([{ Name: 'a', Type: 'double', Comment: 'price' }], [col('a', 'bigint')]);
    assert.deepEqual(merged, [{ Name: 'a', Type: 'double', Comment: 'price' }]);
  });
});

describe('a partition\'s columns against the table\'s', () => {
  it('take the table\'s added and widened columns, and never narrow what a newer writer gave the partition', () => {
    assert.deepEqual(partitionColumnsUpdate([col('a', 'double'), col('b', 'string')], [col('a', 'bigint')])?.map((c) => `${c.Name}:${c.Type}`), ['a:double', 'b:string']);
    assert.equal(partitionColumnsUpdate([col('a', 'double'), col('b', 'string')], [col('b', 'string'), col('a', 'double')]), undefined, 'in step: order does not matter');
    // A table read before another writer widened a and added c: the partition keeps both.
    assert.equal(partitionColumnsUpdate([col('a', 'bigint')], [col('a', 'double'), col('c', 'string')]), undefined);
  });

  it('lag by a missing column or by a column of another type; unknown columns never lag', () => {
    const schema = parseDeclaredSchema('t', { properties: { a: { type: 'number' } } });
    const input = toTableInput(schema, 's3://b/lake/t/');
    const partition = (edit: (cs: GlueColumn[]) => GlueColumn[]) => {
      const p = toPartitionInput(input, '2026-11-19', 1, 's3://b/lake/t/dt=2026-11-19/hour=01/');
      return partitionStateOf(withPartitionColumns(p, edit(p.StorageDescriptor.Columns)))!;
    };
    assert.equal(partitionLag(partition((cs) => cs), schema), 'none');
    assert.equal(partitionLag(partition((cs) => [...cs].reverse()), schema), 'none', 'order does not matter');
    assert.equal(partitionLag(partition((cs) => cs.filter((c) => c.Name !== 'a')), schema), 'columns', 'a column added since: the catalog alone is updated');
    assert.equal(partitionLag(partition((cs) => cs.filter((c) => c.Name !== 'user_id').map((c) => (c.Name === 'a' ? col('a', 'bigint') : c))), schema), 'types', 'a column widened since: its files are rewritten');
    assert.equal(partitionLag({ dt: '2026-11-19', hour: 1, location: '', version: 0 }, schema), 'none');
  });
});

describe('descriptions in the catalog', () => {
  // Glue's documented pattern for Column.Comment and TableInput.Description
  const GLUE_TEXT = /^(?:[\u0020-\uD7FF\uE000-\uFFFD\t]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;
  it('are single-line printable text cut at a whole character, the same in the schema and in Glue', () => {
    const schema = parseDeclaredSchema('page_view', {
      description: `line one\nline two\u0000${'x'.repeat(3000)}`,
      properties: { page: { type: 'string', description: `Path\r\nof the page ${'y'.repeat(236)}😀 and more` }, ref: { type: 'string', description: 'lone \uD800 surrogate\uFFFF' } },
    });
    const input = toTableInput(schema, 's3://b/lake/page_view/');
    const comments = input.StorageDescriptor.Columns.flatMap((c) => (c.Comment ? [c.Comment] : []));
    for (const text of [input.Description!, ...comments]) assert.match(text, GLUE_TEXT);
    assert.ok(input.Description!.length <= 2048 && input.Description!.startsWith('line one line two '));
    const page = input.StorageDescriptor.Columns.find((c) => c.Name === 'page')!.Comment!;
    assert.equal(page.length, 254, 'the emoji that would straddle 255 is left out whole');
    assert.equal(input.StorageDescriptor.Columns.find((c) => c.Name === 'ref')!.Comment, 'lone   surrogate ');
    // What Glue returns reads back as the schema that was written: no update on every cold start.
    assert.equal(schemaSignature(fromTableInput(input)), schemaSignature(schema));
  });
});
