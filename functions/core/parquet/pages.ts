// What every column's pages are made of: the types the footer reads, definition levels, and the two
// ways a page ends (PLAIN values after the levels, or a one-entry dictionary for a column of one value).
import type { ColumnData } from '../batch/column-buffers.js';
import { ByteSink } from './byte-sink.js';
import { writeRleHybrid } from './rle-hybrid.js';

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
export const MAX_STAT_BYTES = 256;
export const TINY_BYTES = 256;

/** Definition levels of an OPTIONAL column: 4-byte length, then RLE/bit-packed (width 1). */
export function writeLevels(d: ColumnData, n: number, out: ByteSink): void {
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
  out.u32At(start, out.pos - start - 4);
}

/** One value of every page: a one-entry dictionary and a single RLE run of index 0. */
export function constantPages(physicalType: number, value: Uint8Array, stringValue: boolean, d: ColumnData, n: number, nullable: boolean, stats: Statistics): ColumnPages {
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

export function finish(physicalType: number, levels: ByteSink, values: Uint8Array, stats: Statistics): ColumnPages {
  // A REQUIRED column has no levels: its page is the values as they stand.
  if (levels.pos > 0) levels.bytes(values);
  const data = levels.pos > 0 ? levels.view() : values;
  return { physicalType, data, dataEncoding: Encoding.PLAIN, stats, tiny: data.length < TINY_BYTES };
}
