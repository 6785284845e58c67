// ab-daily's variance on real chDB when per-user values are large and close together (odometer-like
// readings near 10⁹ that differ by cents): Σx² − (Σx)²/n loses every significant digit there, so the
// variance must come from a stable accumulation.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadJob } from '../../functions/adapters/job-files.js';
import { openLocalRuntime, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { rng } from '../../functions/cli/traffic.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { runJobDay } from '../../functions/core/jobs/run-job.js';
import { encodeMskEvent } from '../../functions/core/decode/msk-event.js';

const D = '2026-11-19';
const DAY_START = Date.parse(`${D}T00:00:00Z`);
const now = DAY_START + 26 * 3_600_000;
const CONFIG = {
  exposure_event: 'experiment_exposure', control: 'control',
  metrics: [{ name: 'odometer', event: 'reading', type: 'sum', value: 'km' }],
  experiments: { exp_p: {} },
};

let rt: LocalRuntime;
before(async () => {
  const home = mkdtempSync(join(tmpdir(), 'tributary-ab-precision-'));
  mkdirSync(join(home, 'jobs'));
  writeFileSync(join(home, 'jobs', 'ab-daily.json'), JSON.stringify(CONFIG));
  rt = await openLocalRuntime({ home, schemasDir: join(home, 'no-schemas'), clock: () => now });
});
after(async () => rt.close());

/** Mean and two-pass sample variance: the reference. */
function reference(xs: readonly number[]): { mean: number; variance: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return { mean, variance: xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1) };
}

describe('ab-daily statistics', () => {
  it('keep the variance of large, tightly spread per-user values', async () => {
    const rand = rng(7);
    const values = new Map<string, number[]>([['control', []], ['treat', []]]);
    const events: object[] = [];
    for (let u = 0; u < 400; u++) {
      const variant = u % 2 === 0 ? 'control' : 'treat';
      // one reading per user: the per-user value is the reading, 1e9 km plus up to a few km
      const km = 1e9 + Math.round(rand() * 300 + (variant === 'treat' ? 20 : 0)) / 100;
      values.get(variant)!.push(km);
      events.push({ event: 'experiment_exposure', event_id: `x${u}`, ts: DAY_START + 3_600_000, user_id: `u${u}`, properties: { experiment_id: 'exp_p', variant } });
      events.push({ event: 'reading', event_id: `r${u}`, ts: DAY_START + 2 * 3_600_000, user_id: `u${u}`, properties: { km } });
    }
    const records = events.map((e, i) => ({ topic: 'precision', partition: 0, offset: i, timestamp: DAY_START, key: null, value: Buffer.from(JSON.stringify(e)) }));
    await ingestBatch(encodeMskEvent(records), rt.deps);
    await runJobDay(loadJob(join(rt.home, 'jobs'), 'ab-daily'), D, { ...rt.deps, registry: rt.registry });

    const rows = await rt.warehouse.query<{ variant: string; units: string; total: number; total_sq: number; variance: number; abs_lift: number | null }>(
      `SELECT variant, units, total, total_sq, variance, abs_lift FROM tributary.ab_daily WHERE dt = '${D}' ORDER BY variant`);
    assert.deepEqual(rows.map((r) => [r.variant, Number(r.units)]), [['control', 200], ['treat', 200]]);
    for (const r of rows) {
      const ref = reference(values.get(r.variant)!);
      assert.ok(ref.variance > 0.5 && ref.variance < 1, `the fixture's spread: ${ref.variance}`);
      // The naive formula on the very sums the table reports is nowhere near: what the test guards against.
      const naive = (r.total_sq - (r.total * r.total) / Number(r.units)) / (Number(r.units) - 1);
      assert.ok(Math.abs(naive - ref.variance) > ref.variance, `naive ${naive} vs ${ref.variance}`);
      assert.ok(Math.abs(r.variance - ref.variance) <= 1e-6 * ref.variance, `${r.variant} variance ${r.variance} ≠ ${ref.variance}`);
    }
    const treat = rows.find((r) => r.variant === 'treat')!;
    const lift = reference(values.get('treat')!).mean - reference(values.get('control')!).mean;
    assert.ok(Math.abs(treat.abs_lift! - lift) < 1e-5, `lift ${treat.abs_lift} ≠ ${lift}`);
  });
});
