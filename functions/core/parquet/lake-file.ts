// Parquet files of the lake: written by Tributary's own encoder (parquet/), read back with parquet-wasm
// (Rust's parquet crate) only when a redelivered batch meets a file already under its key.
import type { ColumnBuffers } from '../batch/column-buffers.js';
import { writeParquetFile } from './file-writer.js';
import { zstd } from './zstd.js';
import type { ColumnSpec } from '../schema/model.js';

export interface ParquetOptions {
  /** string columns to dictionary-encode; all others are PLAIN (a column of one value gets a one-entry dictionary) */
  readonly dictionaryColumns?: readonly string[];
}

/**
 * Dictionary encoding only for columns the schema marks low-cardinality. On tracking data, zstd over plain
 * pages is both smaller (1.34 vs 1.78 MB on the benchmark's 100k events) and faster than trying a
 * dictionary for every column and falling back for ids and timestamps.
 */
export const dictionaryColumnsOf = (columns: readonly ColumnSpec[]): string[] =>
  columns.filter((c) => c.lowCardinality).map((c) => c.name);

export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';

export async function encodeParquet(buffers: ColumnBuffers, options: ParquetOptions = {}): Promise<Uint8Array> {
  return writeParquetFile(buffers, await zstd(), { dictionaryColumns: new Set(options.dictionaryColumns ?? []) });
}

/** Where each row of a data file Tributary wrote came from: its `_topic`, `_partition` and `_offset` columns. */
export interface RowPositions {
  readonly topics: readonly string[];
  readonly partitions: Float64Array;
  readonly offsets: Float64Array;
}

/** The Kafka positions of a data file's rows: which records it holds. */
export async function parquetPositions(bytes: Uint8Array): Promise<RowPositions> {
  // Loaded on first use: a container that never meets a redelivery never compiles the reader.
  const [parquet, { tableFromIPC }] = await Promise.all([import('parquet-wasm'), import('apache-arrow')]);
  const table = tableFromIPC(parquet.readParquet(bytes, { columns: ['_topic', '_partition', '_offset'] }).intoIPCStream());
  const read = (name: string): Float64Array => {
    const column = table.getChild(name);
    const out = new Float64Array(table.numRows);
    for (let i = 0; i < out.length; i++) out[i] = Number(column?.get(i));
    return out;
  };
  const topic = table.getChild('_topic');
  const topics = Array.from({ length: table.numRows }, (_, i) => String(topic?.get(i)));
  return { topics, partitions: read('_partition'), offsets: read('_offset') };
}
