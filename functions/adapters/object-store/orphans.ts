// Files a killed process left half-written: local writes go to `<target>.<pid>[.<random>].tmp` and are
// renamed into place, so a kill -9 between the two leaves the temporary file behind. Readers never see
// them (they are not `*.parquet` or `*.json`); this removes those whose writer is gone.
import { unlink } from 'node:fs/promises';
import { walkFiles } from './local-directory.js';

const TEMPORARY = /\.(\d+)(?:\.[a-z0-9]+)?\.tmp$/;

/** Whether a process is alive; a pid we may not signal (EPERM) is alive too. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files under `dirs` whose writing process is no longer alive; returns how many. */
export async function removeOrphanedTemporaryFiles(dirs: readonly string[], alive: (pid: number) => boolean = processAlive): Promise<number> {
  let removed = 0;
  for (const dir of dirs) {
    await walkFiles(dir, async (full, name) => {
      const pid = TEMPORARY.exec(name)?.[1];
      if (pid === undefined || Number(pid) === process.pid || alive(Number(pid))) return;
      try {
        await unlink(full);
        removed++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // another process swept it first
      }
    });
  }
  return removed;
}
