// The schema registry: versioned entries, declared documents, compatibility rules and conditional writes.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalDirectoryStore } from '../../functions/adapters/object-store/local-directory.js';
import { SchemaFiles } from '../../functions/adapters/schema-files.js';
import { parseDeclaredSchema, toDeclaredDocument } from '../../functions/core/schema/declared-schema.js';
import { parseEnvelope, isRejection, type Envelope } from '../../functions/core/decode/envelope.js';
import { DEFAULT_ENVELOPE_LIMITS } from '../../functions/core/decode/envelope.js';
import {
  applyDeclared, declarationHash, nextEntry, parseRegistryEntry, recentInferredColumns, registryKey, RegistryFormatError,
  SchemaCompatibilityError, schemaOf,
} from '../../functions/core/schema/registry-entry.js';
import { SchemaRegistry } from '../../functions/core/schema/registry.js';
import { emptySchema, type TableSchema } from '../../functions/core/schema/model.js';
import { TableBatch, type SchemaEvolution } from '../../functions/core/batch/table-batch.js';
import { memoryStore, NOW, pageView, record } from '../helpers.js';

const items = (values: readonly unknown[]): Array<{ env: Envelope; record: ReturnType<typeof record> }> =>
  values.map((v, i) => {
    const rec = record(v, { offset: i });
    const env = parseEnvelope(rec, NOW, DEFAULT_ENVELOPE_LIMITS);
    if (isRejection(env)) throw new Error(env.detail);
    return { env, record: rec };
  });

/** One table's evolution over the given records, as one batch sees it. */
function evolveSchema(before: TableSchema, values: ReturnType<typeof items>, budget?: number): SchemaEvolution {
  const t = new TableBatch(before.table, { before, ...(budget !== undefined ? { newColumnBudget: budget } : {}) });
  for (const { env, record } of values) t.add(env, record, { now: NOW, piiSalt: '' });
  return t.evolution();
}

const inferred = (props: Record<string, unknown>): TableSchema => evolveSchema(emptySchema('page_view', 'inferred'), items([pageView('a', props)])).schema;

describe('evolveSchema across batches', () => {
  it('widens an inferred int64 column that receives a double, and only that', () => {
    const before = inferred({ score: 1, count: 2 });
    const e = evolveSchema(before, items([pageView('b', { score: 2.5, count: 3 })]));
    assert.deepEqual(e.widened.map((c) => `${c.name}:${c.type}`), ['score:double']);
    assert.equal(e.schema.properties.find((c) => c.name === 'count')!.type, 'int64');
    assert.deepEqual(e.added, []);
  });

  it('never widens a declared integer column (the record is quarantined instead)', () => {
    const declared = parseDeclaredSchema('page_view', { properties: { score: { type: 'integer' } } });
    const e = evolveSchema(declared, items([pageView('b', { score: 2.5 })]));
    assert.deepEqual(e.widened, []);
    assert.equal(e.schema.properties.find((c) => c.name === 'score')!.type, 'int64');
  });

  it('adds at most `budget` new columns, in order of appearance, and names the refused ones', () => {
    const e = evolveSchema(emptySchema('page_view', 'inferred'), items([pageView('a', { a1: 1, a2: 2 }), pageView('b', { a3: 3, a4: 4 })]), 3);
    assert.deepEqual(e.added.map((c) => c.name), ['page', 'a1', 'a2']);
    assert.deepEqual(e.refused, ['a3', 'a4']);
    assert.equal(e.firstSeen.get('a1'), 'tracking[0]@0');
  });
});

