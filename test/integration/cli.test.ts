// The CLI as a user runs it: `npm start` (tributary dev) twice, then `tributary sql`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'tributary-cli-'));
const cli = async (...args: string[]): Promise<string> =>
  (await run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), ...args], { env: { ...process.env, TRIBUTARY_HOME: home }, cwd: PACKAGE_ROOT, maxBuffer: 16 << 20 })).stdout;

/** Parses the "Rows per table" block of `tributary dev` output. */
function rowsPerTable(out: string): Record<string, { lake: number; clickhouse: number; distinct: number }> {
  const block = out.split('Rows per table')[1]!.split('\n\n')[0]!.split('\n').slice(3);
  return Object.fromEntries(block.map((l) => l.trim().split(/\s+/)).map(([t, lake, ch, ids]) => [t!, { lake: Number(lake), clickhouse: Number(ch), distinct: Number(ids) }]));
}

describe('tributary dev (npm start)', () => {
  it('runs the pipeline end to end, and a second run in the same hour duplicates nothing', async () => {
    const first = await cli('dev', '--events', '3000');
    assert.match(first, /Ingested 3,000 records/);
    assert.match(first, /Tables created in this run: .*newsletter_signup/);
    assert.match(first, /Quarantined by reason/);
    assert.match(first, /conversion/);
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
    const out = await cli('sql', '--format', 'json', 'SELECT (SELECT count() FROM tributary.click) AS ch, (SELECT count() FROM lake.click) AS lake');
    const row = JSON.parse(out.trim()) as { ch: string; lake: string };
    assert.ok(Number(row.ch) > 0);
    assert.equal(row.ch, row.lake);
  });

  it('fails with a clear message on bad usage', async () => {
    await assert.rejects(cli('ingest'), (err: { stderr: string; code: number }) => /ingest needs a file/.test(err.stderr) && err.code === 2);
    await assert.rejects(cli('frobnicate'), (err: { stderr: string }) => /unknown command/.test(err.stderr));
  });
});
