// ab-daily on real chDB against an independent computation of the same definitions on generated data:
// crossovers, users without metric events, events before exposure or after the day, redelivered events,
// and a late event that arrives after a provisional run.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { loadJob } from '../../functions/adapters/job-files.js';
import { openLocalRuntime, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { rng } from '../../functions/cli/traffic.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import type { JobDefinition } from '../../functions/core/jobs/job.js';
import { runJobDay } from '../../functions/core/jobs/run-job.js';
import { encodeMskEvent } from '../../functions/core/decode/msk-event.js';
import { duckRows } from '../duckdb.js';
import { abList } from '../../functions/cli/commands/ab.js';
import { backfill } from '../../functions/cli/commands/jobs.js';
import { parseAbConfig } from '../../functions/core/ab/config.js';

const D = '2026-11-19';
const DAY_START = Date.parse(`${D}T00:00:00Z`);
const DAY_END = DAY_START + 86_400_000;
const H = 3_600_000;

let rt: LocalRuntime;
let job: JobDefinition;
let now = DAY_START + 18 * H;
let offset = 0;

const rand = rng(42);

interface Ev { event: string; event_id: string; ts: number; user_id: string; properties: Record<string, unknown> }
const all: Ev[] = [];
let nextId = 0;
const ev = (event: string, user: string, ts: number, properties: Record<string, unknown> = {}): Ev => {
  const e = { event, event_id: `e${nextId++}`, ts, user_id: user, properties };
  all.push(e);
  return e;
};

async function deliver(events: readonly Ev[]): Promise<void> {
  const records = events.map((e) => ({ topic: 'ab', partition: 0, offset: offset++, timestamp: e.ts, key: null, value: Buffer.from(JSON.stringify(e)) }));
  for (let i = 0; i < records.length; i += 500) await ingestBatch(encodeMskEvent(records.slice(i, i + 500)), rt.deps);
}

const EXPERIMENTS: Record<string, string[]> = { exp_a: ['control', 'treat'], exp_b: ['baseline', 'v1', 'v2'] };
const CONFIG = {
  exposure_event: 'experiment_exposure', control: 'control',
  metrics: [
    { name: 'purchase_conversion', event: 'purchase', type: 'conversion' },
    { name: 'revenue', event: 'purchase', type: 'sum', value: 'price' },
    { name: 'clicks', event: 'click', type: 'count' },
  ],
  experiments: { exp_a: { weights: { control: 0.5, treat: 0.5 } }, exp_b: { control: 'baseline' } },
};

/** Builds the generated traffic; returns the late purchase that arrives after the provisional run. */
function generate(): Ev {
  for (let u = 0; u < 300; u++) {
    const user = `u${u}`;
    for (const [exp, variants] of Object.entries(EXPERIMENTS)) {
      if (rand() < 0.15) continue; // not in this experiment
      const first = DAY_START - 20 * H + Math.floor(rand() * 36 * H); // from D-1 04:00 to D 16:00
      const variant = variants[Math.floor(rand() * variants.length)]!;
      ev('experiment_exposure', user, first, { experiment_id: exp, variant });
      if (rand() < 0.3) ev('experiment_exposure', user, first + 1000 + Math.floor(rand() * H), { experiment_id: exp, variant }); // repeat
      if (rand() < 0.05) {
        const other = variants.find((v) => v !== variant)!;
        ev('experiment_exposure', user, first + 2 * H, { experiment_id: exp, variant: other }); // crossover
      }
      if (rand() < 0.03) ev('experiment_exposure', user, DAY_END + H, { experiment_id: exp, variant: variants.find((v) => v !== variant)! }); // after the day: no crossover yet
    }
    if (u % 7 === 0) ev('experiment_exposure', `late_${u}`, DAY_END + 2 * H, { experiment_id: 'exp_a', variant: 'treat' }); // first exposure after the day
    const buys = rand() < 0.5 ? Math.floor(rand() * 3) : 0;
    for (let b = 0; b < buys; b++) {
      const price = rand() < 0.1 ? null : Math.round(rand() * 10_000) / 100;
      ev('purchase', user, DAY_START - 22 * H + Math.floor(rand() * 45 * H), { order_id: `o${u}-${b}`, price, quantity: 1 }); // some before exposure, some after the day
    }
    const clicks = Math.floor(rand() * 4);
    for (let c = 0; c < clicks; c++) ev('click', user, DAY_START - 10 * H + Math.floor(rand() * 27 * H), { element: 'button' });
  }
  // a late event for the day: event time 17:30 on D, delivered after the provisional run
  return { event: 'purchase', event_id: 'late-purchase', ts: DAY_START + 17.5 * H, user_id: 'u1', properties: { order_id: 'late', price: 1234.5, quantity: 1 } };
}

// ---- the independent computation of the definitions ----
interface Expected { experiment_id: string; variant: string; metric: string; units: number; total: number; total_sq: number; mean: number; variance: number | null;
  control_variant: string | null; abs_lift: number | null; rel_lift: number | null; ci_low: number | null; ci_high: number | null; p_value: number | null; srm_p_value: number | null; crossover_users: number }

function expected(events: readonly Ev[]): Expected[] {
  const seen = new Map<string, Ev>();
  for (const e of events) seen.set(e.event_id, e); // redeliveries are one event
  const evs = [...seen.values()].filter((e) => e.ts < DAY_END);
  const out: Expected[] = [];
  for (const exp of Object.keys(EXPERIMENTS)) {
    const byUser = new Map<string, Ev[]>();
    for (const e of evs) if (e.event === 'experiment_exposure' && e.properties['experiment_id'] === exp) (byUser.get(e.user_id) ?? byUser.set(e.user_id, []).get(e.user_id)!).push(e);
    let crossovers = 0;
    const assigned = new Map<string, { variant: string; first: number }>();
    for (const [user, list] of byUser) {
      if (new Set(list.map((e) => e.properties['variant'])).size > 1) { crossovers++; continue; }
      const first = list.reduce((a, b) => (b.ts < a.ts ? b : a));
      assigned.set(user, { variant: String(first.properties['variant']), first: first.ts });
    }
    const control = exp === 'exp_b' ? 'baseline' : 'control';
    const variants = [...new Set([...assigned.values()].map((a) => a.variant))].sort();
    const units = new Map(variants.map((v) => [v, [...assigned.values()].filter((a) => a.variant === v).length]));
    const weights = exp === 'exp_a' ? { control: 0.5, treat: 0.5 } : undefined;
    const n = [...units.values()].reduce((s, x) => s + x, 0);
    const wSum = variants.reduce((s, v) => s + (weights ? (weights as Record<string, number>)[v]! : 1), 0);
    const chi = variants.reduce((s, v) => { const ex = (n * (weights ? (weights as Record<string, number>)[v]! : 1)) / wSum; return s + (units.get(v)! - ex) ** 2 / ex; }, 0);
    const srm = 1 - chisquareCdf(chi, variants.length - 1);
    for (const metric of CONFIG.metrics) {
      const values = new Map<string, number[]>(variants.map((v) => [v, []]));
      for (const [user, a] of assigned) {
        const mine = evs.filter((e) => e.event === metric.event && e.user_id === user && e.ts >= a.first);
        const value = metric.type === 'conversion' ? (mine.length > 0 ? 1 : 0) : metric.type === 'count' ? mine.length
          : mine.reduce((s, e) => s + (typeof e.properties['price'] === 'number' ? (e.properties['price'] as number) : 0), 0);
        values.get(a.variant)!.push(value);
      }
      const stat = (xs: number[]): { m: number; v: number } => {
        const m = xs.reduce((s, x) => s + x, 0) / xs.length;
        return { m, v: xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1) };
      };
      for (const v of variants) {
        const xs = values.get(v)!;
        const s = stat(xs);
        const row: Expected = {
          experiment_id: exp, variant: v, metric: metric.name, units: xs.length, total: xs.reduce((a, b) => a + b, 0), total_sq: xs.reduce((a, b) => a + b * b, 0),
          mean: s.m, variance: s.v, control_variant: null, abs_lift: null, rel_lift: null, ci_low: null, ci_high: null, p_value: null, srm_p_value: srm, crossover_users: crossovers,
        };
        if (v !== control) {
          const c = stat(values.get(control)!);
          const nc = values.get(control)!.length;
          const se = Math.sqrt(s.v / xs.length + c.v / nc);
          const df = (s.v / xs.length + c.v / nc) ** 2 / ((s.v / xs.length) ** 2 / (xs.length - 1) + (c.v / nc) ** 2 / (nc - 1));
          const diff = s.m - c.m;
          const q = tQuantile(0.975, df);
          Object.assign(row, { control_variant: control, abs_lift: diff, rel_lift: c.m !== 0 ? diff / c.m : null, ci_low: diff - q * se, ci_high: diff + q * se, p_value: 2 * (1 - tCdf(Math.abs(diff / se), df)) });
        }
        out.push(row);
      }
    }
  }
  return out;
}

