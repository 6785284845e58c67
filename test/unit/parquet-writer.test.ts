// Tributary's Parquet encoder against three independent readers: DuckDB (C++), parquet-wasm (Rust's
// parquet crate) and hyparquet (JavaScript). Every value of every type, null patterns, dictionaries,
// constant columns and statistics must read back as written.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import * as parquetWasm from 'parquet-wasm';
import { tableFromIPC } from 'apache-arrow';
import type { CellValue } from '../../functions/core/batch/coerce.js';
import { ColumnBuffers } from '../../functions/core/batch/column-buffers.js';
import { encodeParquet } from '../../functions/core/parquet/lake-file.js';
import { writeRleHybrid } from '../../functions/core/parquet/rle-hybrid.js';
import { ByteSink } from '../../functions/core/parquet/byte-sink.js';
import { CompactWriter } from '../../functions/core/parquet/thrift-compact.js';
import { encodeColumn } from '../../functions/core/parquet/column-chunk.js';
import { zstdImplementation, zstdWasm } from '../../functions/core/parquet/zstd.js';
import type { ColumnSpec, ColumnType } from '../../functions/core/schema/model.js';
import { duckRows, tempParquet } from '../duckdb.js';

const col = (name: string, type: ColumnType, nullable = true): ColumnSpec => ({ name, type, nullable, origin: 'inferred' });

/** mulberry32: the same pseudo-random rows on every run */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COLUMNS: ColumnSpec[] = [
  col('id', 'string', false), col('t', 'timestamp', false), col('d', 'date'), col('i', 'int64'), col('n', 'int32'),
  col('x', 'double'), col('b', 'boolean'), col('j', 'json'), col('s', 'string'), { ...col('lc', 'string'), lowCardinality: true },
  { ...col('wide', 'string'), lowCardinality: true }, col('const_s', 'string', false), col('const_i', 'int64', false), col('all_null', 'string'),
  col('runs', 'int32'),
];
const TEXTS = ['', 'a', 'é', '🌊 wave', 'x'.repeat(300), 'zz', '\u0000nul', 'A', 'ab', 'abc'];

function makeRows(n: number, seed: number): CellValue[][] {
  const r = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  return Array.from({ length: n }, (_, i) => [
    `id-${i}`,
    Math.floor(r() * 2e12) - 1e12,
    r() < 0.2 ? null : Math.floor(r() * 40_000) - 20_000,
    r() < 0.1 ? null : r() < 0.02 ? pick([2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n]) : Math.floor((r() - 0.5) * 2 ** 53),
    r() < 0.3 ? null : pick([0, -1, 2147483647, -2147483648, Math.floor(r() * 1000)]),
    r() < 0.1 ? null : pick([0, -0, 1.5, -2.25, 1e300, -1e-300, r()]),
    r() < 0.25 ? null : r() < 0.5,
    r() < 0.5 ? null : JSON.stringify({ k: i, v: pick(TEXTS) }),
    r() < 0.15 ? null : pick(TEXTS),
    r() < 0.05 ? null : pick(['EUR', 'USD', 'GBP', 'JPY']),
    // ~1,000 distinct values: indices wider than a byte
    r() < 0.05 ? null : `w${Math.floor(r() * 1000)}`,
    'tracking',
    42,
    null,
    // long runs and short stretches: both RLE and bit-packed runs of the hybrid encoding
    Math.floor(i / 37) % 3 === 0 ? null : Math.floor(i / 23) % 4,
  ]);
}

/** A cell as text, the form all three readers are compared in. */
function norm(type: ColumnType, v: unknown, dateInMs = false): string | null {
  if (v === null || v === undefined) return null;
  if (type === 'double') return Object.is(v, -0) ? '-0' : String(v);
  if (type === 'timestamp') return String(v instanceof Date ? v.getTime() : Number(v));
  if (type === 'date') return String(v instanceof Date ? v.getTime() / 86_400_000 : dateInMs ? Number(v) / 86_400_000 : v);
  if (type === 'int64') return String(typeof v === 'bigint' ? v : BigInt(v as number));
  return String(v);
}

const expected = (buffers: ColumnBuffers): (string | null)[][] =>
  buffers.rows().map((row) => row.map((v, k) => norm(COLUMNS[k]!.type, v)));

async function viaDuckDb(path: string): Promise<(string | null)[][]> {
  const select = COLUMNS.map((c) => {
    if (c.type === 'timestamp') return `epoch_ms("${c.name}")::VARCHAR AS "${c.name}"`;
    if (c.type === 'date') return `("${c.name}" - DATE '1970-01-01')::VARCHAR AS "${c.name}"`;
    if (c.type === 'int64') return `"${c.name}"::VARCHAR AS "${c.name}"`;
    return `"${c.name}"`;
  });
  const rows = await duckRows(`SELECT ${select.join(', ')} FROM read_parquet('${path}')`);
  return rows.map((r) => COLUMNS.map((c) => norm(c.type, r[c.name])));
}

