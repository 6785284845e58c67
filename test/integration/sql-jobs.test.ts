// A windowed job as a SQL file in schemas/jobs/: loaded, checked by ClickHouse's parser (file:line per
// problem), run per window into ClickHouse + lake + catalog idempotently, its output evolving additively.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadJob, loadJobs } from '../../functions/adapters/job-files.js';
import { jobsCheck } from '../../functions/cli/commands/jobs-catalog.js';
import { backfill } from '../../functions/cli/commands/jobs.js';
import { openLocalRuntime, PACKAGE_ROOT, type LocalRuntime } from '../../functions/cli/local-runtime.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { runJobDay } from '../../functions/core/jobs/run-job.js';
import { duckRows } from '../duckdb.js';
import { mskEvent, pageView } from '../helpers.js';

const D = '2026-11-19';
const at = (h: number, m = 0): number => Date.parse(`${D}T00:00:00Z`) + h * 3_600_000 + m * 60_000;
let rt: LocalRuntime;
let now = at(11, 30);
let offset = 0;
let dir: string;

const VIEWS = `-- window: hourly
-- lateness: 10m
-- description: Page views per page and hour
-- order_by: page

SELECT ifNull(page, '') AS page, count() AS views
FROM page_view FINAL
WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)}
GROUP BY page
`;

async function send(hour: number, pages: string[]): Promise<void> {
  const events = pages.map((page, i) => ({ ...pageView(`h${hour}-${offset + i}`, { page }, new Date(at(hour, i % 60)).toISOString()), user_id: `u${i % 2}` }));
  await ingestBatch(mskEvent(events, { topic: 'sqljobs', firstOffset: offset }), rt.deps);
  offset += pages.length;
}
const deps = () => ({ ...rt.deps, registry: rt.registry });
const write = (name: string, text: string): string => { const f = join(dir, `${name}.sql`); writeFileSync(f, text); return f; };
const results = (): Promise<Array<{ hour: number; page: string; views: string; is_final: boolean }>> =>
  rt.warehouse.query(`SELECT hour, page, views, is_final FROM tributary.page_views ORDER BY hour, page`);

before(async () => {
  const home = mkdtempSync(join(tmpdir(), 'tributary-sqljobs-'));
  dir = join(home, 'jobs');
  mkdirSync(dir);
  rt = await openLocalRuntime({ home, schemasDir: join(home, 'no-schemas'), clock: () => now });
});
after(async () => rt.close());

