import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CellValue } from '../../functions/core/batch/coerce.js';
import { ColumnBuffers } from '../../functions/core/batch/column-buffers.js';
import { dictionaryColumnsOf, encodeParquet } from '../../functions/core/parquet/lake-file.js';
import type { ColumnSpec, ColumnType } from '../../functions/core/schema/model.js';
import { duckRows, tempParquet } from '../duckdb.js';

const col = (name: string, type: ColumnType, nullable = true): ColumnSpec => ({ name, type, nullable, origin: 'inferred' });

describe('column buffers → Parquet', () => {
  const columns = [
    col('id', 'string', false), col('t', 'timestamp', false), col('d', 'date', false), col('i', 'int64'),
    col('n', 'int32'), col('x', 'double'), col('b', 'boolean'), col('j', 'json'), col('s', 'string'),
  ];
  const day = Math.floor(Date.UTC(2026, 10, 19) / 86_400_000);
  const rows: CellValue[][] = [
    ['a', Date.UTC(2026, 10, 19, 10, 0, 0, 123), day, 9007199254740993n, -5, 1.5, true, '{"k":[1]}', 'héllo 🌊'],
    ['b', Date.UTC(1999, 0, 1), day - 10_000, -42, null, null, false, null, null],
    // Lone surrogates next to each other must not merge into one character and shift every offset.
    ['c', 0, 0, null, 2147483647, -0.25, null, '[]', '\uD83D'],
    ['d', 1, 1, -(2 ** 53) + 1, -2147483648, 1e300, true, '{}', '\uDE00 tail'],
  ];

  it('writes logical types that another engine reads back exactly', async () => {
    const path = tempParquet(await encodeParquet(ColumnBuffers.fromRows(columns, rows)));
    const back = await duckRows(`SELECT id, epoch_ms(t) AS t, d::VARCHAR AS d, i::VARCHAR AS i, n, x, b, j, s FROM read_parquet('${path}') ORDER BY id`);
    assert.deepEqual(back.map((r) => r['id']), ['a', 'b', 'c', 'd']);
    assert.deepEqual(back[0], { id: 'a', t: BigInt(Date.UTC(2026, 10, 19, 10, 0, 0, 123)), d: '2026-11-19', i: '9007199254740993', n: -5, x: 1.5, b: true, j: '{"k":[1]}', s: 'héllo 🌊' });
    assert.equal(back[1]!['d'], '1999-07-04', 'DATE is stored as a date, not as a timestamp-like number');
    assert.equal(back[1]!['i'], '-42');
    assert.equal(back[1]!['n'], null);
    assert.equal(back[1]!['s'], null);
    assert.equal(back[2]!['n'], 2147483647);
    assert.equal(back[3]!['i'], String(-(2 ** 53) + 1));
    assert.equal(back[3]!['s'], '\uFFFD tail', 'lone surrogates become U+FFFD but stay in their own row');
    assert.equal(back[2]!['s'], '\uFFFD');
  });

  it('compresses pages with zstd, leaves tiny ones as they are, and marks required columns', async () => {
    const many: CellValue[][] = Array.from({ length: 300 }, (_, i) => [`id-${i}`, i * 1000, day, i, i, i / 4, i % 2 === 0, `{"i":${i}}`, i % 3 ? `s${i}` : null]);
    const path = tempParquet(await encodeParquet(ColumnBuffers.fromRows(columns, [...many, ...rows])));
    const codecs = await duckRows(`SELECT path_in_schema AS col, compression FROM parquet_metadata('${path}') ORDER BY column_id`);
    // d holds one value in 300 rows and three others: PLAIN, 1.2 KB; b is 38 bytes of bits, not worth a zstd frame.
    assert.deepEqual(Object.fromEntries(codecs.map((c) => [c['col'], c['compression']])),
      { id: 'ZSTD', t: 'ZSTD', d: 'ZSTD', i: 'ZSTD', n: 'ZSTD', x: 'ZSTD', b: 'UNCOMPRESSED', j: 'ZSTD', s: 'ZSTD' });
    const small = tempParquet(await encodeParquet(ColumnBuffers.fromRows(columns, rows)));
    const tiny = await duckRows(`SELECT DISTINCT compression FROM parquet_metadata('${small}')`);
    assert.deepEqual(tiny.map((c) => c['compression']), ['UNCOMPRESSED'], 'four rows: every page under 256 bytes');
    const schema = await duckRows(`SELECT name, repetition_type FROM parquet_schema('${path}') WHERE name IN ('id', 's')`);
    assert.deepEqual(Object.fromEntries(schema.map((r) => [r['name'], r['repetition_type']])), { id: 'REQUIRED', s: 'OPTIONAL' });
    const [count] = await duckRows(`SELECT count(*) AS n, count(s) AS s, sum(i)::VARCHAR AS i FROM read_parquet('${path}')`);
    assert.deepEqual(count, { n: 304n, s: 200n + 3n, i: String(BigInt((299 * 300) / 2) + 9007199254740993n - 42n - (2n ** 53n) + 1n) });
  });
});