function assertMatches(actual: Array<Record<string, unknown>>, wanted: Expected[], isFinal: boolean): void {
  assert.equal(actual.length, wanted.length);
  const key = (r: { experiment_id: unknown; variant: unknown; metric: unknown }): string => `${r.experiment_id}/${r.variant}/${r.metric}`;
  const got = new Map(actual.map((r) => [key(r as unknown as Expected), r]));
  for (const w of wanted) {
    const a = got.get(key(w));
    assert.ok(a, `row ${key(w)}`);
    for (const [col, value] of Object.entries(w)) {
      const v: unknown = a[col];
      if (value === null || typeof value === 'string') assert.equal(v, value, `${key(w)} ${col}`);
      else assert.ok(Math.abs(Number(v) - value) <= 1e-9 * Math.max(1, Math.abs(value)), `${key(w)} ${col}: ${v} ≠ ${value}`);
    }
    assert.equal(a['is_final'], isFinal);
  }
}

const results = (): Promise<Array<Record<string, unknown>>> => rt.warehouse.query(`SELECT * FROM tributary.ab_daily WHERE dt = '${D}' ORDER BY experiment_id, metric, variant`);

before(async () => {
  const home = mkdtempSync(join(tmpdir(), 'tributary-ab-'));
  const jobsDir = join(home, 'jobs');
  mkdirSync(jobsDir);
  writeFileSync(join(jobsDir, 'ab-daily.json'), JSON.stringify(CONFIG));
  // No declared schemas: purchase is inferred, so a purchase without a price lands (and counts 0 revenue).
  rt = await openLocalRuntime({ home, schemasDir: join(home, 'no-schemas'), clock: () => now });
  job = loadJob(jobsDir, 'ab-daily');
});
after(async () => rt.close());

