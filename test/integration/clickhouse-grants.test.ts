// The ClickHouse users and grants of functions/adapters/warehouse/grants.sql, run on chDB: each role does its
// real work (ingest, the ab-daily job, BI reads) as a user holding only that role's grants, and the BI user
// reaches no raw payload. chDB connects as `default` only, so each role runs in its own process with a
// users.xml that gives `default` the role's grants (clickhouse-grants.role.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';
import { jobGrants } from '../../functions/adapters/job-files.js';
import type { RoleRun } from './clickhouse-grants.role.js';

const run = promisify(execFile);
const SQL_FILE = join(PACKAGE_ROOT, 'functions/adapters/warehouse/grants.sql');

/** The file's statements, without comments. */
function statements(sql: string): string[] {
  return sql.split('\n').map((l) => l.replace(/--.*$/, '')).join('\n').split(';').map((s) => s.replace(/\s+/g, ' ').trim()).filter(Boolean);
}

/** Grants per user, each without its `TO <user>`, as users.xml takes them. */
function grantsByUser(list: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of list) {
    const m = /^(GRANT .+) TO (\w+)$/.exec(s);
    if (!m) continue;
    (out.get(m[2]!) ?? out.set(m[2]!, []).get(m[2]!)!).push(m[1]!);
  }
  return out;
}

async function role(r: RoleRun): Promise<Record<string, string>> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(PACKAGE_ROOT, 'test/integration/clickhouse-grants.role.ts'), JSON.stringify(r)],
    { cwd: PACKAGE_ROOT, maxBuffer: 16 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, string>;
}

