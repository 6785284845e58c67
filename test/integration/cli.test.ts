// The CLI as a user runs it: `npm start` (tributary dev) twice, then `tributary sql`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'tributary-cli-'));
// The CLI's clock, fixed ten minutes past midnight UTC: yesterday's window is still inside its 30 minutes
// of lateness, so it must be provisional, whatever the wall clock says when the suite runs.
const NOW = '2026-11-21T00:10:00Z';
const cliAt = async (now: string, ...args: string[]): Promise<string> =>
  (await run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), ...args], { env: { ...process.env, TRIBUTARY_HOME: home, TRIBUTARY_NOW: now }, cwd: PACKAGE_ROOT, maxBuffer: 16 << 20 })).stdout;
const cli = (...args: string[]): Promise<string> => cliAt(NOW, ...args);

/** Parses the "Rows per table" block of `tributary dev` output. */
function rowsPerTable(out: string): Record<string, { lake: number; clickhouse: number; distinct: number }> {
  const block = out.split('Rows per table')[1]!.split('\n\n')[0]!.split('\n').slice(3);
  return Object.fromEntries(block.map((l) => l.trim().split(/\s+/)).map(([t, lake, ch, ids]) => [t!, { lake: Number(lake), clickhouse: Number(ch), distinct: Number(ids) }]));
}

describe('tributary dev (npm start)', () => {
  it('runs the pipeline end to end, and a second run in the same hour duplicates nothing', async () => {
    const first = await cli('dev', '--events', '3000');
    assert.match(first, /Generated 3,000 tracking events for 2026-11-20T23:00Z/);
    assert.match(first, /Ingested 3,000 records/);
    assert.match(first, /Tables created in this run: .*newsletter_signup/);
    assert.match(first, /Quarantined by reason/);
    assert.match(first, /Compacted 6 partitions: \d+ files → 6/);
    assert.match(first, /ab-daily \d{4}-\d{2}-\d{2}: (final|provisional), 12 rows/);
    assert.match(first, /checkout_button_color · \d{4}-\d{2}-\d{2} \((final|provisional)\) · control control/);
    assert.match(first, /purchase_conversion\s+green\s+\d+/);
    const t1 = rowsPerTable(first);
    assert.deepEqual(Object.keys(t1).sort(), ['click', 'experiment_exposure', 'newsletter_signup', 'page_view', 'purchase', 'search']);
    for (const [table, c] of Object.entries(t1)) {
      assert.ok(c.lake > 0, `${table} has rows`);
      assert.equal(c.lake, c.clickhouse, `${table}: lake and ClickHouse agree`);
      assert.equal(c.clickhouse, c.distinct, `${table}: no duplicate event_id`);
    }
    const second = await cli('dev', '--events', '3000');
    assert.match(second, /Tables created in this run: none/);
    assert.deepEqual(rowsPerTable(second), t1);
  });

  it('answers SQL over ClickHouse and over the lake', async () => {
    const out = await cli('sql', '--format', 'jsonl', 'SELECT (SELECT count() FROM tributary.click) AS ch, (SELECT count() FROM lake.click) AS lake');
    const row = JSON.parse(out.trim()) as { ch: string; lake: string };
    assert.ok(Number(row.ch) > 0);
    assert.equal(row.ch, row.lake);
  });

  it('backfills a job over days and writes the A/B report as HTML', async () => {
    // The traffic is in 2026-11-20's last hour. A day later, at 00:10 on 11-22: 11-19 has no data, 11-20 is
    // final, 11-21 is within its 30 minutes of lateness, 11-22 has just begun and 11-23 has not.
    const out = await cliAt('2026-11-22T00:10:00Z', 'jobs', 'backfill', 'ab-daily', '--from', '2026-11-19', '--to', '2026-11-23');
    assert.match(out, /ab-daily: 3 of 3 days \(3 windows\) from 2026-11-19 to 2026-11-23 .* \(1 final, 2 provisional, \d+ rows, 0 failed\)/);
    assert.match(out, /Skipped 1 before the first day with data in experiment_exposure, .* \(2026-11-20\) and 1 not started yet/);
    await assert.rejects(cli('jobs', 'backfill', 'ab-daily', '--from', '1900-01-01', '--to', '2299-12-31'),
      (err: { stderr: string; code: number }) => err.code === 2 && /146,097 days; a backfill covers at most 366/.test(err.stderr));
    const html = join(home, 'report.html');
    assert.match(await cli('ab', 'report', '--experiment', 'search_ranking_v2', '--out', html), /search_ranking_v2 · .*\n[\s\S]*HTML report: /);
    // The console's A/B report with the rows inlined: its charts are Observable Plot's, drawn when the file is
    // opened (test/browser/console.test.ts opens one offline and finds each metric's chart).
    const page = readFileSync(html, 'utf8');
    assert.match(page, /<script type="application\/json" id="ab-data">\{"experiment":"search_ranking_v2","srmAlert":0\.001,"rows":\[\{/);
    assert.ok(!/<script[^>]*\ssrc=|<link[^>]*\shref=/.test(page), 'no script or stylesheet loaded from elsewhere');
    await assert.rejects(cli('jobs', 'run', 'ab-daily', '--date', '2026-13-01'), (err: { stderr: string; code: number }) => err.code === 2 && /not a date/.test(err.stderr));
  });

  it('says what exists when asked for a table or an experiment that does not, instead of exiting 0 on nothing done', async () => {
    await assert.rejects(cli('compact', '--table', 'nope'), (err: { stderr: string; code: number }) =>
      err.code === 2 && /^tributary: no table nope in the local lake; its tables: click, experiment_exposure, newsletter_signup, page_view, purchase, search\n$/.test(err.stderr));
    await assert.rejects(cli('ab', 'report', '--experiment', 'nope'), (err: { stderr: string; code: number }) =>
      err.code === 2 && /^tributary: No ab_daily results for experiment "nope"\. Experiments with results: checkout_button_color, search_ranking_v2\n$/.test(err.stderr));
    await assert.rejects(cli('ab', 'report', '--experiment', 'search_ranking_v2', '--date', '2026-01-01'), (err: { stderr: string; code: number }) =>
      err.code === 2 && /up to 2026-01-01: its first day is 2026-11-20/.test(err.stderr));
  });

  it('fails with a clear message on bad usage', async () => {
    await assert.rejects(cli('ingest'), (err: { stderr: string; code: number }) => /ingest needs a file/.test(err.stderr) && err.code === 2);
    await assert.rejects(cli('frobnicate'), (err: { stderr: string }) => /unknown command/.test(err.stderr));
    await assert.rejects(run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), 'jobs', 'run', 'ab-daily', '--date', '2026-11-20'], { env: { ...process.env, TRIBUTARY_HOME: home, TRIBUTARY_NOW: 'yesterday' } }),
      (err: { stderr: string; code: number }) => err.code === 2 && /TRIBUTARY_NOW must be a UTC instant/.test(err.stderr));
  });
});

