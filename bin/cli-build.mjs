// The CLI's compiled JavaScript: dist/cli/, bundled by esbuild from functions/cli/run.ts (npm's `prepare`
// runs `node bin/cli-build.mjs`, so `npm ci` builds it). bin/tributary.mjs runs it only while it is fresh:
// no file under functions/ (nor package.json) changed after the build started, so an edited .ts file is never run stale.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, utimesSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the build goes, and the file whose mtime is the moment the build started. */
export const OUT_DIR = 'dist/cli';
export const STAMP = '.built-from-sources-at';
const SOURCES = 'functions';
/** Read by the bundle too (the Parquet writer's version; the alarm thresholds `status` shares with infra): their mtimes count. */
const ALSO_BUNDLED = ['package.json', 'infra/alarm-defaults.ts'];
const SOURCE_FILE = /\.(ts|mts|js|mjs|json)$/;

/** The newest mtime (ms) of a source file under `dir`; a few ms for the ~100 files of functions/. */
export function newestSourceMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(path));
    else if (SOURCE_FILE.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Whether `root`'s build exists and no source under functions/ is newer than its start. */
export function isBuildFresh(root) {
  let stamp;
  try {
    stamp = statSync(join(root, OUT_DIR, STAMP)).mtimeMs;
  } catch {
    return false;
  }
  let newest = newestSourceMtime(join(root, SOURCES));
  for (const f of ALSO_BUNDLED) newest = Math.max(newest, statSync(join(root, f)).mtimeMs);
  return newest <= stamp;
}

/** esbuild, or undefined with a warning saying what that means (a production install has no dev dependencies). */
async function importEsbuild(consequence) {
  try {
    return await import('esbuild');
  } catch {
    console.warn(`tributary: esbuild is not installed (npm ci --omit=dev?): ${consequence}`);
    return undefined;
  }
}

/** Replaces the directory `out` by `next` whole, so a running command never sees half a build. */
function swapIn(next, out) {
  const old = `${out}.old-${process.pid}`;
  if (existsSync(out)) renameSync(out, old);
  renameSync(next, out);
  rmSync(old, { recursive: true, force: true });
}

/** Bundles the CLI into `root`/dist/cli, swapped in whole so a running command never sees half a build. */
export async function buildCli(root) {
  const esbuild = await importEsbuild('the CLI runs from its TypeScript sources through tsx');
  if (!esbuild) return false;
  const started = Date.now();
  const out = join(root, OUT_DIR);
  const next = `${out}.next-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [join(SOURCES, 'cli/run.ts')],
    outdir: next,
    bundle: true,
    // Each command's dynamic import() stays a separate chunk: --help loads none of them.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Dependencies load from node_modules as they are (chDB, DuckDB are native; tsx is not needed).
    packages: 'external',
    chunkNames: 'chunk-[hash]',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  // The freshness check looks at functions/ only: a source elsewhere would go stale unnoticed.
  const outside = Object.keys(result.metafile.inputs).filter((p) => !p.startsWith(`${SOURCES}/`) && !ALSO_BUNDLED.includes(p));
  if (outside.length > 0) throw new Error(`the CLI bundle reads sources outside ${SOURCES}/: ${outside.join(', ')}`);
  // The stamp carries the build's start: a source saved during the build makes it stale at once.
  const stamp = join(next, STAMP);
  writeFileSync(stamp, `${new Date(started).toISOString()}\n`);
  utimesSync(stamp, started / 1000, started / 1000);
  swapIn(next, out);
  return true;
}

/** The console's front end (console/: Preact + Observable Plot), bundled for the browser into dist/console. */
export const CONSOLE_OUT_DIR = 'dist/console';

export async function buildConsole(root) {
  const esbuild = await importEsbuild('the console is not built; tributary serve answers /console/ with how to build it');
  if (!esbuild) return false;
  const out = join(root, CONSOLE_OUT_DIR);
  const next = `${out}.next-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['console/src/main.tsx'],
    outdir: next,
    // Content-hashed names: serve caches them for good, index.html (never cached) names the current ones.
    entryNames: 'app-[hash]',
    // Observable Plot (with d3, most of the bytes) is a chunk of its own, loaded when a chart first draws.
    splitting: true,
    chunkNames: 'chunk-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === 'console/src/main.tsx');
  const base = (p) => p.slice(p.lastIndexOf('/') + 1);
  const js = base(entry[0]);
  const css = base(entry[1].cssBundle);
  // The entry's static imports (esbuild's shared chunks), preloaded with it: found only once the entry is
  // parsed, they held back the first page's API call by a round trip (bench:console, 2026-12-06).
  const preload = entry[1].imports.filter((i) => i.kind === 'import-statement' && !i.external)
    .map((i) => `<link rel="modulepreload" href="./${base(i.path)}">`).join('\n');
  const html = readFileSync(join(root, 'console/index.html'), 'utf8').replace('%JS%', `./${js}`).replace('%CSS%', `./${css}`).replace('%PRELOAD%', preload);
  writeFileSync(join(next, 'index.html'), html);
  // The standalone A/B report's script and styles, inlined by `tributary ab report --out` into one file.
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { 'ab-report': 'console/src/ab-standalone.tsx' },
    outdir: next,
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'warning',
  });
  swapIn(next, out);
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
  const t0 = performance.now();
  if (await buildCli(root)) console.log(`tributary: built ${relative(process.cwd(), join(root, OUT_DIR)) || '.'} in ${Math.round(performance.now() - t0)} ms`);
  const t1 = performance.now();
  if (await buildConsole(root)) console.log(`tributary: built ${relative(process.cwd(), join(root, CONSOLE_OUT_DIR))} in ${Math.round(performance.now() - t1)} ms`);
}
