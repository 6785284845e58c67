// The chaos containers run the handlers as the stack deploys them: an esbuild bundle per role
// (test/chaos/roles/*.ts: the shim child.ts, then the role's handler), built with the stack's settings
// (infra/functions.ts: ESBUILD_OPTIONS, minified, source maps, DuckDB external) and its WASM assets beside
// it. A container's cold start then loads one file, as Lambda's does, instead of compiling the TypeScript
// sources through tsx (about 1.1 s a start here against 0.3 s).
//
// One difference from the deployed bundle: the target is the local Node's major version when it is older
// than the stack's (node24, the Lambda runtime), so the bundle runs on the Node that runs the tests.
//
// Built by the harness itself (no manual step: a clean clone's `npm test` builds them), once per content:
// cached under node_modules/.cache/tributary-chaos/, one directory per role and digest of everything that went
// into it (its input files as esbuild's metafile lists them, the settings, esbuild's version), so test files
// and runs that find an up-to-date bundle reuse it, and an edited source rebuilds it.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';

export const CHAOS_ROLES = ['ingest', 'compact', 'materialize', 'jobs', 'ab-daily'] as const;
export type ChaosRole = (typeof CHAOS_ROLES)[number];

const CACHE = join(PACKAGE_ROOT, 'node_modules/.cache/tributary-chaos');
/** the files besides the bundle's inputs that decide its output */
const SETTINGS_FILES = ['infra/functions.ts', 'test/chaos/bundles.ts'];
/** what a bundle cannot inline (infra/functions.ts assetCommands): the WASM modules read from its directory */
const WASM = ['node_modules/parquet-wasm/node/parquet_wasm_bg.wasm', 'node_modules/@bokuweb/zstd-wasm/dist/common/zstd.wasm'];
/** kept external as the stack does for the DuckDB functions; resolved from the package's node_modules (the cache lies under it) */
const EXTERNAL = ['@duckdb/node-api', '@duckdb/node-bindings'];

interface Pointer { readonly dir: string; readonly digest: string; readonly inputs: readonly string[] }

let built: Promise<ReadonlyMap<ChaosRole, string>> | undefined;

/** The entry file of each role's bundle, built (or found up to date) once per process. */
export function chaosBundles(): Promise<ReadonlyMap<ChaosRole, string>> {
  built ??= buildAll();
  return built;
}

async function buildAll(): Promise<ReadonlyMap<ChaosRole, string>> {
  mkdirSync(CACHE, { recursive: true });
  const stale: ChaosRole[] = [];
  const out = new Map<ChaosRole, string>();
  for (const role of CHAOS_ROLES) {
    const found = upToDate(role);
    if (found) out.set(role, found);
    else stale.push(role);
  }
  if (stale.length > 0) {
    const { build, version } = await import('esbuild');
    // (the stack's module: imported only to build, it loads aws-cdk-lib)
    const { ESBUILD_OPTIONS } = await import('../../infra/functions.js');
    const local = Number(process.versions.node.split('.')[0]);
    const target = Number(/^node(\d+)$/.exec(ESBUILD_OPTIONS.target)?.[1] ?? local) > local ? `node${local}` : ESBUILD_OPTIONS.target;
    await Promise.all(stale.map(async (role) => {
      const tmp = join(CACHE, `${role}.building-${process.pid}-${Math.random().toString(36).slice(2)}`);
      const result = await build({
        entryPoints: [join(PACKAGE_ROOT, `test/chaos/roles/${role}.ts`)], outfile: join(tmp, 'index.mjs'), absWorkingDir: PACKAGE_ROOT,
        bundle: true, minify: true, sourcemap: true, sourcesContent: ESBUILD_OPTIONS.sourcesContent, metafile: true, logLevel: 'error',
        format: ESBUILD_OPTIONS.format, platform: ESBUILD_OPTIONS.platform, target, mainFields: ESBUILD_OPTIONS.mainFields,
        banner: { js: ESBUILD_OPTIONS.banner }, external: EXTERNAL,
      });
      for (const w of WASM) copyFileSync(join(PACKAGE_ROOT, w), join(tmp, w.split('/').at(-1)!));
      const inputs = Object.keys(result.metafile.inputs).sort();
      const digest = digestOf(inputs, `${version} ${target}`);
      const dir = join(CACHE, `${role}-${digest.slice(0, 16)}`);
      // Another process may have built the same meanwhile: either copy is the same bundle.
      if (existsSync(dir)) rmSync(tmp, { recursive: true, force: true });
      else renameSync(tmp, dir);
      const pointer: Pointer = { dir, digest, inputs };
      writeAtomically(join(CACHE, `${role}.json`), JSON.stringify({ ...pointer, esbuild: `${version} ${target}` }));
      out.set(role, join(dir, 'index.mjs'));
    }));
    prune();
  }
  return out;
}

/** The role's bundle when every input it was built from is unchanged. */
function upToDate(role: ChaosRole): string | undefined {
  let p: Pointer & { esbuild: string };
  try { p = JSON.parse(readFileSync(join(CACHE, `${role}.json`), 'utf8')) as typeof p; } catch { return undefined; }
  const file = join(p.dir, 'index.mjs');
  if (!existsSync(file)) return undefined;
  try { return digestOf(p.inputs, p.esbuild) === p.digest ? file : undefined; } catch { return undefined; }
}

function digestOf(inputs: readonly string[], esbuild: string): string {
  const h = createHash('sha256').update(esbuild);
  for (const f of [...SETTINGS_FILES, ...WASM, ...inputs]) h.update(`\0${f}\0`).update(readFileSync(join(PACKAGE_ROOT, f)));
  return h.digest('hex');
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Bundles no pointer names, a day old (a run of another checkout may still use a newer one). */
function prune(): void {
  const current = new Set(CHAOS_ROLES.map((r) => { try { return (JSON.parse(readFileSync(join(CACHE, `${r}.json`), 'utf8')) as Pointer).dir; } catch { return ''; } }));
  for (const name of readdirSync(CACHE)) {
    const path = join(CACHE, name);
    if (name.endsWith('.json') || current.has(path)) continue;
    try { if (Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true }); } catch { /* gone already */ }
  }
}
