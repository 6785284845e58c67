// Declared JSON Schemas as tracking teams write them (issue 22, items 1, 5–10, 23): real-world idioms
// accepted and enforced, everything else refused at load with a message naming it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coerceProperty, isFailure } from '../../functions/core/batch/coerce.js';
import { parseDeclaredSchema } from '../../functions/core/schema/declared-schema.js';
import type { ColumnSpec } from '../../functions/core/schema/model.js';

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