describe('tributary schema', () => {
  const schemaHome = mkdtempSync(join(tmpdir(), 'tributary-cli-schema-'));
  const schemasDir = mkdtempSync(join(tmpdir(), 'tributary-cli-schemas-'));
  const schemaCli = async (...args: string[]): Promise<string> =>
    (await run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), ...args], { env: { ...process.env, TRIBUTARY_HOME: schemaHome, TRIBUTARY_SCHEMAS: schemasDir }, cwd: schemaHome })).stdout;

  it('lists, shows, pins and pushes; an unsafe push is refused with exit code 2', async () => {
    const events = join(schemaHome, 'trial.ndjson');
    writeFileSync(events, [
      JSON.stringify({ event: 'trialStarted', event_id: 't1', ts: new Date().toISOString(), properties: { planName: 'pro', seats: 2 } }),
      JSON.stringify({ event: 'trial_started', event_id: 't2', ts: new Date().toISOString(), properties: { PlanName: 'team', seats: 5 } }),
    ].join('\n'));
    assert.match(await schemaCli('ingest', events), /2 stored, 0 quarantined[\s\S]*Tables registered: trial_started[\s\S]*Columns added: trial_started\.plan_name string, trial_started\.seats int64/);
    assert.match(await schemaCli('schema', 'list'), /trial_started\s+inferred\s+1\s+0\s+2/);
    const show = await schemaCli('schema', 'show', 'trial_started');
    assert.match(show, /plan_name\s+string\s+inferred\s+v1\s+inferred from trial\[0\]@1/);

    assert.match(await schemaCli('schema', 'pin', 'trial_started'), /Wrote .*trial_started\.json/);
    const file = join(schemasDir, 'trial_started.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.properties.seats = { type: 'number', description: 'seats requested', minimum: 1, maximum: 500 };
    doc.properties.plan_name = { ...doc.properties.plan_name, enum: ['pro', 'team'] };
    writeFileSync(file, JSON.stringify(doc));
    assert.match(await schemaCli('schema', 'push', file), /trial_started: pinned as version 2 \(pinned by schema push trial_started\.json: widened seats int64 → double; redefined plan_name\)/);
    const pinned = await schemaCli('schema', 'show', 'trial_started');
    assert.match(pinned, /trial_started: pinned, version 2/);
    assert.match(pinned, /seats\s+double\s+declared\s+v1\s+inferred from trial\[0\]@1\s+≥ 1, ≤ 500\s+seats requested/);
    assert.match(pinned, /plan_name\s+string\s+declared\s+v1\s+inferred from trial\[0\]@1\s+one of "pro", "team"/);

    doc.properties.seats = { type: 'boolean' };
    writeFileSync(file, JSON.stringify(doc));
    await assert.rejects(schemaCli('schema', 'push', file), (err: { stderr: string; code: number }) =>
      err.code === 2 && /seats is double in the table; boolean is not a safe change/.test(err.stderr));
    await assert.rejects(schemaCli('schema', 'show', '../etc'), (err: { stderr: string; code: number }) => err.code === 2 && /not a valid event name/.test(err.stderr));
  });
});

