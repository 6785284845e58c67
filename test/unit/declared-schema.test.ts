// Declared JSON Schemas as tracking teams write them (issue 22, items 1, 5–10, 23): real-world idioms
// accepted and enforced, everything else refused at load with a message naming it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coerceProperty, isFailure } from '../../functions/core/batch/coerce.js';
import { parseDeclaredSchema, toDeclaredDocument } from '../../functions/core/schema/declared-schema.js';
import { declarationHash } from '../../functions/core/schema/registry-entry.js';
import type { ColumnSpec } from '../../functions/core/schema/model.js';
import { TableBatch } from '../../functions/core/batch/table-batch.js';
import { DEFAULT_ENVELOPE_LIMITS, isRejection, parseEnvelope } from '../../functions/core/decode/envelope.js';
import { NOW, pageView, record, TS } from '../helpers.js';
import { MAX_DOCUMENT_SCHEMA_NODES, MAX_ENUM_CHARACTERS, MAX_ENUM_VALUES, MAX_SCHEMA_CHARACTERS, TOP_LEVEL_KEYWORDS } from '../../functions/core/schema/keywords.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const column = (def: Record<string, unknown>, name = 'p'): ColumnSpec => parseDeclaredSchema('ev', { properties: { [name]: def } }).properties[0]!;
const refused = (doc: Record<string, unknown>, message: RegExp): void => {
  assert.throws(() => parseDeclaredSchema('ev', doc), message, JSON.stringify(doc).slice(0, 200));
};
const stored = (value: unknown, c: ColumnSpec): unknown => {
  const v = coerceProperty(value, c, 's');
  assert.ok(!isFailure(v), `a value should be stored: ${isFailure(v) ? v.failure : ''}`);
  return v;
};
const failure = (value: unknown, c: ColumnSpec): { failure: string; violation?: true } => {
  const v = coerceProperty(value, c, 's');
  assert.ok(isFailure(v), `${JSON.stringify(value)} should fail`);
  return v;
};

describe('nested schemas see only a value\'s own properties (item 8)', () => {
  it('a required Object.prototype member is missing from {}, and an absent one is not checked', () => {
    const needs = column({ type: 'object', required: ['constructor', 'toString'] });
    assert.match(failure({}, needs).failure, /must have required property 'constructor'/);
    assert.equal(stored({ constructor: 1, toString: 2 }, needs), '{"constructor":1,"toString":2}');
    const typed = column({ type: 'object', properties: { constructor: { type: 'number' }, __proto__: { type: 'number' } } });
    assert.equal(stored({}, typed), '{}');
    assert.match(failure({ constructor: 'x' }, typed).failure, /must be number at "\/constructor"/);
    // dependentRequired and dependencies name properties too
    const deps = column({ type: 'object', dependentRequired: { constructor: ['a'] }, dependencies: { hasOwnProperty: ['b'] } });
    assert.equal(stored({}, deps), '{}');
  });
});

describe('format uri (item 9)', () => {
  const uri = column({ type: 'string', format: 'uri' });
  it('refuses invalid percent-encodings and brackets outside an IPv6 host', () => {
    for (const bad of ['https://example.com/%6G', 'https://example.com/%A', 'https://example.com/%', 'https://example.com/a%', 'https://example.com/?q=%zz',
      'https://[@example.org', 'http:/[::1]', 'https://example.com/[x]', 'https://example.com/?a=[1]', 'https://example.com/#]', 'http://[::1]]/', 'http://[[::1]/',
      'http://[1.2.3.4]/', 'http://a[::1]/', 'http://[::1]x/', 'http://u[@[::1]/']) {
      const f = failure(bad, uri);
      assert.ok(f.violation === true && /is not a valid uri \(format\)/.test(f.failure), `${bad}: ${f.failure}`);
    }
  });
  it('keeps valid ones: percent-encodings of two hex digits, IPv6 hosts with a port, user info', () => {
    for (const good of ['https://example.com/%41%c3%bc', 'http://[::1]/', 'http://[2001:db8::7]:8080/a?b#c', 'http://user:pw@[::1]:1/', 'urn:isbn:0451450523', 'https://example.com/a?b=c#d']) {
      assert.equal(stored(good, uri), good);
    }
  });
});

