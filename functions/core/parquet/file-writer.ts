// A Parquet file from column buffers: one row group, one data page per column (v1 pages, zstd), a
// dictionary where asked for or where a column holds one value, row-group statistics, and the footer.
// Flat schemas only, which is all Tributary writes: object and array properties are JSON text.
import type { ColumnBuffers } from '../batch/column-buffers.js';
import type { ColumnSpec } from '../schema/model.js';
import { encodeColumn, physicalTypeOf } from './column-chunk.js';
import { Encoding, PhysicalType, type Statistics } from './pages.js';
import { CompactWriter, TType } from './thrift-compact.js';
import { CREATED_BY } from './writer-version.js';
import type { Compress } from './zstd.js';

const MAGIC = Buffer.from('PAR1', 'latin1');
const PageType = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;
const Codec = { UNCOMPRESSED: 0, ZSTD: 6 } as const;
const Repetition = { REQUIRED: 0, OPTIONAL: 1 } as const;
const ConvertedType = { UTF8: 0, DATE: 6, TIMESTAMP_MILLIS: 9 } as const;
/** Page sizes are i32 in the format. */
const MAX_PAGE_BYTES = 0x7fffffff;

export interface WriteOptions {
  /** string columns to dictionary-encode */
  readonly dictionaryColumns?: ReadonlySet<string>;
  readonly createdBy?: string;
}

/** What the footer needs of a column chunk once its pages are written (not the pages: they can go). */
interface WrittenChunk {
  readonly column: ColumnSpec;
  readonly physicalType: number;
  readonly stats: Statistics;
  readonly codec: number;
  readonly start: number;
  readonly dictionaryOffset: number | undefined;
  readonly dataOffset: number;
  readonly uncompressed: number;
  readonly compressed: number;
}

function pageHeader(type: number, uncompressed: number, compressed: number, values: number, encoding: number): Uint8Array {
  if (uncompressed > MAX_PAGE_BYTES || compressed > MAX_PAGE_BYTES) throw new RangeError(`a Parquet page of ${uncompressed} bytes exceeds the format's 2 GiB`);
  const w = new CompactWriter(32).i32(1, type).i32(2, uncompressed).i32(3, compressed);
  if (type === PageType.DICTIONARY_PAGE) w.struct(7).i32(1, values).i32(2, encoding).end();
  else w.struct(5).i32(1, values).i32(2, encoding).i32(3, Encoding.RLE).i32(4, Encoding.RLE).end();
  return w.end().bytes().slice();
}

function schemaElement(w: CompactWriter, c: ColumnSpec, physicalType: number): void {
  w.begin().i32(1, physicalType).i32(3, c.nullable ? Repetition.OPTIONAL : Repetition.REQUIRED).string(4, c.name);
  switch (c.type) {
    case 'string':
    case 'json':
      w.i32(6, ConvertedType.UTF8).struct(10).struct(1).end().end();
      break;
    case 'date':
      w.i32(6, ConvertedType.DATE).struct(10).struct(6).end().end();
      break;
    case 'timestamp':
      // TIMESTAMP(isAdjustedToUTC = true, MILLIS)
      w.i32(6, ConvertedType.TIMESTAMP_MILLIS).struct(10).struct(8).bool(1, true).struct(2).struct(1).end().end().end().end();
      break;
    default:
  }
  w.end();
}

function statistics(w: CompactWriter, physicalType: number, s: Statistics): void {
  w.struct(12);
  // The deprecated min/max (fields 1–2) use signed order, which is the right order only for numbers.
  const legacy = physicalType !== PhysicalType.BYTE_ARRAY && s.min && s.max;
  if (legacy) w.binary(1, s.max!).binary(2, s.min!);
  w.i64(3, s.nullCount);
  if (s.max && s.min) w.binary(5, s.max).binary(6, s.min);
  if (s.nanCount !== undefined) w.i64(9, s.nanCount);
  w.end();
}

