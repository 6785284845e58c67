// `npm run console:screenshots`: docs/img/console-*.png, each page of the console on the local pipeline
// (two days of npm start on a fixed clock, so the A/B charts have a cumulative line), in Debian's chromium.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';
import { launchChromium } from './browser.js';
import { DAY, NOW, preparePipeline, startServe } from './pipeline.js';

const out = join(PACKAGE_ROOT, 'docs/img');
mkdirSync(out, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'tributary-screenshots-'));
const home = join(scratch, 'home');
const started = Date.now();
await preparePipeline(home, scratch, ['2026-11-19T10:05:00Z', NOW]);
const serve = await startServe(home);
const { browser, close } = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const shot = async (name: string, path: string, ready: (p: Page) => Promise<unknown>, then?: (p: Page) => Promise<unknown>): Promise<void> => {
    await page.goto(`${serve.console}${path}`);
    await ready(page);
    await then?.(page);
    // A sticky header would be drawn mid-page in a full-page capture.
    await page.addStyleTag({ content: 'header { position: static !important; }' });
    await page.waitForTimeout(300); // charts drawn
    await page.screenshot({ path: join(out, `console-${name}.png`), fullPage: true });
    console.log(`docs/img/console-${name}.png`);
  };
  await shot('overview', '#/overview', (p) => p.locator('tr[data-table="search"]').waitFor());
  await shot('sql', '#/sql', (p) => p.getByLabel('Query', { exact: true }).waitFor(), async (p) => {
    await p.getByLabel('Query', { exact: true }).fill("SELECT page, count() AS views, round(avg(duration_ms) / 1000, 1) AS avg_seconds\nFROM tributary.page_view\nGROUP BY page\nORDER BY views DESC");
    await p.getByRole('button', { name: 'Run' }).click();
    await p.getByRole('img', { name: /by page/ }).waitFor();
  });
  await shot('tables', '#/tables?table=search', (p) => p.getByRole('button', { name: 'Check change' }).waitFor(), async (p) => {
    const doc = p.getByLabel('Schema of search', { exact: true });
    const schema = JSON.parse(await doc.inputValue()) as { properties: Record<string, unknown> };
    schema.properties['campaign'] = { type: 'string', description: 'Marketing campaign of the search' };
    await doc.fill(JSON.stringify(schema, null, 2));
    await p.getByRole('button', { name: 'Check change' }).click();
    await p.locator('[data-verdict]').waitFor();
  });
  await shot('quarantine', '#/quarantine', (p) => p.getByRole('region', { name: 'Quarantined records' }).waitFor(), async (p) => {
    await p.getByRole('region', { name: 'Quarantined records' }).getByRole('button', { name: /show/ }).first().click();
    await p.locator('[data-detail]').waitFor();
  });
  await shot('lineage', `#/lineage?table=click&hour=${DAY}T09`, (p) => p.getByText(/topic-partition ranges? →/).waitFor());
  await shot('experiment', '#/jobs?experiment=checkout_button_color', (p) => p.locator('[data-srm]').waitFor());
  await shot('experiment-srm', '#/jobs?experiment=srm_split', (p) => p.locator('[data-srm="mismatch"]').waitFor());
  console.log(`in ${Math.round((Date.now() - started) / 1000)} s`);
} finally {
  await close();
  await serve.stop();
  rmSync(scratch, { recursive: true, force: true });
}
