// npm run bench:scale — the real ingestBatch at production shape, simulated: a grid of partitions × event
// types × traffic × batching window × topology. For each grid point the MSK mapping's batches are modelled
// (bench/scale/model.ts), a sample of them runs through the real handler on a simulated clock with counting
// ports (bench/scale/harness.ts), and the counts and measured time are extrapolated to an hour: invocations,
// Lambda GB-s, S3 requests per GB before and after compaction, Glue calls, ClickHouse inserts per second per
// table, active parts (chDB, bench/scale/parts.ts) and files per (table, hour); then $ per GB from
// bench/prices.json beside Amazon Data Firehose and ClickPipes, with the goals and a verdict per row.
//
// Each grid point runs with both lake writes: `direct` (a file per (table, hour) per batch) and `spool` (one
// object per batch, the materializer every 2 or 3 minutes: bench/scale/spool.ts runs the real one). ClickHouse
// inserts go asynchronous where synchronous ones would exceed 1 per second per table (parts then bounded by
// the server's flushes); latency is modelled per row from the window, the measured invocation time, the
// materializer's interval and run time, and the overhead `npm run bench:latency` measured.
//
// Environment: BENCH_SCALE_SAMPLE (rows per sampled batch, default 400), BENCH_SCALE_STEADY (steady
// invocations sampled per grid point, default 4), BENCH_SCALE_ESM (mixed | per-partition),
// BENCH_SCALE_PARTS (0 skips the chDB parts run), BENCH_SCALE_LAKE_WRITES (direct | spool | both, default
// both), BENCH_SCALE_ONLY (a filter on the grid, e.g. "traffic=1000,types=5" while developing),
// BENCH_SCALE_BREAKDOWN=1 ($/GB by component per row), BENCH_SCALE_DEFER=0 (no deferral variants),
// BENCH_SCALE_FLOORS=1 (only the floor per grid point: the least any Lambda-based setting pays; nothing run).
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_INGEST_CONFIG } from '../functions/core/ingest.js';
import { rng } from '../functions/cli/traffic.js';
import { GlueCatalog } from '../functions/adapters/catalog/glue.js';
import { GlueClient } from '@aws-sdk/client-glue';
import { startFakeGlue } from '../test/glue-endpoint.js';
import { Counts, HOUR, openContainer, recordSizes, REGISTRY_TTL_MS, sampleBatch, tableName, typeWeights, countingStore } from './scale/harness.js';
import { measureCompaction, scale, type CompactionCost } from './scale/compaction.js';
import { measureParts, type PartsResult } from './scale/parts.js';
import { batchShape, clickPipesUsdPerGb, firehoseUsdPerGb, gridPoints, lambdaFloor, LAMBDA_MIN_MEMORY_MB, loadPrices, maxBatchRecords, pollerState, tributaryUsdPerGb, type GridPoint, type PollerState } from './scale/model.js';
import { materializerHour, measureMaterializer, type MaterializerCost } from './scale/spool.js';
import { DEFAULT_MATERIALIZE_OPTIONS } from '../functions/core/lake/materialize.js';

const SAMPLE_ROWS = Number(process.env['BENCH_SCALE_SAMPLE'] ?? 400);
const STEADY = Number(process.env['BENCH_SCALE_STEADY'] ?? 4);
const ESM_MODE = process.env['BENCH_SCALE_ESM'] === 'per-partition' ? 'per-partition' : 'mixed';
const COMPACTION_MEMORY_MB = 4096; // infra/jobs.ts
/** docs/benchmarks.md, "Compaction engine" (2026-11-21): DuckDB, one thread, 133,916 rows/s */
const COMPACTION_ROWS_PER_S = 133_916;
/** Compaction's deployed lookback (functions/compact/config.ts): each hourly run visits 48 hours of partitions. */
const LOOKBACK_HOURS = 48;
/**
 * Network waits, not measured here (the stand-ins answer in-process): assumed round trips inside one
 * region, paid in the function's billed duration. Files go IngestConfig.concurrency at a time, inserts insertConcurrency (BENCH_SCALE_INSERTS_IN_FLIGHT to try another).
 */
const WAIT_MS = { s3Put: 30, s3Get: 15, glue: 40, clickhouseInsert: 60 };
/**
 * The ingest function's memory, chosen per row among these (cdk.json ingest.memoryMb): the smallest-cost one
 * that meets every goal. Lambda gives a function CPU in proportion to its memory, one full vCPU at 1,769 MB
 * (docs: configuration-memory); below that the measured CPU time stretches by 1,769 ÷ memory, the network
 * waits do not. A 10,000-record batch peaks at ~150 MB (docs/benchmarks.md "Memory"), so 512 MB holds one.
 * BENCH_SCALE_INGEST_MEMORY_MB=2048 models one size only (the default before 2026-12-06).
 */
const INGEST_MEMORIES_MB = process.env['BENCH_SCALE_INGEST_MEMORY_MB'] ? process.env['BENCH_SCALE_INGEST_MEMORY_MB'].split(',').map(Number) : [512, 1024, 2048];
const LAMBDA_FULL_VCPU_MB = 1769;
const GOAL_RATIO = 1 / 5;
const GOAL_INSERTS_PER_S = 1;
const GOAL_LAKE_S = 300;
/**
 * The schema registry's TTL in ingest (TRIBUTARY_REGISTRY_TTL_SECONDS; cdk.json ingest.registryTtlSeconds): each
 * container re-reads its tables' registry entries this often, a LIST (billed as a PUT) per table. Measured at
 * 30 s (the default); 300 s rescales the measured refresh.
 */
const REGISTRY_TTLS_S = [30, 300];
const GOAL_FRESH_SLACK_S = 2;
const LAKE_WRITES = (process.env['BENCH_SCALE_LAKE_WRITES'] ?? 'both') === 'both' ? ['direct', 'spool'] as const : [process.env['BENCH_SCALE_LAKE_WRITES'] as 'direct' | 'spool'];
/** materializer intervals modelled per spool row (cdk.json: materializeEveryMinutes; 3 fits a lake window ≤ 60 s) */
const SPOOL_INTERVALS_MIN = [1, 2, 3];
const MATERIALIZE_MEMORY_MB = 2048; // infra/materialize.ts
/** BENCH_SCALE_DEFER=0 models the materializer without deferral (every table written every run) */
const DEFER = process.env['BENCH_SCALE_DEFER'] !== '0';
/**
 * ClickHouse Cloud's async_insert_busy_timeout_max_ms default, 1,000 ms (clickhouse.com/docs/reference/settings/
 * session-settings/async-insert, read 2026-12-06): a table's buffered inserts become at most one part per
 * second on the replica that buffers them, whatever the insert rate; a batch waits up to that long.
 */
const ASYNC_FLUSH_S = 1;
/**
 * npm run bench:latency (docs/benchmarks.md, 2026-12-06): p99 was the window plus 0.28–0.41 s with a
 * ~0.1–0.2 s invocation in chDB; beyond the invocation, the fetch and the poll take about this much.
 */
const LATENCY_OVERHEAD_S = 0.25;
const PARTS_RATES = [1, 5, 25, 50];

const prices = loadPrices(resolve('bench/prices.json'));
const sizes = recordSizes();

