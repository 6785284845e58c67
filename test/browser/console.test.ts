// The console in a real browser (Debian's chromium through playwright-core) against the local pipeline:
// npm start on a fixed clock, an experiment with a broken split, ab-daily, then `tributary serve`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser.js';
import { cliIn, DAY, preparePipeline, SRM_EXPERIMENT, startServe, type Serve } from './pipeline.js';

const scratch = mkdtempSync(join(tmpdir(), 'tributary-console-'));
const home = join(scratch, 'home');
const EVENT_TABLES = ['click', 'experiment_exposure', 'newsletter_signup', 'page_view', 'purchase', 'search'];

let serve: Serve;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let printed = '';
/** `tributary status --json` on the same store and clock, before serve holds the store */
let status: { overall: { health: string }; tables: Array<{ table: string; health: string }> };

async function open(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  (page as Page & { errors: string[] }).errors = errors;
  await page.goto(`${serve.console}${path}`);
  return page;
}

/** The API as the console calls it (with its header). */
async function api<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${serve.url}/api/${path}`, body === undefined ? {} : {
    method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', 'x-tributary-console': '1' },
  });
  const json = await res.json() as T & { error?: string };
  assert.equal(res.status, 200, json.error);
  return json;
}

describe('console in chromium', { timeout: 120_000 }, () => {
  before(async () => {
    const t0 = Date.now();
    printed = await preparePipeline(home, scratch);
    console.log(`# pipeline ready in ${Date.now() - t0} ms`);
    // exit 3 when critical: the JSON is on stdout either way
    const out = await cliIn(home)('status', '--json').then((r) => r.stdout, (e: { stdout: string }) => e.stdout);
    status = JSON.parse(out) as typeof status;
    [serve, { browser, close: closeBrowser }] = await Promise.all([startServe(home), launchChromium()]);
  });
  after(async () => {
    await closeBrowser?.();
    await serve?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('npm start ends by printing the console URL', () => {
    assert.match(printed.trimEnd().split('\n').at(-1)!, /^Console: npx tributary serve, then open http:\/\/127\.0\.0\.1:8123\/console\//);
  });

  it('overview shows every table with the verdict tributary status gives', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const started = Date.now();
    await page.goto(`${serve.console}#/overview`);
    await page.locator('tr[data-table="search"]').waitFor();
    const ms = Date.now() - started;
    console.log(`# first page (overview) loaded in ${ms} ms`);
    // Every table, with the same verdict as `tributary status` on the same clock.
    assert.deepEqual(status.tables.map((t) => t.table), EVENT_TABLES);
    for (const t of status.tables) assert.equal(await page.locator(`tr[data-table="${t.table}"] .badge`).innerText(), t.health, t.table);
    assert.equal(await page.locator('.banner .badge').first().innerText(), status.overall.health);
    await page.getByRole('img', { name: /Rows stored per hour/ }).waitFor();
    // A guard, not the goal (under a second on an idle laptop): CI shares 2 cores with the pipeline.
    assert.ok(ms < 8000, `overview took ${ms} ms`);
    await page.close();
  });

  it('the SQL page returns a result, as text (markup in data stays text), and runs from the keyboard', async () => {
    const page = await open('#/sql');
    const editor = page.getByLabel('Query', { exact: true });
    await editor.fill("SELECT count() AS n, '<b id=\"x\">bold</b>' AS html FROM tributary.page_view");
    await editor.press('Control+Enter');
    await page.getByRole('status').filter({ hasText: /1 row in \d+ ms/ }).waitFor();
    const cells = page.locator('table tbody tr').first().locator('td');
    assert.ok(Number(await cells.nth(0).innerText()) > 1000);
    assert.equal(await cells.nth(1).innerText(), '<b id="x">bold</b>');
    assert.equal(await page.locator('b#x').count(), 0);
    await page.getByRole('img', { name: 'n by html' }).waitFor({ state: 'attached' });
    // A write is refused before it runs.
    await editor.fill('DROP TABLE tributary.page_view');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByRole('alert').filter({ hasText: /reads only/ }).waitFor();
    await page.close();
  });

  it('SQL on sample events runs in a scratch database that never touches the real tables', async () => {
    const before = await api<{ rows: unknown[][] }>('sql', { sql: 'SELECT count() FROM tributary.page_view' });
    const page = await open('#/sql');
    await page.getByLabel(/sample events, in a scratch database/).check();
    const events = ['/', '/cart', '/cart'].map((p, i) => JSON.stringify({ event: 'Page View', event_id: `s${i}`, ts: `${DAY}T09:0${i}:00Z`, user_id: 'u1', properties: { page: p, durationMs: 100 * i } }));
    await page.getByLabel(/Sample events \(one JSON envelope per line/).fill(events.join('\n'));
    await page.getByLabel('Query', { exact: true }).fill('SELECT page, count() AS n, max(duration_ms) AS longest FROM page_view GROUP BY page ORDER BY page');
    await page.getByRole('button', { name: 'Run on sample' }).click();
    await page.getByRole('status').filter({ hasText: /2 rows in \d+ ms/ }).waitFor();
    const rows = page.getByRole('region', { name: 'Query result' }).locator('tbody tr');
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => (tr as { innerText: string }).innerText.split('\t'))), [['/', '1', '0'], ['/cart', '2', '200']]);
    await page.getByRole('region', { name: "The sample's tables" }).getByText('page_view').waitFor();
    const after = await api<{ rows: unknown[][] }>('sql', { sql: 'SELECT count() FROM tributary.page_view' });
    assert.deepEqual(after.rows, before.rows);
    const scratch = await api<{ rows: unknown[][] }>('sql', { sql: "SELECT count() FROM system.databases WHERE startsWith(name, '_console_scratch_')" });
    assert.equal(Number(scratch.rows[0]![0]), 0);
    await page.close();
  });

  it('a job file\'s SQL runs on sample events from the SQL page, its window bound to the sample\'s latest hour', async () => {
    const page = await open('#/sql');
    await page.getByLabel(/sample events, in a scratch database/).check();
    // page_view → click → purchase within the hour for u1; u2 only views; an earlier hour's purchase is outside the window.
    const ev = (event: string, id: string, user: string, minute: number, hour = 9): string => JSON.stringify({ event, event_id: id, ts: `${DAY}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00Z`, user_id: user, properties: { price: 5 } });
    await page.getByLabel(/Sample events \(one JSON envelope per line/).fill([ev('page_view', 'j1', 'u1', 1), ev('click', 'j2', 'u1', 2), ev('purchase', 'j3', 'u1', 3), ev('page_view', 'j4', 'u2', 4), ev('purchase', 'j0', 'u2', 30, 8)].join('\n'));
    await page.getByLabel(/A job's SQL \(schemas\/jobs\/\)/).selectOption('hourly-funnel');
    assert.match(await page.getByLabel('Query', { exact: true }).inputValue(), /window_start/);
    await page.getByRole('button', { name: 'Run on sample' }).click();
    await page.getByRole('status').filter({ hasText: /Job window bound/ }).waitFor();
    assert.match(await page.getByRole('status').filter({ hasText: /Job window bound/ }).innerText(), new RegExp(`${DAY} 09:00:00.000 to ${DAY} 10:00:00.000 \\(hourly`));
    const result = page.getByRole('region', { name: 'Query result' });
    await result.locator('tbody tr').first().waitFor();
    const rows = await result.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => (tr as { innerText: string }).innerText.split('\t')));
    // Independently: u1 reaches all three steps within the hour, u2 only the view (its purchase is an hour earlier).
    assert.deepEqual(rows.sort((a, b) => Number(a[0]) - Number(b[0])), [['1', 'page_view', '2'], ['2', 'click', '1'], ['3', 'purchase', '1']]);
    await page.close();
  });

  it('the jobs page lists the runs npm start made, each with its window, outcome and rows', async () => {
    const page = await open('#/jobs');
    const runs = page.getByRole('region', { name: 'The latest runs, newest first' });
    await runs.locator('tbody tr').first().waitFor();
    const rows = await runs.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => (tr as { innerText: string }).innerText.split('\t')));
    const ab = rows.filter((r) => r[0] === 'ab-daily');
    assert.ok(ab.length > 0, JSON.stringify(rows));
    assert.ok(ab.every((r) => r[1] === DAY && ['final', 'provisional'].includes(r[2]!) && Number(r[3]) > 0), JSON.stringify(ab));
    await page.close();
  });

  it('the experiment page shows the SRM warning for a mismatched split, and none for a fair one', async () => {
    const page = await open(`#/jobs?experiment=${SRM_EXPERIMENT}`);
    const warning = page.locator('[data-srm="mismatch"]');
    await warning.waitFor();
    assert.match(await warning.innerText(), /Sample-ratio mismatch/);
    // Control first, users per variant, the peeking caveat, a labelled chart.
    const firstVariant = page.locator('table tbody tr').first().locator('td').first();
    assert.equal(await firstVariant.innerText(), 'control (control)');
    await page.getByText(/On peeking/).waitFor();
    await page.getByRole('img', { name: /Cumulative relative lift of clicks/ }).waitFor();
    await page.getByLabel('Experiment', { exact: true }).selectOption('checkout_button_color');
    await page.locator('[data-srm="ok"]').waitFor();
    assert.equal(await page.locator('[data-srm="mismatch"]').count(), 0);
    await page.close();
  });

  it('the standalone report (ab report --out, written by npm start) shows the same report and charts, offline', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url()); });
    await page.goto(`file://${join(home, 'ab-report.html')}`);
    await page.locator('[data-srm="ok"]').waitFor();
    assert.equal(await page.locator('table tbody tr').first().locator('td').first().innerText(), 'control (control)');
    await page.getByRole('img', { name: /Cumulative relative lift of revenue/ }).waitFor();
    await page.getByText(/On peeking/).waitFor();
    assert.deepEqual(requests, []);
    await page.close();
  });

  it('a replay from the Quarantine page lands the fixed records', async () => {
    const page = await open('#/quarantine?reason=missing_required');
    await page.getByRole('button', { name: /Select all open \(\d+\)/ }).click();
    const selected = Number(/\((\d+)\)/.exec(await page.getByRole('button', { name: /Select all open/ }).innerText())![1]);
    assert.ok(selected > 0);
    // The record's value, with the property its reason names highlighted.
    await page.getByRole('region', { name: 'Quarantined records' }).locator('tbody tr').first().getByRole('button').click();
    await page.locator('[data-detail]').filter({ hasText: 'order_id' }).waitFor();
    await page.getByLabel(/Set missing properties/).fill('order_id="fixed-in-console"');
    await page.getByRole('button', { name: `Replay ${selected} selected` }).click();
    const done = page.locator('[data-replay="finished"]');
    await done.waitFor({ timeout: 30_000 });
    assert.match(await done.innerText(), new RegExp(`done: ${selected} stored and marked resolved, 0 quarantined again`));
    const landed = await api<{ rows: unknown[][] }>('sql', { sql: "SELECT count() FROM tributary.purchase WHERE order_id = 'fixed-in-console'" });
    assert.equal(Number(landed.rows[0]![0]), selected);
    await page.close();
  });

  it('lineage shows offsets → files → inserts for an hour', async () => {
    const page = await open(`#/lineage?table=click&hour=${DAY}T09`);
    await page.getByText(/topic-partition ranges? → \d+ files? → \d+ batch/).waitFor();
    assert.ok(await page.locator('table tbody tr').count() > 0);
    await page.close();
  });

  it('the keyboard reaches every page: skip link, then the navigation', async () => {
    const page = await open('#/overview');
    await page.locator('tr[data-table="click"]').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent'), 'Skip to content');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Tab'); // Overview, SQL, Tables
    assert.equal(await page.evaluate('document.activeElement.textContent'), 'Tables');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Tables' }).waitFor();
    await page.close();
  });

  // Last: it stops serve to run ingest (the store has one holder).
  it('a push from the Tables page changes the next batch\'s schema', async () => {
    const page = await open('#/tables?table=search');
    const doc = page.getByLabel('Schema of search', { exact: true });
    await page.getByRole('button', { name: 'Check change' }).waitFor();
    const schema = JSON.parse(await doc.inputValue()) as { properties: Record<string, unknown> };
    schema.properties['campaign'] = { type: 'string', description: 'added in the console' };
    await doc.fill(JSON.stringify(schema, null, 2));
    await page.getByRole('button', { name: 'Check change' }).click();
    const verdict = page.locator('[data-verdict]');
    await verdict.waitFor();
    assert.equal(await verdict.getAttribute('data-verdict'), 'compatible');
    assert.match(await page.locator('tr.diff-added').innerText(), /campaign/);
    await page.getByRole('button', { name: 'Push schema' }).click();
    await page.getByRole('status').filter({ hasText: /search: pinned as version \d+/ }).waitFor();
    await page.close();
    await serve.stop();
    // The next batch: a number where the pushed schema says string is stored as a string.
    const file = join(scratch, 'next.ndjson');
    writeFileSync(file, `${JSON.stringify({ event: 'search', event_id: 'after-push-1', ts: `${DAY}T09:59:00Z`, user_id: 'u1', properties: { query: 'hat', results: 3, campaign: 2026 } })}\n`);
    const cli = cliIn(home);
    await cli('ingest', file, '--topic', 'after-push');
    const { stdout } = await cli('sql', "SELECT toTypeName(campaign) AS t, campaign FROM tributary.search WHERE event_id = 'after-push-1'", '--format', 'json');
    assert.deepEqual(JSON.parse(stdout), [{ t: 'Nullable(String)', campaign: '2026' }]);
  });
});
