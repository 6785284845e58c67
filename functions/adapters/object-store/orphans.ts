// Files a killed process left half-written: local writes go to `<target>.<pid>[.<random>].tmp` and are
// renamed into place, so a kill -9 between the two leaves the temporary file behind. Readers never see
// them (they are not `*.parquet` or `*.json`); this removes those whose writer is gone.
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

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
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) { await walk(full); continue; }
      const pid = TEMPORARY.exec(e.name)?.[1];
      if (pid === undefined || Number(pid) === process.pid || alive(Number(pid))) continue;
      try {
        await unlink(full);
        removed++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // another process swept it first
      }
    }
  };
  for (const dir of dirs) await walk(dir);
  return removed;
}
