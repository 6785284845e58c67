// Inserts of page_view batches into chDB in one format: encoding from the batch's column buffers plus the
// insert itself. Binary formats go through file(), as the chDB inserter does; JSONEachRow through the client.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableToIPC } from 'apache-arrow';
import { openChdbWarehouse } from '../../functions/adapters/warehouse/chdb.js';
import { qualified } from '../../functions/core/warehouse/clickhouse-ddl.js';
import type { CellValue } from '../../functions/core/batch/coerce.js';
import { ColumnBuffers } from '../../functions/core/batch/column-buffers.js';
import { buildArrowTable } from '../arrow-columnar.js';
import { quoteIdentifier, quoteString } from '../../functions/core/identifiers.js';
import { encodeParquet } from '../../functions/core/parquet/lake-file.js';
import type { ColumnSpec, TableSchema } from '../../functions/core/schema/model.js';
import { rowsFor } from '../writers.js';
import { args, report } from './common.js';

const { arg, file } = args();
// ParquetFromLake: the Parquet bytes ingest already built for the lake file, so only the insert is timed.
const [format, batchArg] = arg.split(':') as ['Parquet' | 'ParquetFromLake' | 'ArrowStream' | 'JSONEachRow', string];
const batchRows = Number(batchArg);
const TOTAL = 200_000;
const { columns, rows: base } = await rowsFor(readFileSync(file, 'utf8').split('\n').filter(Boolean), Date.now());
const inserts = Math.ceil(TOTAL / batchRows);
// Unique event ids, so that ReplacingMergeTree's merges cannot shrink what the count check sees.
const batches: CellValue[][][] = Array.from({ length: inserts }, (_, b) =>
  Array.from({ length: batchRows }, (_, i) => { const r = [...base[i % base.length]!]; r[0] = `${b}-${i}`; return r; }));

const dir = mkdtempSync(join(tmpdir(), 'bench-ch-insert-'));
const { warehouse, raw } = await openChdbWarehouse(join(dir, 'db'));
const schema: TableSchema = { table: 'page_view', origin: 'inferred', properties: columns.slice(9), required: [], allowNewProperties: true, orderBy: ['event_time', 'event_id'] };
await warehouse.ensureTable(schema);
const target = qualified('tributary', 'page_view');
const names = columns.map((c) => quoteIdentifier(c.name)).join(', ');

const pad = (n: number): string => String(n).padStart(2, '0');
function jsonCell(c: ColumnSpec, v: CellValue): unknown {
  if (v === null) return null;
  if (c.type === 'timestamp') return new Date(v as number).toISOString();
  if (c.type === 'date') { const d = new Date((v as number) * 86_400_000); return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`; }
  return typeof v === 'bigint' ? v.toString() : v;
}

async function insertOnce(i: number): Promise<void> {
  const token = `bench-${i}`;
  const batch = batches[i]!;
  if (format === 'JSONEachRow') {
    const values = batch.map((r) => Object.fromEntries(columns.map((c, k) => [c.name, jsonCell(c, r[k]!)])));
    await warehouse.client.insert({ table: target, values, format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: token, date_time_input_format: 'best_effort' } });
    return;
  }
  const bytes = prebuilt[i] ?? (format === 'Parquet' ? await encodeParquet(ColumnBuffers.fromRows(columns, batch)) : tableToIPC(buildArrowTable(ColumnBuffers.fromRows(columns, batch)), 'stream'));
  const path = join(dir, `${i}.bin`);
  writeFileSync(path, bytes);
  const clickhouseFormat = format === 'ArrowStream' ? 'ArrowStream' : 'Parquet';
  await raw.queryAsync(`INSERT INTO ${target} (${names}) SETTINGS insert_deduplication_token = ${quoteString(token)} SELECT ${names} FROM file(${quoteString(path)}, ${quoteString(clickhouseFormat)})`);
  rmSync(path);
}

const prebuilt: Uint8Array[] = format === 'ParquetFromLake' ? await Promise.all(batches.map((b) => encodeParquet(ColumnBuffers.fromRows(columns, b)))) : [];
const t = performance.now();
for (let i = 0; i < inserts; i++) await insertOnce(i);
const seconds = (performance.now() - t) / 1000;
const stored = Number((await warehouse.query<{ n: string }>(`SELECT count() AS n FROM ${target}`))[0]!.n);
if (stored !== inserts * batchRows) throw new Error(`${format}: stored ${stored} rows, expected ${inserts * batchRows}`);
await warehouse.close();
rmSync(dir, { recursive: true, force: true });
report({ name: `insert:${format}:${batchRows}`, events: inserts * batchRows, seconds });
