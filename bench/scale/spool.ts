// The spool's materializer as `npm run bench:scale` models it (docs/lake.md#spool-writes): what one run asks
// of S3 and Glue, counted by running the real materializeSpool (functions/core/lake/materialize.ts) over spool
// objects the real ingestBatch wrote (lakeWrites 'spool'), with the real GlueCatalog adapter against the
// in-process Glue endpoint; and its CPU time per row and per spool, measured on batches of two sizes. The
// grid then scales these to its traffic: spools per run, rows per run, files per (table, hour) per run.
import { materializeSpool } from '../../functions/core/lake/materialize.js';
import { GlueCatalog } from '../../functions/adapters/catalog/glue.js';
import type { FakeGlue } from '../../test/glue-endpoint.js';
import { rng } from '../../functions/cli/traffic.js';
import { Counts, keepingStore, openContainer, sampleBatch, typeWeights } from './harness.js';

/**
 * Requests of one materializer run in a warm container (the handler keeps its catalog between runs, as
 * Lambda keeps the container at an interval of minutes): perRun + manifests × perManifest + spools ×
 * perSpool + files × perFile + tables × perTable + files of a closed hour × perClosedFile; and per hour,
 * each (table, hour) the container registers once: perNewPartition.
 */
export interface MaterializerCost {
  readonly perRun: Counts;
  readonly perManifest: Counts;
  readonly perSpool: Counts;
  readonly perFile: Counts;
  /** per table with rows in a manifest (its columns, its partitions registered) */
  readonly perTable: Counts;
  /** a file of an hour already closed: its partition's version looked up (before and after the write) */
  readonly perClosedFile: Counts;
  /** the first file of a (table, hour) in a container: its partition registered */
  readonly perNewPartition: Counts;
  /** CPU seconds: per row materialized, per spool read, per manifest (measured, warm) */
  readonly perRowS: number;
  readonly perSpoolS: number;
  readonly perManifestS: number;
  readonly spoolBytesPerRow: number;
}

interface Scenario { spools: number; types: number; hours: number; rows: number; hour?: number }

/**
 * Spools written by the real ingest (lake path, spool writes) in one hour, or spread over two, then one
 * materializer run over them: its counts and its time.
 */
async function scenario(glue: FakeGlue, catalog: GlueCatalog, s: Scenario, seed: number): Promise<{ counts: Counts; seconds: number; rows: number; spoolBytes: number }> {
  let current = new Counts();
  const store = keepingStore(() => current);
  const topic = `spool-${seed}`;
  const container = openContainer({ store, glue, counts: () => current, config: { sinks: { lake: true, warehouse: false }, lakeWrites: 'spool' } });
  const r = rng(seed);
  const offsets = new Map<number, number>();
  const hour = Date.UTC(2026, 11, 6, s.hour ?? 10);
  let rows = 0;
  for (let i = 0; i < s.spools; i++) {
    const now = hour + 30 * 60_000 + i * 1000;
    // hours: the batch's events fall in the window before `now`; two hours: a window reaching into the previous one
    const b = sampleBatch({ fullRecords: s.rows, partitions: 4, weights: typeWeights(s.types), scale: 1, now, windowMs: s.hours > 1 ? 60 * 60_000 : 1000, offsets, r, firstPartition: 0, topic });
    rows += b.records;
    await container.ingest(b.event, now);
  }
  const spoolBytes = [...store.objects].filter(([k]) => k.startsWith('_spool/pending/')).reduce((n, [, v]) => n + v.byteLength, 0);
  current = new Counts();
  const before = glue.calls.length;
  // CPU time, not wall time: on the shared 2-core machine a run's wall time was ~2× its CPU time (other
  // processes); in Lambda (≥ 1,769 MB: a whole vCPU) the thread is not shared. Waits are modelled apart.
  const cpu0 = process.cpuUsage();
  await materializeSpool({ store, catalog, clock: () => hour + 35 * 60_000 + s.spools * 1000, options: { owner: 'bench' } });
  const cpu = process.cpuUsage(cpu0);
  const seconds = (cpu.user + cpu.system) / 1e6;
  current.glue = glue.calls.length - before;
  return { counts: current, seconds, rows, spoolBytes };
}

