// Parquet's RLE/bit-packing hybrid, the encoding of definition levels and dictionary indices: runs of one
// value (eight or more) become RLE runs, everything else bit-packed groups of eight values.
import type { ByteSink } from './byte-sink.js';

/** Bits needed for values up to `max` (at least 1: some readers mishandle width 0). */
export const bitWidthOf = (max: number): number => Math.max(1, 32 - Math.clz32(max));

/**
 * Appends `values[0..n)` (each < 2^bitWidth, bitWidth ≤ 24) to `out`. Bit-packed groups must hold eight
 * values, so a literal stretch borrows values from the run after it to fill its last group; only the
 * final group is padded with zeros, which readers ignore past the page's value count.
 */
export function writeRleHybrid(values: ArrayLike<number>, n: number, bitWidth: number, out: ByteSink): void {
  if (bitWidth < 1 || bitWidth > 24) throw new RangeError(`RLE bit width ${bitWidth} is outside 1–24`);
  let literalStart = 0;
  let i = 0;
  while (i < n) {
    const v = values[i]!;
    let j = i + 1;
    while (j < n && values[j] === v) j++;
    const fill = (8 - ((i - literalStart) & 7)) & 7;
    if (j - i - fill >= 8) {
      i += fill;
      if (i > literalStart) bitPacked(values, literalStart, i, bitWidth, out);
      rleRun(v, j - i, bitWidth, out);
      literalStart = j;
    }
    i = j;
  }
  if (literalStart < n) bitPacked(values, literalStart, n, bitWidth, out);
}

function rleRun(value: number, count: number, bitWidth: number, out: ByteSink): void {
  out.varint(count * 2);
  for (let b = 0; b < bitWidth; b += 8) out.u8((value >>> b) & 0xff);
}

function bitPacked(values: ArrayLike<number>, from: number, to: number, bitWidth: number, out: ByteSink): void {
  const groups = Math.ceil((to - from) / 8);
  out.varint(groups * 2 + 1);
  out.ensure(groups * bitWidth);
  const buf = out.buf;
  let pos = out.pos;
  let acc = 0;
  let bits = 0;
  const end = from + groups * 8;
  for (let i = from; i < end; i++) {
    acc |= (i < to ? values[i]! : 0) << bits;
    bits += bitWidth;
    while (bits >= 8) {
      buf[pos++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  out.pos = pos;
}
