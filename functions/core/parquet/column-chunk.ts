// One column of a file as Parquet pages (data page v1): definition levels, values, statistics, and the
// choice between PLAIN, a dictionary, and a one-entry dictionary for columns constant within the file.
import { LENGTH_BYTES, type ColumnData } from '../column-buffers.js';
import type { ColumnSpec } from '../schema.js';
import { ByteSink } from './byte-sink.js';
import { bitWidthOf, writeRleHybrid } from './rle-hybrid.js';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('Parquet pages are written from typed arrays, which needs a little-endian CPU');

export const PhysicalType = { BOOLEAN: 0, INT32: 1, INT64: 2, DOUBLE: 5, BYTE_ARRAY: 6 } as const;
export const Encoding = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;

/** Dictionaries past this size fall back to PLAIN, as parquet-rs does (its default page limit). */
export const MAX_DICTIONARY_BYTES = 1 << 20;

export interface Statistics {
  readonly nullCount: number;
  /** floating-point columns only: the format asks for it with TYPE_DEFINED_ORDER, zero included */
  readonly nanCount?: number;
  /** PLAIN-encoded extremes (bytes of the value for BYTE_ARRAY); absent when every row is null */
  readonly min?: Uint8Array;
  readonly max?: Uint8Array;
}

export interface ColumnPages {
  readonly physicalType: number;
  /** PLAIN values of the dictionary, when the column is dictionary-encoded */
  readonly dictionary?: { readonly body: Uint8Array; readonly entries: number };
  /** definition levels and values of the one data page */
  readonly data: Uint8Array;
  readonly dataEncoding: number;
  readonly stats: Statistics;
  /** small enough that compressing would cost more than it saves */
  readonly tiny: boolean;
}

/** Extremes of string values past this length are left out of the footer rather than truncated. */
const MAX_STAT_BYTES = 256;
const TINY_BYTES = 256;
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