describe('ab-daily', () => {
  let late: Ev;
  const jobDeps = () => ({ ...rt.deps, registry: rt.registry });

  it('provisional results match an independent computation of the definitions', async () => {
    late = generate();
    const early = all.filter((e) => e.ts <= now + 30 * 60_000);
    await deliver(early);
    await deliver(early.filter((_, i) => i % 9 === 0)); // redeliveries with other batch boundaries
    const [run] = await runJobDay(job, D, jobDeps());
    assert.equal(run!.isFinal, false);
    assertMatches(await results(), expected(early), false);
  });

  it('final results include the late event and replace the provisional rows', async () => {
    now = DAY_START + 23 * H;
    all.push(late);
    await deliver([late]);
    now = DAY_END + 2.5 * H;
    await deliver(all.filter((e) => e.ts > DAY_START + 18.5 * H)); // the rest of the day and what lies beyond it
    const [run] = await runJobDay(job, D, jobDeps());
    assert.equal(run!.isFinal, true);
    assertMatches(await results(), expected(all), true);
    assert.notDeepEqual(expected(all.filter((e) => e !== late)), expected(all), 'the late event changes the result');
  });

  it('a re-run yields identical rows, no duplicates, and the lake file holds the same rows', async () => {
    const before = await results();
    await runJobDay(job, D, jobDeps());
    assert.deepEqual(await results(), before);
    const lake = await duckRows(`SELECT count(*) AS n, sum(units) AS u FROM read_parquet('${rt.store.path(`lake/ab_daily/dt=${D}/part-00000.parquet`)}')`);
    assert.deepEqual(lake.map((r) => [Number(r['n']), Number(r['u'])]), [[before.length, before.reduce((s, r) => s + Number(r['units']), 0)]]);
    const [partition] = await rt.catalog.listPartitions('ab_daily');
    assert.equal(partition!.dt, D);
    assert.equal(partition!.hour, undefined);
  });
});