describe('registry entries', () => {
  const v1 = nextEntry(undefined, inferred({ score: 1 }), { now: NOW, change: 'created', defaultSource: 'inferred' });

  it('keep the provenance of each field across versions', () => {
    const widened = { ...schemaOf(v1), properties: [...schemaOf(v1).properties.map((c) => (c.name === 'score' ? { ...c, type: 'double' as const } : c)), { name: 'ref', type: 'string' as const, nullable: true, origin: 'inferred' as const }] };
    const v2 = nextEntry(v1, widened, { now: NOW + 1000, change: 'added ref', defaultSource: 'x', sources: new Map([['ref', 'inferred from t[0]@9']]) });
    assert.equal(v2.version, 2);
    assert.equal(v2.createdAt, v1.createdAt);
    const score = v2.fields.find((f) => f.name === 'score')!;
    assert.equal(score.type, 'double');
    assert.equal(score.since, 1);
    assert.equal(v2.fields.find((f) => f.name === 'ref')!.source, 'inferred from t[0]@9');
    assert.deepEqual(v2.history.map((h) => h.version), [1, 2]);
  });

  it('count only columns inferred within the last hour for the guard', () => {
    assert.equal(recentInferredColumns(v1, NOW + 10 * 60_000), 2);
    assert.equal(recentInferredColumns(v1, NOW + 61 * 60_000), 0);
    assert.equal(recentInferredColumns(undefined, NOW), 0);
  });

  it('refuse a stored document that is not an entry', () => {
    assert.throws(() => parseRegistryEntry({ format: 'other' }, 'k'), RegistryFormatError);
    assert.throws(() => parseRegistryEntry({ ...v1, table: '../x' }, 'k'), /invalid table/);
    assert.throws(() => parseRegistryEntry({ ...v1, fields: [{ name: 'a', type: 'varchar', since: 1 }] }, 'k'), /invalid field/);
    assert.deepEqual(parseRegistryEntry(JSON.parse(JSON.stringify(v1)), 'k'), v1);
  });

  it('use keys that list in version order and refuse hostile table names', () => {
    assert.ok(registryKey('t', 9) < registryKey('t', 10));
    assert.throws(() => registryKey('../../etc', 1), /invalid table name/);
  });
});

