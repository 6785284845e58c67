// `tributary status` as a user runs it, on a fixed clock (TRIBUTARY_NOW): health per table and overall,
// the exit code cron and CI alert on, --json, per-table overrides, and lineage of an hour.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { startMockKafka, type MockKafka } from '../kafka/mock-cluster.js';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'tributary-status-'));
const NOW = '2026-11-21T10:00:00Z';
// A day and a minute after the ingest: its rows finished a second or two after NOW (the CLI's clock runs on
// from TRIBUTARY_NOW), so exactly a day later they could still count as stored in the last day.
const DAY_LATER = '2026-11-22T10:01:00Z';

interface Result { code: number; stdout: string; stderr: string }
async function cliAt(now: string, ...args: string[]): Promise<Result> {
  try {
    const r = await run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), ...args],
      { env: { ...process.env, TRIBUTARY_HOME: join(home, '.tributary'), TRIBUTARY_NOW: now }, cwd: PACKAGE_ROOT, maxBuffer: 16 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const f = e as { code: number; stdout: string; stderr: string };
    return { code: f.code, stdout: f.stdout, stderr: f.stderr };
  }
}

interface StatusJson {
  env: string;
  now: string;
  overall: { health: string; reason: string };
  tables: Array<{ table: string; health: string; reasons: string[]; freshnessSeconds: number | null; ingestLagSeconds: number | null;
    stored: { lastHour: number; lastDay: number }; quarantined: { lastHour: number; lastDay: number }; quarantineRatePercent?: number;
    hoursAwaitingCompaction: number; thresholds: { freshnessMinutes: number; quarantinePercent: number; compactionBacklogHours: number } }>;
  jobs: unknown[];
}

