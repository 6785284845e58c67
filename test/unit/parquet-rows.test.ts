// The console's row count from a Parquet footer (functions/cli/serve/console/parquet-rows.ts), against what
// hyparquet reads from the whole file, for files of two writers, a footer too big for the first ranged read,
// and bytes that are not Parquet.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parquetMetadata } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import * as parquetWasm from 'parquet-wasm';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { parquetRows } from '../../functions/cli/serve/console/parquet-rows.js';

/** The file's last n bytes, as a ranged GET (bytes=-n) gives them; records each read's size. */
const tailOf = (file: Uint8Array, reads: number[]) => async (n: number): Promise<Uint8Array> => {
  reads.push(n);
  return file.subarray(Math.max(0, file.length - n));
};
const wholeFileRows = (file: Uint8Array): number => Number(parquetMetadata(file.buffer.slice(file.byteOffset, file.byteOffset + file.length) as ArrayBuffer).num_rows);

describe('parquetRows', () => {
  it('reads num_rows from the footer of a hyparquet-writer file in one read', async () => {
    const file = new Uint8Array(parquetWriteBuffer({ columnData: [
      { name: 'event_id', data: Array.from({ length: 1234 }, (_, i) => `e${i}`), type: 'STRING' },
      { name: 'n', data: Array.from({ length: 1234 }, (_, i) => i), type: 'INT32' },
      { name: 'ok', data: Array.from({ length: 1234 }, (_, i) => i % 2 === 0), type: 'BOOLEAN' },
    ] }));
    const reads: number[] = [];
    assert.equal(await parquetRows(tailOf(file, reads)), 1234);
    assert.equal(wholeFileRows(file), 1234);
    assert.deepEqual(reads, [64 * 1024]);
  });

  it('reads a parquet-wasm (Rust parquet) file, key-value metadata and statistics included', async () => {
    const table = tableFromArrays({ id: Int32Array.from({ length: 70_001 }, (_, i) => i), name: Array.from({ length: 70_001 }, (_, i) => `n${i % 17}`) });
    const file = parquetWasm.writeParquet(parquetWasm.Table.fromIPCStream(tableToIPC(table, 'stream')));
    assert.equal(await parquetRows(tailOf(file, [])), 70_001);
    assert.equal(wholeFileRows(file), 70_001);
  });

  it('reads the footer again when it is longer than the first read', async () => {
    // 1,500 columns: a footer of well over 64 KiB
    const file = new Uint8Array(parquetWriteBuffer({ columnData: Array.from({ length: 1500 }, (_, c) => ({ name: `column_with_a_long_name_${c}`, data: [c, c + 1, c + 2], type: 'INT32' as const })) }));
    const reads: number[] = [];
    assert.equal(await parquetRows(tailOf(file, reads)), 3);
    assert.equal(reads.length, 2);
    assert.ok(reads[1]! > 64 * 1024, String(reads[1]));
  });

  it('refuses bytes that are not Parquet, and a footer that ends early', async () => {
    await assert.rejects(parquetRows(async () => new TextEncoder().encode('{"not": "parquet"}')), /not a Parquet file/);
    const file = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'n', data: [1, 2], type: 'INT32' }] }));
    const cut = new Uint8Array([...file.subarray(file.length - 20, file.length - 8), ...file.subarray(file.length - 8)]);
    await assert.rejects(parquetRows(async () => cut), /footer (is longer than the file|ends early)/);
  });
});
