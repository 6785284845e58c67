// Apache Arrow tables from column buffers, with hand-built vectors (several times faster than
// apache-arrow's generic vectorFromArray): what Tributary fed parquet-wasm before it wrote Parquet itself,
// kept for the benchmark's writer comparison and the ArrowStream insert measurement.
import {
  Bool, DateDay, Field, Float64, Int32, Int64, makeData, makeVector, RecordBatch, Schema, Struct, Table, TimestampMillisecond, Utf8,
  type DataType, type Vector,
  tableToIPC,
} from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import type { ColumnBuffers, ColumnData } from '../functions/core/batch/column-buffers.js';
import type { ColumnSpec, ColumnType } from '../functions/core/schema/model.js';

const TWO_32 = 4294967296;

export function arrowType(type: ColumnType): DataType {
  switch (type) {
    case 'boolean': return new Bool();
    case 'int32': return new Int32();
    case 'int64': return new Int64();
    case 'double': return new Float64();
    case 'timestamp': return new TimestampMillisecond('UTC');
    case 'date': return new DateDay();
    case 'string':
    case 'json': return new Utf8();
  }
}

interface Validity { bitmap: Uint8Array | undefined; nullCount: number }

const ALL_VALID: Validity = { bitmap: undefined, nullCount: 0 };

/** Arrow's validity bitmap; a column without nulls (most of them) needs none. */
function validity(d: ColumnData, n: number): Validity {
  if (d.nulls === 0) return ALL_VALID;
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (!d.nullAt[i]) bitmap[i >> 3]! |= 1 << (i & 7);
  return { bitmap, nullCount: d.nulls };
}

/** Arrow's layout from the buffers' PLAIN one: offsets of the texts, without the length prefixes. */
function utf8Vector(bytes: Buffer, offsets: Int32Array, n: number, v: Validity): Vector {
  const valueOffsets = new Int32Array(n + 1);
  const data = new Uint8Array(offsets[n]!);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const s = offsets[i]!;
    const e = offsets[i + 1]!;
    if (e > s) {
      data.set(bytes.subarray(s + 4, e), at);
      at += e - s - 4;
    }
    valueOffsets[i + 1] = at;
  }
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount: v.nullCount, nullBitmap: v.bitmap, valueOffsets, data }));
}

/** Int64 values written as two 32-bit halves: avoids a BigInt per value for safe integers. */
function int64Data(values: Float64Array, big: ReadonlyMap<number, bigint> | undefined, n: number): BigInt64Array {
  const out = new BigInt64Array(n);
  const halves = new Uint32Array(out.buffer);
  const signed = new Int32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const value = values[i]!;
    const high = Math.floor(value / TWO_32);
    halves[2 * i] = value - high * TWO_32;
    signed[2 * i + 1] = high;
  }
  if (big) for (const [i, value] of big) out[i] = value;
  return out;
}

function columnVector(column: ColumnSpec, d: ColumnData, n: number): Vector {
  const v = validity(d, n);
  const type = arrowType(column.type);
  const base = { length: n, nullCount: v.nullCount, nullBitmap: v.bitmap };
  switch (d.kind) {
    case 'string':
      return utf8Vector(d.bytes, d.offsets, n, v);
    case 'number':
      if (column.type === 'double') return makeVector(makeData({ ...base, type: type as Float64, data: d.values.slice(0, n) }));
      return makeVector(makeData({ ...base, type: type as Int64, data: int64Data(d.values, d.big, n) }));
    case 'int32':
      return makeVector(makeData({ ...base, type: type as Int32, data: d.values.slice(0, n) }));
    case 'boolean': {
      const data = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) if (d.values[i] === 1) data[i >> 3]! |= 1 << (i & 7);
      return makeVector(makeData({ ...base, type: type as Bool, data }));
    }
  }
}

/** An Arrow table with one column per spec of the buffers. */
export function buildArrowTable(buffers: ColumnBuffers): Table {
  const fields = buffers.columns.map((c) => new Field(c.name, arrowType(c.type), c.nullable));
  const children = buffers.columns.map((c, k) => columnVector(c, buffers.data[k]!, buffers.length).data[0]!);
  const struct = makeData({ type: new Struct(fields), length: buffers.length, nullCount: 0, children });
  return new Table([new RecordBatch(new Schema(fields), struct)]);
}

/** parquet-wasm's writer (Rust's parquet crate) with the settings Tributary used: zstd, chunk statistics. */
export function parquetWasmEncode(table: Table, dictionaryColumns: readonly string[] = []): Uint8Array {
  // A WriterProperties object is consumed by writeParquet: each file gets a fresh one.
  let builder = new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.ZSTD)
    .setDictionaryEnabled(false)
    .setStatisticsEnabled(parquet.EnabledStatistics.Chunk)
    .setMaxRowGroupSize(1_000_000)
    .setCreatedBy('tributary');
  for (const name of dictionaryColumns) builder = builder.setColumnDictionaryEnabled(name, true);
  return parquet.writeParquet(parquet.Table.fromIPCStream(tableToIPC(table, 'stream')), builder.build());
}
