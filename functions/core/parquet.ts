// Parquet encoding of an Arrow table through parquet-wasm (Rust's parquet crate compiled to WASM).
import { tableToIPC, type Table } from 'apache-arrow';
import * as parquet from 'parquet-wasm';

export interface ParquetOptions {
  readonly maxRowGroupSize?: number;
}

export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';

export function encodeParquet(table: Table, options: ParquetOptions = {}): Uint8Array {
  // A WriterProperties object is consumed by writeParquet: reusing one silently writes the next file
  // uncompressed (notes/dependencies.md), so each file gets a fresh one.
  const props = new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.ZSTD)
    .setMaxRowGroupSize(options.maxRowGroupSize ?? 1_000_000)
    .setCreatedBy('tributary')
    .build();
  const wasmTable = parquet.Table.fromIPCStream(tableToIPC(table, 'stream'));
  return parquet.writeParquet(wasmTable, props);
}
