// The radosgw helper's daemons run in sessions of their own: a process that ends on SIGINT or SIGTERM without
// calling stop() (an interrupted `npm run chaos` or test run) must not leave them running.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';

/** running (a zombie, dead but not yet reaped by init, is not) */
function alive(pid: number): boolean {
  try { return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

async function heldThenSignalled(signal: NodeJS.Signals): Promise<{ dir: string; pids: number[]; code: number | null } | { unavailable: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PACKAGE_ROOT, 'test/integration/children/radosgw-held.ts')], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const first = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('\n')) resolve(out.split('\n')[0]!); });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before radosgw was up: ${out}`)));
  });
  const held = JSON.parse(first) as { dir: string; pids: number[] } | { unavailable: string };
  if ('unavailable' in held) return held;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  return { ...held, code: await exited };
}

describe('radosgw helper', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`kills its daemons and removes its directory when the process ends on ${signal}`, async (t) => {
      const r = await heldThenSignalled(signal);
      if ('unavailable' in r) { t.skip(r.unavailable); return; }
      try {
        assert.ok(r.pids.length >= 3, `a radosgw, a mon and an OSD: ${JSON.stringify(r.pids)}`);
        assert.equal(r.code, code);
        for (let i = 0; i < 50 && r.pids.some(alive); i++) await new Promise((res) => setTimeout(res, 100));
        assert.deepEqual(r.pids.filter(alive), [], 'daemons still running');
        assert.equal(existsSync(r.dir), false);
      } finally {
        // (on a failure, the daemons this test left)
        if (existsSync(r.dir)) {
          spawnSync('bash', [join(PACKAGE_ROOT, 'scripts/radosgw/stop.sh'), r.dir]);
          rmSync(r.dir, { recursive: true, force: true });
        }
      }
    });
  }
});
