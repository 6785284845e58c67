// A string column's pages: statistics in one pass over the PLAIN values, a dictionary found by hashing
// their bytes, or the values as the column buffers hold them.
import { LENGTH_BYTES, type ColumnData } from '../batch/column-buffers.js';
import type { ColumnSpec } from '../schema/model.js';
import { ByteSink } from './byte-sink.js';
import { constantPages, Encoding, finish, MAX_DICTIONARY_BYTES, MAX_STAT_BYTES, TINY_BYTES, type ColumnPages, type Statistics } from './pages.js';
import { bitWidthOf, writeRleHybrid } from './rle-hybrid.js';

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

export function encodeStrings(c: ColumnSpec, d: Extract<ColumnData, { kind: 'string' }>, n: number, count: number, dictionary: boolean, physicalType: number, levels: ByteSink): ColumnPages {
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