function scaled(c: Counts, f: number): Counts {
  const d = c.copy();
  for (const k of ['s3Put', 's3Get', 's3List', 'glue'] as const) d[k] *= f;
  return d;
}

/**
 * Counts from differences of scenarios (one table in one hour; more spools; two hours; more tables; a new
 * hour) run by one catalog, as one warm container, after a run that registered their tables' partitions;
 * time from two batch sizes.
 */
export async function measureMaterializer(glue: FakeGlue): Promise<MaterializerCost> {
  const catalog = new GlueCatalog(glue.client, 'tributary');
  const run = (s: Scenario, seed: number): ReturnType<typeof scenario> => scenario(glue, catalog, s, seed);
  await run({ spools: 6, types: 5, hours: 2, rows: 600 }, 80); // the container's first run: tables and partitions
  const idle = await run({ spools: 0, types: 1, hours: 1, rows: 0 }, 1);
  const one = await run({ spools: 2, types: 1, hours: 1, rows: 50 }, 2);
  const moreSpools = await run({ spools: 6, types: 1, hours: 1, rows: 50 }, 3);
  const twoHours = await run({ spools: 6, types: 1, hours: 2, rows: 200 }, 4);
  const threeTables = await run({ spools: 6, types: 3, hours: 1, rows: 600 }, 5);
  // the same one-table run in an hour this container has not written yet
  const newHour = await run({ spools: 6, types: 1, hours: 1, rows: 50, hour: 11 }, 6);
  const perSpool = scaled(moreSpools.counts.minus(one.counts), 1 / 4);
  // the second hour's file is a closed hour's: its S3 PUT is any file's, its Glue calls a closed hour's
  const fileDiff = twoHours.counts.minus(moreSpools.counts);
  const perFile = fileDiff.copy();
  perFile.glue = 0;
  const perClosedFile = new Counts();
  perClosedFile.glue = fileDiff.glue;
  const perNewPartition = new Counts();
  perNewPartition.glue = newHour.counts.glue - moreSpools.counts.glue;
  // a table adds its file and its own Glue calls
  const perTable = scaled(threeTables.counts.minus(moreSpools.counts), 1 / 2).minus(perFile);
  const perRun = idle.counts;
  const perManifest = one.counts.minus(perRun).minus(scaled(perSpool, 2)).minus(perFile).minus(perTable);
  // Time: warm runs over 10 spools of 1,000 and of 4,000 records, 5 types (median of 3 each)
  const times = async (rows: number, spools: number, seed: number): Promise<{ s: number; rows: number; bytes: number }> => {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await run({ spools, types: 5, hours: 1, rows }, seed + i));
    runs.sort((a, b) => a.seconds - b.seconds);
    const m = runs[1]!;
    return { s: m.seconds, rows: m.rows, bytes: m.spoolBytes };
  };
  await times(500, 10, 90); // warm-up
  const small = await times(1000, 10, 100);
  const large = await times(4000, 10, 200);
  const many = await times(1000, 30, 300);
  // time = manifest + spools × perSpool + rows × perRow, from the three
  const perRowS = Math.max(0, (large.s - small.s) / (large.rows - small.rows));
  const perSpoolS = Math.max(0, (many.s - small.s - perRowS * (many.rows - small.rows)) / 20);
  const perManifestS = Math.max(0, small.s - perRowS * small.rows - perSpoolS * 10);
  return { perRun, perManifest, perSpool, perFile, perTable, perClosedFile, perNewPartition, perRowS, perSpoolS, perManifestS, spoolBytesPerRow: large.bytes / large.rows };
}

/** What the materializer costs an hour at a grid point's traffic. */
export interface MaterializerHour {
  readonly runsPerH: number;
  readonly s3Put: number;
  readonly s3Get: number;
  readonly glue: number;
  readonly gbSeconds: number;
  /** one run's billed seconds (CPU + assumed network waits) */
  readonly runSeconds: number;
  /** files per (table, hour) before compaction, by table index */
  readonly filesPerTableHour: number[];
}

