// The local pipeline the console is tested (and photographed) against: `npm start` on a fixed clock, an
// experiment whose split is off (for the SRM warning), ab-daily, then `tributary serve` on a free port.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';
// @ts-expect-error: a plain .mjs module without type declarations
import { buildConsole as build } from '../../bin/cli-build.mjs';

const buildConsole = build as (root: string) => Promise<boolean>;

const run = promisify(execFile);

export const NOW = '2026-11-20T10:05:00Z';
export const DAY = '2026-11-20';
/** an experiment with twice as many users in control as in treatment: sample-ratio mismatch */
export const SRM_EXPERIMENT = 'srm_split';

export interface Cli { (...args: string[]): Promise<{ stdout: string; stderr: string }> }

export function cliIn(home: string, now = NOW): Cli {
  return (...args) => run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), ...args],
    { env: { ...process.env, TRIBUTARY_HOME: home, TRIBUTARY_NOW: now }, cwd: PACKAGE_ROOT, maxBuffer: 16 << 20 });
}

/** Exposures of SRM_EXPERIMENT on `day`: 2 users in control for each in treatment, with a few clicks. */
export function srmExposures(day: string, users = 240): string {
  const lines: string[] = [];
  for (let i = 0; i < users; i++) {
    const user = `srm-${day}-${i}`;
    const ts = `${day}T09:${String(10 + (i % 40)).padStart(2, '0')}:00Z`;
    lines.push(JSON.stringify({ event: 'experiment_exposure', event_id: `${user}-x`, ts, user_id: user, properties: { experiment_id: SRM_EXPERIMENT, variant: i % 3 === 2 ? 'treatment' : 'control' } }));
    lines.push(JSON.stringify({ event: 'click', event_id: `${user}-c`, ts, user_id: user, properties: { element: 'buy_button', page: '/', position: { x: 1, y: 2 } } }));
  }
  return `${lines.join('\n')}\n`;
}

/** The SRM experiment's exposures, then npm start (which runs ab-daily); returns what npm start printed. Built console first. */
export async function preparePipeline(home: string, scratch: string, days: readonly string[] = [NOW]): Promise<string> {
  await buildConsole(PACKAGE_ROOT);
  let printed = '';
  for (const now of days) {
    const day = now.slice(0, 10);
    const file = join(scratch, `srm-${day}.ndjson`);
    writeFileSync(file, srmExposures(day));
    await cliIn(home, now)('ingest', file, '--topic', `srm-${day}`);
    // npm start ends with ab-daily for its day, the SRM experiment's exposures included.
    printed = (await cliIn(home, now)('dev')).stdout;
  }
  return printed;
}

export interface Serve { url: string; console: string; stop(): Promise<void> }

/** `tributary serve --port 0`; resolves once it printed the console's URL. */
export function startServe(home: string, args: string[] = [], env: Record<string, string> = {}, now = NOW): Promise<Serve> {
  const child: ChildProcess = spawn(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), 'serve', '--port', '0', ...args], {
    env: { ...process.env, TRIBUTARY_HOME: home, TRIBUTARY_NOW: now, ...env }, cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`tributary serve did not start in 30 s:\n${out}\n${err}`)); }, 30_000);
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    let started = false;
    child.once('exit', (code) => { if (!started) { clearTimeout(timer); reject(new Error(`tributary serve exited (${code}):\n${out}\n${err}`)); } });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Console: (http:\/\/\S+)/.exec(out);
      if (!m) return;
      if (started) return;
      started = true;
      clearTimeout(timer);
      resolve({
        url: m[1]!.replace(/\/console\/$/, ''), console: m[1]!,
        async stop() {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