describe('applying a declared schema', () => {
  const current = inferred({ score: 1, label: 'x' });

  it('widens int64 to double, keeps omitted columns in place and appends new ones', () => {
    const declared = parseDeclaredSchema('page_view', { properties: { score: { type: 'number' }, email: { type: 'string', 'x-pii': 'hash' } } });
    const next = applyDeclared(current, declared);
    assert.deepEqual(next.properties.map((c) => `${c.name}:${c.type}:${c.origin}`), ['page:string:inferred', 'score:double:declared', 'label:string:inferred', 'email:string:declared']);
  });

  it('refuses unsafe type changes and a new ordering key, listing every problem', () => {
    const declared = parseDeclaredSchema('page_view', { properties: { score: { type: 'string' }, label: { type: 'boolean' } }, 'x-order-by': ['user_id'] });
    assert.throws(() => applyDeclared(current, declared), (err: unknown) => {
      assert.ok(err instanceof SchemaCompatibilityError);
      assert.equal(err.problems.length, 3);
      assert.match(err.message, /score is int64 in the table; string is not a safe change/);
      assert.match(err.message, /x-order-by/);
      return true;
    });
  });

  it('round-trips through the document `schema pin` writes', () => {
    const declared = parseDeclaredSchema('purchase', {
      description: 'd',
      properties: { price: { type: 'number', description: 'p' }, tags: { type: 'array' }, email: { type: 'string', 'x-pii': 'hash' }, at: { type: 'string', format: 'date-time' }, cur: { type: 'string', 'x-low-cardinality': true, enum: ['EUR', 'USD'] } },
      required: ['price'], additionalProperties: false, 'x-order-by': ['event_time', 'user_id'],
    });
    assert.deepEqual(parseDeclaredSchema('purchase', JSON.parse(JSON.stringify(toDeclaredDocument(declared)))), declared);
  });

  it('refuses a document whose title names another event', () => {
    assert.throws(() => parseDeclaredSchema('purchase', { title: 'refund', properties: {} }), /names another event/);
  });

  it('refuses an x-order-by that names a column twice or a column that differs between deliveries', () => {
    const props = { pageId: { type: 'string' } };
    assert.throws(() => parseDeclaredSchema('page_view', { properties: props, 'x-order-by': ['pageId', 'page_id'] }), /x-order-by names "page_id" twice/);
    assert.throws(() => parseDeclaredSchema('page_view', { properties: props, 'x-order-by': ['event_time', 'event_id', 'event_time'] }), /twice/);
    for (const o of ['received_at', 'receivedAt']) {
      assert.throws(() => parseDeclaredSchema('page_view', { properties: props, 'x-order-by': ['event_time', o] }), /differs between deliveries of one event/);
    }
    assert.deepEqual(parseDeclaredSchema('page_view', { properties: props, 'x-order-by': ['user_id', 'pageId'] }).orderBy, ['user_id', 'page_id', 'event_id']);
  });

  it('reads enum and const as the values a property may take, and refuses ones of another type', () => {
    const d = parseDeclaredSchema('signup', { properties: { plan: { type: 'string', enum: ['free', 'pro', null] }, seats: { type: 'integer', const: 1 }, ok: { type: 'boolean', enum: [true] } } });
    assert.deepEqual(d.properties.map((c) => c.allowed), [['free', 'pro'], [1], [true]]);
    assert.throws(() => parseDeclaredSchema('signup', { properties: { seats: { type: 'integer', enum: [1, 'two'] } } }), /enum value "two" is not a int64/);
    assert.throws(() => parseDeclaredSchema('signup', { properties: { meta: { type: 'object', enum: [{}] } } }), /enum is for string, integer, number and boolean/);
    assert.throws(() => parseDeclaredSchema('signup', { properties: { plan: { type: 'string', enum: [] } } }), /non-empty array/);
  });

  it('reads the value keywords of a property, draft 4 exclusive bounds included, and pins them back', () => {
    const d = parseDeclaredSchema('order', { properties: {
      qty: { type: 'integer', minimum: 1, maximum: 10, multipleOf: 1 },
      price: { type: 'number', minimum: 0, exclusiveMinimum: true },
      code: { type: 'string', minLength: 3, maxLength: 3, pattern: '^[A-Z]+$' },
      email: { type: 'string', 'x-pii': 'hash', pattern: '@' },
      note: { type: 'string', format: 'email' },
      page: { type: 'string', format: 'uri-reference' },
      at: { type: 'string', format: 'date-time', pattern: 'Z$' },
    } });
    assert.deepEqual(d.properties.map((c) => c.constraints), [
      { minimum: 1, maximum: 10, multipleOf: 1 }, { exclusiveMinimum: 0 }, { minLength: 3, maxLength: 3, pattern: '^[A-Z]+$' }, { pattern: '@' },
      // an asserted format is a check; another is an annotation; date-time is the column's type
      { format: 'email' }, undefined, { pattern: 'Z$' },
    ]);
    assert.deepEqual(parseDeclaredSchema('order', JSON.parse(JSON.stringify(toDeclaredDocument(d)))), d);
  });

  it('refuses value keywords that are malformed, contradictory, rounded by JSON or not RE2 syntax', () => {
    const refused = (def: Record<string, unknown>, message: RegExp): void => {
      assert.throws(() => parseDeclaredSchema('order', { properties: { p: def } } as never), message, JSON.stringify(def));
    };
    refused({ type: 'integer', 'x-pii': 'hash', minimum: 1 }, /cannot be checked on a hashed property/);
    refused({ type: 'number', minimum: '1' }, /"minimum" must be a number/);
    refused({ type: 'number', multipleOf: 0 }, /"multipleOf" must be greater than 0/);
    refused({ type: 'string', maxLength: 2.5 }, /non-negative integer/);
    refused({ type: 'number', minimum: 5, maximum: 4 }, /no number lies within/);
    refused({ type: 'number', exclusiveMinimum: 5, maximum: 5 }, /no number lies within/);
    refused({ type: 'integer', minimum: 1.2, maximum: 1.8 }, /no integer lies within/);
    refused({ type: 'integer', exclusiveMinimum: 1, exclusiveMaximum: 2 }, /no integer lies within/);
    refused({ type: 'integer', maximum: 9007199254740993 }, /beyond 2\^53, where JSON numbers are rounded/);
    refused({ type: 'number', exclusiveMaximum: true }, /needs a numeric "maximum"/);
    refused({ type: 'string', minLength: 3, maxLength: 2 }, /"minLength" is greater than "maxLength"/);
    refused({ type: 'string', pattern: '[' }, /not a regular expression Tributary can run: .*missing closing \]/);
    refused({ type: 'string', pattern: '(?<!\\d)x' }, /no lookaround or backreferences/);
    refused({ type: 'string', pattern: '(a)\\1' }, /no lookaround or backreferences/);
    refused({ type: 'string', pattern: '\\w{1,200}\\d{4}$' }, /compiles to 406 RE2 instructions, more than 400/);
    refused({ type: 'string', pattern: `${'.{1000}'.repeat(10)}\\d` }, /RE2 instructions, more than 400/);
    assert.deepEqual(parseDeclaredSchema('order', { properties: { p: { type: 'integer', minimum: 1.2, maximum: 2 } } }).properties[0]!.constraints, { minimum: 1.2, maximum: 2 });
    assert.deepEqual(parseDeclaredSchema('order', { properties: { p: { type: 'string', pattern: '\\w{1,100}\\d{4}$' } } }).properties[0]!.constraints, { pattern: '\\w{1,100}\\d{4}$' });
  });

  it('ignores keywords for another type of value, as JSON Schema does, and checks a date-time as text', () => {
    const d = parseDeclaredSchema('order', { properties: {
      a: { type: 'string', minimum: 1, exclusiveMaximum: true }, b: { type: 'integer', maxLength: 3, pattern: '(' }, c: { type: 'object', minLength: 1 },
      at: { type: ['string', 'null'], format: 'date-time', maxLength: 24 },
    } });
    assert.deepEqual(d.properties.map((c) => c.constraints), [undefined, undefined, undefined, { maxLength: 24 }]);
  });

  it('reads an object or array property\'s schema, in 2020-12 form, and pins it back', () => {
    const d = parseDeclaredSchema('order', {
      definitions: { code: { type: 'string', maxLength: 20 } },
      properties: {
        lines: { type: ['array', 'null'], description: 'd', items: [{ type: 'string' }], additionalItems: { type: 'number', minimum: 0, exclusiveMinimum: true } },
        coupons: { type: 'array', items: { $ref: '#/definitions/code' }, uniqueItems: true, maxItems: 10 },
        meta: { type: 'object', 'x-low-cardinality': false },
        anything: { type: ['object', 'array', 'null'] },
        tags: { type: 'array', items: { type: 'string' }, 'x-low-cardinality': true },
      },
    });
    assert.deepEqual(d.properties.map((c) => c.nested), [
      // draft 4–7 tuples and boolean bounds in their 2020-12 spelling; null left to the column
      { type: 'array', prefixItems: [{ type: 'string' }], items: { type: 'number', exclusiveMinimum: 0 } },
      // a $ref into the document takes its definitions along
      { type: 'array', items: { $ref: '#/definitions/code' }, uniqueItems: true, maxItems: 10, definitions: { code: { type: 'string', maxLength: 20 } } },
      { type: 'object' },
      // "object or array" says nothing more than the column type: no schema, and the hash is as before
      undefined,
      { type: 'array', items: { type: 'string' } },
    ]);
    assert.equal(d.properties[4]!.lowCardinality, true);
    const pinned = JSON.parse(JSON.stringify(toDeclaredDocument(d)));
    assert.deepEqual(pinned.properties.meta, { type: ['object', 'null'] });
    assert.deepEqual(parseDeclaredSchema('order', pinned), d);
    assert.equal(declarationHash(parseDeclaredSchema('order', pinned)), declarationHash(d));
    const looser = parseDeclaredSchema('order', { properties: { meta: { type: 'object' } } });
    const tighter = parseDeclaredSchema('order', { properties: { meta: { type: 'object', required: ['a'] } } });
    assert.notEqual(declarationHash(looser), declarationHash(tighter), 'a changed nested schema is a new declaration');
  });

  it('refuses object and array schemas Ajv cannot compile or that could stall a partition', () => {
    const refused = (def: Record<string, unknown>, message: RegExp): void => {
      assert.throws(() => parseDeclaredSchema('order', { properties: { p: def } } as never), message, JSON.stringify(def));
    };
    refused({ type: 'object', properties: { a: { type: 'strin' } } }, /property "p": not a JSON Schema Ajv can compile: schema is invalid/);
    // the meta-schema's own patterns (run on V8's engine, not RE2) still hold
    refused({ type: 'object', $anchor: '1bad' }, /schema is invalid: data\/\$anchor must match pattern/);
    refused({ type: 'object', properties: { a: { $ref: '#/definitions/missing' } } }, /"\$ref" "#\/definitions\/missing" does not resolve to a schema in this document/);
    refused({ type: 'object', properties: { a: { $ref: 'https://example.com/s.json' } } }, /does not resolve to a schema in this document/);
    // a schema that refers to itself, directly or through definitions, could branch at every level of a value
    refused({ type: 'array', items: { anyOf: [{ type: 'string' }, { $ref: '#' }] } }, /at \/items\/anyOf\/1: recursive "\$ref"|recursive "\$ref"/);
    refused({ type: 'object', $defs: { node: { type: 'object', properties: { kids: { type: 'array', items: { $ref: '#/$defs/node' } } } } }, properties: { root: { $ref: '#/$defs/node' } } }, /recursive "\$ref"/);
    refused({ type: 'object', $dynamicRef: '#meta' }, /"\$dynamicRef" and "\$recursiveRef" are not supported/);
    // definitions that each refer twice to the next: a few lines, 2^20 nodes once expanded
    const defs: Record<string, unknown> = { d20: { type: 'string' } };
    for (let i = 0; i < 20; i++) defs[`d${i}`] = { anyOf: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] };
    refused({ type: 'array', $defs: defs, items: { $ref: '#/$defs/d0' } }, /more than 1000 nodes once its \$refs are expanded/);
    refused({ type: 'array', items: { type: 'string', pattern: '(?=x)' } }, /pattern "\(\?=x\)" is not a regular expression Tributary can run/);
    refused({ type: 'object', patternProperties: { '(a)\\1': true } }, /no lookaround or backreferences/);
    // Limits per place in a value: what one part of a value may be checked against.
    const P = '\\w{1,100}\\d{4}$'; // 206 RE2 instructions
    refused({ type: 'array', items: { allOf: [{ pattern: P }, { pattern: P }] } }, /patterns of 412 RE2 instructions in all apply to the value at \/\(items\), more than 400/);
    // a pattern written once but applied through many $refs counts each time
    refused({ type: 'array', $defs: { s: { type: 'string', pattern: P } }, items: { allOf: [{ $ref: '#/$defs/s' }, { $ref: '#/$defs/s' }] } }, /patterns of 412 RE2 instructions/);
    refused({ type: 'object', dependencies: { a: { properties: { a: { pattern: P } } } }, properties: { a: { pattern: P } } }, /patterns of 412 RE2 instructions in all apply to the value at \/a/);
    refused({ type: 'array', items: { anyOf: Array.from({ length: 100 }, () => ({ type: 'string' })) } }, /101 schema nodes apply to the value at \/\(items\), more than 100/);
    refused({ type: 'array', items: { enum: Array.from({ length: 2000 }, (_, i) => `code-${i}`) } }, /101 schema nodes apply .* \(enum entries count one per 20\)/);
    // a property named like something every object has still meets the other branch's additionalProperties
    refused({ type: 'object', allOf: [{ properties: { constructor: { type: 'string' } } }, { additionalProperties: { anyOf: Array.from({ length: 100 }, () => ({ type: 'string' })) } }] }, /apply to the value at \/constructor/);
    // recursion hidden in a draft 7 keyword Ajv still runs
    refused({ type: 'object', $defs: { n: { type: 'object', dependencies: { a: { properties: { a: { anyOf: [{ $ref: '#/$defs/n' }, { $ref: '#/$defs/n' }] } } } } } }, $ref: '#/$defs/n' }, /recursive "\$ref"/);
    refused({ type: 'object', properties: { n: { type: 'number', exclusiveMaximum: true } } }, /"exclusiveMaximum": true needs a numeric "maximum"/);
    const many = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`f${i}`, { type: 'string', pattern: P }]));
    for (const ok of [
      { type: 'array', items: { type: 'object' }, uniqueItems: true }, // checked in one pass, however many items
      { type: 'array', items: { anyOf: Array.from({ length: 99 }, () => ({ type: 'string' })) } },
      { type: 'object', properties: many }, // 150 properties with a pattern each: one applies to any one part
      { type: 'array', items: { enum: Array.from({ length: 1900 }, (_, i) => `code-${i}`) } },
    ]) {
      assert.ok(parseDeclaredSchema('order', { properties: { p: ok } }).properties[0]!.nested, JSON.stringify(ok));
    }
  });

  it('hashes a draft 4 bound and its 2020-12 spelling alike, so pushing a pinned file again changes nothing', () => {
    const draft4 = parseDeclaredSchema('order', { properties: { price: { type: 'number', exclusiveMinimum: true, minimum: 0, maximum: 100, multipleOf: 0.01 } } });
    const current = parseDeclaredSchema('order', { properties: { price: { type: 'number', exclusiveMinimum: 0, maximum: 100, multipleOf: 0.01 } } });
    assert.equal(declarationHash(draft4), declarationHash(current));
    assert.equal(declarationHash(parseDeclaredSchema('order', JSON.parse(JSON.stringify(toDeclaredDocument(draft4))))), declarationHash(draft4));
  });

  it('takes changed value keywords as a new declaration', async () => {
    const registry = new SchemaRegistry(new LocalDirectoryStore(mkdtempSync(join(tmpdir(), 'tributary-constraints-'))), { clock: () => NOW });
    const loose = parseDeclaredSchema('order', { properties: { qty: { type: 'integer' } } });
    const tight = parseDeclaredSchema('order', { properties: { qty: { type: 'integer', minimum: 1 } } });
    await registry.pin(loose, 'schema push a.json', 'unless-in-force');
    const changed = await registry.pin(tight, 'schema push b.json', 'unless-in-force');
    assert.equal(changed.changed, true);
    assert.deepEqual(schemaOf(changed.entry).properties[0]!.constraints, { minimum: 1 });
    assert.equal((await registry.pin(tight, 'schema push b.json', 'unless-in-force')).changed, false);
  });

  it('takes a changed enum as a new declaration, and pins a hashed enum in a form it reads back', async () => {
    const registry = new SchemaRegistry(new LocalDirectoryStore(mkdtempSync(join(tmpdir(), 'tributary-enum-'))), { clock: () => NOW });
    const two = parseDeclaredSchema('signup', { properties: { plan: { type: 'string', enum: ['free', 'pro'] } } });
    const three = parseDeclaredSchema('signup', { properties: { plan: { type: 'string', enum: ['free', 'pro', 'team'] } } });
    await registry.pin(two, 'schema push a.json', 'unless-in-force');
    const changed = await registry.pin(three, 'schema push b.json', 'unless-in-force');
    assert.equal(changed.changed, true);
    assert.deepEqual(schemaOf(changed.entry).properties[0]!.allowed, ['free', 'pro', 'team']);
    const hashed = parseDeclaredSchema('signup', { properties: { tier: { type: 'integer', enum: [1, 2], 'x-pii': 'hash' } } });
    const back = parseDeclaredSchema('signup', JSON.parse(JSON.stringify(toDeclaredDocument(hashed))));
    assert.deepEqual(back.properties[0]!.allowed, ['1', '2']);
  });

  it('refuses two schema files that name the same event', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-twins-'));
    writeFileSync(join(dir, 'PageView.json'), JSON.stringify({ properties: { a: { type: 'string' } } }));
    writeFileSync(join(dir, 'page_view.json'), JSON.stringify({ properties: { b: { type: 'string' } } }));
    assert.throws(() => SchemaFiles.load(dir), /already defines page_view/);
  });
});