/**
 * One run every `intervalMin` takes the spools written since the last: `spoolsPerRun` of them in
 * ceil(spools / spoolsPerManifest) manifests; a table gets a file in a manifest when at least one of the
 * manifest's rows is its (Poisson, by its weight), in each hour the manifest's events span.
 */
export function materializerHour(o: {
  cost: MaterializerCost; spoolsPerH: number; rowsPerH: number; weights: readonly number[]; intervalMin: number; spoolsPerManifest: number;
  memoryMb: number; waits: { s3Put: number; s3Get: number; glue: number }; concurrency: number; hoursPerManifest: number;
  /** deferMs in seconds: a table waits while its oldest spooled row is younger (0: written every run) */
  deferS?: number;
}): MaterializerHour {
  const runsPerH = 60 / o.intervalMin;
  const intervalS = o.intervalMin * 60;
  const deferS = o.deferS ?? 0;
  const spoolsPerRun = o.spoolsPerH / runsPerH;
  const manifests = spoolsPerRun === 0 ? 0 : Math.ceil(spoolsPerRun / o.spoolsPerManifest);
  const rowsPerManifest = manifests === 0 ? 0 : o.rowsPerH / runsPerH / manifests;
  // Without deferral a table gets a file in a manifest when one of its rows is there (Poisson by its weight).
  // Deferred, a table is written at the first run where its oldest pending row (arriving ~1/rate after the
  // last write) is deferS old: every interval × ceil((deferS + 1/rate) / interval), at most every run.
  const present = o.weights.map((w) => {
    const perRun = 1 - Math.exp(-rowsPerManifest * w);
    if (deferS <= 0) return perRun;
    const rate = (o.rowsPerH * w) / 3600;
    const cycleRuns = Math.max(1, Math.ceil((deferS + (rate > 0 ? 1 / rate : Infinity)) / intervalS));
    return Math.min(perRun, 1 / cycleRuns);
  });
  const tablesPerManifest = present.reduce((a, b) => a + b, 0);
  const filesPerManifest = tablesPerManifest * o.hoursPerManifest;
  const closedFilesPerManifest = tablesPerManifest * (o.hoursPerManifest - 1);
  // a spool holding a waiting table's rows is read again by each run until that table is due
  const readsPerSpool = 1 + (deferS > 0 ? Math.ceil(deferS / intervalS) : 0);
  const c = o.cost;
  const per = (k: 's3Put' | 's3Get' | 's3List' | 'glue'): number =>
    c.perRun[k] + manifests * (c.perManifest[k] + filesPerManifest * c.perFile[k] + tablesPerManifest * c.perTable[k] + closedFilesPerManifest * c.perClosedFile[k])
    + spoolsPerRun * c.perSpool[k] * (k === 's3Get' ? readsPerSpool : 1);
  // once an hour per table with a file that hour: its partition registered by the (warm) container
  const newPartitionsPerH = present.reduce((n, p) => n + Math.min(1, runsPerH * manifests * p), 0);
  const hourly = (k: 's3Put' | 's3Get' | 's3List' | 'glue'): number => newPartitionsPerH * c.perNewPartition[k];
  const cpu = manifests * c.perManifestS + spoolsPerRun * c.perSpoolS + (o.rowsPerH / runsPerH) * c.perRowS;
  // S3 and Glue requests go `concurrency` at a time (mapLimit in materialize.ts); LISTs one after another
  const waits = (Math.ceil(per('s3Put') / o.concurrency) * o.waits.s3Put + Math.ceil(per('s3Get') / o.concurrency) * o.waits.s3Get + per('s3List') * o.waits.s3Get + Math.ceil(per('glue') / o.concurrency) * o.waits.glue) / 1000;
  const runSeconds = cpu + waits;
  return {
    runsPerH,
    s3Put: runsPerH * (per('s3Put') + per('s3List')) + hourly('s3Put') + hourly('s3List'),
    s3Get: runsPerH * per('s3Get') + hourly('s3Get'),
    glue: runsPerH * per('glue') + hourly('glue'),
    gbSeconds: runsPerH * runSeconds * (o.memoryMb / 1024),
    runSeconds,
    filesPerTableHour: present.map((p) => runsPerH * manifests * p),
  };
}