describe('tributary status', () => {
  before(async () => {
    const file = join(home, 'tracking.ndjson');
    writeFileSync(file, [
      { event: 'page_view', event_id: 'p1', ts: '2026-11-21T09:55:00Z', properties: { path: '/a' } },
      { event: 'page_view', event_id: 'p2', ts: '2026-11-21T09:56:00Z', properties: { path: '/b' } },
      { event: 'click', event_id: 'c1', ts: '2026-11-21T09:57:00Z', properties: { target: 'buy' } },
    ].map((e) => JSON.stringify(e)).join('\n'));
    const r = await cliAt(NOW, 'ingest', file);
    assert.equal(r.code, 0, r.stderr);
  });

  it('prints per-table health and exits 0 after an ingest', async () => {
    const r = await cliAt(NOW, 'status');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Pipeline: ok — 2 tables ok/);
    assert.match(r.stdout, /environment dev \(cdk\.json alarms\): freshness 30 min, quarantine 10 %/);
    assert.match(r.stdout, /click\s+ok\s+3 min\s+\d+ s\s+1\s+1\s+0\s+0\s+0\.0\s+0/);
    assert.match(r.stdout, /page_view\s+ok\s+4 min\s+\d+ s\s+2\s+2\s+0\s+0\s+0\.0\s+0/);
  });

  it('exits 3 with the reason once freshness is past its threshold', async () => {
    const r = await cliAt(DAY_LATER, 'status');
    assert.equal(r.code, 3);
    assert.match(r.stdout, /^Pipeline: critical — click: freshness 24\.1 h > 30 min; page_view: freshness 24\.1 h > 30 min/);
    assert.match(r.stdout, /page_view\s+critical\s+ingest lag 24\.0 h > 30 min/);
    // the hour closed a day ago and was never compacted
    assert.match(r.stdout, /page_view\s+critical\s+24\.1 h\s+24\.0 h\s+0\s+0\s+0\s+0\s+–\s+1/);
  });

  it('takes the thresholds of the environment named, and per-table overrides from a file', async () => {
    // prod alarms at 10 minutes: 7 minutes old is past half of it (dev's 30 would say ok)
    const prod = JSON.parse((await cliAt('2026-11-21T10:03:00Z', 'status', '--json', '--env', 'prod', '--table', 'page_view')).stdout) as StatusJson;
    assert.deepEqual(prod.tables.map((t) => [t.table, t.health, t.reasons]), [['page_view', 'warn', ['freshness 7 min > half of 10 min']]]);
    const overrides = join(home, 'thresholds.json');
    writeFileSync(overrides, JSON.stringify({ tables: { page_view: { freshnessMinutes: 3000 }, pageview: { freshnessMinutes: 1 } } }));
    const r = await cliAt(DAY_LATER, 'status', '--table', 'page_view', '--thresholds', overrides);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^Pipeline: ok/);
    const all = await cliAt(DAY_LATER, 'status', '--thresholds', overrides);
    assert.equal(all.code, 3);
    assert.equal(all.stderr, `tributary: ${overrides} names pageview, which this store has no data for: those overrides apply to nothing yet\n`, 'a misspelt table is named, not ignored');
    assert.match(all.stdout, /^Pipeline: critical — click: freshness/);
  });

  it('--json: one object with the verdicts and the measurements', async () => {
    const r = await cliAt(DAY_LATER, 'status', '--json');
    assert.equal(r.code, 3);
    const j = JSON.parse(r.stdout) as StatusJson;
    assert.equal(j.env, 'dev');
    assert.match(j.now, /^2026-11-22T10:01:0\d\.\d{3}Z$/);
    assert.equal(j.overall.health, 'critical');
    const pv = j.tables.find((t) => t.table === 'page_view')!;
    assert.equal(pv.health, 'critical');
    assert.deepEqual(pv.reasons, ['freshness 24.1 h > 30 min', 'ingest lag 24.0 h > 30 min']);
    assert.ok(pv.freshnessSeconds! >= 86_700 && pv.freshnessSeconds! < 86_760, String(pv.freshnessSeconds));
    assert.deepEqual(pv.stored, { lastHour: 0, lastDay: 0 });
    assert.deepEqual(pv.quarantined, { lastHour: 0, lastDay: 0 });
    assert.equal(pv.quarantineRatePercent, undefined);
    assert.equal(pv.hoursAwaitingCompaction, 1);
    assert.deepEqual(pv.thresholds, { freshnessMinutes: 30, quarantinePercent: 10, compactionBacklogHours: 2 });
    assert.deepEqual(j.jobs, []);
  });

  it('refuses what it cannot do as asked, exit 2', async () => {
    const nope = await cliAt(NOW, 'status', '--table', 'nope');
    assert.equal(nope.code, 2);
    assert.match(nope.stderr, /no table nope in the local store; its tables: click, page_view/);
    const env = await cliAt(NOW, 'status', '--env', 'qa');
    assert.equal(env.code, 2);
    assert.match(env.stderr, /unknown environment "qa"; .*cdk\.json defines: dev, staging, prod/);
    assert.equal((await cliAt(NOW, 'status', 'lineage', 'page_view')).code, 2);
    const notJson = join(home, 'not-json.json');
    writeFileSync(notJson, '{ tables: ');
    const bad = await cliAt(NOW, 'status', '--thresholds', notJson);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^tributary: .*not-json\.json is not JSON: /);
    const unknownKey = join(home, 'unknown-key.json');
    writeFileSync(unknownKey, JSON.stringify({ tables: { page_view: { freshness: 5 } } }));
    assert.match((await cliAt(NOW, 'status', '--thresholds', unknownKey)).stderr, /tables\.page_view\.freshness is not a threshold \(known: freshnessMinutes, quarantinePercent, compactionBacklogHours\)/);
    const help = await cliAt(NOW, 'status', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes: 0 ok or warn, 3 critical, 2 usage error, 1 failure/);
  });

  it('lineage: Kafka offsets → lake file → batch (insert) of a table and hour', async () => {
    const r = await cliAt(NOW, 'status', 'lineage', 'page_view', '--hour', '2026-11-21T09');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^page_view 2026-11-21T09Z: 1 topic-partition ranges in 1 files, 1 batches/);
    assert.match(r.stdout, /tracking\s+0\s+\d+–\d+\s+2\s+lake\/page_view\/dt=2026-11-21\/hour=09\/tracking\+0\+\d+-\d+\.parquet\s+tracking\+0\+\d+-\d+/);
    const rows = JSON.parse((await cliAt(NOW, 'status', 'lineage', 'page_view', '--hour', '2026-11-21T09', '--json')).stdout) as Array<Record<string, unknown>>;
    assert.equal(rows.length, 1);
    assert.deepEqual(Object.keys(rows[0]!).sort(), ['batch_key', 'file_key', 'finished_at', 'first_offset', 'last_offset', 'outcome', 'partition', 'rows', 'topic']);
    assert.equal(rows[0]!['rows'], 2);
    assert.equal(rows[0]!['last_offset'], (rows[0]!['first_offset'] as number) + 1);
    assert.equal(rows[0]!['outcome'], 'stored');
    const empty = await cliAt(NOW, 'status', 'lineage', 'page_view', '--hour', '2026-11-21T08');
    assert.equal(empty.code, 0);
    assert.match(empty.stdout, /No ingest log rows for page_view at 2026-11-21T08/);
  });

  it('counts an hour compacted since as done: right after, and once its superseded files are gone', async () => {
    const backlog = async (now: string): Promise<number> =>
      (JSON.parse((await cliAt(now, 'status', '--json', '--table', 'page_view')).stdout) as StatusJson).tables[0]!.hoursAwaitingCompaction;
    assert.equal(await backlog(DAY_LATER), 1);
    const c = await cliAt(DAY_LATER, 'compact', '--table', 'page_view');
    assert.equal(c.code, 0, c.stderr);
    assert.equal(await backlog(DAY_LATER), 0, 'compacted: the superseded file is still there');
    const later = '2026-11-22T12:00:00Z';
    assert.equal((await cliAt(later, 'compact', '--table', 'page_view')).code, 0);
    assert.equal(await backlog(later), 0, 'settled: the manifest and the output only');
  });
});