describe('tributary output into a pipe', () => {
  it('ends quietly with exit code 0 when the reader stops early (| head)', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), 'sql', 'SELECT number FROM numbers(200000)'],
      { env: { ...process.env, TRIBUTARY_HOME: mkdtempSync(join(tmpdir(), 'tributary-pipe-')) }, cwd: PACKAGE_ROOT });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    // Read the first chunk, then close our end, as `head` does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => { child.stdout.destroy(); resolve(); }));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});

describe('tributary jobs backfill', () => {
  it('exits non-zero when a day fails, after running the others', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tributary-backfill-'));
    // A job whose revenue metric sums a text column: every day with data fails, the day before the data is skipped.
    const jobs = join(home, 'jobs');
    mkdirSync(jobs);
    const config = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'schemas/jobs/ab-daily.json'), 'utf8')) as { metrics: Array<{ name: string; value?: string }> };
    config.metrics.find((m) => m.name === 'revenue')!.value = 'discount';
    writeFileSync(join(jobs, 'ab-daily.json'), JSON.stringify(config));
    const events = join(home, 'events.ndjson');
    writeFileSync(events, [0, 1, 2, 3].flatMap((i) => [
      { event: 'experiment_exposure', event_id: `e${i}`, ts: '2026-11-20T10:00:00Z', user_id: `u${i}`, properties: { experiment_id: 'checkout_button_color', variant: i % 2 ? 'green' : 'control' } },
      { event: 'purchase', event_id: `p${i}`, ts: '2026-11-20T11:00:00Z', user_id: `u${i}`, properties: { order_id: `o${i}`, price: 10.5, currency: 'EUR', discount: 'ten' } },
    ].map((e) => JSON.stringify(e))).join('\n'));
    const env = { ...process.env, TRIBUTARY_HOME: home, TRIBUTARY_JOBS: jobs, TRIBUTARY_NOW: '2026-11-22T00:10:00Z' };
    await run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), 'ingest', events], { env, cwd: PACKAGE_ROOT });
    await assert.rejects(
      run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), 'jobs', 'backfill', 'ab-daily', '--from', '2026-11-19', '--to', '2026-11-21'], { env, cwd: PACKAGE_ROOT }),
      (err: { code: number; stdout: string }) => err.code === 1 && /0 of 2 days .* 2 failed/.test(err.stdout) && /Skipped 1 before the first day with data/.test(err.stdout)
        && /2026-11-20\s+metric revenue: purchase\.discount is string, not numeric/.test(err.stdout),
    );
  });
});

describe('tributary errors', () => {
  const fails = (args: string[]) => run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), ...args],
    { env: { ...process.env, TRIBUTARY_HOME: mkdtempSync(join(tmpdir(), 'tributary-errors-')) }, cwd: PACKAGE_ROOT });
  it('a failing query, a missing file: one line and exit 1, no stack trace', async () => {
    await assert.rejects(fails(['sql', 'SELEC 1']), (err: { stderr: string; code: number }) =>
      err.code === 1 && /^tributary: ClickHouse: Syntax error/.test(err.stderr) && !/\n\s+at /.test(err.stderr));
    await assert.rejects(fails(['ingest', 'no-such-file.ndjson']), (err: { stderr: string; code: number }) =>
      err.code === 1 && err.stderr === 'tributary: no-such-file.ndjson: no such file or directory\n');
  });
  it('an option the command does not read is refused, not ignored', async () => {
    await assert.rejects(fails(['ingest', 'x.ndjson', '--format', 'json']), (err: { stderr: string; code: number }) =>
      err.code === 2 && /--format does not apply to ingest/.test(err.stderr));
  });
});