describe('ColumnBuffers', () => {
  it('grows past its initial capacity without losing values, nulls or big integers', async () => {
    const cols: ColumnSpec[] = [col('i', 'int64'), col('s', 'string'), col('b', 'boolean'), col('d', 'date', false)];
    const n = 1000;
    const rows: CellValue[][] = Array.from({ length: n }, (_, i) =>
      [i % 7 === 0 ? null : i === 500 ? 2n ** 62n : i - 300, i % 5 === 0 ? null : `v${i}`, i % 3 === 0, i]);
    const buffers = ColumnBuffers.fromRows(cols, rows.slice(0, 1));
    for (const r of rows.slice(1)) buffers.append(r);
    assert.equal(buffers.length, n);
    assert.deepEqual(buffers.row(500), [2n ** 62n, null, false, 500]); // 500 % 5 === 0: s is null
    assert.deepEqual(buffers.row(999), [699, 'v999', true, 999]);
    assert.deepEqual(buffers.row(35), [null, null, false, 35]);
    const path = tempParquet(await encodeParquet(buffers));
    const [agg] = await duckRows(`SELECT count(*) AS n, count(i) AS ni, count(s) AS ns, sum(b::INT) AS nb, max(i)::VARCHAR AS maxi, sum(d - DATE '1970-01-01') AS sd FROM read_parquet('${path}')`);
    assert.equal(Number(agg!['n']), n);
    assert.equal(Number(agg!['ni']), n - Math.ceil(n / 7));
    assert.equal(Number(agg!['ns']), n - n / 5);
    assert.equal(Number(agg!['nb']), Math.ceil(n / 3));
    assert.equal(agg!['maxi'], String(2n ** 62n));
    assert.equal(Number(agg!['sd']), (n * (n - 1)) / 2);
  });

  it('writes a column added mid-file as null in the rows before it, with null counts per column', async () => {
    const buffers = new ColumnBuffers([col('id', 'string', false)], 2);
    for (const id of ['a', 'b', 'c']) buffers.append([id]);
    buffers.addColumn(col('late', 'int64'));
    buffers.addColumn(col('tag', 'string'));
    buffers.append(['d', 4, 'x']);
    buffers.append(['e', 5, 'y']);
    assert.deepEqual(buffers.data.map((d) => d.nulls), [0, 3, 3]);
    const path = tempParquet(await encodeParquet(buffers));
    const stats = await duckRows(`SELECT path_in_schema AS col, stats_null_count AS nulls FROM parquet_metadata('${path}') ORDER BY column_id`);
    assert.deepEqual(stats.map((r) => [r['col'], r['nulls']]), [['id', 0n], ['late', 3n], ['tag', 3n]]);
    const back = await duckRows(`SELECT id, late::VARCHAR AS late, tag FROM read_parquet('${path}') ORDER BY id`);
    assert.deepEqual(back.map((r) => [r['id'], r['late'], r['tag']]), [['a', null, null], ['b', null, null], ['c', null, null], ['d', '4', 'x'], ['e', '5', 'y']]);
  });
});

describe('dictionary encoding', () => {
  it('is used for low-cardinality columns and for columns of one value in the file (a one-entry dictionary); ids stay plain', async () => {
    const cols: ColumnSpec[] = [col('event_id', 'string', false), col('_topic', 'string', false), { ...col('currency', 'string'), lowCardinality: true }, col('page', 'string')];
    const rows: CellValue[][] = Array.from({ length: 200 }, (_, i) => [`id-${i}`, 'tracking', i % 2 ? 'EUR' : 'USD', `/p/${i % 3}`]);
    const path = tempParquet(await encodeParquet(ColumnBuffers.fromRows(cols, rows), { dictionaryColumns: dictionaryColumnsOf(cols) }));
    const meta = await duckRows(`SELECT path_in_schema AS col, encodings FROM parquet_metadata('${path}')`);
    const dict = Object.fromEntries(meta.map((m) => [m['col'], /DICTIONARY/.test(String(m['encodings']))]));
    assert.deepEqual(dict, { event_id: false, _topic: true, currency: true, page: false });
    const back = await duckRows(`SELECT count(DISTINCT currency) AS c, count(DISTINCT event_id) AS e FROM read_parquet('${path}')`);
    assert.deepEqual(back[0], { c: 2n, e: 200n });
  });
});