describe('tributary status: the latest window of each job', () => {
  const devHome = mkdtempSync(join(tmpdir(), 'tributary-status-dev-'));
  const at = async (now: string, ...args: string[]): Promise<Result> => {
    try {
      const r = await run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), ...args],
        { env: { ...process.env, TRIBUTARY_HOME: devHome, TRIBUTARY_NOW: now }, cwd: PACKAGE_ROOT, maxBuffer: 16 << 20 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const f = e as { code: number; stdout: string; stderr: string };
      return { code: f.code, stdout: f.stdout, stderr: f.stderr };
    }
  };

  it('shows ab_daily provisional within its lateness, final once re-run after it', async () => {
    // 00:10 on 11-21: the traffic of 11-20's last hour is stored, 11-20 within its 30 minutes of lateness
    assert.equal((await at('2026-11-21T00:10:00Z', 'dev', '--events', '2000')).code, 0);
    const r = await at('2026-11-21T00:10:00Z', 'status');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Pipeline: ok — 6 tables ok/);
    assert.match(r.stdout, /Jobs \(latest window\):[\s\S]*ab_daily\s+2026-11-20\s+provisional/);
    assert.equal((await at('2026-11-21T01:00:00Z', 'jobs', 'run', 'ab-daily', '--date', '2026-11-20')).code, 0);
    const later = await at('2026-11-21T01:00:00Z', 'status', '--json');
    const j = JSON.parse(later.stdout) as StatusJson;
    assert.deepEqual(j.jobs, [{ table: 'ab_daily', latestDt: '2026-11-20', isFinal: true }]);
  });
});

describe('tributary status right after npm start', () => {
  // npm start's traffic reaches the current hour's last whole 10 minutes, whatever the minute of the hour.
  for (const now of ['2026-11-20T10:05:00Z', '2026-11-20T10:55:00Z']) {
    it(`exits 0 at ${now.slice(11, 16)}`, async () => {
      const env = { ...process.env, TRIBUTARY_HOME: mkdtempSync(join(tmpdir(), 'tributary-status-start-')), TRIBUTARY_NOW: now };
      const cli = (...args: string[]): Promise<Result> => run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), ...args], { env, cwd: PACKAGE_ROOT, maxBuffer: 16 << 20 })
        .then((r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }), (e: Result) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));
      const dev = await cli('dev'); // npm start's own traffic
      assert.equal(dev.code, 0, dev.stderr);
      const r = await cli('status', '--json');
      const j = JSON.parse(r.stdout) as StatusJson;
      assert.equal(r.code, 0, `${j.overall.reason}`);
      assert.equal(j.overall.health, 'ok', j.overall.reason);
      for (const t of j.tables) assert.ok(t.freshnessSeconds! <= 11 * 60, `${t.table}: ${t.freshnessSeconds} s`);
    });
  }
});

