// npm run bench — ingest throughput and peak memory, as ratios to baselines measured in the same run.
//
// Each measurement runs in its own Node process (an esbuild bundle, as in Lambda) so peak RSS belongs to
// that configuration alone.
//   baseline: DuckDB read_json(NDJSON) → COPY … (FORMAT parquet, COMPRESSION zstd), threads = 1
// The handler and the baseline each go over the data twice in one process: the second pass is the
// throughput of a warm consumer (a Lambda container serves thousands of batches), the first is printed too.
//   handler/memory: the real ingestBatch (decode → parse → validate → column buffers → Parquet) with in-memory ports,
//                   with Node's default heap and "as deployed" (the ingest function's NODE_OPTIONS from infra/)
//   handler/local:  the same with the local adapters of `npm start` (directory, JSON catalog, chDB inserts)
//   input:          the MSK events read and parsed with a handler that does nothing: what the runtime's
//                   payload costs before any work (a process that does nothing else collects less often)
//   writers: the same rows through Tributary's encoder, parquet-wasm (hand-built Arrow vectors or vectorFromArray) and hyparquet-writer
//   compaction: one hour of 200 small files with 5% redelivered events, DuckDB (the product's engine) and chDB
//   clickhouse inserts: JSONEachRow, Parquet and ArrowStream batches of 10k and 100k rows into chDB
//   backfill: `tributary ingest` of a two-day file in shuffled time order against DuckDB writing the same
//             rows partitioned by (event, dt, hour), in the same run
// BENCH_EVENTS (default 100000) sets the data size; BENCH_ONLY=compaction|insert|backfill runs only that part.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_INGEST_MEMORY_MB, DEFAULT_INGEST_SEMI_SPACE_MB, lambdaHeapSizing } from '../infra/config.js';
import { heapFlags, nodeOptions } from '../infra/functions.js';
import type { Result } from './children/common.js';

const HERE = fileURLToPath(import.meta.url);
const HOUR = 3_600_000;

const CHILDREN = ['duckdb', 'handler-memory', 'handler-local', 'input-only', 'writer', 'compaction', 'clickhouse-insert', 'ingest-cli'] as const;
const BUNDLES = resolve('node_modules/.cache/tributary-bench');

/**
 * Each child is built the way the Lambda's bundle is (infra/functions.ts): one minified esbuild bundle with
 * its packages inlined and parquet-wasm's .wasm next to it. No TypeScript loader in the process (tsx alone
 * adds ~30 MB of RSS) and only the modules that child measures. Native engines (DuckDB, chDB) stay
 * external: they are the baselines and the local stand-ins, not the function.
 */
async function bundleChildren(): Promise<void> {
  const { build } = await import('esbuild');
  const { assetCommands, ESBUILD_OPTIONS } = await import('../infra/functions.js');
  await build({
    entryPoints: CHILDREN.map((c) => join(HERE, '..', 'children', `${c}.ts`)),
    // source maps as the function has them, for the configurations run with its NODE_OPTIONS (--enable-source-maps)
    outdir: BUNDLES, outExtension: { '.js': '.mjs' }, bundle: true, minify: true, sourcemap: true, sourcesContent: ESBUILD_OPTIONS.sourcesContent, logLevel: 'error',
    format: ESBUILD_OPTIONS.format, platform: ESBUILD_OPTIONS.platform, target: 'node20', mainFields: ESBUILD_OPTIONS.mainFields,
    banner: { js: ESBUILD_OPTIONS.banner }, external: ['@duckdb/*', 'chdb', 'chdb/*'],
  });
  for (const command of assetCommands(BUNDLES)) execFileSync('sh', ['-c', command]);
}

/** `taskset -c 0` where it exists: one core per measurement, V8's GC and compiler threads included. */
const PIN = ((): string[] => {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return ['taskset', '-c', '0'];
  } catch {
    return [];
  }
})();

