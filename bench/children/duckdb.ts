// Baseline: DuckDB read_json(NDJSON) → COPY … (FORMAT parquet, COMPRESSION zstd), one thread. Run twice,
// like the handler: the second run is the steady state, the first is reported as the cold run.
// With `partitioned`, the rows are written as the lake holds them, one file per (event, dt, hour), once:
// the baseline of `tributary ingest` of a backfill, which runs once in a fresh process too.
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { args, report } from './common.js';

const { arg, file } = args();
const conn = await (await DuckDBInstance.create(':memory:')).connect();
await conn.run('SET threads = 1');
const dir = mkdtempSync(join(tmpdir(), 'bench-duck-'));
const events = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
const input = `read_json('${file}', format = 'newline_delimited', ignore_errors = true)`;
if (arg === 'partitioned') {
  const out = join(dir, 'lake');
  const t = performance.now();
  await conn.run(`COPY (SELECT *, CAST(ts AS DATE) AS dt, hour(ts) AS hour FROM ${input}) TO '${out}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (event, dt, hour))`);
  const seconds = (performance.now() - t) / 1000;
  const files = readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.parquet'));
  report({ name: 'duckdb:partitioned', events, seconds, files: files.length, bytesOut: files.reduce((n, e) => n + statSync(join(e.parentPath, e.name)).size, 0) });
} else {
  const copy = async (out: string): Promise<number> => {
    const t = performance.now();
    await conn.run(`COPY (SELECT * FROM ${input}) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
    return (performance.now() - t) / 1000;
  };
  const coldSeconds = await copy(join(dir, 'cold.parquet'));
  const out = join(dir, 'out.parquet');
  const seconds = await copy(out);
  report({ name: 'duckdb', events, seconds, coldSeconds, bytesOut: statSync(out).size });
}