describe('integer bounds at int64\'s limits (item 10)', () => {
  it('accepts bounds that are exactly int64\'s limits, as published schemas write them, and checks nothing with them', () => {
    // JSON.parse reads 9223372036854775807 as 2^63: the text names int64's maximum, which no column value exceeds
    const doc = JSON.parse('{"properties":{"id":{"type":"integer","minimum":-9223372036854775808,"maximum":9223372036854775807},"n":{"type":["integer","null"],"exclusiveMaximum":9223372036854775807,"minimum":0},"d":{"type":"integer","maximum":9223372036854775807,"exclusiveMaximum":true}}}');
    const [id, n, d] = parseDeclaredSchema('ev', doc).properties;
    assert.equal(id!.constraints, undefined);
    assert.deepEqual(n!.constraints, { minimum: 0 });
    assert.equal(d!.constraints, undefined);
    assert.equal(stored('9223372036854775807', id!), 9223372036854775807n);
    assert.equal(stored('-9223372036854775808', id!), -9223372036854775808n);
  });
  it('still refuses other integer bounds beyond 2^53, where JSON numbers are rounded', () => {
    refused({ properties: { p: { type: 'integer', maximum: 9007199254740993 } } }, /"maximum" 9007199254740992 is beyond 2\^53/);
    refused({ properties: { p: { type: 'integer', maximum: -9223372036854775808 } } }, /beyond 2\^53/);
    refused({ properties: { p: { type: 'integer', minimum: 9223372036854775807 } } }, /beyond 2\^53/);
    refused({ properties: { p: { type: 'integer', exclusiveMinimum: -9223372036854775808 } } }, /beyond 2\^53/);
  });
});

describe('the column limit (item 23)', () => {
  const wide = (n: number): Record<string, unknown> => ({ properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: 'string' }])) });
  it('refuses a schema with more properties than a table may have columns, naming the setting', () => {
    assert.equal(parseDeclaredSchema('ev', wide(1000)).properties.length, 1000);
    refused(wide(1001), /schema ev: 1001 properties, more than the 1000 columns a table may have \(TRIBUTARY_MAX_COLUMNS_PER_TABLE\)/);
    refused(wide(5000), /5000 properties, more than the 1000 columns/);
    assert.throws(() => parseDeclaredSchema('ev', wide(11), { maxProperties: 10 }), /11 properties, more than the 10 columns/);
  });
});

describe('enum or const without a type (item 5)', () => {
  it('takes the column type from the values when they agree', () => {
    const d = parseDeclaredSchema('ev', { properties: {
      plan: { enum: ['free', 'pro', null] }, seats: { enum: [1, 2, 3] }, ratio: { enum: [0.5, 1] }, on: { const: true }, v: { const: 'v2' },
    } });
    assert.deepEqual(d.properties.map((c) => [c.name, c.type, c.allowed, c.accepts]), [
      ['plan', 'string', ['free', 'pro'], undefined], ['seats', 'int64', [1, 2, 3], undefined], ['ratio', 'double', [0.5, 1], undefined],
      ['on', 'boolean', [true], undefined], ['v', 'string', ['v2'], undefined],
    ]);
    const plan = d.properties[0]!;
    assert.equal(stored('pro', plan), 'pro');
    assert.equal(stored(null, plan), null);
    assert.ok(failure('team', plan).violation);
    assert.equal(stored(2, d.properties[1]!), 2);
  });
  it('reads values of several types as a union (item 6\'s column), and refuses a list with nothing but null', () => {
    const c = column({ enum: ['auto', 1, 2] });
    assert.deepEqual([c.type, c.accepts, c.allowed], ['string', ['integer', 'string'], ['auto', 1, 2]]);
    assert.equal(stored(1, c), '1');
    assert.equal(stored('auto', c), 'auto');
    assert.ok(failure('1', c).violation, 'the string "1" is not the integer 1');
    refused({ properties: { p: { enum: [null] } } }, /property "p": give a "type", or "enum"\/"const" values other than null/);
    refused({ properties: { p: { description: 'x' } } }, /property "p": give a "type"/);
  });
  it('pins a typeless enum back with its type, reading the same columns', () => {
    const d = parseDeclaredSchema('ev', { properties: { plan: { enum: ['free', 'pro'] }, mode: { enum: ['auto', 1] } } });
    const pinned = JSON.parse(JSON.stringify(toDeclaredDocument(d)));
    assert.deepEqual(pinned.properties.plan, { type: ['string', 'null'], enum: ['free', 'pro'] });
    assert.deepEqual(pinned.properties.mode, { type: ['integer', 'string', 'null'], enum: ['auto', 1] });
    assert.deepEqual(parseDeclaredSchema('ev', pinned), d);
    assert.equal(declarationHash(parseDeclaredSchema('ev', pinned)), declarationHash(d));
  });
});