interface Row {
  p: GridPoint;
  /** $ per GB by component */
  breakdown: Map<string, number>;
  lakeWrites: 'direct' | 'spool';
  /** spool: minutes between materializer runs */
  intervalMin: number;
  /** spool: the materializer's deferMs, in seconds (0: every table written every run) */
  deferS: number;
  registryTtlS: number;
  /** the ingest function's memory (both paths in split) */
  ingestMemoryMb: number;
  /** every path's invocation ends before its poller's next batch is full (else the lag grows without bound) */
  keepsUp: boolean;
  materializeRunS: number;
  /** ClickHouse inserts asynchronous (sync would exceed 1/s per table) */
  asyncInserts: boolean;
  /** parts per second into the busiest table: inserts (sync) or the server's flushes (async) */
  partsPerSMax: number;
  freshP99S: number;
  lakeMaxS: number;
  /** the coupled mapping's batches, or the fresh path's in split */
  shape: ReturnType<typeof batchShape>;
  lakeShape: ReturnType<typeof batchShape>;
  /** both paths in split */
  invPerH: number;
  /** the coupled or fresh path's */
  secondsPerInv: number;
  gbSecondsPerH: number;
  filesPerTableHourMax: number;
  filesPerTableHourMean: number;
  s3PutPerGbIngest: number;
  s3ReqPerGbCompaction: number;
  gluePerH: number;
  insertsPerSMax: number;
  quarantined: number;
  usdPerGb: number;
  /** the least any Lambda-based setting pays at this grid point and topology (scale/model.ts lambdaFloor) */
  floor: ReturnType<typeof lambdaFloor>;
  firehose: number;
  firehoseRounded: number;
  clickPipes: number;
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`Tributary scale benchmark · node ${process.version} · ${cpus().length} cores (${cpus()[0]?.model ?? '?'}) · ${new Date().toISOString().slice(0, 10)}`);
  console.log(`functions/core/ingest.ts: ${provenance()}`);
  console.log(`event ≈ ${sizes.ndjson.toFixed(0)} B of NDJSON, ${sizes.payload.toFixed(0)} B of MSK payload · ESM model: ${ESM_MODE} · batch size 10,000 · ingest memory per row from ${INGEST_MEMORIES_MB.join('/')} MB (CPU ×${LAMBDA_FULL_VCPU_MB}/MB below ${LAMBDA_FULL_VCPU_MB} MB) · prices ${prices.region}, read ${prices.read}\n`);
  const glue = await startFakeGlue();
  // The stand-in's idle keep-alive sockets close after 5 s: on a busy machine the client can reuse one as it
  // closes (ECONNRESET, which ended a full run on 2026-12-06). The SDK retries such network errors.
  const fakeClient = glue.client;
  glue.client = new GlueClient({ endpoint: glue.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 3 });
  let current = new Counts();
  const store = countingStore(() => current);
  try {
    const calibration = await calibrate(store, glue, (c) => { current = c; });
    console.log(`calibration: ${(calibration.perRecordS * 1e6).toFixed(1)} µs per record beyond a sampled batch's rows (warm, real ingestBatch, memory ports) · Parquet ${(calibration.parquetRatio * 100).toFixed(1)} % of NDJSON at 8,000-record batches`);
    const compaction = await measureCompaction(glue);
    const materializer = await measureMaterializer(glue);
    console.log(`materializer per run (counted, real materializeSpool): PUT+LIST ${fmtC(materializer.perRun.s3Put + materializer.perRun.s3List)} + ${fmtC(materializer.perManifest.s3Put + materializer.perManifest.s3List)}/manifest + ${fmtC(materializer.perFile.s3Put)}/file, GET ${fmtC(materializer.perManifest.s3Get)}/manifest + ${fmtC(materializer.perSpool.s3Get)}/spool, Glue ${fmtC(materializer.perManifest.glue)}/manifest + ${fmtC(materializer.perTable.glue)}/table + ${fmtC(materializer.perClosedFile.glue)}/file of a closed hour + ${fmtC(materializer.perNewPartition.glue)}/(table, hour) registered (a warm container) · CPU ${(materializer.perRowS * 1e6).toFixed(1)} µs/row + ${(materializer.perSpoolS * 1000).toFixed(1)} ms/spool + ${(materializer.perManifestS * 1000).toFixed(0)} ms/manifest · spool ${materializer.spoolBytesPerRow.toFixed(0)} B/row`);
    console.log(`compaction per partition (counted): S3 PUT+LIST ${fmtC(compaction.fixed.s3Put + compaction.fixed.s3List)} + ${fmtC(compaction.perOutput.s3Put)}/output, GET ${fmtC(compaction.fixed.s3Get)} + ${fmtC(compaction.perInput.s3Get)}/input, Glue ${fmtC(compaction.fixed.glue)}; a visit of a compacted partition: LIST ${fmtC(compaction.visit.s3List)}, GET ${fmtC(compaction.visit.s3Get)}, Glue ${fmtC(compaction.visit.glue)}\n`);

    const rows: Row[] = [];
    // The sinks setting (IngestConfig.sinks = { lake, warehouse }) decides whether split can run at all.
    const sinksInCore = 'sinks' in DEFAULT_INGEST_CONFIG;
    const only = new Map((process.env['BENCH_SCALE_ONLY'] ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
    const keep = (g: GridPoint): boolean => [...only].every(([k, v]) => String(({ partitions: g.partitions, types: g.eventTypes, traffic: g.traffic, window: g.windowS, topology: g.topology } as Record<string, unknown>)[k]) === v);
    const points = gridPoints().filter((g) => (g.topology === 'coupled' || sinksInCore) && keep(g));
    // BENCH_SCALE_FLOORS=1: the floors alone (modelled, nothing run), for the whole grid in seconds
    if (process.env['BENCH_SCALE_FLOORS'] === '1') { printFloors(points, calibration.parquetRatio); return; }
    for (const p of points) {
      for (const lakeWrites of LAKE_WRITES) rows.push(...await runPoint(p, lakeWrites, store, glue, (c) => { current = c; }, calibration, compaction, materializer));
    }
    let parts: PartsResult[] = [];
    let limits = { partsToDelayInsert: NaN, partsToThrowInsert: NaN };
    if (process.env['BENCH_SCALE_PARTS'] !== '0' && store.sample) {
      const schema = await new GlueCatalog(glue.client, 'tributary').getTable(tableName(0));
      const measured = await measureParts(schema!, store.sample, PARTS_RATES);
      parts = measured.results;
      limits = measured.limits;
    }
    for (const lakeWrites of LAKE_WRITES) {
      printTopology('coupled', rows.filter((r) => r.p.topology === 'coupled' && r.lakeWrites === lakeWrites), parts, lakeWrites);
      if (sinksInCore) printTopology('split', rows.filter((r) => r.p.topology === 'split' && r.lakeWrites === lakeWrites), parts, lakeWrites);
    }
    if (parts.length > 0) {
      console.log(`\nClickHouse active parts, busiest partition (chDB ${'system.parts'}), one table, a simulated minute of inserts of one real lake file (${store.sample!.byteLength} B) each, compressed into the wall time shown; limits here: parts_to_delay_insert ${limits.partsToDelayInsert}, parts_to_throw_insert ${limits.partsToThrowInsert}`);
      for (const r of parts) console.log(`  ${r.insertsPerS}/s → ${r.inserts} inserts in ${r.seconds.toFixed(1)} s: ${r.activeParts} active parts, ${r.activePartsAfter5s} five seconds later`);
    }
    console.log('');
    summary(rows);
    recommend(rows);
    printFloors(points, calibration.parquetRatio);
    console.log(`\nrun took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    glue.client.destroy();
    glue.client = fakeClient;
    await glue.close();
  }
}

/** Which ingest code the counts describe: its last commit, and whether the working tree changes it. */
function provenance(): string {
  const git = (...a: string[]): string => { try { return execFileSync('git', a, { encoding: 'utf8' }).trim(); } catch { return '?'; } };
  const commit = git('log', '-1', '--format=%h %cs', '--', 'functions/core/ingest.ts');
  const dirty = git('status', '--porcelain', '--', 'functions/core/').length > 0;
  return `${commit}${dirty ? ' + uncommitted changes in functions/core/ (work in progress)' : ''}`;
}

const fmtC = (n: number): string => (Math.abs(n - Math.round(n)) < 0.01 ? String(Math.round(n)) : n.toFixed(2));

interface Calibration { perRecordS: number; parquetRatio: number }

/** Per-record time of the real handler, warm, from full batches of 1,000 and 8,000 records (5 types, 4 partitions). */
async function calibrate(store: ReturnType<typeof countingStore>, glue: Awaited<ReturnType<typeof startFakeGlue>>, use: (c: Counts) => void): Promise<Calibration> {
  const counts = new Counts();
  use(counts);
  const container = openContainer({ store, glue, counts: () => counts });
  const r = rng(3);
  const offsets = new Map<number, number>();
  const now = Date.UTC(2026, 11, 6, 9, 30);
  const run = async (records: number, i: number): Promise<{ s: number; records: number; bytes: number }> => {
    const b = sampleBatch({ fullRecords: records, partitions: 4, weights: typeWeights(5), scale: 1, now: now + i, windowMs: 5000, offsets, r, firstPartition: 0, topic: 'calibration' });
    const before = counts.lakeBytes;
    const { seconds } = await container.ingest(b.event, now + i);
    return { s: seconds, records: b.records, bytes: counts.lakeBytes - before };
  };
  for (let i = 0; i < 6; i++) await run(2000, i);
  const small: number[] = [];
  const large: number[] = [];
  let ratio = 0;
  for (let i = 0; i < 5; i++) {
    const a = await run(1000, 10 + i);
    small.push(a.s);
    const b = await run(8000, 20 + i);
    large.push(b.s);
    ratio = b.bytes / (b.records * sizes.ndjson);
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return { perRecordS: Math.max(0, (median(large) - median(small)) / 7000), parquetRatio: ratio };
}

interface PathUse {
  shape: ReturnType<typeof batchShape>;
  recordsPerInv: number;
  /** requests of one registry refresh (after its TTL) in one container: the TTL variants rescale them */
  ttlRefresh: { s3Put: number; s3Get: number; glue: number };
  invPerH: number;
  /** the handler's CPU time per invocation at a full vCPU (measured) and the network waits (assumed) */
  cpuPerInv: number;
  waitPerInv: number;
  containers: number;
  s3Put: number;
  s3Get: number;
  glue: number;
  /** lake files per hour, by table */
  filesPerH: Map<string, number>;
  insertsPerSMax: number;
  quarantined: number;
}

type Sinks = { lake: boolean; warehouse: boolean };

/**
 * One mapping (a path) of a grid point: a warm container runs STEADY sampled batches mid-hour, one after
 * the registry's TTL and one after the hour turns; counts and time become per-hour figures.
 */
async function measurePath(p: GridPoint, windowS: number, sinks: Sinks | undefined, store: ReturnType<typeof countingStore>, glue: Awaited<ReturnType<typeof startFakeGlue>>,
  use: (c: Counts) => void, cal: Calibration, label: string, lakeWrites: 'direct' | 'spool'): Promise<PathUse> {
  const shape = batchShape({ ...p, windowS }, sizes.payload, ESM_MODE);
  const weights = typeWeights(p.eventTypes);
  const r = rng(p.partitions * 1000 + p.eventTypes * 10 + Math.round(windowS * 10) + p.traffic);
  const offsets = new Map<number, number>();
  const topic = `t${p.partitions}-${p.eventTypes}-${p.traffic}-${windowS}-${label}-${lakeWrites}`;
  const windowMs = windowS * 1000;
  const sampleScale = Math.min(1, SAMPLE_ROWS / shape.records);
  const batch = (now: number): ReturnType<typeof sampleBatch> =>
    sampleBatch({ fullRecords: shape.records, partitions: shape.partitionsPerBatch, weights, scale: sampleScale, now, windowMs, offsets, r, firstPartition: 0, topic });

  const hour = Date.UTC(2026, 11, 6, 10);
  const t0 = hour + 30 * 60_000;
  let counts = new Counts();
  const phase = (): Counts => { counts = new Counts(); use(counts); return counts; };
  phase();
  const spooling = lakeWrites === 'spool' && (sinks?.lake ?? true);
  const container = openContainer({ store, glue, counts: () => counts, config: { ...(sinks ? { sinks } : {}), lakeWrites } });
  // A warm container: tables exist (a batch may create at most 20: a first batch of 50 types needs three),
  // its registry entries loaded less than a TTL before the measured batches.
  for (let i = 0; i < 4; i++) await container.ingest(batch(t0 - 5000 + i).event, t0 - 5000 + i);
  const steady = phase();
  let seconds = 0;
  let sampled = 0;
  let full = 0;
  let quarantined = 0;
  let recordsIn = 0;
  for (let i = 0; i < STEADY; i++) {
    const b = batch(t0 + i * 10);
    const { seconds: s, report } = await container.ingest(b.event, t0 + i * 10);
    seconds += s;
    sampled += b.records;
    full += b.fullRecords;
    quarantined += report.quarantined;
    recordsIn += report.recordsIn;
  }
  const avg = steady.copy();
  scale(avg, 1 / STEADY);
  // The registry's entries expire after its TTL: one invocation after it shows what a refresh costs.
  const ttl = phase();
  await container.ingest(batch(t0 + REGISTRY_TTL_MS + 1000).event, t0 + REGISTRY_TTL_MS + 1000);
  // The hour turns: new partitions for every table (Glue) on each container's first batch of the hour.
  const turn = phase();
  const next = hour + HOUR + windowMs + 1000;
  await container.ingest(batch(next).event, next);
  type K = 's3Get' | 's3List' | 'glue' | 's3Put';
  const extra = (c: Counts, k: K): number => Math.max(0, c[k] - avg[k] - (k === 's3Put' ? c.lakeFiles - avg.lakeFiles : 0));
  const ttlExtra = { s3Get: extra(ttl, 's3Get'), s3List: extra(ttl, 's3List'), glue: extra(ttl, 'glue'), s3Put: extra(ttl, 's3Put') };
  const hourExtra = {
    s3Get: Math.max(0, extra(turn, 's3Get') - ttlExtra.s3Get), s3List: Math.max(0, extra(turn, 's3List') - ttlExtra.s3List),
    glue: Math.max(0, extra(turn, 'glue') - ttlExtra.glue), s3Put: Math.max(0, extra(turn, 's3Put') - ttlExtra.s3Put),
  };
  const cpuPerInv = seconds / STEADY + cal.perRecordS * Math.max(0, (full - sampled) / STEADY);
  const warehouse = sinks?.warehouse ?? true;
  // A spool object is the batch's rows in one PUT: the round trip plus its bytes at 50 MB/s (it is ≤ the 6 MB batch).
  const spoolBytes = spooling ? (avg.spoolBytes / Math.max(1, sampled / STEADY)) * (full / STEADY) : 0;
  const at = DEFAULT_INGEST_CONFIG.concurrency;
  const insertsAt = Number(process.env['BENCH_SCALE_INSERTS_IN_FLIGHT'] ?? DEFAULT_INGEST_CONFIG.insertConcurrency);
  if (!Number.isInteger(insertsAt) || insertsAt < 1) throw new Error(`BENCH_SCALE_INSERTS_IN_FLIGHT must be a whole number ≥ 1, not ${process.env['BENCH_SCALE_INSERTS_IN_FLIGHT']}`);
  const waitS = (Math.ceil(avg.lakeFiles / at) * WAIT_MS.s3Put + Math.ceil(avg.inserts / insertsAt) * WAIT_MS.clickhouseInsert + (warehouse ? WAIT_MS.clickhouseInsert : 0)
    + avg.glue * WAIT_MS.glue + avg.s3Get * WAIT_MS.s3Get + (spooling ? WAIT_MS.s3Put + spoolBytes / 50e3 : 0)) / 1000;
  const invPerS = shape.invocationsPerS;
  const invPerH = invPerS * 3600;
  // at the smallest memory modelled: the most containers, so the most registry refreshes
  const containers = Math.max(shape.pollers, Math.ceil(invPerS * invocationSeconds({ cpuPerInv, waitPerInv: waitS }, Math.min(...INGEST_MEMORIES_MB))));
  const perContainerHour = (k: K): number => containers * ((3600_000 / REGISTRY_TTL_MS) * ttlExtra[k] + hourExtra[k]);
  return {
    shape, invPerH, cpuPerInv, waitPerInv: waitS, containers, recordsPerInv: full / STEADY,
    ttlRefresh: { s3Put: ttlExtra.s3Put + ttlExtra.s3List, s3Get: ttlExtra.s3Get, glue: ttlExtra.glue },
    s3Put: invPerH * (avg.s3Put + avg.s3List) + perContainerHour('s3Put') + perContainerHour('s3List'),
    s3Get: invPerH * avg.s3Get + perContainerHour('s3Get'),
    glue: invPerH * avg.glue + perContainerHour('glue'),
    filesPerH: new Map([...avg.filesByTable].map(([t, n]) => [t, n * invPerH])),
    insertsPerSMax: invPerS * (avg.insertsByTable.get(tableName(0)) ?? 0),
    quarantined: recordsIn === 0 ? 0 : quarantined / recordsIn,
  };
}

/** Billed seconds of one invocation at `memoryMb`: CPU stretched below a full vCPU, waits as they are. */
const invocationSeconds = (u: Pick<PathUse, 'cpuPerInv' | 'waitPerInv'>, memoryMb: number): number =>
  u.cpuPerInv * Math.max(1, LAMBDA_FULL_VCPU_MB / memoryMb) + u.waitPerInv;

/** The lake path of `split`: a large window (the batch then closes at 10,000 records above ~170 events/s). */
const LAKE_WINDOW_S = 60;

async function runPoint(p: GridPoint, lakeWrites: 'direct' | 'spool', store: ReturnType<typeof countingStore>, glue: Awaited<ReturnType<typeof startFakeGlue>>, use: (c: Counts) => void,
  cal: Calibration, comp: CompactionCost, mat: MaterializerCost): Promise<Row[]> {
  const paths: PathUse[] = p.topology === 'coupled'
    ? [await measurePath(p, p.windowS, undefined, store, glue, use, cal, 'coupled', lakeWrites)]
    : [await measurePath(p, p.windowS, { lake: false, warehouse: true }, store, glue, use, cal, 'fresh', 'direct'),
      await measurePath(p, Math.max(p.windowS, LAKE_WINDOW_S), { lake: true, warehouse: false }, store, glue, use, cal, 'lake', lakeWrites)];
  const weights = typeWeights(p.eventTypes);
  const gbIngested = (p.traffic * 3600 * sizes.ndjson) / 1e9;
  const rowsPerH = p.traffic * 3600;
  const floor = floorOf(p);
  const rows = INGEST_MEMORIES_MB.flatMap((memoryMb) => rowsAt(memoryMb));
  // Per setting (interval, deferral, TTL): the memory that meets every goal most cheaply (else see `rank`).
  const bySetting = new Map<string, Row[]>();
  for (const r of rows) { const k = `${r.intervalMin}/${r.deferS > 0}/${r.registryTtlS}`; (bySetting.get(k) ?? bySetting.set(k, []).get(k)!).push(r); }
  // Ranked: every goal met, then latency and inserts met (a function that keeps up), then the cheapest.
  const rank = (r: Row): number => (verdict(r) === 'MEETS all' ? 0 : meetsLatency(r) && meetsInserts(r) ? 1 : 2);
  return [...bySetting.values()].map((rs) => [...rs].sort((a, b) => rank(a) - rank(b) || a.usdPerGb - b.usdPerGb)[0]!);

  function rowsAt(memoryMb: number): Row[] {
    const seconds = (u: PathUse): number => invocationSeconds(u, memoryMb);
    const lakeWindowS = p.topology === 'split' ? Math.max(p.windowS, LAKE_WINDOW_S) : p.windowS;
    const cpuPerRecordS = cal.perRecordS * Math.max(1, LAMBDA_FULL_VCPU_MB / memoryMb);
    const maxRecords = maxBatchRecords(sizes.payload);
    /**
     * A path in its steady state. Its pollers invoke one batch at a time; an invocation includes the async
     * flush it waits for (wait_for_async_insert=1, the adapter's, so a failed flush fails the batch: half the
     * busy timeout on average, billed), and one that outlasts the next batch's close makes that batch larger
     * (pollerState). Where even full batches cannot keep up, the mapping adds pollers, as on-demand mode does
     * on a growing lag, up to one per partition; each batch is then smaller, so per-invocation requests and
     * time are counted at the steady state's invocation rate. None keeping up: the lag grows (latency fails).
     */
    const steady = (u: PathUse, windowS: number, flushS: number): PathUse & { state: PollerState } => {
      const fixedS = Math.max(0, seconds(u) + flushS - cpuPerRecordS * u.recordsPerInv);
      let at: { pollers: number; state: PollerState } | undefined;
      for (let pollers = u.shape.pollers; pollers <= Math.max(u.shape.pollers, p.partitions); pollers++) {
        const ratePerS = p.traffic / pollers;
        const records = Math.max(1, Math.min(maxRecords, ratePerS * windowS));
        const state = pollerState({ ratePerS, closeS: records / ratePerS, records, invocationS: fixedS + cpuPerRecordS * records, cpuPerRecordS, maxRecords });
        at = { pollers, state };
        if (state.keepsUp) break;
      }
      const { pollers, state } = at!;
      const records = state.closeS * (p.traffic / pollers);
      // per-invocation requests as measured for the window's batch, at the steady state's rate
      const k = (p.traffic / records) * 3600 / u.invPerH;
      return {
        ...u, state, recordsPerInv: records, invPerH: u.invPerH * k, s3Put: u.s3Put * k, s3Get: u.s3Get * k, glue: u.glue * k,
        insertsPerSMax: u.insertsPerSMax * k, containers: Math.max(u.containers, pollers), shape: { ...u.shape, pollers, records: Math.round(records) },
      };
    };
    // ClickHouse: synchronous inserts where they stay ≤ 1/s per table; asynchronous beyond, where the server's
    // flushes bound the parts (and a batch waits up to one flush). Decided at the window's batches, and again
    // if the steady state's smaller batches (more pollers) push synchronous inserts over 1/s.
    let asyncInserts = paths[0]!.insertsPerSMax > GOAL_INSERTS_PER_S;
    const run = (): Array<PathUse & { state: PollerState }> => paths.map((u, i) => steady(u, i === 0 ? p.windowS : lakeWindowS, i === 0 && asyncInserts ? ASYNC_FLUSH_S / 2 : 0));
    let scaled = run();
    if (!asyncInserts && scaled[0]!.insertsPerSMax > GOAL_INSERTS_PER_S) { asyncInserts = true; scaled = run(); }
    const fresh = scaled[0]!;
    const lake = scaled.at(-1)!;
    const sum = (f: (u: PathUse & { state: PollerState }) => number): number => scaled.reduce((n, u) => n + f(u), 0);
    const gbSecondsPerH = (u: PathUse & { state: PollerState }): number => u.invPerH * u.state.invocationS * (memoryMb / 1024);
    const partsPerSMax = asyncInserts ? Math.min(fresh.insertsPerSMax, 1 / ASYNC_FLUSH_S) : fresh.insertsPerSMax;
    const freshState = fresh.state;
    const lakeState = lake.state;
    // p99 waits for a whole flush, where the average invocation waits half of one
    const freshP99S = freshState.closeS + freshState.invocationS + LATENCY_OVERHEAD_S + (asyncInserts ? ASYNC_FLUSH_S / 2 : 0);
    const lakeDirectS = lakeState.closeS + lakeState.invocationS + LATENCY_OVERHEAD_S;

    // Deferral (materialize.ts deferMs): the longest wait that keeps event → lake within the goal, 10 s to spare:
    // the goal − (close + invocation + the interval + the run without deferral + overhead).
    const matHour = (intervalMin: number, deferS: number): ReturnType<typeof materializerHour> => materializerHour({
      cost: mat, spoolsPerH: lake.invPerH, rowsPerH, weights, intervalMin, spoolsPerManifest: DEFAULT_MATERIALIZE_OPTIONS.maxSpoolsPerManifest,
      memoryMb: MATERIALIZE_MEMORY_MB, waits: WAIT_MS, concurrency: DEFAULT_MATERIALIZE_OPTIONS.concurrency, deferS,
      // a file's events span one hour, two when the wait, the interval (and the batch window) straddle the turn
      hoursPerManifest: 1 + (deferS + intervalMin * 60 + lakeWindowS) / 3600,
    });
    const variants: Array<{ intervalMin: number; deferS: number; mat?: ReturnType<typeof materializerHour> }> = lakeWrites === 'direct' ? [{ intervalMin: 0, deferS: 0 }]
      : SPOOL_INTERVALS_MIN.flatMap((intervalMin) => {
        const plain = matHour(intervalMin, 0);
        const deferS = DEFER ? Math.floor(GOAL_LAKE_S - 10 - (lakeState.closeS + lakeState.invocationS + intervalMin * 60 + plain.runSeconds + LATENCY_OVERHEAD_S)) : 0;
        return deferS >= 30 ? [{ intervalMin, deferS: 0, mat: plain }, { intervalMin, deferS, mat: matHour(intervalMin, deferS) }] : [{ intervalMin, deferS: 0, mat: plain }];
      });
    return variants.flatMap(({ intervalMin, deferS, mat: m }) => REGISTRY_TTLS_S.map((registryTtlS): Row => {
      // registry refreshes per hour beyond the measured 30 s TTL's (negative: fewer)
      const ttl = (k: 's3Put' | 's3Get' | 'glue'): number => scaled.reduce((n, u) => n + u.containers * (3600 / registryTtlS - 3_600_000 / REGISTRY_TTL_MS) * u.ttlRefresh[k], 0);
      // lake files per (table, hour) before compaction: the batches' (direct) or the materializer's (spool)
      const filesPerH = m ? new Map(m.filesPerTableHour.map((n, k) => [tableName(k), n])) : lake.filesPerH;
      // Compaction of the hour just closed, per table, plus the hourly run's visits within the lookback.
      let compPut = 0;
      let compGet = 0;
      let compGlue = 0;
      for (let k = 0; k < p.eventTypes; k++) {
        const outputs = Math.max(1, Math.ceil((gbIngested * cal.parquetRatio * weights[k]! * 1e9) / (256 * 1024 * 1024)));
        const inputs = filesPerH.get(tableName(k)) ?? 0;
        if (inputs < 0.5) continue;
        compPut += comp.fixed.s3Put + comp.fixed.s3List + outputs * (comp.perOutput.s3Put + comp.perOutput.s3List) + inputs * (comp.perInput.s3Put + comp.perInput.s3List);
        compGet += comp.fixed.s3Get + inputs * comp.perInput.s3Get + outputs * comp.perOutput.s3Get;
        compGlue += comp.fixed.glue + inputs * comp.perInput.glue + outputs * comp.perOutput.glue;
      }
      const visits = LOOKBACK_HOURS - 2;
      compPut += p.eventTypes * (comp.cleanup.s3Put + comp.cleanup.s3List + visits * (comp.visit.s3Put + comp.visit.s3List) + comp.perTableRun.s3Put + comp.perTableRun.s3List);
      compGet += p.eventTypes * (comp.cleanup.s3Get + visits * comp.visit.s3Get + comp.perTableRun.s3Get);
      compGlue += p.eventTypes * (comp.cleanup.glue + visits * comp.visit.glue + comp.perTableRun.glue);
      const compactionGbSeconds = (rowsPerH / COMPACTION_ROWS_PER_S) * (COMPACTION_MEMORY_MB / 1024);
      const usdPerGb = tributaryUsdPerGb({
        invocations: sum((u) => u.invPerH) + (m?.runsPerH ?? 0), ingestGbSeconds: sum(gbSecondsPerH) + (m?.gbSeconds ?? 0), compactionGbSeconds,
        s3Put: sum((u) => u.s3Put) + ttl('s3Put') + compPut + (m?.s3Put ?? 0), s3Get: sum((u) => u.s3Get) + ttl('s3Get') + compGet + (m?.s3Get ?? 0), glue: sum((u) => u.glue) + ttl('glue') + compGlue + (m?.glue ?? 0), gbIngested,
      }, prices);
      // $ per GB by who asks for it (BENCH_SCALE_BREAKDOWN=1 prints it): what dominates a row's cost
      const pr = (k: string): number => prices.prices[k]!.usd / gbIngested;
      const breakdown = new Map<string, number>([
        ['ingest invocations', sum((u) => u.invPerH) * pr('lambdaRequest')], ['ingest GB-s', sum(gbSecondsPerH) * pr('lambdaArmGbSecond')],
        ['ingest S3 PUT', sum((u) => u.s3Put) * pr('s3PutRequest')], ['ingest Glue', sum((u) => u.glue) * pr('glueCatalogRequest')],
        ['registry TTL (PUT+Glue)', ttl('s3Put') * pr('s3PutRequest') + ttl('glue') * pr('glueCatalogRequest')],
        ['materializer GB-s', (m?.gbSeconds ?? 0) * pr('lambdaArmGbSecond')], ['materializer S3 PUT', (m?.s3Put ?? 0) * pr('s3PutRequest')],
        ['materializer Glue', (m?.glue ?? 0) * pr('glueCatalogRequest')], ['materializer invocations', (m?.runsPerH ?? 0) * pr('lambdaRequest')],
        ['compaction S3 PUT', compPut * pr('s3PutRequest')], ['compaction Glue', compGlue * pr('glueCatalogRequest')], ['compaction GB-s', compactionGbSeconds * pr('lambdaArmGbSecond')],
        ['S3 GET (all)', (sum((u) => u.s3Get) + ttl('s3Get') + compGet + (m?.s3Get ?? 0)) * pr('s3GetRequest')],
      ]);
      const files = [...filesPerH.values()];
      const fh = { gbIngested, gbParquet: gbIngested * cal.parquetRatio, records: rowsPerH, tables: p.eventTypes };
      // Spooled, an event waits for its batch, the next run (at most one interval) and that run.
      const lakeMaxS = m ? lakeState.closeS + lakeState.invocationS + deferS + intervalMin * 60 + m.runSeconds + LATENCY_OVERHEAD_S : lakeDirectS;
      return {
        breakdown, p, lakeWrites, intervalMin, deferS, registryTtlS, ingestMemoryMb: memoryMb, keepsUp: freshState.keepsUp && lakeState.keepsUp, materializeRunS: m?.runSeconds ?? 0, asyncInserts, partsPerSMax, freshP99S, lakeMaxS,
        shape: fresh.shape, lakeShape: lake.shape, invPerH: sum((u) => u.invPerH), secondsPerInv: freshState.invocationS, gbSecondsPerH: sum(gbSecondsPerH) + (m?.gbSeconds ?? 0),
        filesPerTableHourMax: filesPerH.get(tableName(0)) ?? 0,
        filesPerTableHourMean: files.reduce((a, b) => a + b, 0) / p.eventTypes,
        s3PutPerGbIngest: (sum((u) => u.s3Put) + ttl('s3Put') + (m?.s3Put ?? 0)) / gbIngested,
        s3ReqPerGbCompaction: (compPut + compGet) / gbIngested,
        gluePerH: sum((u) => u.glue) + ttl('glue') + compGlue + (m?.glue ?? 0),
        insertsPerSMax: fresh.insertsPerSMax,
        quarantined: Math.max(...scaled.map((u) => u.quarantined)),
        usdPerGb,
        floor,
        firehose: firehoseUsdPerGb(fh, prices, false),
        firehoseRounded: firehoseUsdPerGb(fh, prices, true),
        clickPipes: clickPipesUsdPerGb(gbIngested, prices),
      };
    }));
  }
}

const n0 = (x: number): string => (x >= 100 ? Math.round(x).toLocaleString('en') : x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2));
const usd = (x: number): string => `$${x < 0.001 ? x.toFixed(5) : x < 0.1 ? x.toFixed(4) : x.toFixed(3)}`;

function partsFor(rate: number, parts: readonly PartsResult[]): string {
  const at = parts.find((r) => r.insertsPerS >= rate);
  return at ? `≤${at.activeParts}` : parts.length === 0 ? '' : `>${parts.at(-1)!.insertsPerS}/s: not run`;
}

const meetsCost = (r: Row): boolean => r.usdPerGb <= r.firehose * GOAL_RATIO;
/** ≤ 1 synchronous insert per second per table, or asynchronous inserts whose flushes bound the parts */
const meetsInserts = (r: Row): boolean => r.partsPerSMax <= GOAL_INSERTS_PER_S;
const meetsLatency = (r: Row): boolean => r.keepsUp && r.freshP99S <= r.p.windowS + GOAL_FRESH_SLACK_S && r.lakeMaxS <= GOAL_LAKE_S
  && (r.lakeWrites === 'direct' || r.materializeRunS <= r.intervalMin * 60);

export function verdict(r: Row): string {
  const failed = [meetsCost(r) ? '' : 'cost', meetsInserts(r) ? '' : 'inserts', meetsLatency(r) ? '' : 'latency'].filter(Boolean);
  return failed.length === 0 ? 'MEETS all' : `FAILS ${failed.join('+')}`;
}

const setting = (r: Row): string => `${r.p.topology}, ${r.p.windowS} s, ${r.lakeWrites}${r.lakeWrites === 'spool' ? ` every ${r.intervalMin} min${r.deferS > 0 ? ", deferred to the lake budget" : ''}` : ''}, registry TTL ${r.registryTtlS} s, ingest ${r.ingestMemoryMb} MB`;

function printTopology(topology: 'coupled' | 'split', rows: readonly Row[], parts: readonly PartsResult[], lakeWrites: 'direct' | 'spool'): void {
  if (rows.length === 0) return;
  const how = lakeWrites === 'spool' ? `lake writes: spool (one object per batch; the materializer every ${SPOOL_INTERVALS_MIN.join(' or ')} min writes a file per (table, hour))` : 'lake writes: direct (a file per (table, hour) per batch)';
  console.log(topology === 'coupled'
    ? `\ncoupled (one mapping, lake + Glue + ClickHouse in one invocation) · ${how}\ngoals: $/GB ≤ 1/5 of Firehose (lower bound) · ≤ 1 insert/s per table (or async inserts: parts bounded) · p99 into ClickHouse ≤ window + 2 s · event → lake ≤ 300 s\n`
    : `\nsplit (fresh path: ClickHouse only at the row's window; lake path at a ${LAKE_WINDOW_S} s window; both batch ≤ 10,000) · ${how} · same goals\n`);
  const table: string[][] = [['parts', 'types', 'events/s', 'window', 'TTL', 'mem', ...(lakeWrites === 'spool' ? ['every', 'defer'] : []), 'rec/batch', 'closed by', ...(topology === 'split' ? ['lake rec/batch'] : []), 'inv/h', 'ms/inv', 'GB-s/h', 'files/(tbl,h) max', 'mean',
    'S3 PUT/GB', 'S3 req/GB compact', 'Glue/h', 'CH ins/s/tbl', 'insert', 'parts/s/tbl', 'CH parts/min', 'quar.', ...(lakeWrites === 'spool' ? ['mat. run s'] : []), 'fresh p99 s', 'lake max s', 'Tributary $/GB', 'Firehose $/GB', '(5 KB-rounded)', '× Firehose', 'floor ×', 'ClickPipes $/GB', 'verdict']];
  for (const r of rows) {
    table.push([String(r.p.partitions), String(r.p.eventTypes), r.p.traffic.toLocaleString('en'), `${r.p.windowS} s`, `${r.registryTtlS} s`, `${r.ingestMemoryMb}`, ...(lakeWrites === 'spool' ? [`${r.intervalMin} min`, r.deferS > 0 ? `${r.deferS} s` : '0'] : []), r.shape.records.toLocaleString('en'), r.shape.closedBy,
      ...(topology === 'split' ? [r.lakeShape.records.toLocaleString('en')] : []), n0(r.invPerH), (r.secondsPerInv * 1000).toFixed(0), n0(r.gbSecondsPerH), n0(r.filesPerTableHourMax), n0(r.filesPerTableHourMean),
      n0(r.s3PutPerGbIngest), n0(r.s3ReqPerGbCompaction), n0(r.gluePerH), n0(r.insertsPerSMax), r.asyncInserts ? 'async' : 'sync', n0(r.partsPerSMax), partsFor(r.insertsPerSMax, parts), r.quarantined > 0 ? `${(r.quarantined * 100).toFixed(1)} %` : '0',
      ...(lakeWrites === 'spool' ? [r.materializeRunS.toFixed(1)] : []), r.freshP99S.toFixed(1), r.lakeMaxS.toFixed(0),
      usd(r.usdPerGb), usd(r.firehose), usd(r.firehoseRounded), (r.usdPerGb / r.firehose).toFixed(2), (r.floor.usdPerGb / r.firehose).toFixed(2), usd(r.clickPipes), verdict(r)]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) console.log(row.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  if (process.env['BENCH_SCALE_BREAKDOWN'] === '1') {
    console.log('\n$/GB by component (largest first):');
    for (const r of rows) {
      const parts = [...r.breakdown].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${usd(v)}`);
      console.log(`  ${r.p.partitions}p ${r.p.eventTypes}t ${r.p.traffic}/s ${r.p.windowS} s${r.lakeWrites === 'spool' ? ` every ${r.intervalMin} min` : ''} TTL ${r.registryTtlS} s: ${usd(r.usdPerGb)} = ${parts.join(' + ')}`);
    }
  }
  if (topology === 'split') { console.log('\ninv/h and GB-s/h: both paths (and the materializer) · ms/inv, rec/batch: the fresh path · files: the lake path'); return; }
  console.log('\nmem: the ingest function\'s MB, the cheapest of the modelled sizes that meets the goals (latency includes keeping up: an invocation ends before its poller\'s next batch is full)');
  console.log('rec/batch: records per invocation (ESM model) · ms/inv: the handler\'s measured CPU time (sampled batch + per-record time for the rows left out), stretched by 1,769 ÷ mem below a full vCPU, + assumed network waits (+ half an async flush with async inserts) · TTL: the schema registry\'s in ingest');
  console.log('files/(tbl,h): lake files per (table, hour) before compaction, busiest table and mean · S3 PUT/GB: PUT+LIST requests of ingest (and the materializer) per GB of NDJSON · S3 req/GB compact: the hourly compaction\'s PUT+LIST+GET per GB');
  console.log(`CH ins/s/tbl: inserts per second into the busiest table · insert: async where sync would exceed 1/s · parts/s/tbl: new parts per second (sync: the inserts; async: ≤ one flush per ${ASYNC_FLUSH_S} s busy timeout on the replica that buffers them) · CH parts/min: active parts after a minute at that insert rate (chDB, sync)`);
  console.log(`fresh p99 s: batch close (window, or sooner when full) + ms/inv + ${LATENCY_OVERHEAD_S} s fetch/poll (bench:latency) + the async flush wait · lake max s: close + the lake path's invocation (+ spool: the interval + the materializer's run)`);
  console.log('Firehose: MSK source + Parquet conversion + dynamic partitioning by (event, dt, hour), 900 s buffers; lower bound without the 5 KB rounding of conversion, and with it · ClickPipes: the ClickHouse half only, one XS replica');
  console.log(`floor ×: the least any Lambda-based setting of this topology pays at this window, × Firehose (the fee, ${LAMBDA_MIN_MEMORY_MB} MB billed for the ClickHouse wait, coupled a lake PUT per invocation, a file per table per lake budget, compaction's PUT and reads; below)`);
}

/**
 * The floor of a grid point: what no setting of its topology can avoid at its window. Modelled, not run:
 * the fresh invocations the window fixes (ESM model), and async inserts (a flush wait) where they exceed
 * 1/s per table (the busiest table has rows in every batch of the grid).
 */
function floorOf(p: GridPoint): ReturnType<typeof lambdaFloor> {
  const fresh = batchShape(p, sizes.payload, ESM_MODE);
  const rowsPerH = p.traffic * 3600;
  return lambdaFloor({
    topology: p.topology, invPerH: fresh.invocationsPerS * 3600,
    // the lake path's fewest invocations: Lambda's longest window (300 s), or sooner when a batch is full
    lakeInvPerH: p.topology === 'split' ? batchShape({ ...p, windowS: 300 }, sizes.payload, ESM_MODE).invocationsPerS * 3600 : 0,
    clickhouseWaitS: fresh.invocationsPerS > GOAL_INSERTS_PER_S ? ASYNC_FLUSH_S / 2 : WAIT_MS.clickhouseInsert / 1000,
    rowsPerHByTable: typeWeights(p.eventTypes).map((w) => rowsPerH * w), lakeBudgetS: GOAL_LAKE_S - (p.topology === 'coupled' ? p.windowS : 0),
    gbIngested: (rowsPerH * sizes.ndjson) / 1e9,
  }, prices);
}

/**
 * Per grid point and topology, the floor's arithmetic: where it exceeds the cost goal, no Lambda-based setting
 * (any memory, lake writes, interval or code) meets it at that window.
 */
function printFloors(points: readonly GridPoint[], parquetRatio: number): void {
  // per (topology, types, traffic, window): the highest floor over the partition counts run
  const groups = new Map<string, { p: GridPoint; partitions: number[]; floor: ReturnType<typeof lambdaFloor>; firehose: number }>();
  for (const p of points) {
    const gb = (p.traffic * 3600 * sizes.ndjson) / 1e9;
    const floor = floorOf(p);
    const firehose = firehoseUsdPerGb({ gbIngested: gb, gbParquet: gb * parquetRatio, records: p.traffic * 3600, tables: p.eventTypes }, prices, false);
    const k = `${p.topology}/${p.eventTypes}/${p.traffic}/${p.windowS}`;
    const g = groups.get(k);
    if (!g) groups.set(k, { p, partitions: [p.partitions], floor, firehose });
    else { g.partitions.push(p.partitions); if (floor.usdPerGb > g.floor.usdPerGb) { g.floor = floor; g.p = p; } }
  }
  if (groups.size === 0) return;
  console.log(`\nfloor: the least any Lambda-based setting pays ($/GB, at ${LAMBDA_MIN_MEMORY_MB} MB, the smallest Lambda; a lower bound: no CPU, Glue, registry, manifests or spool reads) against the cost goal (1/5 of Firehose); infeasible points:`);
  const feasible: number[] = [];
  for (const g of [...groups.values()].sort((a, b) => a.p.topology.localeCompare(b.p.topology) || a.p.traffic - b.p.traffic || a.p.eventTypes - b.p.eventTypes || a.p.windowS - b.p.windowS)) {
    const gb = (g.p.traffic * 3600 * sizes.ndjson) / 1e9;
    const goal = g.firehose * GOAL_RATIO;
    if (g.floor.usdPerGb <= goal) { feasible.push(g.floor.usdPerGb / g.firehose); continue; }
    console.log(`  ${g.p.topology}, ${g.p.traffic.toLocaleString('en')} events/s, ${g.p.eventTypes} types, ${g.p.windowS} s (${g.partitions.join('/')} partitions): ${g.floor.parts.map(([k, usd]) => `${k} ${usdFloor(usd / gb)}`).join(' + ')} = ${usdFloor(g.floor.usdPerGb)} `
      + `= ${(g.floor.usdPerGb / g.firehose).toFixed(2)}× Firehose > the goal's ${usdFloor(goal)}: no setting at this window meets it`);
  }
  console.log(`  ${groups.size - feasible.length} of ${groups.size} (topology, types, traffic, window) points infeasible at any memory, lake writes or interval; the others' floors: ≤ ${Math.max(0, ...feasible).toFixed(2)}× Firehose`);
  // Latency: one invocation per partition at a time, each waiting for its async flush (half the busy timeout
  // on average) where synchronous inserts would exceed 1/s per table, carries at most this many records a second.
  const maxRecords = maxBatchRecords(sizes.payload);
  const carried = new Map<string, { traffic: number; partitions: number; most: number }>();
  for (const p of points) {
    if (batchShape(p, sizes.payload, ESM_MODE).invocationsPerS <= GOAL_INSERTS_PER_S) continue;
    const most = (p.partitions * maxRecords) / (ASYNC_FLUSH_S / 2);
    if (most < p.traffic) carried.set(`${p.traffic}/${p.partitions}`, { traffic: p.traffic, partitions: p.partitions, most });
  }
  for (const c of carried.values()) {
    console.log(`  latency: ${c.traffic.toLocaleString('en')} events/s on ${c.partitions} partitions: ${c.partitions} invocations at a time (one per partition), each waiting ${ASYNC_FLUSH_S / 2} s on average for its async flush, carry ≤ ${Math.round(c.most).toLocaleString('en')} events/s even with no other work: no setting keeps up`);
  }
}

const usdFloor = (x: number): string => `$${x.toFixed(4)}`;

function summary(all: readonly Row[]): void {
  for (const lakeWrites of LAKE_WRITES) for (const ttl of REGISTRY_TTLS_S) {
    for (const topology of ['coupled', 'split'] as const) {
      const rows = all.filter((r) => r.p.topology === topology && r.lakeWrites === lakeWrites && r.registryTtlS === ttl);
      if (rows.length === 0) continue;
      // a grid point meets the goals when one of its variants (spool: an interval) does
      const points = new Map<string, Row[]>();
      for (const r of rows) { const k = `${r.p.partitions}/${r.p.eventTypes}/${r.p.traffic}/${r.p.windowS}`; (points.get(k) ?? points.set(k, []).get(k)!).push(r); }
      const any = (f: (r: Row) => boolean): number => [...points.values()].filter((rs) => rs.some(f)).length;
      const best = [...rows].sort((a, b) => a.usdPerGb / a.firehose - b.usdPerGb / b.firehose)[0]!;
      const worst = [...points.values()].map((rs) => Math.min(...rs.map((r) => r.usdPerGb / r.firehose))).sort((a, b) => b - a)[0]!;
      console.log(`${topology}, ${lakeWrites}, registry TTL ${ttl} s: ${any((r) => verdict(r) === 'MEETS all')} of ${points.size} grid points meet all goals · cost ${any(meetsCost)} · inserts ${any(meetsInserts)} · latency ${any(meetsLatency)} · × Firehose from ${(best.usdPerGb / best.firehose).toFixed(2)} (${best.p.partitions} partitions, ${best.p.eventTypes} types, ${best.p.traffic} events/s, ${best.p.windowS} s) to ${worst.toFixed(2)}`);
    }
  }
}

/**
 * Per traffic class (events/s × event types): the cheapest setting (topology, window, lake writes, interval)
 * that meets every goal at every partition count, if any does; the insert mode follows the row.
 */
function recommend(everything: readonly Row[]): void {
  // The deployed registry TTL (30 s): the stack has no setting for another yet; the 300 s rows show what one would save.
  const all = everything.filter((r) => r.registryTtlS === REGISTRY_TTLS_S[0]);
  console.log(`\nrecommended settings per traffic class at the registry's default TTL (${REGISTRY_TTLS_S[0]} s): meets every goal at every partition count run; cheapest by the worst × Firehose:`);
  const classes = new Map<string, Row[]>();
  for (const r of all) { const k = `${r.p.traffic}/${r.p.eventTypes}`; (classes.get(k) ?? classes.set(k, []).get(k)!).push(r); }
  for (const [k, rows] of [...classes].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const [traffic, types] = k.split('/').map(Number) as [number, number];
    const bySetting = new Map<string, Row[]>();
    for (const r of rows) (bySetting.get(setting(r)) ?? bySetting.set(setting(r), []).get(setting(r))!).push(r);
    const partitionCounts = new Set(rows.map((r) => r.p.partitions)).size;
    const ok = [...bySetting].filter(([, rs]) => rs.length === partitionCounts && rs.every((r) => verdict(r) === 'MEETS all'))
      .map(([name, rs]) => ({ name, worst: Math.max(...rs.map((r) => r.usdPerGb / r.firehose)), rs }))
      .sort((a, b) => a.worst - b.worst);
    const label = `  ${traffic.toLocaleString('en')} events/s, ${types} types:`;
    if (ok.length === 0) {
      const closest = [...bySetting].map(([name, rs]) => ({ name, worst: Math.max(...rs.map((r) => r.usdPerGb / r.firehose)), rs })).sort((a, b) => a.worst - b.worst)[0]!;
      // per partition count: its verdict, or that this setting was not the row kept there (another interval or memory was)
      const counts = [...new Set(rows.map((r) => r.p.partitions))].sort((a, b) => a - b);
      const at = counts.map((n) => { const r = closest.rs.find((x) => x.p.partitions === n); return `${n} partitions: ${r ? verdict(r) : 'not the kept row'}`; });
      console.log(`${label} none meets every goal at every partition count; cheapest: ${closest.name} at ≤ ${closest.worst.toFixed(2)}× Firehose (${at.join(', ')})`);
      continue;
    }
    const b = ok[0]!;
    const r = b.rs[0]!;
    console.log(`${label} ${b.name}, ${b.rs.some((x) => x.asyncInserts) ? 'async' : 'sync'} inserts · ≤ ${b.worst.toFixed(2)}× Firehose · fresh p99 ≤ ${Math.max(...b.rs.map((x) => x.freshP99S)).toFixed(1)} s · lake ≤ ${Math.max(...b.rs.map((x) => x.lakeMaxS)).toFixed(0)} s · ${ok.length} setting(s) meet all${r ? '' : ''}`);
  }
}

await main();