function viaParquetWasm(bytes: Uint8Array): (string | null)[][] {
  const table = tableFromIPC(parquetWasm.readParquet(bytes).intoIPCStream());
  return Array.from({ length: table.numRows }, (_, i) => COLUMNS.map((c) => norm(c.type, table.getChild(c.name)!.get(i), true)));
}

function viaParquetWasmColumn(bytes: Uint8Array, name: string): unknown[] {
  const table = tableFromIPC(parquetWasm.readParquet(bytes).intoIPCStream());
  return Array.from({ length: table.numRows }, (_, i) => table.getChild(name)!.get(i));
}

async function viaHyparquet(bytes: Uint8Array): Promise<(string | null)[][]> {
  const wasm = await zstdWasm();
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const rows = await parquetReadObjects({ file, compressors: { ZSTD: (input: Uint8Array) => wasm.decompress(input) } });
  return rows.map((r) => COLUMNS.map((c) => norm(c.type, r[c.name])));
}

describe('Parquet encoder', () => {
  for (const [n, seed] of [[1, 1], [7, 2], [1000, 3], [20_000, 4]] as const) {
    it(`writes ${n} rows that DuckDB, parquet-wasm and hyparquet read back exactly`, async () => {
      const buffers = ColumnBuffers.fromRows(COLUMNS, makeRows(n, seed));
      const bytes = await encodeParquet(buffers, { dictionaryColumns: ['lc', 'wide'] });
      const want = expected(buffers);
      assert.deepEqual(await viaDuckDb(tempParquet(bytes)), want, 'DuckDB');
      assert.deepEqual(viaParquetWasm(bytes), want, 'parquet-wasm');
      assert.deepEqual(await viaHyparquet(bytes), want, 'hyparquet');
    });
  }

  it('writes row-group statistics that match the data, in the order each type sorts by', async () => {
    const buffers = ColumnBuffers.fromRows(COLUMNS, makeRows(3000, 5));
    const path = tempParquet(await encodeParquet(buffers, { dictionaryColumns: ['lc', 'wide'] }));
    const meta = await duckRows(`SELECT path_in_schema AS c, stats_min_value AS lo, stats_max_value AS hi, stats_null_count AS nulls FROM parquet_metadata('${path}')`);
    const stats = Object.fromEntries(meta.map((m) => [m['c'], m]));
    const facts = await duckRows(`SELECT ${COLUMNS.filter((c) => !['j', 'all_null', 'b'].includes(c.name)).map((c) => `min("${c.name}")::VARCHAR AS "${c.name}_lo", max("${c.name}")::VARCHAR AS "${c.name}_hi", count(*) - count("${c.name}") AS "${c.name}_nulls"`).join(', ')} FROM read_parquet('${path}')`);
    const f = facts[0]!;
    for (const c of ['id', 'i', 'n', 's', 'lc', 'wide', 'const_s', 'const_i', 'runs']) {
      assert.equal(stats[c]!['nulls'], f[`${c}_nulls`], `${c} null count`);
      assert.equal(stats[c]!['lo'], f[`${c}_lo`], `${c} min`);
      assert.equal(stats[c]!['hi'], f[`${c}_hi`], `${c} max`);
    }
    assert.equal(stats['all_null']!['nulls'], 3000n);
    assert.equal(stats['all_null']!['lo'], null);
    // s includes 'x' × 300: longer extremes are left out rather than written whole or cut
    assert.equal(stats['j']!['hi'], null, 'a JSON column whose extremes pass 256 bytes has none');
  });

  it('writes a file without rows that readers open as an empty table with the schema', async () => {
    const bytes = await encodeParquet(new ColumnBuffers(COLUMNS));
    const [row] = await duckRows(`SELECT count(*) AS n FROM read_parquet('${tempParquet(bytes)}')`);
    assert.equal(row!['n'], 0n);
    assert.deepEqual(parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer).schema.map((s) => s.name), ['schema', ...COLUMNS.map((c) => c.name)]);
  });

  it('compresses with node:zlib where Node has zstd (the Lambda runtime, Node 24), else with zstd in WebAssembly', () => {
    const native = typeof (zlib as unknown as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
    assert.equal(zstdImplementation(), native ? 'node:zlib' : '@bokuweb/zstd-wasm', `node ${process.version}`);
  });

  it('names its writer in the form parquet-mr parses, so Spark and Hive keep its string statistics', async () => {
    const path = tempParquet(await encodeParquet(ColumnBuffers.fromRows([col('s', 'string')], [['a']])));
    const [meta] = await duckRows(`SELECT created_by FROM parquet_file_metadata('${path}')`);
    assert.match(String(meta!['created_by']), /^tributary version \d+\.\d+\.\d+$/);
  });

  it('keeps NaN next to one repeated number (it equals no value, so the column is not constant) and counts it', async () => {
    const buffers = ColumnBuffers.fromRows([col('x', 'double', false)], [[5], [Number.NaN], [5]]);
    const bytes = await encodeParquet(buffers);
    const back = viaParquetWasmColumn(bytes, 'x');
    assert.deepEqual(back.map(String), ['5', 'NaN', '5']);
    const [meta] = await duckRows(`SELECT encodings FROM parquet_metadata('${tempParquet(bytes)}')`);
    assert.doesNotMatch(String(meta!['encodings']), /DICTIONARY/);
  });

  it('copies string statistics out of the column buffers rather than viewing them (buffers are reused)', () => {
    const c = col('s', 'string', false);
    const buffers = ColumnBuffers.fromRows([c], [['aaa'], ['bbb'], ['ccc']]);
    const pages = encodeColumn(c, buffers.data[0]!, 3, false);
    const d = buffers.data[0]!;
    if (d.kind === 'string') d.bytes.fill(0x21, 0, d.offsets[3]); // '!' over every byte
    assert.equal(Buffer.from(pages.stats.min!).toString(), 'aaa');
    assert.equal(Buffer.from(pages.stats.max!).toString(), 'ccc');
  });

  it('refuses a null in a required column instead of writing a file readers reject', async () => {
    const buffers = ColumnBuffers.fromRows([col('id', 'string', false)], [['a'], [null]]);
    await assert.rejects(encodeParquet(buffers), /column id is required but 1 of its rows are null/);
  });

  it('falls back from a dictionary to PLAIN when the dictionary outgrows 1 MB', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => [`${i}-${'v'.repeat(400)}`]);
    const buffers = ColumnBuffers.fromRows([{ ...col('big', 'string'), lowCardinality: true }], rows);
    const path = tempParquet(await encodeParquet(buffers, { dictionaryColumns: ['big'] }));
    const [meta] = await duckRows(`SELECT encodings FROM parquet_metadata('${path}')`);
    assert.doesNotMatch(String(meta!['encodings']), /DICTIONARY/);
    const [back] = await duckRows(`SELECT count(DISTINCT big) AS n FROM read_parquet('${path}')`);
    assert.equal(back!['n'], 3000n);
  });
});

