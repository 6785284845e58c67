// CLI start-up (npm run bench:cli): wall time of `tributary --help`, `--version` and `sql "SELECT 1"`, compiled
// (dist/cli) and from the sources through tsx, against `node -e ''` measured in the same run. The commands
// run interleaved, round after round, so a busy moment of a shared machine hits them alike.
// BENCH_CLI_ROUNDS (default 15) sets the rounds; BENCH_CLI_BEFORE=<another checkout with node_modules> adds
// its bin/tributary.mjs as it is (e.g. `git archive <commit> | tar -x -C …`), for a before/after.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs module without type declarations
import { buildCli } from '../bin/cli-build.mjs';
import { PACKAGE_ROOT } from '../functions/cli/local-runtime.js';

const rounds = Number(process.env['BENCH_CLI_ROUNDS'] ?? 15);
const bin = join(PACKAGE_ROOT, 'bin/tributary.mjs');
const home = mkdtempSync(join(tmpdir(), 'tributary-bench-cli-'));

interface Case { readonly name: string; readonly args: readonly string[]; readonly env?: Readonly<Record<string, string>> }
const CASES: readonly Case[] = [
  { name: "node -e ''", args: ['-e', ''] },
  { name: 'tributary --help', args: [bin, '--help'] },
  { name: 'tributary --version', args: [bin, '--version'] },
  { name: 'tributary sql "SELECT 1"', args: [bin, 'sql', 'SELECT 1'] },
  { name: 'tributary --help (sources, tsx)', args: [bin, '--help'], env: { TRIBUTARY_CLI_SOURCES: '1' } },
  { name: 'tributary sql "SELECT 1" (sources, tsx)', args: [bin, 'sql', 'SELECT 1'], env: { TRIBUTARY_CLI_SOURCES: '1' } },
  ...(process.env['BENCH_CLI_BEFORE'] ? [
    { name: 'before: tributary --help', args: [join(process.env['BENCH_CLI_BEFORE'], 'bin/tributary.mjs'), '--help'] },
    { name: 'before: tributary sql "SELECT 1"', args: [join(process.env['BENCH_CLI_BEFORE'], 'bin/tributary.mjs'), 'sql', 'SELECT 1'] },
  ] : []),
];

function once(c: Case): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, c.args, { env: { ...process.env, TRIBUTARY_HOME: home, ...c.env }, cwd: PACKAGE_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

await (buildCli as (root: string) => Promise<boolean>)(PACKAGE_ROOT);
for (const c of CASES) once(c); // warm: the page cache, tsx's cache, the store's first open
const times = new Map<string, number[]>(CASES.map((c) => [c.name, []]));
for (let round = 0; round < rounds; round++) for (const c of CASES) times.get(c.name)!.push(once(c));

const base = quantile(times.get(CASES[0]!.name)!, 0.5);
console.log(`CLI start-up, ${rounds} interleaved rounds, ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
console.log('| command | median | p90 | median ÷ node -e |');
console.log('|---|---:|---:|---:|');
for (const [name, xs] of times) {
  const median = quantile(xs, 0.5);
  console.log(`| \`${name}\` | ${(median / 1000).toFixed(2)} s | ${(quantile(xs, 0.9) / 1000).toFixed(2)} s | ${(median / base).toFixed(1)}× |`);
}
