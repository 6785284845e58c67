// Parquet writers compared on the same coerced rows (the page_view table of the generated traffic).
import { Table, vectorFromArray } from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { planBatch } from '../functions/core/batch/batch-plan.js';
import type { CellValue } from '../functions/core/batch/coerce.js';
import { ColumnBuffers } from '../functions/core/batch/column-buffers.js';
import { DEFAULT_ENVELOPE_LIMITS } from '../functions/core/decode/envelope.js';
import { dictionaryColumnsOf, encodeParquet } from '../functions/core/parquet/lake-file.js';
import { tableColumns, type ColumnSpec, type ColumnType } from '../functions/core/schema/model.js';
import { arrowType, buildArrowTable, parquetWasmEncode } from './arrow-columnar.js';

export async function rowsFor(lines: readonly string[], now: number): Promise<{ columns: ColumnSpec[]; rows: CellValue[][] }> {
  const records = lines.map((l, i) => ({ topic: 'bench', partition: 0, offset: i, timestamp: now, key: null, value: Buffer.from(l), headers: [] }));
  const plan = await planBatch(records, [], { now, piiSalt: '', limits: DEFAULT_ENVELOPE_LIMITS, tableContext: () => ({ before: undefined }) });
  const schema = plan.tables.get('page_view')!.schema;
  return { columns: tableColumns(schema), rows: plan.splits.filter((s) => s.table === 'page_view').flatMap((s) => s.rows.rows()) };
}

const HYPARQUET_TYPES: Record<ColumnType, 'STRING' | 'JSON' | 'INT32' | 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP'> = {
  string: 'STRING', json: 'JSON', int32: 'INT32', date: 'INT32', int64: 'INT64', double: 'DOUBLE', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP',
};

function cellsOf(rows: readonly CellValue[][], k: number, type: ColumnType): unknown[] {
  return rows.map((r) => {
    const v = r[k];
    if (v === null || v === undefined) return null;
    if (type === 'int64') return BigInt(v as number);
    if (type === 'timestamp') return new Date(v as number);
    return v;
  });
}

export const writers = {
  /** what Tributary ships: its own encoder from the column buffers, zstd (node:zlib, or WebAssembly on Node < 22.15) */
  tributary: (columns: ColumnSpec[], rows: CellValue[][]): Promise<Uint8Array> =>
    encodeParquet(ColumnBuffers.fromRows(columns, rows), { dictionaryColumns: dictionaryColumnsOf(columns) }),
  /** what it shipped before: Arrow buffers built by hand, parquet-wasm (Rust's parquet crate), zstd */
  parquetWasm: (columns: ColumnSpec[], rows: CellValue[][]): Uint8Array => parquetWasmEncode(buildArrowTable(ColumnBuffers.fromRows(columns, rows)), dictionaryColumnsOf(columns)),
  /** apache-arrow's generic builder, same parquet-wasm encoder */
  vectorFromArray: (columns: ColumnSpec[], rows: CellValue[][]): Uint8Array => {
    const vectors = Object.fromEntries(columns.map((c, k) => [c.name, vectorFromArray(cellsOf(rows, k, c.type === 'timestamp' ? 'double' : c.type) as never[], arrowType(c.type))]));
    return parquetWasmEncode(new Table(vectors));
  },
  /** pure-JS writer (snappy: zstd needs an extra compressor package) */
  hyparquetWriter: (columns: ColumnSpec[], rows: CellValue[][]): Uint8Array =>
    new Uint8Array(parquetWriteBuffer({ columnData: columns.map((c, k) => ({ name: c.name, data: cellsOf(rows, k, c.type) as never, type: HYPARQUET_TYPES[c.type], nullable: c.nullable })) })),
};
