// The limits a declared schema is held to where it is pushed (`tributary schema push`) and loaded
// (schemas/events, SchemaFiles.load), and the guarantee they buy: a schema at every limit cannot let a
// hostile batch run the ingest function out of memory (issue 22, items 1 and 23).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SchemaFiles } from '../../functions/adapters/schema-files.js';
import { encodeMskEvent } from '../../functions/core/decode/msk-event.js';
import { compilePattern, MAX_PATTERN_INSTRUCTIONS } from '../../functions/core/schema/constraints.js';
import { MAX_DOCUMENT_SCHEMA_NODES, MAX_ENUM_CHARACTERS, MAX_ENUM_VALUES } from '../../functions/core/schema/keywords.js';
import { DEFAULT_MAX_COLUMNS_PER_TABLE } from '../../functions/core/schema/model.js';
import { MAX_NODES_PER_PLACE, MAX_SCHEMA_NODES } from '../../functions/core/schema/nested-schema-cost.js';
import { parseEnvironment } from '../../infra/config.js';
import { nodeOptions } from '../../infra/functions.js';
import { NOW } from '../helpers.js';

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

/** The ingest function's memory and NODE_OPTIONS as infra/ deploys them, for the environment with the least memory. */
function deployedIngest(): { env: string; memoryMb: number; timeoutSeconds: number; nodeOptions: string } {
  const environments = (JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: { environments: Record<string, unknown> } }).context.environments;
  const all = Object.keys(environments).map((env) => ({ env, ingest: parseEnvironment(env, environments).ingest }));
  const least = all.reduce((a, b) => (b.ingest.memoryMb < a.ingest.memoryMb ? b : a));
  return { env: least.env, memoryMb: least.ingest.memoryMb, timeoutSeconds: 60 * least.ingest.timeoutMinutes, nodeOptions: nodeOptions(least.ingest.memoryMb, least.ingest.semiSpaceMb) };
}

/** The longest `\w{1,n}\d{4}$` within MAX_PATTERN_INSTRUCTIONS: a pattern at the limit that never matches letters alone. */
function patternAtLimit(): string {
  let n = 1;
  while (compilePattern(`\\w{1,${n + 1}}\\d{4}$`).programSize() <= MAX_PATTERN_INSTRUCTIONS) n++;
  return `\\w{1,${n}}\\d{4}$`;
}

/** A schema at every documented limit at once. */
function schemaAtEveryLimit(): Record<string, unknown> {
  // the longest enum of the widest values that fits both enum limits
  const width = Math.floor(MAX_ENUM_CHARACTERS / MAX_ENUM_VALUES) - 2;
  const codes = Array.from({ length: MAX_ENUM_VALUES }, (_, i) => `c${String(i).padStart(width - 1, '0')}`);
  // one node short of MAX_NODES_PER_PLACE per item: the items' anyOf and its branches
  const branches = Array.from({ length: MAX_NODES_PER_PLACE - 2 }, (_, i) => ({ type: 'string', maxLength: 0, $comment: String(i) }));
  const itemsNodes = 3 + branches.length; // the array, its items, the branches and the last one
  // object schemas whose nodes bring the document to MAX_DOCUMENT_SCHEMA_NODES, each within MAX_SCHEMA_NODES
  const wideObject = (nodes: number): Record<string, unknown> => ({ type: 'object', properties: Object.fromEntries(Array.from({ length: nodes - 1 }, (_, i) => [`k${i}`, { type: 'string', maxLength: 8 }])) });
  const left = MAX_DOCUMENT_SCHEMA_NODES - itemsNodes;
  const properties: Record<string, unknown> = {
    code: { type: 'string', enum: codes },
    slug: { type: 'string', pattern: patternAtLimit() },
    items: { type: 'array', items: { anyOf: [...branches, { type: 'string', maxLength: 8 }] }, uniqueItems: false },
    ctx1: wideObject(Math.min(MAX_SCHEMA_NODES, left - 1)),
    ctx2: wideObject(left - Math.min(MAX_SCHEMA_NODES, left - 1)),
    link: { type: 'string', format: 'uri' },
    mixed: { type: ['string', 'integer', 'null'], maxLength: 64, minimum: 0 },
  };
  // the other columns, each with a pattern of its own near the limit (every container compiles each one)
  for (let i = Object.keys(properties).length; i < DEFAULT_MAX_COLUMNS_PER_TABLE; i++) {
    const pattern = `z${i}$|\\w{1,190}\\d{4}$`;
    assert.ok(compilePattern(pattern).programSize() <= MAX_PATTERN_INSTRUCTIONS);
    properties[`f${i}`] = { type: 'string', maxLength: 64, pattern };
  }
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'hostile', type: 'object', properties, maxProperties: DEFAULT_MAX_COLUMNS_PER_TABLE, dependentRequired: { slug: ['code'] } };
}