/**
 * BENCH_NODE: a second Node binary (`npm run bench:lambda-node` fetches the Lambda runtime's, Node 24) that
 * runs the handler again as the function is deployed, and with the heap flags Lambda's Node bootstrap
 * derives from the function's memory when NODE_OPTIONS names none (new space = memory/10 split in two
 * semi-spaces, old space = the rest): what the function would do without its own young-generation setting.
 */
const LAMBDA_NODE = process.env['BENCH_NODE'];
const LAMBDA_NODE_FLAGS = heapFlags(DEFAULT_INGEST_MEMORY_MB, lambdaHeapSizing(DEFAULT_INGEST_MEMORY_MB).semiSpaceMb);
/** The ingest function's NODE_OPTIONS as infra/ deploys them: source maps on, its heap flags. */
const DEPLOYED_NODE_OPTIONS = nodeOptions(DEFAULT_INGEST_MEMORY_MB, DEFAULT_INGEST_SEMI_SPACE_MB);
const DEPLOYED = 'as deployed';

function runChild(child: (typeof CHILDREN)[number], arg: string, file: string, env: Record<string, string> = {}, node: string[] = [process.execPath]): Result {
  const [command, ...prefix] = [...PIN, ...node];
  const out = execFileSync(command!, [...prefix, join(BUNDLES, `${child}.mjs`), arg, file], {
    encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TRIBUTARY_SCHEMAS: resolve('schemas/events'), ...env },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
}

/** Rows as aligned columns: the first left-aligned, the rest right-aligned. */
function printTable(rows: readonly string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

async function main(): Promise<void> {
  if (process.env['BENCH_ONLY'] === 'insert') {
    await bundleChildren();
    const { generateTraffic } = await import('../functions/cli/traffic.js');
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
    const file = join(dir, 'events.ndjson');
    const end = Math.floor(Date.now() / HOUR) * HOUR;
    writeFileSync(file, generateTraffic({ start: end - HOUR, end, events: 100_000, malformedRate: 0 }).map((r) => r.value.toString()).join('\n') + '\n');
    insertBench(file);
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  if (process.env['BENCH_ONLY'] === 'backfill') {
    await bundleChildren();
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
    await backfillBench(dir, Number(process.env['BENCH_ROUNDS'] ?? 3));
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  if (process.env['BENCH_ONLY'] === 'compaction') {
    await bundleChildren();
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
    await compactionBench(dir, Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR);
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const { generateTraffic } = await import('../functions/cli/traffic.js');
  const events = Number(process.env['BENCH_EVENTS'] ?? 100_000);
  const end = Math.floor(Date.now() / HOUR) * HOUR;
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  const file = join(dir, 'events.ndjson');
  writeFileSync(file, generateTraffic({ start: end - HOUR, end, events, malformedRate: 0.001 }).map((r) => r.value.toString()).join('\n') + '\n');
  const mb = statSync(file).size / 1e6;
  console.log(`Tributary ingest benchmark · ${events.toLocaleString('en')} events · ${mb.toFixed(1)} MB NDJSON · node ${process.version} · ${PIN.length > 0 ? 'each measurement pinned to one core' : 'one thread per measurement (taskset not found: not pinned)'}\n`);

  await bundleChildren();
  // This machine's speed drifts by ±30% within minutes (shared host): each configuration runs once per
  // round, rounds interleave them, and the fastest run of each counts (peak RSS: the largest).
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
  // [child, batch, node and flags, label, environment]
  type Config = [(typeof CHILDREN)[number], string, string[]?, string?, Record<string, string>?];
  const deployed = { NODE_OPTIONS: DEPLOYED_NODE_OPTIONS };
  const configs: Config[] = [['duckdb', ''], ['handler-memory', '1000'], ['handler-memory', '10000'], ['handler-memory', '100000'], ['handler-local', '10000'],
    ['input-only', '1000'], ['input-only', '10000'], ['input-only', '100000'],
    // the function as infra/ deploys it: its heap flags (and source maps) through NODE_OPTIONS, as Lambda reads them
    ['handler-memory', '1000', undefined, DEPLOYED, deployed], ['handler-memory', '10000', undefined, DEPLOYED, deployed], ['input-only', '10000', undefined, DEPLOYED, deployed]];
  const lambdaLabel = LAMBDA_NODE ? `node ${execFileSync(LAMBDA_NODE, ['--version'], { encoding: 'utf8' }).trim()}` : '';
  const lambdaOwnLabel = `${lambdaLabel}, Lambda's own heap flags ${LAMBDA_NODE_FLAGS.join(' ')}`;
  if (LAMBDA_NODE) {
    for (const batch of ['1000', '10000']) configs.push(['handler-memory', batch, [LAMBDA_NODE], `${lambdaLabel}, ${DEPLOYED}`, deployed]);
    configs.push(['input-only', '10000', [LAMBDA_NODE], `${lambdaLabel}, ${DEPLOYED}`, deployed]);
    configs.push(['handler-memory', '10000', [LAMBDA_NODE, ...LAMBDA_NODE_FLAGS], lambdaOwnLabel]);
  }
  // The handler children read ready-made MSK events (one JSON file each), as a Lambda gets its payload.
  const { writeMskEvents } = await import('./children/common.js');
  const eventDirs = new Map<string, string>();
  for (const batch of ['1000', '10000', '100000']) eventDirs.set(batch, await writeMskEvents(file, Number(batch), end, join(dir, `events-${batch}`)));
  const best = new Map<string, Result>();
  for (let round = 0; round < rounds; round++) {
    for (const [child, arg, node, label, env] of configs) {
      const r = runChild(child, arg, eventDirs.get(arg) ?? file, env, node);
      if (label) r.name = `${r.name} (${label})`;
      const b = best.get(r.name);
      best.set(r.name, !b ? r : {
        ...r,
        seconds: Math.min(b.seconds, r.seconds),
        ...(r.coldSeconds !== undefined ? { coldSeconds: Math.min(b.coldSeconds ?? Infinity, r.coldSeconds) } : {}),
        peakRssMb: Math.max(b.peakRssMb, r.peakRssMb),
      });
    }
  }
  console.log(`best of ${rounds} interleaved rounds (BENCH_ROUNDS); peak RSS is the largest seen\n`);
  const base = best.get('duckdb')!;
  const rate = (r: Result): number => r.events / r.seconds;
  const rows: string[][] = [['measurement', 'events/s', 'MB/s', 'peak RSS', '× DuckDB rate', 'RSS goal', 'first pass', '× DuckDB first', 'Parquet out']];
  const coldRate = (r: Result): number => r.events / (r.coldSeconds ?? r.seconds);
  const add = (r: Result, goal = ''): void => {
    rows.push([r.name, Math.round(rate(r)).toLocaleString('en'), (mb / r.seconds).toFixed(1), `${r.peakRssMb.toFixed(0)} MB`,
      (rate(r) / rate(base)).toFixed(2), goal,
      r.coldSeconds ? Math.round(coldRate(r)).toLocaleString('en') : '', r.coldSeconds ? (coldRate(r) / coldRate(base)).toFixed(2) : '',
      r.bytesOut ? `${(r.bytesOut / 1e6).toFixed(1)} MB` : '']);
  };
  add(base);
  // Goal from the issue: peak RSS under 2× the batch's NDJSON size plus 150 MB.
  const rssGoal = (r: Result, batch: number, input: string): string => {
    const goal = (2 * mb * Math.min(batch, events)) / events + 150;
    const floor = best.get(input);
    return `${r.peakRssMb <= goal ? 'ok' : 'OVER'} (< ${goal.toFixed(0)} MB${floor ? `; input alone ${floor.peakRssMb.toFixed(0)}` : ''})`;
  };
  for (const batch of [1_000, 10_000, 100_000]) add(best.get(`memory:${batch}`)!, rssGoal(best.get(`memory:${batch}`)!, batch, `input:${batch}`));
  for (const batch of [1_000, 10_000]) add(best.get(`memory:${batch} (${DEPLOYED})`)!, rssGoal(best.get(`memory:${batch} (${DEPLOYED})`)!, batch, `input:${batch} (${DEPLOYED})`));
  add(best.get('local:10000')!);
  for (const name of ['input:1000', 'input:10000', 'input:100000', `input:10000 (${DEPLOYED})`, ...(LAMBDA_NODE ? [`input:10000 (${lambdaLabel}, ${DEPLOYED})`] : [])]) {
    const r = best.get(name)!;
    rows.push([r.name, '', '', `${r.peakRssMb.toFixed(0)} MB`, '', '', '', '', '']);
  }
  if (LAMBDA_NODE) {
    for (const batch of [1_000, 10_000]) {
      const name = `memory:${batch} (${lambdaLabel}, ${DEPLOYED})`;
      add(best.get(name)!, rssGoal(best.get(name)!, batch, `input:${batch} (${lambdaLabel}, ${DEPLOYED})`));
    }
    const own = best.get(`memory:10000 (${lambdaOwnLabel})`)!;
    add(own, rssGoal(own, 10_000, ''));
  }
  for (const w of ['tributary', 'parquetWasm', 'vectorFromArray', 'hyparquetWriter']) add(runChild('writer', w, file));

  printTable(rows);
  console.log('\nevents/s = the second pass over the data (a warm consumer); first pass = the same in a fresh process (JIT and WebAssembly warming up, tables created)');
  console.log('memory:N = handler with in-memory ports, batches of N · local:N = handler with the npm start adapters (directory + JSON catalog + chDB)');
  console.log('input:N = the same MSK events read and JSON-parsed, handler doing nothing: the runtime\'s share of the peak (an MSK mapping delivers at most 10,000 records and 6 MB per invocation)');
  console.log(`(${DEPLOYED}) = started with the ingest function's NODE_OPTIONS from infra/, \`${DEPLOYED_NODE_OPTIONS}\` (Lambda's bootstrap then adds no heap flags of its own)`);
  console.log('writer:* = Parquet encoding only, rows/s of the page_view table\'s coerced rows (× DuckDB compares with the whole DuckDB NDJSON→Parquet path)');

  await backfillBench(dir, rounds);
  insertBench(file);
  await compactionBench(dir, end - 2 * HOUR);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * `tributary ingest` of a two-day backfill (the issue's shape: events in shuffled time order, so every
 * stretch of the file touches every hour) against DuckDB writing the same rows partitioned by (event, dt,
 * hour). Both run once per round in a fresh process and store; the fastest round counts. The command with
 * the cut it had before 2026-12-06 (every 10,000 records) runs once, for the ratio.
 */
async function backfillBench(dir: string, rounds: number): Promise<void> {
  const { writeBackfillFile } = await import('./backfill-file.js');
  const events = Number(process.env['BENCH_BACKFILL_EVENTS'] ?? 200_000);
  const file = join(dir, 'backfill.ndjson');
  writeBackfillFile(file, { events, start: Math.floor(Date.now() / HOUR) * HOUR - 2 * 24 * HOUR });
  const mb = statSync(file).size / 1e6;
  const best = new Map<string, Result>();
  const keep = (r: Result): void => { const b = best.get(r.name); if (!b || r.seconds < b.seconds) best.set(r.name, r); };
  for (let round = 0; round < rounds; round++) {
    keep(runChild('duckdb', 'partitioned', file));
    keep(runChild('ingest-cli', 'default', file));
  }
  keep(runChild('ingest-cli', '10000', file));
  console.log(`\nBackfill · ${events.toLocaleString('en')} events over two days, shuffled · ${mb.toFixed(1)} MB NDJSON · best of ${rounds} (--batch-size 10000: one run)\n`);
  const base = best.get('duckdb:partitioned')!;
  const goal = 5;
  const rows = [['measurement', 'seconds', 'events/s', 'files', 'batches', 'peak RSS', '× DuckDB time', `goal ≤ ${goal}×`]];
  for (const name of ['duckdb:partitioned', 'ingest:default', 'ingest:10000']) {
    const r = best.get(name)!;
    const ratio = r.seconds / base.seconds;
    rows.push([r.name, r.seconds.toFixed(2), Math.round(r.events / r.seconds).toLocaleString('en'), String(r.files ?? ''), String(r.batches ?? ''),
      `${r.peakRssMb.toFixed(0)} MB`, ratio.toFixed(1), name === 'ingest:default' ? (ratio <= goal ? 'ok' : 'MISSED') : '']);
  }
  printTable(rows);
  console.log('ingest:default = `tributary ingest <file>` (directory lake, JSON catalog, chDB), opening the store apart (' +
    `${(best.get('ingest:default')!.openSeconds ?? 0).toFixed(2)} s) · ingest:10000 = the same with --batch-size 10000, the cut before 2026-12-06`);
  console.log('duckdb:partitioned = read_json → COPY … (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (event, dt, hour)), one thread');
}

/** ClickHouse insert formats into chDB, encoding from the batch's column buffers included. */
function insertBench(file: string): void {
  console.log('\nClickHouse inserts into chDB · page_view rows · 200,000 rows per measurement, encoding included\n');
  const rows = [['format', 'batch rows', 'rows/s', 'peak RSS', '× JSONEachRow']];
  for (const batch of [10_000, 100_000]) {
    const results = ['JSONEachRow', 'Parquet', 'ArrowStream', 'ParquetFromLake'].map((f) => runChild('clickhouse-insert', `${f}:${batch}`, file));
    const json = results[0]!.events / results[0]!.seconds;
    for (const r of results) {
      rows.push([r.name.split(':')[1]!, batch.toLocaleString('en'), Math.round(r.events / r.seconds).toLocaleString('en'), `${r.peakRssMb.toFixed(0)} MB`, ((r.events / r.seconds) / json).toFixed(2)]);
    }
  }
  printTable(rows);
  console.log('ParquetFromLake = the insert of the Parquet file ingest already encoded for the lake (what Tributary does)');
}

async function compactionBench(dir: string, hourStart: number): Promise<void> {
  const { buildCompactionFixture } = await import('./compaction-fixture.js');
  const files = Number(process.env['BENCH_COMPACT_FILES'] ?? 200);
  const fixture = join(dir, 'compaction');
  const f = await buildCompactionFixture(fixture, { files, rowsPerFile: 1000, duplicateRate: 0.05, hourStart });
  const runs = ['duckdb', 'chdb'].map((engine) => {
    const copy = join(dir, `compaction-${engine}`);
    cpSync(fixture, copy, { recursive: true });
    return runChild('compaction', engine, copy, { BENCH_PARTITION: f.partition });
  });
  console.log(`\nCompaction · one hour partition · ${files} files · ${f.rows.toLocaleString('en')} rows (${(f.rows - f.distinct).toLocaleString('en')} redelivered duplicates) · ${(runs[0]!.bytesIn! / 1e6).toFixed(1)} MB Parquet\n`);
  const rows = [['engine', 'rows/s', 'MB/s', 'files', 'rows out', 'peak RSS', '× DuckDB rate']];
  for (const r of runs) {
    rows.push([r.name, Math.round(r.events / r.seconds).toLocaleString('en'), (r.bytesIn! / 1e6 / r.seconds).toFixed(1), `${r.filesBefore} → ${r.filesAfter}`,
      r.rowsOut!.toLocaleString('en'), `${r.peakRssMb.toFixed(0)} MB`, ((r.events / r.seconds) / (runs[0]!.events / runs[0]!.seconds)).toFixed(2)]);
  }
  printTable(rows);
  console.log('compact:* = compactPartition end to end (claim, engine, manifest, catalog switch) on the local lake; MB/s of Parquet read');
}

await main();
