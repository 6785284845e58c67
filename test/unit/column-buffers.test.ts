import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ColumnBuffers } from '../../functions/core/batch/column-buffers.js';
import { column } from '../../functions/core/schema/model.js';

describe('ColumnBuffers', () => {
  const s = column('s', 'string', true, '');
  const n = column('n', 'int64', true, '');

  it('keeps strings as PLAIN values (length, UTF-8) with offsets: ASCII, accents, emoji, empty and null rows', () => {
    const b = new ColumnBuffers([s, n], 1);
    const values = ['plain', 'café', '👍🏽 ok', '', null, 'x'.repeat(5000), 'tail'];
    values.forEach((v, i) => b.append([v, i]));
    assert.deepEqual(b.rows().map((r) => r[0]), values);
    const d = b.data[0]!;
    assert.equal(d.kind, 'string');
    if (d.kind === 'string') {
      assert.equal(d.offsets[values.length], values.reduce((t, v) => t + (v === null ? 0 : 4 + Buffer.byteLength(v)), 0));
      assert.equal(d.bytes.readUInt32LE(d.offsets[1]!), 5, 'café is 5 bytes');
      assert.equal(d.bytes.toString('utf8', d.offsets[1]! + 4, d.offsets[2]), 'café');
      assert.equal(d.offsets[4], d.offsets[3]! + 4, 'the empty string is its length alone');
      assert.equal(d.offsets[5], d.offsets[4], 'a null row takes nothing');
      assert.equal(d.offsets[6]! - d.offsets[5]!, 4 + 5000);
    }
  });

  it('writes a lone surrogate as U+FFFD in its own row', () => {
    const b = new ColumnBuffers([s]);
    b.append(['\uD83D']);
    b.append(['\uDE00 tail']);
    assert.deepEqual(b.rows().map((r) => r[0]), ['\uFFFD', '\uFFFD tail']);
  });

  it('adds a column mid-way that is null in the rows before it, and widens int64 to double in place', () => {
    const b = new ColumnBuffers([n], 2);
    b.append([1]);
    b.append([BigInt('9007199254740993')]);
    b.addColumn(s);
    b.append([2.5, 'late']);
    assert.deepEqual(b.rows(), [[1, null], [9007199254740993n, null], [2.5, 'late']]);
    b.retype(0, { ...n, type: 'double' });
    assert.deepEqual(b.rows().map((r) => r[0]), [1, 9007199254740992, 2.5]);
    assert.throws(() => b.retype(1, { ...s, type: 'int64' }), /cannot become int64 in place/);
  });
});