/** ~6 MB of records meant to cost the most against that schema: what each keyword spends per byte. */
function hostileBatch(): Buffer[] {
  const lines: string[] = [];
  const env = (i: number, properties: Record<string, unknown>): string => JSON.stringify({ event: 'hostile', event_id: `e${i}`, ts: '2026-11-19T10:00:00Z', properties });
  let i = 0;
  // values outside the 10,000-value enum: each a quarantined record with a detail quoting the enum
  for (let k = 0; k < 9_000; k++) lines.push(env(i++, { code: `not-a-code-${k}-${'z'.repeat(40)}` }));
  // values of 20 KB outside the enum: each detail quotes 64 characters of its value
  for (let k = 0; k < 52; k++) lines.push(env(i++, { code: `${k}`.padEnd(20_000, 'q') }));
  // every column of the table in every record
  const wide: Record<string, unknown> = {};
  for (let c = 7; c < DEFAULT_MAX_COLUMNS_PER_TABLE; c++) wide[`f${c}`] = `v${c}0000`;
  for (let k = 0; k < 120; k++) lines.push(env(i++, { ...wide, code: `c${'0'.repeat(23)}`, mixed: k }));
  // letters that the pattern at its limit scans in full and never matches
  for (let k = 0; k < 6; k++) lines.push(env(i++, { slug: 'a'.repeat(40_000) + k, code: `c${'0'.repeat(23)}` }));
  // small items that only the last of the anyOf's branches takes
  for (let k = 0; k < 8; k++) lines.push(env(i++, { items: Array.from({ length: 8_000 }, (_, j) => `${j % 10}${k}`) }));
  // nested objects of every declared key, and almost-URIs
  const ctx = Object.fromEntries(Array.from({ length: 998 }, (_, j) => [`k${j}`, 'x']));
  for (let k = 0; k < 40; k++) lines.push(env(i++, { ctx1: ctx }));
  for (let k = 0; k < 20; k++) lines.push(env(i++, { link: `https://example.com/${'%41'.repeat(10_000)}%4` }));
  return lines.map((l) => Buffer.from(l));
}

describe('a schema at every limit against a hostile batch (item 1)', () => {
  it('pushes and loads at every limit, and refuses one past a limit at push with exit 2 naming keyword, property and limit', async () => {
    const doc = schemaAtEveryLimit();
    const atLimit = await cli(['schema', 'push', write('hostile.json', doc)]);
    assert.equal(atLimit.code, 0, atLimit.stderr);
    const props = doc['properties'] as Record<string, { enum?: string[] }>;
    const over = { ...doc, properties: { ...props, code: { type: 'string', enum: [...props['code']!.enum!, 'one-more'] } } };
    const r = await cli(['schema', 'push', write('hostile.json', over)]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^tributary: schema hostile: property "code": "enum" has 10001 values, more than 10000 \(MAX_ENUM_VALUES\)/);
  });

  it('ingests ~6 MB of hostile records under the deployed heap flags: every record stored or quarantined, peak RSS under the function\'s memory', async () => {
    const dir = join(work, 'at-limit');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'hostile.json'), JSON.stringify(schemaAtEveryLimit()));
    const values = hostileBatch();
    const bytes = values.reduce((n, v) => n + v.length, 0);
    assert.ok(bytes > 5.5e6 && bytes <= 6.3e6 && values.length <= 10_000, `${bytes} bytes in ${values.length} records`);
    const eventFile = join(work, 'hostile-event.json');
    writeFileSync(eventFile, JSON.stringify(encodeMskEvent(values.map((value, offset) => ({ topic: 'hostile', partition: 0, offset, timestamp: NOW, value })))));
    const deployed = deployedIngest();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'test/integration/children/ingest-once.ts'), dir, eventFile, String(NOW)], {
      env: { ...process.env, NODE_OPTIONS: deployed.nodeOptions }, cwd: ROOT, maxBuffer: 16 << 20,
    });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as { recordsIn: number; stored: number; quarantined: number; byReason: Record<string, number>; schemaProblems: string[]; loadSeconds: number; seconds: number; peakRssMb: number };
    assert.deepEqual(r.schemaProblems, []);
    assert.equal(r.recordsIn, values.length);
    assert.equal(r.stored + r.quarantined, r.recordsIn, JSON.stringify(r));
    assert.equal(r.stored, 120 + 8 + 40, JSON.stringify(r));
    assert.equal(r.byReason['schema_violation'], 9_000 + 52 + 6 + 20, JSON.stringify(r));
    assert.ok(r.loadSeconds + r.seconds < deployed.timeoutSeconds, `${r.loadSeconds + r.seconds} s`);
    assert.ok(r.peakRssMb < deployed.memoryMb, `peak RSS ${r.peakRssMb.toFixed(0)} MB at ${deployed.env}'s ${deployed.memoryMb} MB (${deployed.nodeOptions})`);
    console.log(`# hostile batch: ${(bytes / 1e6).toFixed(1)} MB, ${values.length} records; schema load ${r.loadSeconds.toFixed(1)} s, ingest ${r.seconds.toFixed(1)} s, peak RSS ${r.peakRssMb.toFixed(0)} MB of ${deployed.env}'s ${deployed.memoryMb} MB`);
  });
});