/** Definition levels of an OPTIONAL column: 4-byte length, then RLE/bit-packed (width 1). */
function writeLevels(d: ColumnData, n: number, out: ByteSink): void {
  const start = out.pos;
  out.u32(0);
  if (d.nulls === 0 || d.nulls === n) {
    out.varint(n * 2);
    out.u8(d.nulls === 0 ? 1 : 0);
  } else {
    const levels = new Uint8Array(n);
    const nullAt = d.nullAt;
    for (let i = 0; i < n; i++) levels[i] = nullAt[i]! ^ 1;
    writeRleHybrid(levels, n, 1, out);
  }
  const length = out.pos - start - 4;
  const b = out.buf;
  b[start] = length & 0xff;
  b[start + 1] = (length >>> 8) & 0xff;
  b[start + 2] = (length >>> 16) & 0xff;
  b[start + 3] = (length >>> 24) & 0xff;
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

/** One value of every page: a one-entry dictionary and a single RLE run of index 0. */
function constantPages(physicalType: number, value: Uint8Array, stringValue: boolean, d: ColumnData, n: number, nullable: boolean, stats: Statistics): ColumnPages {
  const dict = new ByteSink(value.length + 4);
  if (stringValue) dict.u32(value.length);
  dict.bytes(value);
  const data = new ByteSink(16);
  if (nullable) writeLevels(d, n, data);
  data.u8(1);
  data.varint(n * 2);
  data.u8(0);
  return { physicalType, dictionary: { body: dict.view(), entries: 1 }, data: data.view(), dataEncoding: Encoding.RLE_DICTIONARY, stats, tiny: dict.pos < TINY_BYTES };
}

function finish(physicalType: number, levels: ByteSink, values: Uint8Array, stats: Statistics): ColumnPages {
  // A REQUIRED column has no levels: its page is the values as they stand.
  if (levels.pos > 0) levels.bytes(values);
  const data = levels.pos > 0 ? levels.view() : values;
  return { physicalType, data, dataEncoding: Encoding.PLAIN, stats, tiny: data.length < TINY_BYTES };
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

/**
 * Rows holding the least and greatest value by unsigned byte order (the format's order for UTF-8 strings).
 * Tracking values share long prefixes (ids, URLs): each value is compared once over the prefix that the
 * extremes share, and past it the extremes differ within a byte or two. Row i's text is
 * bytes[offsets[i] + 4, offsets[i + 1]).
 */
function stringExtremes(bytes: Uint8Array, offsets: Int32Array, nullAt: Uint8Array, n: number): { minAt: number; maxAt: number } {
  let minAt = -1;
  let maxAt = -1;
  let minS = 0;
  let minE = 0;
  let maxS = 0;
  let maxE = 0;
  let shared = 0; // bytes [0, shared) of min and max are equal
  for (let i = 0; i < n; i++) {
    if (nullAt[i]) continue;
    const s = offsets[i]! + LENGTH_BYTES;
    const e = offsets[i + 1]!;
    if (minAt < 0) {
      minAt = maxAt = i;
      minS = maxS = s;
      minE = maxE = e;
      shared = e - s;
      continue;
    }
    const len = e - s;
    const limit = len < shared ? len : shared;
    let k = 0;
    while (k < limit && bytes[s + k] === bytes[minS + k]) k++;
    if (k < shared) {
      // the value leaves the shared prefix at k: below both extremes or above both
      if (k === len || bytes[s + k]! < bytes[minS + k]!) {
        minAt = i;
        minS = s;
        minE = e;
      } else {
        maxAt = i;
        maxS = s;
        maxE = e;
      }
      shared = k;
      continue;
    }
    if (compareFrom(bytes, s, e, minS, minE, shared) < 0) {
      minAt = i;
      minS = s;
      minE = e;
      shared = commonPrefix(bytes, minS, minE, maxS, maxE, shared);
    } else if (compareFrom(bytes, s, e, maxS, maxE, shared) > 0) {
      maxAt = i;
      maxS = s;
      maxE = e;
      shared = commonPrefix(bytes, minS, minE, maxS, maxE, shared);
    }
  }
  return { minAt, maxAt };
}

/** Compares [s1, e1) with [s2, e2), both known equal before byte `from`. */
function compareFrom(b: Uint8Array, s1: number, e1: number, s2: number, e2: number, from: number): number {
  const l1 = e1 - s1;
  const l2 = e2 - s2;
  const l = l1 < l2 ? l1 : l2;
  for (let k = from; k < l; k++) {
    const diff = b[s1 + k]! - b[s2 + k]!;
    if (diff !== 0) return diff;
  }
  return l1 - l2;
}

function commonPrefix(b: Uint8Array, s1: number, e1: number, s2: number, e2: number, from: number): number {
  const l = Math.min(e1 - s1, e2 - s2);
  let k = from;
  while (k < l && b[s1 + k] === b[s2 + k]) k++;
  return k;
}

/** The text of row i (without its length), copied out of the buffers for the footer (Buffer#slice would be a view). */
const textOf = (bytes: Uint8Array, offsets: Int32Array, i: number): Uint8Array => Uint8Array.prototype.slice.call(bytes, offsets[i]! + LENGTH_BYTES, offsets[i + 1]!);

function encodeStrings(c: ColumnSpec, d: Extract<ColumnData, { kind: 'string' }>, n: number, count: number, dictionary: boolean, physicalType: number, levels: ByteSink): ColumnPages {
  const { bytes, offsets, nullAt } = d;
  const { minAt, maxAt } = stringExtremes(bytes, offsets, nullAt, n);
  const minLength = offsets[minAt + 1]! - offsets[minAt]! - LENGTH_BYTES;
  const maxLength = offsets[maxAt + 1]! - offsets[maxAt]! - LENGTH_BYTES;
  const stats: Statistics = minLength <= MAX_STAT_BYTES && maxLength <= MAX_STAT_BYTES
    ? { nullCount: d.nulls, min: textOf(bytes, offsets, minAt), max: textOf(bytes, offsets, maxAt) }
    : { nullCount: d.nulls };
  const constant = minLength === maxLength && compareFrom(bytes, offsets[minAt]! + LENGTH_BYTES, offsets[minAt + 1]!, offsets[maxAt]! + LENGTH_BYTES, offsets[maxAt + 1]!, 0) === 0;
  if (constant && d.nulls === 0) return constantPages(physicalType, textOf(bytes, offsets, minAt), true, d, n, c.nullable, stats);
  if (dictionary) {
    const pages = dictionaryPages(d, n, count, physicalType, levels, stats);
    if (pages) return pages;
  }
  // The buffers hold the values in PLAIN layout already: the page is their bytes.
  return finish(physicalType, levels, bytes.subarray(offsets[0], offsets[n]), stats);
}

/** FNV-1a of bytes [s, e) */
function hashBytes(b: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let k = s; k < e; k++) h = Math.imul(h ^ b[k]!, 16777619);
  return h >>> 0;
}

function sameBytes(b: Uint8Array, s1: number, e1: number, s2: number): boolean {
  for (let k = 0; k < e1 - s1; k++) if (b[s1 + k] !== b[s2 + k]) return false;
  return true;
}

/**
 * PLAIN dictionary and RLE indices, or undefined when the dictionary outgrows MAX_DICTIONARY_BYTES. Values
 * are found by an open-addressing table over their bytes (length prefix included), with no string made.
 */
function dictionaryPages(d: Extract<ColumnData, { kind: 'string' }>, n: number, count: number, physicalType: number, levels: ByteSink, stats: Statistics): ColumnPages | undefined {
  const { bytes, offsets, nullAt } = d;
  let mask = 255;
  let slots = new Int32Array(mask + 1); // entry + 1, 0 = empty
  let starts: Int32Array = new Int32Array(64); // where each entry's first row sits in `bytes`
  let hashes: Int32Array = new Int32Array(64);
  let entries = 0;
  const indices = new Int32Array(count);
  const dict = new ByteSink(1024);
  for (let i = 0, j = 0; i < n; i++) {
    if (nullAt[i]) continue;
    const s = offsets[i]!;
    const e = offsets[i + 1]!;
    const h = hashBytes(bytes, s, e) | 0;
    let slot = h & mask;
    let k = -1;
    for (;;) {
      const at = slots[slot]!;
      if (at === 0) break;
      const start = starts[at - 1]!;
      // the length prefix is compared first: a value of another length differs there
      if (hashes[at - 1] === h && sameBytes(bytes, s, e, start)) {
        k = at - 1;
        break;
      }
      slot = (slot + 1) & mask;
    }
    if (k < 0) {
      k = entries++;
      if (k === starts.length) {
        starts = grow(starts);
        hashes = grow(hashes);
      }
      starts[k] = s;
      hashes[k] = h;
      slots[slot] = k + 1;
      dict.bytes(bytes.subarray(s, e));
      if (dict.pos > MAX_DICTIONARY_BYTES) return undefined;
      if (2 * entries > mask) {
        mask = 2 * mask + 1;
        slots = new Int32Array(mask + 1);
        for (let x = 0; x < entries; x++) {
          let at = hashes[x]! & mask;
          while (slots[at] !== 0) at = (at + 1) & mask;
          slots[at] = x + 1;
        }
      }
    }
    indices[j++] = k;
  }
  const width = bitWidthOf(entries - 1);
  levels.u8(width);
  writeRleHybrid(indices, count, width, levels);
  const data = levels.view();
  return { physicalType, dictionary: { body: dict.view(), entries }, data, dataEncoding: Encoding.RLE_DICTIONARY, stats, tiny: data.length + dict.pos < TINY_BYTES };
}

function grow(a: Int32Array): Int32Array {
  const next = new Int32Array(2 * a.length);
  next.set(a);
  return next;
}
