// Baseline: DuckDB read_json(NDJSON) → COPY … (FORMAT parquet, COMPRESSION zstd), one thread. Run twice,
// like the handler: the second run is the steady state, the first is reported as the cold run.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { args, report } from './common.js';

const { file } = args();
const conn = await (await DuckDBInstance.create(':memory:')).connect();
await conn.run('SET threads = 1');
const dir = mkdtempSync(join(tmpdir(), 'bench-duck-'));
const events = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
const copy = async (out: string): Promise<number> => {
  const t = performance.now();
  await conn.run(`COPY (SELECT * FROM read_json('${file}', format = 'newline_delimited', ignore_errors = true)) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
  return (performance.now() - t) / 1000;
};
const coldSeconds = await copy(join(dir, 'cold.parquet'));
const out = join(dir, 'out.parquet');
const seconds = await copy(out);
report({ name: 'duckdb', events, seconds, coldSeconds, bytesOut: statSync(out).size });