describe('union types (item 6)', () => {
  it('stores mixed scalars as text in JSON\'s spelling, and checks each value against the union', () => {
    const c = column({ type: ['string', 'integer', 'null'] });
    assert.deepEqual([c.type, c.accepts], ['string', ['integer', 'string']]);
    assert.equal(stored('abc', c), 'abc');
    assert.equal(stored(42, c), '42');
    assert.equal(stored(-7, c), '-7');
    assert.equal(stored(null, c), null);
    for (const bad of [2.5, true, { a: 1 }, [1]]) {
      const f = failure(bad, c);
      assert.ok(!f.violation && /p: expected an integer or a string, got /.test(f.failure), f.failure);
    }
    assert.match(failure(2 ** 60, c).failure, /lost precision in JSON/);
    const flags = column({ type: ['boolean', 'number'] });
    assert.deepEqual([flags.type, flags.accepts], ['string', ['boolean', 'number']]);
    assert.equal(stored(true, flags), 'true');
    assert.equal(stored(2.5, flags), '2.5');
    assert.equal(stored(3, flags), '3', 'an integer is a number');
    assert.ok(isFailure(coerceProperty('true', flags, 's')), 'the text "true" is not a boolean');
  });
  it('keeps one non-null type that type, and integer with number a double', () => {
    assert.equal(column({ type: ['string', 'null'] }).type, 'string');
    assert.equal(column({ type: ['string', 'null'] }).accepts, undefined);
    assert.equal(column({ type: ['integer', 'null'] }).type, 'int64');
    assert.equal(column({ type: ['integer', 'number'] }).type, 'double');
    assert.equal(column({ type: ['string', 'null'], format: 'date-time' }).type, 'timestamp');
  });
  it('applies string keywords to strings and numeric ones to numbers, and an enum by type and value', () => {
    const c = column({ type: ['string', 'integer'], maxLength: 3, minimum: 0, format: 'date', enum: ['2026-01-01', 'x', 5, 10, 4000] });
    assert.deepEqual(c.constraints, { minimum: 0, maxLength: 3, format: 'date' });
    assert.equal(stored(4000, c), '4000', 'maxLength and format do not apply to a number');
    assert.match(failure('x', c).failure, /is not a valid date \(format\)/);
    assert.match(failure('2026-01-01', c).failure, /is longer than maxLength 3/);
    const e = column({ type: ['string', 'integer'], enum: ['5', 10] });
    assert.equal(stored('5', e), '5');
    assert.equal(stored(10, e), '10');
    assert.ok(failure(5, e).violation, 'the integer 5 is not the string "5"');
    assert.ok(failure('10', e).violation);
    const n = column({ type: ['string', 'number'], minimum: 0 });
    assert.match(failure(-1, n).failure, /is less than the minimum 0/);
    assert.equal(stored('-1', n), '-1', 'a string is not held to minimum');
    refused({ properties: { p: { type: ['string', 'integer'], enum: ['a', true] } } }, /enum value true is not of type integer or string/);
  });
  it('stores a union with an object or array as JSON text, checked by Ajv against the whole union', () => {
    const c = column({ type: ['array', 'string'], items: { type: 'integer' } });
    assert.equal(c.type, 'json');
    assert.equal(stored('a', c), '"a"');
    assert.equal(stored([1, 2], c), '[1,2]');
    assert.match(failure(5, c).failure, /expected an array or a string, got 5/);
    assert.ok(failure(['x'], c).violation);
    // an enum of objects or arrays stays refused, as on an object property
    refused({ properties: { p: { enum: ['a', { k: 1 }] } } }, /enum is for string, integer, number and boolean properties/);
  });
  it('pins a union back as written, reading the same column', () => {
    const d = parseDeclaredSchema('ev', { properties: { a: { type: ['string', 'integer', 'null'], maxLength: 4 }, b: { type: ['array', 'string'] }, h: { type: ['integer', 'string'], 'x-pii': 'hash', enum: [1, 'one'] } } });
    const pinned = JSON.parse(JSON.stringify(toDeclaredDocument(d)));
    assert.deepEqual(pinned.properties.a, { type: ['integer', 'string', 'null'], maxLength: 4 });
    assert.deepEqual(parseDeclaredSchema('ev', pinned), d);
    assert.equal(declarationHash(parseDeclaredSchema('ev', pinned)), declarationHash(d));
    const h = d.properties[2]!;
    assert.match(String(stored(1, h)), /^[0-9a-f]{64}$/);
    assert.ok(failure('1', h).violation);
    assert.doesNotMatch(failure(true, h).failure, /true/, 'a hashed value is withheld');
    assert.notEqual(declarationHash(parseDeclaredSchema('ev', { properties: { a: { type: ['string', 'integer'] } } })),
      declarationHash(parseDeclaredSchema('ev', { properties: { a: { type: 'string' } } })), 'a union is another declaration than its text column');
  });
});

