import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeColumns, type GlueColumn } from '../../functions/core/glue-table.js';

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