describe('a job as a SQL file', () => {
  it('runs its windows from the file: ClickHouse, lake and catalog, final and provisional', async () => {
    write('page-views', VIEWS);
    await send(9, ['/a', '/a', '/b']);
    await send(11, ['/c']);
    const job = loadJob(dir, 'page-views');
    assert.equal(job.window, 'hourly');
    const runs = await runJobDay(job, D, deps());
    assert.equal(runs.length, 12);
    assert.deepEqual((await results()).map((r) => [r.hour, r.page, Number(r.views), r.is_final]), [[9, '/a', 2, true], [9, '/b', 1, true], [11, '/c', 1, false]]);
    assert.equal((await rt.catalog.listPartitions('page_views')).length, 12);
    const lake = await duckRows(`SELECT page, views FROM read_parquet('${rt.store.path(`lake/page_views/dt=${D}/hour=09/part-00000.parquet`)}') ORDER BY page`);
    assert.deepEqual(lake.map((r) => [r['page'], Number(r['views'])]), [['/a', 2], ['/b', 1]]);
    const table = await rt.catalog.read('page_views');
    assert.deepEqual(table!.TableInput.StorageDescriptor.Columns.map((c) => c.Name), ['page', 'views', 'is_final', 'computed_at']);
  });

  it('a re-run with late data replaces its windows; no second copy', async () => {
    now = at(12, 5);
    await send(9, ['/b']);
    const job = loadJob(dir, 'page-views');
    await runJobDay(job, D, deps());
    const rows = await results();
    assert.deepEqual(rows.map((r) => [r.hour, r.page, Number(r.views)]), [[9, '/a', 2], [9, '/b', 2], [11, '/c', 1]]);
    await runJobDay(job, D, deps());
    assert.deepEqual(await results(), rows);
  });

  it('its output evolves additively when the query gains a column', async () => {
    const withUsers = VIEWS.replace('count() AS views', 'count() AS views, uniqExact(user_id) AS users');
    write('page-views', withUsers);
    await runJobDay(loadJob(dir, 'page-views'), D, deps());
    const cols = await rt.warehouse.query<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = 'tributary' AND table = 'page_views' ORDER BY position`);
    assert.deepEqual(cols.map((c) => c.name), ['page', 'views', 'is_final', 'computed_at', 'dt', 'hour', 'users']);
    assert.deepEqual(await rt.warehouse.query(`SELECT page, toUInt32(users) AS users FROM tributary.page_views WHERE hour = 9 ORDER BY page`), [{ page: '/a', users: 2 }, { page: '/b', users: 1 }]);
    assert.ok((await rt.catalog.read('page_views'))!.TableInput.StorageDescriptor.Columns.some((c) => c.Name === 'users'));
    // A type change is refused rather than rewriting history.
    write('page-views', VIEWS.replace('count() AS views', "toString(count()) AS views"));
    await assert.rejects(runJobDay(loadJob(dir, 'page-views'), D, deps()), /views is now string, the output table has int64/);
    // Dropping a column that is not Nullable is refused too (old windows would hold values, new ones nothing).
    write('page-views', VIEWS);
    await assert.rejects(runJobDay(loadJob(dir, 'page-views'), D, deps()), /users is gone from the query/);
    write('page-views', withUsers);
  });

  it('enforces max_rows instead of truncating', async () => {
    write('capped', VIEWS.replace('-- order_by: page', '-- order_by: page\n-- max_rows: 1'));
    await assert.rejects(runJobDay(loadJob(dir, 'capped'), D, deps()), /more than max_rows = 1 result rows/);
  });

  it('keeps a run history: every window run with its outcome and rows, a failed one with its message', async () => {
    const runs = await rt.warehouse.query<{ job: string; window: string; outcome: string; rows: string; error: string; took: number }>(
      `SELECT job, window, outcome, rows, error, toUInt8(finished_at >= started_at) AS took FROM tributary_ops._job_runs ORDER BY job, started_at, window`);
    const of = (job: string, window: string): Array<[string, number]> => runs.filter((r) => r.job === job && r.window === window).map((r) => [r.outcome, Number(r.rows)]);
    // page-views hour 09: final in each of its runs (three day runs and the evolution's, before the refused ones)
    assert.deepEqual(of('page-views', `${D}T09`).slice(0, 4), [['final', 2], ['final', 2], ['final', 2], ['final', 2]]);
    // hour 11 is provisional until 12:10 (its end plus 10 minutes of lateness): at 11:30 and at 12:05
    assert.deepEqual(of('page-views', `${D}T11`).slice(0, 2), [['provisional', 1], ['provisional', 1]]);
    const failed = runs.filter((r) => r.outcome === 'failed');
    assert.ok(failed.some((r) => r.job === 'capped' && /more than max_rows = 1 result rows/.test(r.error)), JSON.stringify(failed));
    assert.ok(failed.some((r) => r.job === 'page-views' && /views is now string/.test(r.error)), 'a refused evolution is a failed run');
    assert.ok(runs.filter((r) => r.outcome !== 'failed').every((r) => r.error === ''));
    assert.ok(runs.every((r) => Number(r.took) === 1), 'each finished no earlier than it started');
  });

  it('refuses a backfill wider than the job allows, with a message', async () => {
    write('narrow', VIEWS.replace('-- order_by: page', '-- order_by: page\n-- max_backfill_days: 7'));
    await assert.rejects(backfill(loadJob(dir, 'narrow'), '2026-11-01', '2026-11-19', deps()), /19 days; a backfill covers at most 7 \(max_backfill_days of narrow\)/);
    const lines: string[] = [];
    const err = { isTTY: false, write: (l: string) => lines.push(l) } as unknown as NodeJS.WriteStream;
    const { report, failed } = await backfill(loadJob(dir, 'page-views'), '2026-11-17', D, deps(), err);
    assert.equal(failed, 0);
    assert.match(report, /page-views: 1 of 1 days \(13 windows\)/);
    assert.match(report, /Skipped 2 before the first day with data in page_view \(2026-11-19\)/);
    assert.deepEqual(lines, ['page-views 1/1 2026-11-19 ok\n']);
    await assert.rejects(backfill(loadJob(dir, 'page-views'), '1900-01-01', '2299-12-31', deps()), /146,097 days; a backfill covers at most 366/);
  });

  it('jobs check names each problem with its file and line', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'tributary-badjobs-'));
    const f = (name: string, text: string): void => writeFileSync(join(bad, `${name}.sql`), text);
    const head = '-- window: daily\n-- description: x\n-- order_by: k\n';
    f('writes', `${head}INSERT INTO page_view SELECT * FROM page_view WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)}`);
    f('no-window', `${head}SELECT 'a' AS k FROM page_view\nWHERE event_time >= {window_start:DateTime64(3)}`);
    f('unknown-table', `${head}SELECT 'a' AS k\nFROM nowhere\nWHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)}`);
    f('bad-name', `${head}SELECT 'a' AS k,\n  count()\nFROM page_view WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)}`);
    f('table-function', `${head}SELECT 'a' AS k FROM page_view\nUNION ALL SELECT toString(number) FROM file('/etc/passwd', 'LineAsString') WHERE {window_start:DateTime64(3)} < {window_end:DateTime64(3)}`);
    f('two', `${head}SELECT 'a' AS k WHERE {window_start:DateTime64(3)} < {window_end:DateTime64(3)}; DROP TABLE page_view`);
    f('header', '-- window: weekly\n-- description: x\n-- order_by: k\n-- owner: me\nSELECT 1 AS k WHERE {window_start:DateTime64(3)} < {window_end:DateTime64(3)}');
    f('nullable-key', `${head}SELECT page AS k FROM page_view WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)}`);
    f('good', `${head}SELECT ifNull(page, '') AS k, count() AS n FROM page_view FINAL WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)} GROUP BY k`);
    const { text, problems } = await jobsCheck(loadJobs(bad), deps());
    const lines = text.split('\n');
    const has = (re: RegExp): void => assert.ok(lines.some((l) => re.test(l)), `${re} in:\n${text}`);
    has(/writes\.sql:4: a job's query must be a SELECT; this is InsertQuery/);
    has(/no-window\.sql:4: the query must read its window through \{window_end:DateTime64\(3\)\}/);
    has(/unknown-table\.sql:5: table nowhere does not exist and no schema declares it/);
    has(/bad-name\.sql:5: result column "count\(\)" is not a valid column name/);
    has(/table-function\.sql:5: table function file\(\) is not allowed/);
    has(/two\.sql:4: ClickHouse cannot parse the query/);
    has(/header\.sql:1: window must be daily or hourly, not "weekly"/);
    has(/header\.sql:4: unknown header key "owner"/);
    has(/nullable-key\.sql:4: order_by column k is Nullable/);
    has(/^ok good: daily/);
    assert.equal(problems, 9);
  });

  it('refuses an output table that is an event table or another job\'s; ingest quarantines an event named like a job output', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tributary-collide-'));
    const jobs = join(root, 'jobs');
    mkdirSync(jobs);
    mkdirSync(join(root, 'events'));
    copyFileSync(join(PACKAGE_ROOT, 'schemas/events/purchase.json'), join(root, 'events/purchase.json'));
    const good = `-- window: daily\n-- description: x\n-- order_by: k\nSELECT ifNull(page, '') AS k, count() AS n FROM page_view FINAL WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)} GROUP BY k\n`;
    for (const name of ['purchase', 'page-view', 'views-a', 'views_a']) writeFileSync(join(jobs, `${name}.sql`), good);
    // purchase: declared in events/ beside jobs/; page_view: registered by the events the tests above ingested
    const { text, problems } = await jobsCheck(loadJobs(jobs), deps());
    assert.match(text, /purchase\.sql:1: its output table purchase is the event table declared in .*events\/purchase\.json/);
    assert.match(text, /page-view\.sql:1: its output table page_view is an event table \(registered in the schema registry\)/);
    assert.match(text, /views_a\.sql:1: its output table views_a is also .*views-a\.sql's/);
    assert.match(text, /^ok views-a: daily/m);
    assert.equal(problems, 3);
    assert.throws(() => loadJob(jobs, 'purchase'), /purchase\.sql:1: its output table purchase is the event table/);
    await assert.rejects(runJobDay(loadJob(jobs, 'page-view'), D, deps()), /page-view\.sql:1: its output table page_view is an event table/);

    // This runtime's jobs are the shipped ones: daily_revenue is daily-revenue's output, never an event table.
    const report = await ingestBatch(mskEvent([{ ...pageView('collide-1'), event: 'daily_revenue' }, pageView('collide-2')], { topic: 'collide' }), rt.deps);
    assert.equal(report.quarantinedByReason.invalid_event_name, 1);
    const [q] = await rt.warehouse.query<{ detail: string }>("SELECT detail FROM tributary_ops._quarantine WHERE _topic = 'collide'");
    assert.match(q!.detail, /event daily_revenue is the output table of job daily-revenue \(schemas\/jobs\): rename the event, or the job/);
    assert.equal(Number((await rt.warehouse.query<{ n: string }>("SELECT count() AS n FROM system.tables WHERE database = 'tributary' AND name = 'daily_revenue'"))[0]!.n), 0);
  });
});

describe('tributary jobs (the command)', () => {
  const run = promisify(execFile);
  const cli = (env: Record<string, string>, ...args: string[]) =>
    run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), ...args], { env: { ...process.env, ...env, TRIBUTARY_NOW: '2026-11-19T12:00:00Z' }, cwd: PACKAGE_ROOT });

  it('check exits 2 naming file and line; list shows the jobs, their windows and next runs', async () => {
    const jobs = mkdtempSync(join(tmpdir(), 'tributary-cli-jobs-'));
    writeFileSync(join(jobs, 'page-views.sql'), VIEWS);
    const env = { TRIBUTARY_HOME: mkdtempSync(join(tmpdir(), 'tributary-cli-jobs-home-')), TRIBUTARY_JOBS: jobs, TRIBUTARY_SCHEMAS: join(PACKAGE_ROOT, 'schemas/events') };
    writeFileSync(join(jobs, 'broken.sql'), '-- window: daily\n-- description: x\n-- order_by: n\nSELECT 1 AS n FROM page_view WHERE {window_start:DateTime64(3)} < now()\n');
    await assert.rejects(cli(env, 'jobs', 'check'), (e: { code: number; stdout: string }) =>
      e.code === 2 && /broken\.sql:4: the query must read its window through \{window_end:DateTime64\(3\)\}/.test(e.stdout)
      // nothing has arrived in this store, and page_view has no declared schema
      && /page-views\.sql:7: table page_view does not exist and no schema declares it/.test(e.stdout) && /2 problem/.test(e.stdout));
    const { stdout } = await cli(env, 'jobs', 'list');
    assert.match(stdout, /page-views\s+hourly\s+10m\s+page_views\s+never\s+2026-11-19 12:05/);
    assert.match(stdout, /broken\.sql:4: the query must read its window/);
    await assert.rejects(cli(env, 'jobs', 'run', 'broken', '--date', '2026-11-19'), (e: { code: number; stderr: string }) => e.code === 2 && /broken\.sql:4/.test(e.stderr));
  });

  it('grants prints the jobs user\'s grant on each job output, from the files', async () => {
    const jobs = mkdtempSync(join(tmpdir(), 'tributary-cli-grants-'));
    writeFileSync(join(jobs, 'page-views.sql'), VIEWS);
    const { stdout } = await cli({ TRIBUTARY_JOBS: jobs, CLICKHOUSE_DATABASE: 'bi' }, 'jobs', 'grants');
    assert.equal(stdout, 'GRANT CREATE TABLE, INSERT, ALTER DELETE, ALTER ADD COLUMN ON `bi`.`page_views` TO tributary_jobs;\n');
  });

  it('check exits 2 on a job whose output is a declared event table (TRIBUTARY_SCHEMAS)', async () => {
    const jobs = mkdtempSync(join(tmpdir(), 'tributary-cli-collide-'));
    writeFileSync(join(jobs, 'purchase.sql'), VIEWS);
    const env = { TRIBUTARY_HOME: mkdtempSync(join(tmpdir(), 'tributary-cli-collide-home-')), TRIBUTARY_JOBS: jobs, TRIBUTARY_SCHEMAS: join(PACKAGE_ROOT, 'schemas/events') };
    await assert.rejects(cli(env, 'jobs', 'check'), (e: { code: number; stdout: string }) =>
      e.code === 2 && /purchase\.sql:1: its output table purchase is the event table declared in .*schemas\/events\/purchase\.json/.test(e.stdout));
  });
});