describe('a declared schema through a batch', () => {
  const batch = (doc: Record<string, unknown>, props: readonly Record<string, unknown>[]): { table: TableBatch; outcomes: (string | undefined)[] } => {
    const table = new TableBatch('page_view', { before: parseDeclaredSchema('page_view', doc) });
    const outcomes = props.map((p, i) => {
      const rec = record(pageView(String(i), p), { offset: i });
      const env = parseEnvelope(rec, NOW, DEFAULT_ENVELOPE_LIMITS);
      if (isRejection(env)) throw new Error(env.detail);
      const q = table.add(env, rec, { now: NOW, piiSalt: '' });
      return q === undefined ? undefined : `${q.reason}: ${q.detail}`;
    });
    return { table, outcomes };
  };

  it('stores a union column\'s values as text and quarantines a value of another type (item 6)', () => {
    const { table, outcomes } = batch({ properties: { v: { type: ['string', 'integer', 'null'] } } }, [{ v: 'a' }, { v: 7 }, { v: 1.5 }, {}]);
    assert.deepEqual(outcomes, [undefined, undefined, 'uncoercible_value: v: expected an integer or a string, got 1.5 (column type string)', undefined]);
    assert.deepEqual([...table.splits.values()][0]!.rows.rows().map((r) => r[9]), ['a', '7', null]);
  });
});