describe('Thrift compact protocol', () => {
  it('writes i64 zigzag varints exactly across the safe range, negative ones past 2^52 included', () => {
    const decode = (bytes: Uint8Array): bigint => {
      // field header (delta 1, type i64), then the varint
      assert.equal(bytes[0], 0x16);
      let v = 0n;
      let shift = 0n;
      for (let p = 1; ; p++) {
        v |= BigInt(bytes[p]! & 0x7f) << shift;
        shift += 7n;
        if (bytes[p]! < 0x80) break;
      }
      return (v >> 1n) ^ -(v & 1n);
    };
    for (const n of [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 52 + 1, -(2 ** 52) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      assert.equal(decode(new CompactWriter().i64(1, n).bytes()), BigInt(n), String(n));
    }
  });
});

describe('RLE/bit-packing hybrid', () => {
  /** A reader of the encoding, straight from the format's grammar. */
  function decode(bytes: Uint8Array, n: number, width: number): number[] {
    const out: number[] = [];
    let p = 0;
    const varint = (): number => {
      let v = 0;
      for (let shift = 0; ; shift += 7) {
        const b = bytes[p++]!;
        v += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) return v;
      }
    };
    while (out.length < n) {
      const header = varint();
      if (header & 1) {
        const count = (header >>> 1) * 8;
        let acc = 0;
        let bits = 0;
        for (let k = 0; k < count; k++) {
          while (bits < width) {
            acc += bytes[p++]! * 2 ** bits;
            bits += 8;
          }
          out.push(acc % 2 ** width);
          acc = Math.floor(acc / 2 ** width);
          bits -= width;
        }
      } else {
        let v = 0;
        for (let b = 0; b < Math.ceil(width / 8); b++) v += bytes[p++]! * 2 ** (8 * b);
        for (let k = 0; k < header >>> 1; k++) out.push(v);
      }
    }
    assert.equal(p, bytes.length, 'no bytes left over');
    return out.slice(0, n);
  }

  it('round-trips runs, literals and the stretches between them at every width', () => {
    const r = random(9);
    for (const width of [1, 2, 3, 7, 8, 9, 13, 16, 17, 24]) {
      for (const shape of ['literal', 'runs', 'mixed'] as const) {
        const n = 1 + Math.floor(r() * 500);
        const max = 2 ** width - 1;
        const values: number[] = [];
        while (values.length < n) {
          const v = Math.floor(r() * (max + 1));
          const len = shape === 'literal' ? 1 : shape === 'runs' ? 8 + Math.floor(r() * 40) : Math.floor(r() * 12) + 1;
          for (let k = 0; k < len && values.length < n; k++) values.push(v);
        }
        const sink = new ByteSink(8);
        writeRleHybrid(values, n, width, sink);
        assert.deepEqual(decode(sink.view(), n, width), values, `width ${width}, ${shape}, ${n} values`);
      }
    }
  });

  it('writes a long run as one RLE run', () => {
    const sink = new ByteSink(8);
    writeRleHybrid(new Array<number>(10_000).fill(3), 10_000, 2, sink);
    assert.deepEqual([...sink.view()], [0xa0, 0x9c, 0x01, 3]);
  });
});
