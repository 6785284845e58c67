// Baseline: DuckDB read_json(NDJSON) → COPY … (FORMAT parquet, COMPRESSION zstd), one thread.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { args, report } from './common.js';

const { file } = args();
const conn = await (await DuckDBInstance.create(':memory:')).connect();
await conn.run('SET threads = 1');
const out = join(mkdtempSync(join(tmpdir(), 'bench-duck-')), 'out.parquet');
const events = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
const t = performance.now();
await conn.run(`COPY (SELECT * FROM read_json('${file}', format = 'newline_delimited', ignore_errors = true)) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
report({ name: 'duckdb', events, seconds: (performance.now() - t) / 1000, bytesOut: statSync(out).size });
