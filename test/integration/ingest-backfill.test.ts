// `tributary ingest` of a multi-day backfill as a user runs it: the file is cut by size, not by 10,000
// records, so it writes one lake file per (table, hour) and one ClickHouse insert per table; the same
// file again stores nothing twice (lake, ClickHouse, _ingest_log).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { backfillLines } from '../../bench/backfill-file.js';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tributary-backfill-'));
const home = join(dir, 'home');
const cli = async (...args: string[]): Promise<string> =>
  (await run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), ...args], {
    env: { ...process.env, TRIBUTARY_HOME: home, TRIBUTARY_NOW: '2026-12-06T02:00:00Z' }, cwd: PACKAGE_ROOT, maxBuffer: 16 << 20,
  })).stdout;

const EVENTS = 25_000;
const lines = backfillLines({ events: EVENTS, start: Date.UTC(2026, 10, 1), days: 2 });
const file = join(dir, 'backfill.ndjson');
writeFileSync(file, lines.join('\n') + '\n');
/** (table, hour) the file's events fall in: the fewest files it can make */
const groups = new Set(lines.map((l) => {
  const e = JSON.parse(l) as { event: string; ts: string };
  return `${e.event.toLowerCase().replace(/ /g, '_')}/${e.ts.slice(0, 13)}`;
}));

/** Data files in the lake, quarantine aside, by path under lake/. */
function lakeFiles(): string[] {
  const root = join(home, 'lake');
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) { if (e.name !== '_quarantine') walk(join(d, e.name)); } else if (e.name.endsWith('.parquet')) out.push(relative(root, join(d, e.name)));
    }
  };
  walk(root);
  return out.sort();
}

const counts = async (): Promise<{ rows: number; logged: number; logRows: number }> => {
  const tables = [...new Set([...groups].map((g) => g.split('/')[0]!))];
  const rows = tables.map((t) => `(SELECT count() FROM tributary.${t})`).join(' + ');
  const out = await cli('sql', '--format', 'jsonl', `SELECT ${rows} AS rows, (SELECT count() FROM tributary_ops._ingest_log) AS logged, (SELECT sum(rows) FROM tributary_ops._ingest_log) AS logRows`);
  const r = JSON.parse(out.trim()) as Record<string, string>;
  return { rows: Number(r['rows']), logged: Number(r['logged']), logRows: Number(r['logRows']) };
};

describe('tributary ingest of a two-day backfill', () => {
  it('writes one file per (table, hour) in one batch, and the same file again stores nothing twice', async () => {
    const first = await cli('ingest', file);
    assert.match(first, new RegExp(`^${EVENTS} records in 1 batches: ${EVENTS} stored, 0 quarantined; ${groups.size} data files`, 'm'));
    const files = lakeFiles();
    assert.equal(files.length, groups.size);
    const before = await counts();
    assert.equal(before.rows, EVENTS);
    assert.equal(before.logRows, EVENTS);

    const again = await cli('ingest', file);
    assert.match(again, new RegExp(`^${EVENTS} records in 1 batches: ${EVENTS} stored`, 'm'));
    assert.deepEqual(lakeFiles(), files);
    // no FINAL: the repeated inserts were dropped by their tokens, not merged away later
    assert.deepEqual(await counts(), before);
  });

  it('--batch-size still cuts by records, and --batch-mb by size', async () => {
    const bySize = await cli('ingest', file, '--topic', 'by-records', '--batch-size', '10000');
    assert.match(bySize, new RegExp(`^${EVENTS} records in 3 batches`, 'm'));
    const byMb = await cli('ingest', file, '--topic', 'by-mb', '--batch-mb', '1');
    const batches = Number(/records in (\d+) batches/.exec(byMb)![1]);
    assert.ok(batches >= 5, `${batches} batches of at most 1 MiB`);
    await assert.rejects(cli('ingest', file, '--topic', 'too-big', '--batch-mb', '4096'), /--batch-mb must be an integer between 1 and 1024/);
  });
});