describe('SchemaRegistry', () => {
  it('applies a pushed document again after another one replaced it, restoring its PII handling', async () => {
    const registry = new SchemaRegistry(new LocalDirectoryStore(mkdtempSync(join(tmpdir(), 'tributary-repush-'))), { clock: () => NOW });
    const hashed = parseDeclaredSchema('signup', { properties: { email: { type: 'string', 'x-pii': 'hash' } } });
    const plain = parseDeclaredSchema('signup', { properties: { email: { type: 'string' } } });
    assert.equal((await registry.pin(hashed, 'schema push a.json', 'unless-in-force')).changed, true);
    assert.equal((await registry.pin(plain, 'schema push b.json', 'unless-in-force')).changed, true);
    const again = await registry.pin(hashed, 'schema push a.json', 'unless-in-force');
    assert.deepEqual([again.changed, again.entry.version], [true, 3]);
    assert.equal(schemaOf(again.entry).properties.find((c) => c.name === 'email')!.pii, 'hash');
    assert.equal((await registry.pin(hashed, 'schema push a.json', 'unless-in-force')).changed, false, 'the one in force: nothing to do');
    // A schema file, applied once: an old file's content does not undo the pushes that came after it.
    assert.equal((await registry.pin(plain, 'schema file signup.json')).changed, false);
  });

  it('lets exactly one of two writers store a version; the loser sees the winner after the failed write', async () => {
    const store = memoryStore();
    let now = NOW;
    const a = new SchemaRegistry(store, { clock: () => now });
    const b = new SchemaRegistry(store, { clock: () => now });
    const schema = inferred({ score: 1 });
    assert.equal((await b.current(['page_view'])).entries.size, 0); // b caches "no entry"
    assert.equal(await a.commit(nextEntry(undefined, schema, { now, change: 'a', defaultSource: 'a' })), true);
    assert.equal((await b.current(['page_view'])).entries.size, 0, 'within the TTL b still trusts its cache');
    assert.equal(await b.commit(nextEntry(undefined, schema, { now, change: 'b', defaultSource: 'b' })), false);
    assert.equal((await b.current(['page_view'])).entries.get('page_view')!.history[0]!.change, 'a');
    now += 31_000;
    assert.equal((await b.current(['page_view'])).entries.get('page_view')!.version, 1);
  });

  it('refreshes every table with one LIST per TTL and reads only the entries that changed', async () => {
    const store = memoryStore();
    const calls = { list: 0, get: 0 };
    const counted = { ...store, list: async (p: string) => { calls.list++; return store.list(p); }, get: async (k: string) => { calls.get++; return store.get(k); } };
    let now = NOW;
    const writer = new SchemaRegistry(store, { clock: () => now });
    const tables = Array.from({ length: 20 }, (_, i) => `event_${i}`);
    for (const t of tables) await writer.commit(nextEntry(undefined, { ...inferred({ score: 1 }), table: t }, { now, change: 'first', defaultSource: 'a' }));
    const reader = new SchemaRegistry(counted, { clock: () => now });
    assert.equal((await reader.current(tables)).entries.size, 20);
    assert.deepEqual(calls, { list: 1, get: 20 }, 'first load: one LIST, each entry read once');
    now += 10_000;
    await reader.current(tables);
    assert.deepEqual(calls, { list: 1, get: 20 }, 'within the TTL: no request');
    // Another writer evolves one table; after the TTL the reader lists once and reads only that entry.
    const v1 = (await writer.read('event_7'))!;
    await writer.commit(nextEntry(v1, { ...schemaOf(v1), properties: [...schemaOf(v1).properties, { name: 'extra', type: 'string', nullable: true, origin: 'inferred' }] }, { now, change: 'extra', defaultSource: 'b' }));
    now += 30_000;
    const after = await reader.current(tables);
    assert.deepEqual(calls, { list: 2, get: 21 });
    assert.equal(after.entries.get('event_7')!.version, 2);
    assert.equal(after.entries.get('event_3')!.version, 1);
    // A table met for the first time within the TTL: one more LIST, which also refreshes the others.
    await reader.current(['event_new']);
    assert.deepEqual(calls, { list: 3, get: 21 });
  });

  it('applies a declared file once, records it, and reports an incompatible one instead of failing ingest', async () => {
    const store = memoryStore();
    let declared = parseDeclaredSchema('page_view', { properties: { score: { type: 'integer' } } });
    const files = { declared: (t: string) => (t === 'page_view' ? declared : undefined), sourceOf: () => 'schema file page_view.json' };
    const reg = new SchemaRegistry(store, { clock: () => NOW, ttlMs: 0, declared: files });
    const first = await reg.current(['page_view']);
    assert.equal(first.entries.get('page_view')!.status, 'pinned');
    await reg.current(['page_view']);
    assert.equal((await store.list('_registry/')).length, 1, 'the same file is not applied twice');
    declared = parseDeclaredSchema('page_view', { properties: { score: { type: 'boolean' } } });
    const bad = await reg.current(['page_view']);
    assert.equal(bad.entries.get('page_view')!.version, 1);
    assert.match(bad.problems[0]!, /score is int64 in the table; boolean is not a safe change/);
  });

  it('on a directory store, conditional writes race safely', async () => {
    const store = new LocalDirectoryStore(mkdtempSync(join(tmpdir(), 'tributary-reg-')));
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store.putIfAbsent('_registry/events/t/v00000001.json', Buffer.from(`writer ${i}`), { contentType: 'application/json' })));
    assert.equal(results.filter(Boolean).length, 1);
    const winner = results.indexOf(true);
    assert.equal(Buffer.from((await store.get('_registry/events/t/v00000001.json'))!).toString(), `writer ${winner}`);
    assert.deepEqual(await store.list('_registry/'), ['_registry/events/t/v00000001.json'], 'no temporary files left behind');
  });
});
