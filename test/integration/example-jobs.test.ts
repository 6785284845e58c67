// The example jobs shipped in schemas/jobs/ (daily active users, hourly funnel, daily revenue), run from
// their files on generated traffic and compared with an independent computation in plain TypeScript.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadJob, loadJobs } from '../../functions/adapters/job-files.js';
import { jobsCheck } from '../../functions/cli/commands/jobs-catalog.js';
import { openLocalRuntime, PACKAGE_ROOT, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { generateTraffic, type GeneratedRecord } from '../../functions/cli/traffic.js';
import { encodeMskEvent } from '../../functions/core/decode/msk-event.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { runJobDay } from '../../functions/core/jobs/run-job.js';

const JOBS = join(PACKAGE_ROOT, 'schemas/jobs');
const D = '2026-11-19';
const START = Date.parse(`${D}T09:00:00Z`);
const H = 3_600_000;
let rt: LocalRuntime;
const now = Date.parse(`${D}T23:59:00Z`);

interface Ev { event: string; event_id: string; ts: string; user_id: string; properties: Record<string, unknown> }
let events: Ev[] = [];

before(async () => {
  const home = mkdtempSync(join(tmpdir(), 'tributary-examples-'));
  // The declared schemas (purchase: price a double, currency a code) as in a deployment.
  rt = await openLocalRuntime({ home, schemasDir: join(PACKAGE_ROOT, 'schemas/events'), clock: () => now });
  // Two hours of traffic, no broken records (the quarantine is not what these jobs are about), and a
  // redelivery of a slice: each event must count once.
  const records: GeneratedRecord[] = generateTraffic({ start: START, end: START + 2 * H, events: 4000, users: 300, malformedRate: 0, seed: 7 });
  const msk = (rs: readonly GeneratedRecord[]) => encodeMskEvent(rs.map((r) => ({ topic: 'examples', partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value })));
  for (let i = 0; i < records.length; i += 500) await ingestBatch(msk(records.slice(i, i + 500)), rt.deps);
  await ingestBatch(msk(records.slice(1000, 1300)), rt.deps);
  events = records.map((r) => JSON.parse(r.value!.toString()) as Ev);
});
after(async () => rt.close());

const deps = () => ({ ...rt.deps, registry: rt.registry });
const time = (e: Ev): number => Date.parse(e.ts);
const ofType = (name: string) => events.filter((e) => e.event === name);
const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

describe('the example jobs in schemas/jobs/', () => {
  it('all pass jobs check', async () => {
    const { text, problems } = await jobsCheck(loadJobs(JOBS), deps());
    assert.equal(problems, 0, text);
    for (const name of ['daily-active-users', 'hourly-funnel', 'daily-revenue']) assert.match(text, new RegExp(`^ok ${name}:`, 'm'));
  });

  it('daily-active-users: distinct users and page views per platform and country', async () => {
    const [run] = await runJobDay(loadJob(JOBS, 'daily-active-users'), D, deps());
    assert.equal(run!.isFinal, false);
    const want = new Map<string, { users: Set<string>; views: number }>();
    for (const e of ofType('page_view')) {
      const key = `${e.properties['platform']}/${e.properties['country']}`;
      const g = want.get(key) ?? want.set(key, { users: new Set(), views: 0 }).get(key)!;
      g.users.add(e.user_id);
      g.views++;
    }
    const got = await rt.warehouse.query<{ platform: string; country: string; active_users: string; page_views: string; is_final: boolean }>(
      `SELECT platform, country, active_users, page_views, is_final FROM tributary.daily_active_users WHERE dt = '${D}' ORDER BY platform, country`);
    assert.equal(got.length, want.size);
    assert.ok(want.size >= 10, 'platforms × countries are spread');
    for (const r of got) {
      const w = want.get(`${r.platform}/${r.country}`);
      assert.ok(w, `${r.platform}/${r.country}`);
      assert.deepEqual([Number(r.active_users), Number(r.page_views), r.is_final], [w.users.size, w.views, false]);
    }
  });

  it('hourly-funnel: users reaching page_view → click → purchase in order within each hour', async () => {
    const runs = await runJobDay(loadJob(JOBS, 'hourly-funnel'), D, deps());
    assert.equal(runs.length, 24);
    const got = await rt.warehouse.query<{ hour: number; step: number; step_name: string; users: string }>(
      `SELECT hour, step, step_name, users FROM tributary.hourly_funnel WHERE dt = '${D}' ORDER BY hour, step`);
    const want: Array<[number, number, string, number]> = [];
    for (let h = 0; h < 24; h++) {
      const from = Date.parse(`${D}T00:00:00Z`) + h * H;
      const inHour = events.filter((e) => ['page_view', 'click', 'purchase'].includes(e.event) && time(e) >= from && time(e) < from + H);
      if (inHour.length === 0) continue;
      const levels = new Map<string, number>();
      for (const user of new Set(inHour.map((e) => e.user_id))) {
        const mine = inHour.filter((e) => e.user_id === user);
        // greedy: the earliest view, then the earliest click after it, then the earliest purchase after that
        const views = mine.filter((e) => e.event === 'page_view').map(time).sort((a, b) => a - b);
        let level = 0;
        if (views.length > 0) {
          level = 1;
          const click = mine.filter((e) => e.event === 'click' && time(e) > views[0]!).map(time).sort((a, b) => a - b)[0];
          if (click !== undefined) {
            level = 2;
            if (mine.some((e) => e.event === 'purchase' && time(e) > click)) level = 3;
          }
        }
        levels.set(user, level);
      }
      ['page_view', 'click', 'purchase'].forEach((name, i) => want.push([h, i + 1, name, [...levels.values()].filter((l) => l >= i + 1).length]));
    }
    assert.deepEqual(got.map((r) => [r.hour, r.step, r.step_name, Number(r.users)]), want);
    assert.ok(want.some(([, step, , n]) => step === 3 && n > 0), 'some users complete the funnel');
    assert.deepEqual(want.map(([h]) => h).filter((h, i, a) => a.indexOf(h) === i), [9, 10]);
  });

  it('daily-revenue: revenue, orders, purchases and units per currency', async () => {
    await runJobDay(loadJob(JOBS, 'daily-revenue'), D, deps());
    const want = new Map<string, { orders: Set<string>; purchases: number; units: number; revenue: number }>();
    for (const e of ofType('purchase')) {
      const c = String(e.properties['currency']);
      const g = want.get(c) ?? want.set(c, { orders: new Set(), purchases: 0, units: 0, revenue: 0 }).get(c)!;
      g.orders.add(String(e.properties['order_id']));
      g.purchases++;
      g.units += Number(e.properties['quantity']);
      g.revenue += Number(e.properties['price']);
    }
    const got = await rt.warehouse.query<{ currency: string; orders: string; purchases: string; units: string; revenue: number }>(
      `SELECT currency, orders, purchases, units, revenue FROM tributary.daily_revenue WHERE dt = '${D}' ORDER BY currency`);
    assert.deepEqual(got.map((r) => r.currency), [...want.keys()].sort());
    assert.equal(got.length, 3);
    for (const r of got) {
      const w = want.get(r.currency)!;
      assert.deepEqual([Number(r.orders), Number(r.purchases), Number(r.units)], [w.orders.size, w.purchases, w.units]);
      assert.ok(close(r.revenue, w.revenue), `${r.currency} revenue ${r.revenue} ≠ ${w.revenue}`);
    }
  });
});
