// One column of a file as Parquet pages (data page v1): numbers and booleans here, strings in
// string-column.ts; PLAIN values, or a one-entry dictionary for a column constant within the file.
import type { ColumnData } from '../batch/column-buffers.js';
import type { ColumnSpec } from '../schema/model.js';
import { ByteSink } from './byte-sink.js';
import { constantPages, finish, PhysicalType, writeLevels, type ColumnPages, type Statistics } from './pages.js';
import { encodeStrings } from './string-column.js';

const TWO_32 = 4294967296;

export function physicalTypeOf(column: ColumnSpec): number {
  switch (column.type) {
    case 'boolean': return PhysicalType.BOOLEAN;
    case 'int32':
    case 'date': return PhysicalType.INT32;
    case 'int64':
    case 'timestamp': return PhysicalType.INT64;
    case 'double': return PhysicalType.DOUBLE;
    case 'string':
    case 'json': return PhysicalType.BYTE_ARRAY;
  }
}

const asBytes = (a: Float64Array | Int32Array | BigInt64Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function i64Bytes(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, v, true);
  return out;
}

function f64Bytes(v: number): Uint8Array {
  return asBytes(new Float64Array([v]));
}

function i32Bytes(v: number): Uint8Array {
  return asBytes(new Int32Array([v]));
}

/** Pages of column `c` for rows [0, n). */
export function encodeColumn(c: ColumnSpec, d: ColumnData, n: number, dictionary: boolean): ColumnPages {
  if (d.nulls > 0 && !c.nullable) throw new Error(`column ${c.name} is required but ${d.nulls} of its rows are null`);
  const physicalType = physicalTypeOf(c);
  const levels = new ByteSink(c.nullable ? 16 + (n >> 2) : 16);
  if (c.nullable) writeLevels(d, n, levels);
  const count = n - d.nulls;
  const nullAt = d.nullAt;
  if (count === 0) return finish(physicalType, levels, new Uint8Array(0), c.type === 'double' ? { nullCount: d.nulls, nanCount: 0 } : { nullCount: d.nulls });

  switch (d.kind) {
    case 'string': return encodeStrings(c, d, n, count, dictionary, physicalType, levels);
    case 'boolean': {
      const src = d.values;
      const packed = new Uint8Array((count + 7) >> 3);
      let j = 0;
      let trues = 0;
      for (let i = 0; i < n; i++) {
        if (nullAt[i]) continue;
        if (src[i] === 1) {
          packed[j >> 3]! |= 1 << (j & 7);
          trues++;
        }
        j++;
      }
      const stats = { nullCount: d.nulls, min: Uint8Array.of(trues === count ? 1 : 0), max: Uint8Array.of(trues > 0 ? 1 : 0) };
      return finish(physicalType, levels, packed, stats);
    }
    case 'int32': {
      const src = d.values;
      const compact = d.nulls > 0;
      const values = compact ? new Int32Array(count) : src.subarray(0, n);
      let min = 2147483647;
      let max = -2147483648;
      for (let i = 0, j = 0; i < n; i++) {
        if (nullAt[i]) continue;
        const v = src[i]!;
        if (v < min) min = v;
        if (v > max) max = v;
        if (compact) values[j++] = v;
      }
      const stats = { nullCount: d.nulls, min: i32Bytes(min), max: i32Bytes(max) };
      if (min === max && d.nulls === 0) return constantPages(physicalType, stats.min, false, d, n, c.nullable, stats);
      return finish(physicalType, levels, asBytes(values), stats);
    }
    case 'number':
      return c.type === 'double' ? encodeDoubles(c, d, n, count, physicalType, levels) : encodeInt64s(c, d, n, count, physicalType, levels);
  }
}

function encodeDoubles(c: ColumnSpec, d: Extract<ColumnData, { kind: 'number' }>, n: number, count: number, physicalType: number, levels: ByteSink): ColumnPages {
  const src = d.values;
  const compact = d.nulls > 0;
  const values = compact ? new Float64Array(count) : src.subarray(0, n);
  const nullAt = d.nullAt;
  let min = Infinity;
  let max = -Infinity;
  let nans = 0;
  for (let i = 0, j = 0; i < n; i++) {
    if (nullAt[i]) continue;
    const v = src[i]!;
    if (v < min) min = v;
    else if (v !== v) nans++; // NaN compares false both ways: counted, never an extreme
    if (v > max) max = v;
    if (compact) values[j++] = v;
  }
  // The format's rule for zero: a min of 0 is written -0 and a max of -0 is written +0.
  const stats: Statistics = min > max ? { nullCount: d.nulls, nanCount: nans } : { nullCount: d.nulls, nanCount: nans, min: f64Bytes(min === 0 ? -0 : min), max: f64Bytes(max === 0 ? 0 : max) };
  // -0 and +0 compare equal, and NaN equals nothing: only a nonzero number alone is one value.
  if (min === max && min !== 0 && nans === 0 && d.nulls === 0) return constantPages(physicalType, f64Bytes(min), false, d, n, c.nullable, stats);
  return finish(physicalType, levels, asBytes(values), stats);
}

/** int64 and timestamp: safe integers from the Float64Array as two 32-bit halves, larger ones from `big`. */
function encodeInt64s(c: ColumnSpec, d: Extract<ColumnData, { kind: 'number' }>, n: number, count: number, physicalType: number, levels: ByteSink): ColumnPages {
  const out = new BigInt64Array(count);
  const halves = new Int32Array(out.buffer);
  const nullAt = d.nullAt;
  const src = d.values;
  const big = d.big;
  let min = Infinity;
  let max = -Infinity;
  let bigMin: bigint | undefined;
  let bigMax: bigint | undefined;
  for (let i = 0, j = 0; i < n; i++) {
    if (nullAt[i]) continue;
    const b = big === undefined ? undefined : big.get(i);
    if (b !== undefined) {
      out[j++] = b;
      if (bigMin === undefined || b < bigMin) bigMin = b;
      if (bigMax === undefined || b > bigMax) bigMax = b;
      continue;
    }
    const v = src[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    const high = Math.floor(v / TWO_32);
    halves[2 * j] = v - high * TWO_32;
    halves[2 * j + 1] = high;
    j++;
  }
  let lo = min <= max ? BigInt(min) : undefined;
  let hi = min <= max ? BigInt(max) : undefined;
  if (bigMin !== undefined && (lo === undefined || bigMin < lo)) lo = bigMin;
  if (bigMax !== undefined && (hi === undefined || bigMax > hi)) hi = bigMax;
  const stats = { nullCount: d.nulls, min: i64Bytes(lo!), max: i64Bytes(hi!) };
  if (lo === hi && d.nulls === 0) return constantPages(physicalType, stats.min, false, d, n, c.nullable, stats);
  return finish(physicalType, levels, asBytes(out), stats);
}