/** A file without rows has the schema and no row group. */
function footer(columns: readonly ColumnSpec[], chunks: readonly WrittenChunk[], rows: number, createdBy: string): Uint8Array {
  const w = new CompactWriter(256 + 128 * columns.length);
  w.i32(1, 1);
  w.list(2, TType.Struct, columns.length + 1);
  w.begin().string(4, 'schema').i32(5, columns.length).end();
  for (const c of columns) schemaElement(w, c, physicalTypeOf(c));
  w.i64(3, rows);
  if (rows === 0) w.list(4, TType.Struct, 0);
  else {
    w.list(4, TType.Struct, 1).begin();
    w.list(1, TType.Struct, chunks.length);
    let uncompressed = 0;
    let compressed = 0;
    for (const ch of chunks) {
      uncompressed += ch.uncompressed;
      compressed += ch.compressed;
      const encodings = ch.dictionaryOffset === undefined ? [Encoding.PLAIN, Encoding.RLE] : [Encoding.PLAIN, Encoding.RLE, Encoding.RLE_DICTIONARY];
      w.begin().i64(2, ch.start).struct(3);
      w.i32(1, ch.physicalType);
      w.list(2, TType.I32, encodings.length);
      for (const e of encodings) w.elementI32(e);
      w.list(3, TType.Binary, 1).elementString(ch.column.name);
      w.i32(4, ch.codec).i64(5, rows).i64(6, ch.uncompressed).i64(7, ch.compressed).i64(9, ch.dataOffset);
      if (ch.dictionaryOffset !== undefined) w.i64(11, ch.dictionaryOffset);
      statistics(w, ch.physicalType, ch.stats);
      w.end().end();
    }
    w.i64(2, uncompressed).i64(3, rows).i64(5, chunks[0]?.start ?? 4).i64(6, compressed);
    w.end();
  }
  w.string(6, createdBy);
  // TYPE_ORDER for every column: without it readers ignore min_value/max_value.
  w.list(7, TType.Struct, columns.length);
  for (let k = 0; k < columns.length; k++) w.begin().struct(1).end().end();
  return w.end().bytes();
}

/** The buffers' rows as one Parquet file. */
export function writeParquetFile(buffers: ColumnBuffers, compress: Compress, options: WriteOptions = {}): Uint8Array {
  const n = buffers.length;
  const parts: Uint8Array[] = [MAGIC];
  let offset = MAGIC.length;
  const push = (b: Uint8Array): void => {
    parts.push(b);
    offset += b.length;
  };
  const chunks: WrittenChunk[] = n === 0 ? [] : buffers.columns.map((column, k) => {
    const pages = encodeColumn(column, buffers.data[k]!, n, options.dictionaryColumns?.has(column.name) ?? false);
    const codec = pages.tiny ? Codec.UNCOMPRESSED : Codec.ZSTD;
    const pack = (body: Uint8Array): Uint8Array => (codec === Codec.ZSTD ? compress(body) : body);
    const start = offset;
    let uncompressed = 0;
    let dictionaryOffset: number | undefined;
    if (pages.dictionary) {
      dictionaryOffset = offset;
      const body = pack(pages.dictionary.body);
      const header = pageHeader(PageType.DICTIONARY_PAGE, pages.dictionary.body.length, body.length, pages.dictionary.entries, Encoding.PLAIN);
      uncompressed += header.length + pages.dictionary.body.length;
      push(header);
      push(body);
    }
    const dataOffset = offset;
    const body = pack(pages.data);
    const header = pageHeader(PageType.DATA_PAGE, pages.data.length, body.length, n, pages.dataEncoding);
    uncompressed += header.length + pages.data.length;
    push(header);
    push(body);
    return { column, physicalType: pages.physicalType, stats: pages.stats, codec, start, dictionaryOffset, dataOffset, uncompressed, compressed: offset - start };
  });
  const meta = footer(buffers.columns, chunks, n, options.createdBy ?? CREATED_BY);
  const tail = Buffer.allocUnsafe(8);
  tail.writeUInt32LE(meta.length, 0);
  MAGIC.copy(tail, 4);
  parts.push(meta, tail);
  return Buffer.concat(parts);
}
