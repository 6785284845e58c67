// The compiled CLI is used only while it is fresh: an edited source sends bin/tributary.mjs back to tsx.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
// @ts-expect-error: a plain .mjs module without type declarations
import { isBuildFresh, OUT_DIR, STAMP } from '../../bin/cli-build.mjs';

const fresh = isBuildFresh as (root: string) => boolean;
const T = 1_800_000_000; // seconds: mtimes are set explicitly, never read off the wall clock

function fixture(): { root: string; touch: (path: string, at: number) => void } {
  const root = mkdtempSync(join(tmpdir(), 'tributary-cli-build-'));
  const touch = (path: string, at: number): void => {
    const full = join(root, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, '');
    utimesSync(full, at, at);
  };
  touch('package.json', T - 100);
  touch('infra/alarm-defaults.ts', T - 100);
  touch('functions/core/a.ts', T - 50);
  touch('functions/cli/b.ts', T - 10);
  return { root, touch };
}

describe('the CLI build is fresh', () => {
  it('when its stamp is not older than any source under functions/ nor package.json', () => {
    const { root, touch } = fixture();
    assert.equal(fresh(root), false, 'no build yet');
    touch(join(OUT_DIR as string, STAMP as string), T);
    assert.equal(fresh(root), true);
    touch('functions/cli/deep/er/c.ts', T + 1);
    assert.equal(fresh(root), false, 'a source edited after the build started');
    touch(join(OUT_DIR as string, STAMP as string), T + 2);
    assert.equal(fresh(root), true, 'rebuilt');
    touch('package.json', T + 3);
    assert.equal(fresh(root), false, 'package.json is bundled too');
    touch(join(OUT_DIR as string, STAMP as string), T + 3);
    touch('infra/alarm-defaults.ts', T + 3.5);
    assert.equal(fresh(root), false, 'the alarm thresholds status shares with infra are bundled too');
    touch(join(OUT_DIR as string, STAMP as string), T + 4);
    touch('functions/notes.txt', T + 5);
    assert.equal(fresh(root), true, 'a file that is not a source does not count');
    rmSync(join(root, OUT_DIR as string), { recursive: true });
    assert.equal(fresh(root), false, 'the build removed');
  });
});