describe('ClickHouse users and grants (grants.sql)', () => {
  const sql = readFileSync(SQL_FILE, 'utf8');
  const list = statements(sql);
  const grants = grantsByUser(list);

  it('creates a user per role, with no password in the file', () => {
    assert.deepEqual([...grants.keys()].sort(), ['tributary_bi', 'tributary_ingest', 'tributary_jobs', 'tributary_steward']);
    for (const user of grants.keys()) {
      assert.match(sql, new RegExp(`CREATE USER IF NOT EXISTS ${user} IDENTIFIED WITH sha256_password BY '\\$\\{TRIBUTARY_[A-Z]+_PASSWORD\\}';`));
    }
    // The ingest log and the jobs' run history hold no payloads; nothing else operational (the quarantine) is BI's.
    assert.deepEqual(grants.get('tributary_bi'), ['GRANT SELECT ON tributary.*', 'GRANT SELECT ON tributary_ops._ingest_log', 'GRANT SELECT ON tributary_ops._job_runs'], 'BI reads no other operational table');
  });

  it('each role does its work with its grants and nothing more; BI never reaches the quarantine', { timeout: 240_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'tributary-grants-'));
    const now = Date.now(); // only to keep the data inside the tables' TTL; no assertion depends on the time of day
    // chDB inserts Parquet through file() (a server takes it as the HTTP body), so locally ingest and jobs
    // also read files; nothing else is added to the file's grants.
    const local = ['GRANT CREATE TEMPORARY TABLE, FILE ON *.*'];
    const ingest = [...grants.get('tributary_ingest')!, ...local];

    const admin0 = await role({ role: 'admin', home, now, users: { default: null, tributary_ingest: ingest }, statements: list.map((s) => s.replace(/\$\{\w+\}/g, 'x')) });
    for (const [i, s] of list.entries()) assert.equal(admin0[`parse ${i}`], 'ok', `parses: ${s}`);

    const i = await role({ role: 'ingest', home, now, users: { default: ingest } });
    assert.deepEqual(i, { ingest: 'ok', quarantine: 'ok', 'read quarantine': 'denied', 'drop event table': 'denied' });

    const admin = await role({ role: 'admin', home, now, users: { default: null, tributary_ingest: ingest } });
    assert.equal(admin['quarantine rows in ops'], '2', 'the quarantine is in tributary_ops');
    assert.equal(admin['operational tables in the BI database'], '0');
    assert.equal(admin['definer'], 'ok');

    // grants.sql names no job output: the jobs user's rights on them are generated from the job files.
    assert.ok(!list.some((s) => / ON tributary\.(ab_daily|ab_assignments|daily_active_users)\b/.test(s)), 'no hand-written grant per job output');
    const jobsUser = [...grants.get('tributary_jobs')!, ...grantsByUser(jobGrants(join(PACKAGE_ROOT, 'schemas/jobs'))).get('tributary_jobs')!, ...local];
    const j = await role({ role: 'jobs', home, now, users: { default: jobsUser } });
    assert.deepEqual(j, { 'ab-daily': 'ok', 'read quarantine': 'denied', 'delete from event table': 'denied', 'drop event table': 'denied' });

    // A job file added to a schemas dir runs as the jobs user with grants.sql untouched: its grant comes from
    // the file (tributary jobs grants); without the generated grants it is refused.
    const jobsDir = mkdtempSync(join(tmpdir(), 'tributary-grants-jobs-'));
    cpSync(join(PACKAGE_ROOT, 'schemas/jobs'), jobsDir, { recursive: true });
    writeFileSync(join(jobsDir, 'daily-page-views.sql'), ['-- window: daily', '-- description: Page views per day', '-- order_by: views', '',
      'SELECT count() AS views FROM page_view FINAL', 'WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)}', ''].join('\n'));
    const generated = grantsByUser(jobGrants(jobsDir)).get('tributary_jobs')!;
    assert.ok(generated.includes('GRANT CREATE TABLE, INSERT, ALTER DELETE, ALTER ADD COLUMN ON `tributary`.`daily_page_views`'), generated.join('\n'));
    const newJob = { dir: jobsDir, names: ['daily-page-views'] };
    const withFile = await role({ role: 'jobs', home, now, sqlJobs: newJob, users: { default: [...grants.get('tributary_jobs')!, ...generated, ...local] } });
    assert.equal(withFile['job daily-page-views'], 'ok', JSON.stringify(withFile));
    const without = await role({ role: 'jobs', home, now, sqlJobs: newJob, users: { default: [...grants.get('tributary_jobs')!, ...local] } });
    assert.equal(without['job daily-page-views'], 'denied', 'grants.sql alone does not let a job write its output');

    // A job reading a declared event table that ClickHouse does not have yet: the jobs user may not create it,
    // and the run says which table and what to do instead of a bare ACCESS_DENIED.
    const root = mkdtempSync(join(tmpdir(), 'tributary-grants-declared-'));
    cpSync(join(PACKAGE_ROOT, 'schemas/events'), join(root, 'events'), { recursive: true });
    cpSync(join(root, 'events/purchase.json'), join(root, 'events/refund.json'));
    cpSync(join(PACKAGE_ROOT, 'schemas/jobs'), join(root, 'jobs'), { recursive: true });
    writeFileSync(join(root, 'jobs/daily-refunds.sql'), ['-- window: daily', '-- description: Refunds per day', '-- order_by: refunds', '',
      'SELECT count() AS refunds FROM refund FINAL', 'WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)}', ''].join('\n'));
    const declared = await role({ role: 'jobs', home, now, schemasDir: join(root, 'events'), sqlJobs: { dir: join(root, 'jobs'), names: ['daily-refunds'] },
      users: { default: [...grants.get('tributary_jobs')!, ...grantsByUser(jobGrants(join(root, 'jobs'))).get('tributary_jobs')!, ...local] } });
    assert.match(declared['job daily-refunds']!, /daily-refunds\.sql:5: table refund is declared \(schemas\/events\/refund\.json\) but not in ClickHouse yet, and this ClickHouse user may not create event tables: ingest creates it with the first refund event; to create it empty now, run `tributary jobs check daily-refunds` as the ingest user/);

    // The _all view runs as its definer (the ingest user), so BI needs no file()/s3() right to read it.
    const bi = await role({ role: 'bi', home, now, users: { default: grants.get('tributary_bi')!, tributary_ingest: ingest } });
    assert.deepEqual(bi, {
      'read tributary.page_view': 'ok', 'read tributary.page_view_dedup': 'ok', 'read tributary.page_view_all': 'ok', 'read tributary.ab_daily': 'ok',
      'read tributary_ops._ingest_log': 'ok', 'read quarantine': 'denied', 'read lake files': 'denied', insert: 'denied',
    });
  });
});
