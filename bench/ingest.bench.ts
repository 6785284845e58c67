// npm run bench — ingest throughput and peak memory, as ratios to baselines measured in the same run.
//
// Each measurement runs in its own Node process so peak RSS belongs to that configuration alone.
//   baseline: DuckDB read_json(NDJSON) → COPY … (FORMAT parquet, COMPRESSION zstd), threads = 1
//   handler/memory: the real ingestBatch (decode → parse → validate → Arrow → Parquet) with in-memory ports
//   handler/local:  the same with the local adapters of `npm start` (directory, JSON catalog, chDB inserts)
//   writers: the same rows through apache-arrow vectorFromArray and hyparquet-writer, against our hand-built vectors
// BENCH_EVENTS (default 100000) sets the data size.
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(import.meta.url);
const HOUR = 3_600_000;

interface Result {
  name: string;
  events: number;
  seconds: number;
  peakRssMb: number;
  bytesOut?: number;
}

/** The file's lines, `size` at a time, so a child holds one batch like a Lambda does, not the whole file. */
async function* chunks(file: string, size: number): AsyncGenerator<string[]> {
  let chunk: string[] = [];
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (line === '') continue;
    chunk.push(line);
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

async function child(mode: string, file: string): Promise<Result> {
  const [kind, arg] = mode.split(':');
  let events = 0;
  const now = Date.now();
  let seconds = 0;
  let bytesOut = 0;

  if (kind === 'duckdb') {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    await conn.run('SET threads = 1');
    const out = join(mkdtempSync(join(tmpdir(), 'bench-duck-')), 'out.parquet');
    events = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
    const t = performance.now();
    await conn.run(`COPY (SELECT * FROM read_json('${file}', format = 'newline_delimited', ignore_errors = true)) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
    seconds = (performance.now() - t) / 1000;
    bytesOut = statSync(out).size;
  } else if (kind === 'memory' || kind === 'local') {
    const batch = Number(arg);
    const { ingestBatch } = await import('../functions/core/ingest.js');
    const { encodeMskEvent } = await import('../functions/core/msk-event.js');
    const { SchemaFiles } = await import('../functions/adapters/schema-files.js');
    const { PACKAGE_ROOT, openLocalRuntime } = await import('../functions/cli/local-runtime.js');
    const { memoryPorts } = await import('./memory-ports.js');
    const schemas = SchemaFiles.load(join(PACKAGE_ROOT, 'schemas/events'));
    const runtime = kind === 'local' ? await openLocalRuntime({ home: mkdtempSync(join(tmpdir(), 'bench-local-')), clock: () => now }) : undefined;
    const deps = runtime?.deps ?? { ...memoryPorts(), schemas, clock: () => now };
    for await (const lines of chunks(file, batch)) {
      const first = events;
      events += lines.length;
      const event = encodeMskEvent(lines.map((l, k) => ({ topic: 'bench', partition: 0, offset: first + k, timestamp: now, value: Buffer.from(l) })));
      const t = performance.now();
      const report = await ingestBatch(event, deps);
      seconds += (performance.now() - t) / 1000;
      bytesOut += report.files.reduce((n, f) => n + f.bytes, 0);
    }
    await runtime?.close();
  } else if (kind === 'writer') {
    const { rowsFor, writers } = await import('./writers.js');
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const { columns, rows } = rowsFor(lines, now);
    events = rows.length; // a writer's rate is rows of the table it encodes
    const write = writers[arg as keyof typeof writers];
    const t = performance.now();
    bytesOut = write(columns, rows).length;
    seconds = (performance.now() - t) / 1000;
  }
  if (process.env["BENCH_MEMORY_DETAIL"]) console.error(JSON.stringify(process.memoryUsage()));
  return { name: mode, events, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024, bytesOut };
}

function runChild(mode: string, file: string): Result {
  const out = execFileSync(process.execPath, ['--import', 'tsx', HERE, '--child', mode, file], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
}

async function main(): Promise<void> {
  const { generateTraffic } = await import('../functions/cli/traffic.js');
  const events = Number(process.env['BENCH_EVENTS'] ?? 100_000);
  const end = Math.floor(Date.now() / HOUR) * HOUR;
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  const file = join(dir, 'events.ndjson');
  writeFileSync(file, generateTraffic({ start: end - HOUR, end, events, malformedRate: 0.001 }).map((r) => r.value.toString()).join('\n') + '\n');
  const mb = statSync(file).size / 1e6;
  console.log(`Tributary ingest benchmark · ${events.toLocaleString('en')} events · ${mb.toFixed(1)} MB NDJSON · node ${process.version} · one core per measurement\n`);

  const base = runChild('duckdb', file);
  const rate = (r: Result): number => r.events / r.seconds;
  const rows: string[][] = [['measurement', 'events/s', 'MB/s', 'peak RSS', '× DuckDB rate', 'RSS goal', 'Parquet out']];
  const add = (r: Result, goal = ''): void => {
    rows.push([r.name, Math.round(rate(r)).toLocaleString('en'), (mb / r.seconds).toFixed(1), `${r.peakRssMb.toFixed(0)} MB`,
      (rate(r) / rate(base)).toFixed(2), goal, r.bytesOut ? `${(r.bytesOut / 1e6).toFixed(1)} MB` : '']);
  };
  add(base);
  for (const batch of [1_000, 10_000, 100_000]) {
    const r = runChild(`memory:${batch}`, file);
    // Goal from the issue: peak RSS under 2× the batch's NDJSON size plus 150 MB.
    const batchMb = (mb * Math.min(batch, events)) / events;
    const goal = 2 * batchMb + 150;
    add(r, `${r.peakRssMb <= goal ? 'ok' : 'OVER'} (< ${goal.toFixed(0)} MB)`);
  }
  add(runChild('local:10000', file));
  for (const w of ['handBuiltArrow', 'vectorFromArray', 'hyparquetWriter']) add(runChild(`writer:${w}`, file));

  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  console.log('\nmemory:N = handler with in-memory ports, batches of N · local:N = handler with the npm start adapters (directory + JSON catalog + chDB)');
  console.log('writer:* = Parquet encoding only, rows/s of the page_view table\'s coerced rows (× DuckDB compares with the whole DuckDB NDJSON→Parquet path)');
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] === '--child') {
  const result = await child(process.argv[3]!, process.argv[4]!);
  console.log(JSON.stringify(result));
} else {
  await main();
}
