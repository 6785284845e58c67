// The row count of a Parquet file from its footer alone (FileMetaData.num_rows), so the console can count an
// S3 lake's rows per hour with a ranged read of each file's tail instead of downloading it.
// FileMetaData (Thrift's compact protocol) is read by the lake's footer reader: num_rows is its field 3.
import { field, parseFooter } from '../../../core/lake/parquet-footer.js';

const MAGIC = 'PAR1';

/** The footer's length, from the file's last 8 bytes (`<length LE u32>PAR1`). */
export function footerLength(tail: Uint8Array): number {
  if (tail.length < 8 || new TextDecoder().decode(tail.subarray(tail.length - 4)) !== MAGIC) throw new Error('not a Parquet file (no PAR1 at its end)');
  return new DataView(tail.buffer, tail.byteOffset + tail.length - 8, 4).getUint32(0, true);
}

/** FileMetaData.num_rows of a footer (the bytes between the data and `<length>PAR1`). */
export function footerRows(footer: Uint8Array): number {
  const rows = field(parseFooter(footer), 3);
  if (rows?.kind !== 'int') throw new Error('Parquet footer has no num_rows');
  return Number(rows.value);
}

/**
 * Rows of a file read through `tail(n)`, which returns its last n bytes (or the whole file when shorter):
 * one read of 64 KiB covers a lake file's footer; a bigger footer takes a second.
 */
export async function parquetRows(tail: (n: number) => Promise<Uint8Array>): Promise<number> {
  let bytes = await tail(64 * 1024);
  const length = footerLength(bytes);
  if (length + 8 > bytes.length) bytes = await tail(length + 8);
  if (length + 8 > bytes.length) throw new Error('Parquet footer is longer than the file');
  return footerRows(bytes.subarray(bytes.length - 8 - length, bytes.length - 8));
}
