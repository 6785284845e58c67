// The limits a declared schema is held to where it is pushed (`tributary schema push`) and loaded
// (schemas/events, SchemaFiles.load), and the guarantee they buy: a schema at every limit cannot let a
// hostile batch run the ingest function out of memory (issue 22, items 1 and 23).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SchemaFiles } from '../../functions/adapters/schema-files.js';

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** `tributary …` on a fresh local home: its exit code, stdout and stderr. */
async function cli(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = mkdtempSync(join(tmpdir(), 'tributary-limits-home-'));
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'bin/tributary.mjs'), ...args], { env: { ...process.env, TRIBUTARY_HOME: home, ...env }, cwd: ROOT, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const work = mkdtempSync(join(tmpdir(), 'tributary-limits-'));
const write = (name: string, doc: unknown): string => {
  const file = join(work, name);
  writeFileSync(file, JSON.stringify(doc));
  return file;
};
const wide = (n: number): Record<string, unknown> => ({ properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: 'string' }])) });

describe('the column limit at push and at load (item 23)', () => {
  it('`schema push` refuses 5,000 properties against 1,000 columns with exit 2 and one line naming the limit', async () => {
    const r = await cli(['schema', 'push', write('wide.json', wide(5000))]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^tributary: schema wide: 5000 properties, more than the 1000 columns a table may have \(TRIBUTARY_MAX_COLUMNS_PER_TABLE\)/);
    const raised = await cli(['schema', 'push', write('wide.json', wide(1200))], { TRIBUTARY_MAX_COLUMNS_PER_TABLE: '1200' });
    assert.equal(raised.code, 0, raised.stderr);
    assert.match(raised.stdout, /wide: pinned as version 1/);
  });

  it('schema files with more properties than the limit fail to load, naming the file', () => {
    const dir = join(work, 'events');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'wide.json'), JSON.stringify(wide(1001)));
    assert.throws(() => SchemaFiles.load(dir), /events\/wide\.json: schema wide: 1001 properties, more than the 1000 columns/);
    assert.equal(SchemaFiles.load(dir, { maxProperties: 1001 }).list()[0]!.properties.length, 1001);
    assert.throws(() => SchemaFiles.load(dir, { maxProperties: 500 }), /more than the 500 columns/);
  });
});
