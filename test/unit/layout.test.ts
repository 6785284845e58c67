// The floor plan's rules, read off the import graph (docs/contributing.md "Layout"): the core imports no
// adapter, handler, CLI or infra module and no I/O library; adapters import no handler or CLI; infra imports
// no core module; the core's top level stays a handful of files beside its rooms.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where a repository-relative path sits in the layout. */
type Area = 'core' | 'adapter' | 'handler' | 'cli' | 'infra' | 'other';

function areaOf(path: string): Area {
  if (path.startsWith('functions/core/')) return 'core';
  if (path.startsWith('functions/adapters/')) return 'adapter';
  if (path.startsWith('functions/cli/')) return 'cli';
  if (path.startsWith('functions/')) return 'handler';
  if (path.startsWith('infra/')) return 'infra';
  return 'other';
}

/** Packages that do I/O or talk to a service: adapters' business, never the core's. */
const IO_PACKAGES = [/^@aws-sdk\//, /^@aws-lambda-powertools\//, /^@clickhouse\//, /^@duckdb\//, /^chdb$/, /^kafkajs$/, /^aws-cdk-lib/, /^constructs$/,
  /^node:(fs|fs\/promises|child_process|http|https|http2|net\/server|dgram|worker_threads|cluster|os)$/];

export interface ImportEdge { readonly from: string; readonly to: string }

/** Every import of a TypeScript source: static, `export … from` and dynamic `import('…')`. */
export function importsOf(source: string): string[] {
  const specs: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of source.matchAll(re)) specs.push((m[1] ?? m[2] ?? m[3])!);
  return specs;
}

/** The rule an edge breaks, or undefined. `to` is repository-relative for local files, the bare name for packages. */
export function violation(edge: ImportEdge): string | undefined {
  const from = areaOf(edge.from);
  const local = edge.to.startsWith('functions/') || edge.to.startsWith('infra/') || edge.to.startsWith('bench/') || edge.to.startsWith('test/');
  const to = local ? areaOf(edge.to) : undefined;
  if (from === 'core' && local && to !== 'core') return `core imports ${to === 'other' ? edge.to : `a ${to} module`}`;
  if (from === 'core' && !local && IO_PACKAGES.some((p) => p.test(edge.to))) return `core imports the I/O package ${edge.to}`;
  if (from === 'adapter' && (to === 'handler' || to === 'cli' || to === 'infra')) return `an adapter imports a ${to} module`;
  if (from === 'infra' && to === 'core') return 'infra imports a core module';
  return undefined;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function edges(): ImportEdge[] {
  const out: ImportEdge[] = [];
  for (const file of [...sources(join(ROOT, 'functions')), ...sources(join(ROOT, 'infra'))]) {
    const from = relative(ROOT, file);
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const to = spec.startsWith('.') ? relative(ROOT, resolve(dirname(file), spec)).replace(/\.js$/, '.ts') : spec;
      out.push({ from, to });
    }
  }
  return out;
}

describe('layout', () => {
  it('reads static, re-exported and dynamic imports', () => {
    const src = "import { a } from './a.js';\nimport type { B } from '../b.js';\nexport { c } from './c.js';\nimport 'side-effect';\nconst m = await import('../../ingest/config.js');";
    assert.deepEqual(importsOf(src), ['./a.js', '../b.js', './c.js', 'side-effect', '../../ingest/config.js']);
  });

  it('flags each kind of forbidden edge', () => {
    assert.match(violation({ from: 'functions/core/ingest.ts', to: 'functions/adapters/telemetry.ts' }) ?? '', /core imports a adapter/);
    assert.match(violation({ from: 'functions/core/lake/layout.ts', to: 'functions/ingest/handler.ts' }) ?? '', /handler/);
    assert.match(violation({ from: 'functions/core/batch/coerce.ts', to: 'infra/config.ts' }) ?? '', /infra/);
    assert.match(violation({ from: 'functions/core/ingest.ts', to: '@aws-sdk/client-s3' }) ?? '', /I\/O package/);
    assert.match(violation({ from: 'functions/core/ingest.ts', to: 'node:fs' }) ?? '', /I\/O package/);
    assert.match(violation({ from: 'functions/adapters/aws-services.ts', to: 'functions/ingest/config.ts' }) ?? '', /adapter imports a handler/);
    assert.match(violation({ from: 'functions/adapters/telemetry.ts', to: 'functions/cli/print.ts' }) ?? '', /adapter imports a cli/);
    assert.match(violation({ from: 'infra/jobs.ts', to: 'functions/core/ab/results.ts' }) ?? '', /infra imports a core module/);
    assert.equal(violation({ from: 'functions/core/ingest.ts', to: 'functions/core/ports.ts' }), undefined);
    assert.equal(violation({ from: 'functions/ingest/handler.ts', to: 'functions/adapters/aws-services.ts' }), undefined);
    assert.equal(violation({ from: 'infra/app.ts', to: 'functions/adapters/schema-files.ts' }), undefined);
  });

  it('holds for every import in functions/ and infra/', () => {
    const all = edges();
    assert.ok(all.length > 200, `read ${all.length} imports`);
    const broken = all.flatMap((e) => { const v = violation(e); return v ? [`${e.from} → ${e.to}: ${v}`] : []; });
    assert.deepEqual(broken, []);
  });

  it('keeps the core in rooms: at most 10 files at its top level, and a floor plan naming every room', () => {
    const core = join(ROOT, 'functions/core');
    const entries = readdirSync(core);
    const files = entries.filter((n) => n.endsWith('.ts'));
    assert.ok(files.length <= 10, `functions/core/ has ${files.length} files at its top level: ${files.join(', ')}`);
    const plan = readFileSync(join(core, 'README.md'), 'utf8');
    const rooms = entries.filter((n) => statSync(join(core, n)).isDirectory());
    assert.deepEqual(rooms.filter((r) => !plan.includes(`${r}/`)), [], 'rooms missing from functions/core/README.md');
  });
});
