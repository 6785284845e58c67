// The local store as several processes meet it: a second command while one holds the store, and what a
// killed one left behind (half-written files, chDB insert scratch).
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { removeOrphanedTemporaryFiles } from '../../functions/adapters/object-store/orphans.js';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';

const run = promisify(execFile);
const cli = (home: string, ...args: string[]) =>
  run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), ...args], { env: { ...process.env, TRIBUTARY_HOME: home, TRIBUTARY_NOW: '2026-11-21T10:00:00Z' }, cwd: PACKAGE_ROOT });

/** A pid no process has: one that just exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('removeOrphanedTemporaryFiles', () => {
  it('removes the temporary files of dead writers only, in every folder below', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-orphans-'));
    mkdirSync(join(dir, 'a/dt=2026-11-21/hour=10'), { recursive: true });
    const files = {
      dead: 'a/dt=2026-11-21/hour=10/t+0+0-9.parquet.4001.k3j2.tmp',
      deadCatalog: 'page_view.json.4002.tmp',
      live: 'a/dt=2026-11-21/hour=10/t+0+10-19.parquet.4003.zz.tmp',
      mine: `a/x.parquet.${process.pid}.q.tmp`,
      data: 'a/dt=2026-11-21/hour=10/t+0+0-9.parquet',
      other: 'a/notes.tmp',
    };
    for (const f of Object.values(files)) writeFileSync(join(dir, f), 'x');
    const removed = await removeOrphanedTemporaryFiles([dir, join(dir, 'missing')], (pid) => pid === 4003);
    assert.equal(removed, 2);
    assert.deepEqual(Object.entries(files).filter(([, f]) => existsSync(join(dir, f))).map(([k]) => k), ['live', 'mine', 'data', 'other']);
  });
});

describe('a second command on the same local store', () => {
  const holder = spawn('sleep', ['60']);
  after(() => holder.kill());

  it('says in one line which process holds the store, and exits 1', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tributary-busy-'));
    mkdirSync(join(home, 'clickhouse'));
    // What chDB writes into its directory while it runs; the holder is alive.
    writeFileSync(join(home, 'clickhouse/status'), `PID: ${holder.pid}\nStarted at: 2026-11-21 10:00:00\n`);
    await assert.rejects(cli(home, 'sql', 'SELECT 1'), (err: { code: number; stderr: string }) =>
      err.code === 1 && err.stderr === `tributary: the local store ${join(home, 'clickhouse')} is in use by another tributary process (pid ${holder.pid}): wait for it to finish, or give this command another TRIBUTARY_HOME\n`);
  });

  it('opens a store whose status file a killed process left behind, and sweeps what it left half-written', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tributary-stale-'));
    const dead = deadPid();
    mkdirSync(join(home, 'clickhouse'));
    writeFileSync(join(home, 'clickhouse/status'), `PID: ${dead}\n`);
    mkdirSync(join(home, 'lake/page_view/dt=2026-11-21/hour=09'), { recursive: true });
    const orphan = join(home, `lake/page_view/dt=2026-11-21/hour=09/t+0+0-9.parquet.${dead}.abc.tmp`);
    writeFileSync(orphan, 'half a file');
    mkdirSync(join(home, 'clickhouse.scratch'));
    writeFileSync(join(home, 'clickhouse.scratch/leftover.parquet'), 'x');
    const events = join(home, 'e.ndjson');
    writeFileSync(events, JSON.stringify({ event: 'page_view', event_id: 'a', ts: '2026-11-21T09:00:00Z', properties: { page: '/' } }));
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith('tributary-chdb-')).length;
    const { stdout } = await cli(home, 'ingest', events);
    assert.match(stdout, /1 stored, 0 quarantined/);
    assert.equal(existsSync(orphan), false, 'the orphaned temporary file is gone');
    assert.deepEqual(readdirSync(join(home, 'clickhouse.scratch')), [], 'the scratch folder is emptied');
    assert.equal(readdirSync(tmpdir()).filter((n) => n.startsWith('tributary-chdb-')).length, before, 'no scratch folder in the system temp folder');
  });
});