describe('tributary status --brokers: consumer lag per group and partition (librdkafka\'s mock cluster)', () => {
  let mock: MockKafka | undefined;
  let unavailable: string | undefined;
  before(async () => {
    const m = await startMockKafka();
    if ('unavailable' in m) { unavailable = m.unavailable; return; }
    mock = m;
    const kafka = new Kafka({ brokers: m.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const send = (from: number, n: number) => producer.send({ topic: 'tracking', messages: Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: 'x' })) });
    await send(0, 10);
    // a group that read and committed all 10, then 5 more arrive
    const consumer = kafka.consumer({ groupId: 'tributary-dev' });
    await consumer.connect();
    await consumer.subscribe({ topics: ['tracking'], fromBeginning: true });
    let seen = 0;
    await new Promise<void>((resolve) => {
      void consumer.run({ autoCommitThreshold: 1, eachMessage: async () => { if (++seen === 10) resolve(); } });
    });
    await consumer.disconnect();
    await send(10, 5);
    await producer.disconnect();
  });
  after(() => mock?.stop());

  it('reports each partition\'s committed offset, high watermark and lag, and the group\'s verdict', async (t) => {
    if (!mock) return t.skip(unavailable);
    const brokers = mock.brokers.join(',');
    const j = JSON.parse((await cliAt(NOW, 'status', '--json', '--brokers', brokers, '--group', 'tributary-dev', '--group', 'nobody')).stdout) as StatusJson & {
      consumers: Array<{ group: string; health: string; reason: string | null; lag: number; partitions: Array<{ topic: string; partition: number; committed: number | null; high: number; lag: number }> }>;
    };
    const [dev, nobody] = j.consumers;
    assert.equal(dev!.group, 'tributary-dev');
    assert.equal(dev!.lag, 5);
    assert.equal(dev!.health, 'ok');
    assert.deepEqual(dev!.partitions.map((p) => p.partition), [0, 1, 2, 3]);
    assert.equal(dev!.partitions.reduce((n, p) => n + p.high, 0), 15);
    // a partition the group never committed on lags by all it holds (its low watermark is 0 here)
    for (const p of dev!.partitions) assert.equal(p.lag, p.high - (p.committed ?? 0));
    assert.deepEqual(nobody, { group: 'nobody', health: 'warn', reason: 'consumer group nobody has committed no offsets', lag: 0, partitions: [] });
    assert.equal(j.overall.health, 'warn');
    const text = await cliAt(NOW, 'status', '--brokers', brokers, '--group', 'tributary-dev');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Consumer lag \(alarms\.offsetLag 100000 records per group\):\ngroup\s+topic\s+partition\s+committed\s+high\s+lag/);
    assert.match(text.stdout, /tributary-dev\s+tracking\s+0\s+\d+\s+\d+\s+\d+\n/);
  });

  it('prints a group name from the command line terminal-safe', async (t) => {
    if (!mock) return t.skip(unavailable);
    const r = await cliAt(NOW, 'status', '--brokers', mock.brokers.join(','), '--group', 'evil\u001b]0;title\u0007');
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /[\u0000-\u0008\u000b-\u001f]/);
    assert.match(r.stdout, /^Pipeline: warn — consumer group evil\\x1b\]0;title\\x07 has committed no offsets/);
  });

  it('refuses --group without --brokers, and a broker list it cannot read', async () => {
    assert.equal((await cliAt(NOW, 'status', '--group', 'g')).code, 2);
    assert.equal((await cliAt(NOW, 'status', '--brokers', 'nohost')).code, 2);
  });
});
