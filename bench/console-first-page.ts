// npm run bench:console — the console's first page, as a user opens it: a fresh browser context (no cache)
// navigates to /console/#/overview on npm start's data and waits until every table's verdict shows. Beside
// it, in the same rounds (interleaved, the machine's speed drifts): the overview API asked directly, and
// `tributary status` (what the page shows, from the command line). Goal: the page under a second.
// Debian's chromium, as the browser tests use it (test/browser/browser.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '../test/browser/browser.js';
import { NOW, cliIn, preparePipeline, startServe } from '../test/browser/pipeline.js';

const ROUNDS = Number(process.env['BENCH_CONSOLE_ROUNDS'] ?? 9);
const GOAL_S = 1;

const scratch = mkdtempSync(join(tmpdir(), 'tributary-bench-console-'));
const home = join(scratch, 'home');
try {
  await preparePipeline(home, scratch);
  const tables = (JSON.parse((await cliIn(home)('status', '--json')).stdout) as { tables: Array<{ table: string }> }).tables.map((t) => t.table);
  const serve = await startServe(home);
  const { browser, close } = await launchChromium();
  const page: number[] = [];
  const api: number[] = [];
  const status: number[] = [];
  const inPage: number[] = [];
  let scripts = 0;
  try {
    // One warm-up of each: serve's first overview loads status's module and warms chDB's caches.
    await (await fetch(`${serve.url}/api/overview`)).json();
    for (let i = 0; i < ROUNDS; i++) {
      let t = performance.now();
      await (await fetch(`${serve.url}/api/overview`)).json();
      api.push(performance.now() - t);

      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const tab = await context.newPage();
      t = performance.now();
      await tab.goto(`${serve.console}#/overview`);
      // The page's own clock: from the navigation's start (the tab's process already up) to every verdict shown.
      const shown = await tab.waitForFunction((names: string[]) => {
        // In the page (its DOM; this Node program compiles without DOM types).
        const doc = (globalThis as unknown as { document: { querySelector(selector: string): unknown } }).document;
        return names.every((n) => doc.querySelector(`tr[data-table="${n}"]`) !== null) && performance.now();
      }, tables, { polling: 'raf' });
      inPage.push(Number(await shown.jsonValue()));
      page.push(performance.now() - t);
      const timing = await tab.evaluate(() => performance.getEntriesByType('resource').map((r) => `${r.name.replace(/^.*\//, '')} ${Math.round(r.startTime)}–${Math.round((r as unknown as { responseEnd: number }).responseEnd)}`).join(', '));
      if (process.env['BENCH_CONSOLE_TIMING'] === '1') console.log(`round ${i + 1}: verdicts at ${Math.round(inPage.at(-1)!)} ms · ${timing}`);
      const js = await tab.evaluate(() => performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.js')).reduce((n, r) => n + (r as unknown as { transferSize: number }).transferSize, 0));
      scripts = Math.max(scripts, js);
      await context.close();

      t = performance.now();
      await cliIn(home, NOW)('status');
      status.push(performance.now() - t);
    }
  } finally {
    await close();
    await serve.stop();
  }
  const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]! / 1000;
  const row = (name: string, xs: number[]): string => `${name.padEnd(44)} median ${q(xs, 0.5).toFixed(2)} s   p90 ${q(xs, 0.9).toFixed(2)} s   × API ${(q(xs, 0.5) / q(api, 0.5)).toFixed(1)}`;
  console.log(`console first page · ${ROUNDS} interleaved rounds · ${tables.length} tables · load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(row('overview API asked directly (baseline)', api));
  console.log(row('first page: navigation start → every verdict', inPage));
  console.log(row('  the same from the driver, with the new tab', page));
  console.log(row('tributary status (a process)', status));
  console.log(`scripts loaded by the first page: ${(scripts / 1024).toFixed(0)} KiB`);
  console.log(`goal: first page under ${GOAL_S} s locally → ${q(inPage, 0.5) < GOAL_S ? 'met' : 'NOT met'} at the median, ${q(inPage, 0.9) < GOAL_S ? 'met' : 'not met'} at p90`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