describe('top-level keywords: enforced or refused, never ignored (item 7)', () => {
  const props = { a: { type: 'string' }, b: { type: 'string' }, c: { type: 'integer' } };

  it('refuses each keyword it does not enforce, naming it', () => {
    for (const [k, v] of Object.entries({
      dependentSchemas: { a: { required: ['b'] } }, patternProperties: { '^x': { type: 'string' } }, propertyNames: { maxLength: 3 },
      if: { required: ['a'] }, then: { required: ['b'] }, else: { required: ['c'] }, allOf: [{ required: ['a'] }], anyOf: [{ required: ['a'] }], oneOf: [{ required: ['a'] }], not: { required: ['a'] },
      unevaluatedProperties: false, enum: [{}], const: {}, $ref: '#/definitions/x', minLength: 1, 'x-pii': 'hash', vendor_extension: 1,
    })) {
      refused({ properties: props, [k]: v }, new RegExp(`schema ev: top-level "${k.replace('$', '\\$')}" is not (enforced|supported)`));
    }
    refused({ properties: props, dependencies: { a: { required: ['b'] } } }, /top-level "dependencies" with a schema for "a" is not enforced/);
    refused({ properties: props, additionalProperties: { type: 'string' } }, /top-level "additionalProperties" as a schema is not enforced/);
    refused({ properties: props, type: 'array' }, /top-level "type" must be "object"/);
    refused({ properties: props, minProperties: -1 }, /"minProperties" must be a non-negative integer/);
    refused({ properties: props, dependentRequired: { a: ['zz'] } }, /dependentRequired names "zz", which is not a property/);
    refused({ properties: props, dependentRequired: { a: 'b' } }, /"dependentRequired" must map property names to arrays of property names/);
  });

  it('accepts annotations, Iglu\'s self block, definitions and Tributary\'s hints', () => {
    const d = parseDeclaredSchema('ev', {
      $schema: 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#', $id: 'x', $comment: 'c', title: 'ev', description: 'd',
      self: { vendor: 'com.acme', name: 'ev', format: 'jsonschema', version: '1-0-0' }, type: 'object', examples: [{}], default: {}, deprecated: false,
      definitions: {}, $defs: {}, properties: props, required: ['a'], additionalProperties: true, 'x-order-by': ['event_time'],
    });
    assert.equal(d.properties.length, 3);
    assert.equal(d.recordRules, undefined);
    assert.equal(parseDeclaredSchema('ev', { properties: props, additionalProperties: {} }).allowNewProperties, true);
  });

  it('enforces minProperties, maxProperties, dependentRequired and draft 4 property dependencies on each record', () => {
    const doc = { properties: { ...props, camelCase: { type: 'string' } }, minProperties: 2, maxProperties: 3, dependentRequired: { a: ['b'] }, dependencies: { camelCase: ['c'] } };
    const d = parseDeclaredSchema('ev', doc);
    assert.deepEqual(d.recordRules, { minProperties: 2, maxProperties: 3, dependentRequired: [['a', ['b']], ['camel_case', ['c']]] });
    const table = new TableBatch('ev', { before: d });
    const outcome = (p: Record<string, unknown>, i: number): string | undefined => {
      const rec = record({ event: 'ev', event_id: String(i), ts: TS, properties: p }, { offset: i });
      const env = parseEnvelope(rec, NOW, DEFAULT_ENVELOPE_LIMITS);
      if (isRejection(env)) throw new Error(env.detail);
      const q = table.add(env, rec, { now: NOW, piiSalt: '' });
      return q === undefined ? undefined : `${q.reason}: ${q.detail}`;
    };
    assert.deepEqual([{ a: 'x', b: 'y' }, { b: 'y', c: 1 }, { a: 'x', b: 'y', c: 1 }, { camelCase: 'x', c: 1 }].map(outcome), [undefined, undefined, undefined, undefined]);
    assert.deepEqual([{ b: 'y' }, { b: 'y', c: null }, { a: 'x', b: 'y', c: 1, extra: true }, { a: 'x', c: 1 }, { camelCase: 'x', b: 'y' }].map(outcome), [
      'schema_violation: the record has 1 property, fewer than minProperties 2 (a property whose value is null counts as absent)',
      'schema_violation: the record has 1 property, fewer than minProperties 2 (a property whose value is null counts as absent)',
      'schema_violation: the record has 4 properties, more than maxProperties 3',
      'schema_violation: property a is present, so dependentRequired needs b',
      'schema_violation: property camel_case is present, so dependentRequired needs c',
    ]);
  });

  it('pins the record rules back, and takes changed ones as a new declaration', () => {
    const d = parseDeclaredSchema('ev', { properties: props, maxProperties: 2, dependencies: { a: ['b'] } });
    const pinned = JSON.parse(JSON.stringify(toDeclaredDocument(d)));
    assert.equal(pinned.maxProperties, 2);
    assert.deepEqual(pinned.dependentRequired, { a: ['b'] });
    assert.deepEqual(parseDeclaredSchema('ev', pinned), d);
    assert.notEqual(declarationHash(d), declarationHash(parseDeclaredSchema('ev', { properties: props, maxProperties: 2 })));
    assert.equal(declarationHash(parseDeclaredSchema('ev', { properties: props })), declarationHash(parseDeclaredSchema('ev', { properties: props, type: 'object', $comment: 'x' })));
  });

  it('refuses subschemas on a scalar property, which Tributary would not apply', () => {
    refused({ properties: { p: { type: 'string', anyOf: [{ pattern: '^a' }, { pattern: '^b' }] } } }, /property "p": "anyOf" is not enforced on a scalar property/);
    refused({ properties: { p: { type: 'integer', $ref: '#/definitions/n' } }, definitions: { n: { minimum: 0 } } }, /property "p": "\$ref" is not enforced on a scalar property/);
    refused({ properties: { p: { type: 'object', 'x-pii': 'hash', not: {} } } }, /"not" is not enforced on a hashed property/);
    assert.ok(column({ type: 'object', anyOf: [{ required: ['a'] }, { required: ['b'] }] }).nested, 'an object property\'s subschemas run on Ajv');
  });

  it('lists the keywords it supports in one place', () => {
    for (const k of ['properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties', 'dependentRequired', 'dependencies', 'x-order-by', 'self', 'description']) {
      assert.ok(TOP_LEVEL_KEYWORDS.has(k), k);
    }
    for (const k of ['patternProperties', 'allOf', 'if']) assert.ok(!TOP_LEVEL_KEYWORDS.has(k), k);
  });
});

