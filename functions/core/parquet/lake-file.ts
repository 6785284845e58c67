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

/** The `_offset` column of a data file Tributary wrote: which Kafka records it holds. */
export async function parquetOffsets(bytes: Uint8Array): Promise<Float64Array> {
  // Loaded on first use: a container that never meets a redelivery never compiles the reader.
  const [parquet, { tableFromIPC }] = await Promise.all([import('parquet-wasm'), import('apache-arrow')]);
  const table = tableFromIPC(parquet.readParquet(bytes, { columns: ['_offset'] }).intoIPCStream());
  const column = table.getChild('_offset');
  const out = new Float64Array(table.numRows);
  for (let i = 0; i < out.length; i++) out[i] = Number(column?.get(i));
  return out;
}