describe('ab-daily at scale: incremental assignments', () => {
  const jobDeps = () => ({ ...rt.deps, registry: rt.registry });

  it('keeps per day only the (experiment, user) rows that change the state: fewer rows than exposures', async () => {
    const { rows, users } = (await rt.warehouse.query<{ rows: string; users: string }>(
      `SELECT count() AS rows, uniqExact(experiment_id, user_id) AS users FROM tributary.ab_assignments`))[0]!;
    const { exposures } = (await rt.warehouse.query<{ exposures: string }>(`SELECT count() AS exposures FROM tributary.experiment_exposure FINAL`))[0]!;
    assert.ok(Number(rows) > 0 && Number(rows) < Number(exposures), `${rows} assignment rows for ${exposures} exposures`);
    // a user appears again only on a day that brings a variant outside those seen before (a crossover)
    assert.ok(Number(rows) - Number(users) <= all.filter((e) => e.event === 'experiment_exposure').length * 0.1);
  });

  it('a day reads one day of exposures plus the assignments: with the day before\'s exposures gone, the results stay', async () => {
    const wanted = expected(all);
    await rt.warehouse.execute!(`ALTER TABLE tributary.experiment_exposure DROP PARTITION ID '20261118'`);
    await runJobDay(job, D, jobDeps());
    assertMatches(await results(), wanted, true);
    // The full scan of every exposure (the previous query) now misses the first day's assignments.
    const scan = loadJobWithConfig({ ...CONFIG, assignments: 'scan' });
    await runJobDay(scan, D, jobDeps());
    assert.notDeepEqual((await results()).map((r) => [r['experiment_id'], r['variant'], r['metric'], Number(r['units'])]),
      wanted.map((w) => [w.experiment_id, w.variant, w.metric, w.units]));
  });

  it('refuses a backfill wider than max_backfill_days, and a 146,097-day one', async () => {
    const narrow = loadJobWithConfig({ ...CONFIG, max_backfill_days: 31 });
    await assert.rejects(backfill(narrow, '2026-10-01', '2026-11-19', jobDeps()), /50 days; a backfill covers at most 31 \(max_backfill_days of ab-daily\)/);
    await assert.rejects(backfill(job, '1900-01-01', '2299-12-31', jobDeps()), /146,097 days; a backfill covers at most 366: split the range/);
  });

  it('ab list names each experiment, its variants, users and crossovers', async () => {
    const text = await abList(rt.warehouse, parseAbConfig(CONFIG));
    assert.match(text, /exp_a\s+control\s+control, treat\s+\d+\s+\d+/);
    assert.match(text, /exp_b\s+baseline\s+baseline, v1, v2/);
  });
});

function loadJobWithConfig(config: Record<string, unknown>): JobDefinition {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-ab-config-'));
  writeFileSync(join(dir, 'ab-daily.json'), JSON.stringify(config));
  return loadJob(dir, 'ab-daily');
}