describe('enums and the cost of every keyword, bounded at load (item 1)', () => {
  const values = (n: number, width = 12): string[] => Array.from({ length: n }, (_, i) => `v${String(i).padStart(width - 1, '0')}`);

  it('refuses an enum past its limits, naming the keyword, the property and the limit', () => {
    assert.equal(column({ type: 'string', enum: values(MAX_ENUM_VALUES) }).allowed!.length, MAX_ENUM_VALUES);
    refused({ properties: { plan: { type: 'string', enum: values(MAX_ENUM_VALUES + 1) } } }, new RegExp(`property "plan": "enum" has ${MAX_ENUM_VALUES + 1} values, more than ${MAX_ENUM_VALUES}`));
    refused({ properties: { plan: { enum: values(20_000) } } }, /property "plan": "enum" has 20000 values, more than 10000/);
    refused({ properties: { plan: { const: 'x'.repeat(MAX_ENUM_CHARACTERS + 1) } } }, new RegExp(`property "plan": "const" holds \\d+ characters of values, more than ${MAX_ENUM_CHARACTERS}`));
  });

  it('refuses a document past its size and object or array schemas past their nodes in all', () => {
    const big = { properties: { a: { type: 'string', description: 'x'.repeat(MAX_SCHEMA_CHARACTERS) } } };
    refused(big, new RegExp(`schema ev: the document is \\d+ characters of JSON, more than ${MAX_SCHEMA_CHARACTERS}`));
    const node = (n: number): Record<string, unknown> => ({ type: 'object', properties: Object.fromEntries(Array.from({ length: n - 1 }, (_, i) => [`f${i}`, { type: 'string' }])) });
    const many = (k: number, n: number): Record<string, unknown> => ({ properties: Object.fromEntries(Array.from({ length: k }, (_, i) => [`p${i}`, node(n)])) });
    assert.equal(parseDeclaredSchema('ev', many(4, MAX_DOCUMENT_SCHEMA_NODES / 4)).properties.length, 4);
    refused(many(5, MAX_DOCUMENT_SCHEMA_NODES / 4), new RegExp(`property "p4": its object or array schema brings the document's schema nodes to ${MAX_DOCUMENT_SCHEMA_NODES + MAX_DOCUMENT_SCHEMA_NODES / 4}, more than ${MAX_DOCUMENT_SCHEMA_NODES}`));
  });

  it('checks membership in a set: 20,000 values against a 10,000-value enum take milliseconds', () => {
    const c = column({ type: 'string', enum: values(MAX_ENUM_VALUES, 20) });
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) coerceProperty(i % 2 === 0 ? `v${String(i % MAX_ENUM_VALUES).padStart(19, '0')}` : `nope-${i}`, c, 's');
    const ms = performance.now() - started;
    // a scan compares each value with every entry: 10^8 comparisons, seconds
    assert.ok(ms < 500, `${ms.toFixed(0)} ms`);
  });

  it('keeps violation details short, and holding them keeps neither the enum\'s text nor the value alive', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const c = column({ type: 'string', enum: values(MAX_ENUM_VALUES, 20) });
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept: string[] = [];
    for (let i = 0; i < 300; i++) {
      const f = failure(`nope-${i}`, c);
      assert.ok(f.failure.length < 200, f.failure);
      kept.push(f.failure);
    }
    // values of a megabyte: the detail quotes 64 characters of each
    for (let i = 0; i < 30; i++) {
      const f = failure(`${i}`.padEnd(1_000_000, 'x'), c);
      assert.ok(f.failure.length < 300, String(f.failure.length));
      kept.push(f.failure);
    }
    gc();
    const grown = (process.memoryUsage().heapUsed - before) / 1e6;
    // a slice of the enum's joined text (240 KB) per detail held 72 MB; a slice of each value's JSON 30 MB
    assert.ok(grown < 8, `${grown.toFixed(1)} MB held by ${kept.length} details`);
  });
});
