import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { coerceProperty, coerceValue, isFailure } from '../../functions/core/batch/coerce.js';
import { describeChecks } from '../../functions/core/schema/constraints.js';
import type { ColumnSpec } from '../../functions/core/schema/model.js';

const failed = (v: ReturnType<typeof coerceValue>): boolean => isFailure(v);

const COERCE_MODULE = JSON.stringify(new URL('../../functions/core/batch/coerce.ts', import.meta.url).href);

/**
 * Runs `body` (module code with `coerce` imported from coerce.ts, posting its result) in a worker and
 * gives what it posts, or 'still running after 20 s'. A test's own timeout cannot interrupt a synchronous
 * regular expression, so code that could backtrack for hours runs where it can be stopped.
 */
async function inWorker(body: string): Promise<unknown> {
  const { Worker } = await import('node:worker_threads');
  const worker = new Worker(`
    (await import('tsx/esm/api')).register();
    const coerce = await import(${COERCE_MODULE});
    const { parentPort } = await import('node:worker_threads');
    ${body}
  `, { eval: true });
  const result = await Promise.race([
    new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); }),
    new Promise((resolve) => setTimeout(() => resolve('still running after 20 s'), 20_000).unref()),
  ]);
  await worker.terminate();
  return result;
}

describe('coerceValue', () => {
  it('converts losslessly', () => {
    assert.equal(coerceValue('42', 'int64'), 42);
    assert.equal(coerceValue('9223372036854775807', 'int64'), 9223372036854775807n);
    assert.equal(coerceValue(7, 'double'), 7);
    assert.equal(coerceValue('2.5', 'double'), 2.5);
    assert.equal(coerceValue(12, 'string'), '12');
    assert.equal(coerceValue('true', 'boolean'), true);
    assert.equal(coerceValue('2026-11-19T10:00:00Z', 'timestamp'), Date.UTC(2026, 10, 19, 10));
    assert.equal(coerceValue({ a: [1, 'x'] }, 'json'), '{"a":[1,"x"]}');
    assert.equal(coerceValue(null, 'int64'), null);
  });

  it('refuses conversions that would lose or invent data', () => {
    assert.ok(failed(coerceValue(2.5, 'int64')), '2.5 is not an integer');
    assert.ok(failed(coerceValue(2 ** 60, 'int64')), 'JSON already rounded this integer');
    assert.ok(failed(coerceValue('9223372036854775808', 'int64')), 'overflow');
    assert.ok(failed(coerceValue(2 ** 31, 'int32')));
    assert.ok(failed(coerceValue('twelve', 'double')));
    assert.ok(failed(coerceValue('NaN', 'double')));
    assert.ok(failed(coerceValue(1, 'boolean')));
    assert.ok(failed(coerceValue({ a: 1 }, 'string')));
    assert.ok(failed(coerceValue('soon', 'timestamp')));
  });
});

describe('times and dates a column can hold', () => {
  it('keeps 1900-01-01 to 2299-12-31 (what ClickHouse DateTime64 and Date32 hold) and refuses the rest', () => {
    assert.equal(coerceValue('1900-01-01T00:00:00.000Z', 'timestamp'), Date.UTC(1900, 0, 1));
    assert.equal(coerceValue('2299-12-31T23:59:59.999Z', 'timestamp'), Date.UTC(2299, 11, 31, 23, 59, 59, 999));
    assert.equal(coerceValue('1965-05-01', 'date'), Math.floor(Date.UTC(1965, 4, 1) / 86_400_000));
    assert.equal(coerceValue('1900-01-01', 'date'), Math.floor(Date.UTC(1900, 0, 1) / 86_400_000));
    for (const v of ['1899-12-31T23:59:59.999Z', '2300-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z', 1e20, 2 ** 63, -(2 ** 60)]) {
      assert.ok(failed(coerceValue(v, 'timestamp')), `timestamp ${v}`);
    }
    for (const v of ['1899-12-31', '2300-01-01', '0001-01-01']) assert.ok(failed(coerceValue(v, 'date')), `date ${v}`);
    assert.match(String((coerceValue('0099-12-31', 'date') as { failure: string }).failure), /from 1900 to 2299/);
  });
});

describe('declared enums', () => {
  const plan: ColumnSpec = { name: 'plan', type: 'string', nullable: true, origin: 'declared', allowed: ['free', 'pro'] };
  it('keeps listed values and null, and refuses the rest with the list', () => {
    assert.equal(coerceProperty('pro', plan, 's'), 'pro');
    assert.equal(coerceProperty(null, plan, 's'), null);
    const v = coerceProperty('enterprise', plan, 's');
    assert.ok(isFailure(v));
    assert.match((v as { failure: string }).failure, /plan: "enterprise" is not one of "free", "pro"/);
  });
  it('compares coerced values: "2" for an integer enum [1, 2], and a hashed column before hashing', () => {
    assert.equal(coerceProperty('2', { name: 'n', type: 'int64', nullable: true, origin: 'declared', allowed: [1, 2] }, 's'), 2);
    assert.ok(isFailure(coerceProperty(3, { name: 'n', type: 'int64', nullable: true, origin: 'declared', allowed: [1, 2] }, 's')));
    const tier: ColumnSpec = { name: 'tier', type: 'string', nullable: true, origin: 'declared', pii: 'hash', allowed: [1, 2] };
    assert.equal(coerceProperty(2, tier, 'salt'), createHash('sha256').update('salt').update('2').digest('hex'));
    assert.ok(isFailure(coerceProperty(5, tier, 'salt')));
  });
});

describe('declared value constraints', () => {
  const col = (type: ColumnSpec['type'], constraints: ColumnSpec['constraints'], extra: Partial<ColumnSpec> = {}): ColumnSpec =>
    ({ name: 'v', type, nullable: true, origin: 'declared', constraints, ...extra });
  const broken = (value: unknown, c: ColumnSpec): string | undefined => {
    const v = coerceProperty(value, c, 's');
    return isFailure(v) ? v.failure : undefined;
  };

  it('checks bounds on the coerced number, inclusive and exclusive, int64 beyond 2^53 exactly', () => {
    const between = col('double', { minimum: 0, exclusiveMaximum: 100 });
    assert.equal(coerceProperty(0, between, 's'), 0);
    assert.equal(coerceProperty('99.5', between, 's'), 99.5);
    assert.match(broken(-0.01, between)!, /is less than the minimum 0/);
    assert.match(broken(100, between)!, /is not less than the exclusive maximum 100/);
    const ids = col('int64', { exclusiveMinimum: 9007199254740992 });
    assert.equal(coerceProperty('9007199254740993', ids, 's'), 9007199254740993n);
    assert.match(broken('9007199254740992', ids)!, /not greater than the exclusive minimum/);
    assert.equal(coerceProperty(null, between, 's'), null, 'null breaks no constraint');
  });

  it('takes decimal steps as decimal: 19.99 is a multiple of 0.01, 19.995 is not', () => {
    const cents = col('double', { multipleOf: 0.01 });
    for (const v of [19.99, 0.3, 1e6 + 0.07, -4.2]) assert.equal(coerceProperty(v, cents, 's'), v, String(v));
    for (const v of [19.995, 0.001]) assert.match(broken(v, cents)!, /is not a multiple of 0.01/);
    assert.equal(coerceProperty('9223372036854775800', col('int64', { multipleOf: 100 }), 's'), 9223372036854775800n);
    assert.match(broken('9223372036854775801', col('int64', { multipleOf: 100 }))!, /not a multiple of 100/);
    assert.equal(coerceProperty(1e-7, col('double', { multipleOf: 1e-8 }), 's'), 1e-7);
    assert.equal(coerceProperty(1.5e21, col('double', { multipleOf: 5e20 }), 's'), 1.5e21);
  });

  it('is exact where binary quotients round to whole numbers (large values, odd integers)', () => {
    for (const [v, m] of [[2000000000000001, 2], ['2000000000000001', 2], [9007199254740991, 3], [6000000000000.123, 0.01], [1000000000000000.5, 1]] as const) {
      assert.match(broken(v, col(typeof v === 'string' || Number.isInteger(v) ? 'int64' : 'double', { multipleOf: m }))!, /is not a multiple of/, `${v} / ${m}`);
    }
    assert.equal(coerceProperty(9007199254740990, col('int64', { multipleOf: 3 }), 's'), 9007199254740990);
    assert.equal(coerceProperty(2 ** 70, col('double', { multipleOf: 64 }), 's'), 2 ** 70, 'a whole number is its exact integer, not its 17 printed digits');
    assert.match(broken(2 ** 70 + 2 ** 18, col('double', { multipleOf: 2 ** 19 }))!, /is not a multiple of/);
  });

  it('checks string keywords of a date-time on the text sent, and numeric ones on the coerced number', () => {
    const at = col('timestamp', { maxLength: 20 });
    assert.equal(coerceProperty('2026-11-19T10:00:00Z', at, 's'), Date.UTC(2026, 10, 19, 10));
    assert.match(broken('2026-11-19T10:00:00.000Z', at)!, /is longer than maxLength 20/);
    assert.equal(coerceProperty(Date.UTC(2026, 10, 19, 10), at, 's'), Date.UTC(2026, 10, 19, 10), 'epoch milliseconds are not text');
    assert.match(broken('0', col('int64', { minimum: 1 }))!, /"0" is less than the minimum 1/);
    assert.match(broken(12345, col('string', { maxLength: 4 }))!, /12345 is longer than maxLength 4/);
  });

  it('counts string lengths in code points, as JSON Schema does', () => {
    const two = col('string', { minLength: 2, maxLength: 2 });
    assert.equal(coerceProperty('😀😀', two, 's'), '😀😀', 'two code points, four UTF-16 units');
    assert.match(broken('😀', two)!, /shorter than minLength 2/);
    assert.match(broken('abc', two)!, /longer than maxLength 2/);
  });

  it('matches patterns unanchored, with Unicode semantics', () => {
    assert.equal(coerceProperty('order-42', col('string', { pattern: '\\d+$' }), 's'), 'order-42');
    assert.match(broken('order-42x', col('string', { pattern: '\\d+$' }))!, /does not match the pattern/);
    assert.equal(coerceProperty('Zürich', col('string', { pattern: '^\\p{L}+$' }), 's'), 'Zürich');
  });

  it('runs patterns in linear time: a megabyte value against backtracking patterns finishes', async () => {
    // A backtracking engine would run for minutes: \d+$ over a megabyte of digits took 13 in V8.
    const result = await inWorker(`
      const col = (pattern) => ({ name: 'v', type: 'string', nullable: true, origin: 'declared', constraints: { pattern } });
      const digits = '1'.repeat(1_000_000);
      parentPort.postMessage([
        coerce.coerceProperty(digits + 'x', col('\\\\d+$'), 's'),
        coerce.coerceProperty('a'.repeat(1_000_000) + '!', col('^(a+)+$'), 's'),
        coerce.coerceProperty(digits, col('\\\\d+$'), 's') === digits,
      ]);
    `) as [{ failure: string }, { failure: string }, boolean];
    assert.ok(Array.isArray(result), String(result));
    assert.match(result[0].failure, /does not match the pattern/);
    assert.match(result[1].failure, /does not match the pattern/);
    assert.equal(result[2], true, 'a megabyte of digits matches \\d+$');
  });

  it('checks a hashed column before hashing, without quoting its value', () => {
    const email = col('string', { pattern: '@' }, { pii: 'hash' });
    assert.match(String(coerceProperty('a@example.com', email, 'salt')), /^[0-9a-f]{64}$/);
    const failure = broken('not-an-address', email)!;
    assert.match(failure, /value withheld: x-pii hash\) does not match the pattern/);
    assert.doesNotMatch(failure, /not-an-address/);
  });

  it('marks constraint failures as violations and type failures as not', () => {
    const qty = col('int64', { minimum: 1 });
    assert.equal((coerceProperty(0, qty, 's') as { violation?: true }).violation, true);
    assert.equal((coerceProperty('x', qty, 's') as { violation?: true }).violation, undefined);
  });
});

describe('declared formats', () => {
  const col = (format: string, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({ name: 'v', type: 'string', nullable: true, origin: 'declared', constraints: { format }, ...extra });
  const examples: Record<string, { good: string[]; bad: string[] }> = {
    uuid: { good: ['123e4567-e89b-12d3-a456-426614174000', '123E4567-E89B-12D3-A456-426614174000'], bad: ['123e4567e89b12d3a456426614174000', 'urn:uuid:123e4567-e89b-12d3-a456-426614174000', ''] },
    email: { good: ['a@example.com', 'first.last+tag@mail.example.co.uk'], bad: ['bob', '@example.com', 'a@', 'a@-x.com', 'a..b@example.com', `${'a'.repeat(65)}@example.com`, 'a@example.com.'] },
    hostname: { good: ['example.com', 'localhost', 'a-b.c1', 'example.com.'], bad: ['-a.com', 'a_b.com', 'a..b', `${'a'.repeat(64)}.com`, '.', 'example.com..'] },
    ipv4: { good: ['10.0.0.1', '255.255.255.255'], bad: ['10.0.0.256', '10.0.0', '010.0.0.1', '::1'] },
    ipv6: { good: ['::1', '2001:db8::8a2e:370:7334'], bad: ['1.2.3.4', '2001:db8:::1', 'g::1'] },
    uri: {
      good: ['https://example.com/a?b=c#d', 'mailto:a@example.com', 'urn:isbn:0451450523', 'https://example.com/%C3%BC', 'https://xn--fsqu00a.xn--0zwm56d/'],
      // not RFC 3986 characters: spaces, quotes, non-ASCII (an IRI's)
      bad: ['/relative/path', 'example.com', 'https://exa mple.com', 'http://[::1', 'https://a.b/"x"', 'http://example.com/ü', 'https://例子.测试/'],
    },
    'date-time': { good: ['2026-11-19T10:00:00Z', '2026-11-19T10:00:00.123+01:00', '2026-11-19t10:00:00z'], bad: ['2026-11-19', '1700000000000', '2026-02-30T00:00:00Z'] },
    date: { good: ['2026-11-19', '2024-02-29'], bad: ['2026-02-30', '2026-11-19T00:00:00Z', '19/11/2026'] },
  };

  it('asserts each format Tributary knows, as a schema violation naming it', () => {
    for (const [format, { good, bad }] of Object.entries(examples)) {
      for (const g of good) assert.equal(coerceProperty(g, col(format), 's'), g, `${g} is a valid ${format}`);
      for (const b of bad) {
        const v = coerceProperty(b, col(format), 's');
        assert.ok(isFailure(v) && v.violation === true && v.failure.endsWith(`is not a valid ${format} (format)`), `${JSON.stringify(b)} is not a valid ${format}: ${JSON.stringify(v)}`);
      }
    }
  });

  it('checks a hashed address before hashing, without quoting it, and lets a format it does not know pass', () => {
    const email = col('email', { pii: 'hash' });
    assert.match(String(coerceProperty('a@example.com', email, 's')), /^[0-9a-f]{64}$/);
    const f = coerceProperty('bob.secret', email, 's');
    assert.ok(isFailure(f));
    assert.equal(f.failure, 'v: a string (value withheld: x-pii hash) is not a valid email (format)');
    // a registry entry written by a newer version may name a format this one lacks, even one that is
    // a name every JavaScript object has
    for (const unknown of ['iri-reference', 'hasOwnProperty', '__defineGetter__', 'toString', 'constructor']) {
      assert.equal(coerceProperty('anything', col(unknown), 's'), 'anything', unknown);
    }
  });

  it('asserts the same formats inside object and array properties', () => {
    const ctx: ColumnSpec = { name: 'ctx', type: 'json', nullable: true, origin: 'declared', nested: { type: 'object', properties: { ip: { type: 'string', format: 'ipv6' }, site: { type: 'string', format: 'uri-reference' } } } };
    assert.equal(coerceProperty({ ip: '::1', site: '/home' }, ctx, 's'), '{"ip":"::1","site":"/home"}');
    const f = coerceProperty({ ip: '1.2.3.4' }, ctx, 's');
    assert.ok(isFailure(f) && f.violation === true);
    assert.equal(f.failure, 'ctx: must match format "ipv6" at "/ip"');
  });

  it('checks a megabyte of hostile text in linear time', async () => {
    const result = await inWorker(`
      const col = (format) => ({ name: 'v', type: 'string', nullable: true, origin: 'declared', constraints: { format } });
      const started = Date.now();
      const long = 'a'.repeat(1_000_000);
      const out = [
        coerce.coerceProperty(long + '@' + 'a-'.repeat(300_000) + '!', col('email'), 's'),
        coerce.coerceProperty(('a'.repeat(60) + '.').repeat(16_000) + '-', col('hostname'), 's'),
        coerce.coerceProperty('a:' + '%'.repeat(1_000_000) + ' ', col('uri'), 's'),
        coerce.coerceProperty('2026-11-19T' + '9'.repeat(1_000_000), col('date-time'), 's'),
        // non-ASCII host labels: the URL parser's punycode took 9 s for these
        coerce.coerceProperty('http://' + Array(16).fill(Array.from({ length: 20_000 }, (_, i) => String.fromCharCode(0x4e00 + i)).join('')).join('.') + '/', col('uri'), 's'),
      ];
      parentPort.postMessage({ failures: out.map((v) => typeof v === 'object' && v !== null && 'failure' in v), ms: Date.now() - started });
    `) as { failures: boolean[]; ms: number };
    assert.ok(typeof result === 'object', String(result));
    assert.deepEqual(result.failures, [true, true, true, true, true]);
    // A bound, not a benchmark: these take milliseconds; the punycode case took 9 s before non-ASCII was refused.
    assert.ok(result.ms < 5_000, `${result.ms} ms`);
  });
});

describe('declared object and array properties (their JSON Schema, checked by Ajv)', () => {
  const cart: ColumnSpec = {
    name: 'cart', type: 'json', nullable: true, origin: 'declared',
    nested: {
      type: 'array', maxItems: 3,
      items: { type: 'object', properties: { sku: { type: 'string', pattern: '^[A-Z]+$' }, qty: { type: 'integer', minimum: 1 } }, required: ['sku'], additionalProperties: false },
    },
  };
  const failure = (value: unknown, c: ColumnSpec = cart): { failure: string; violation?: true } => {
    const v = coerceProperty(value, c, 's');
    assert.ok(isFailure(v), `${JSON.stringify(value)} should fail`);
    return v;
  };

  it('stores a value that meets the schema as JSON text, and null', () => {
    assert.equal(coerceProperty([{ sku: 'AB', qty: 2 }], cart, 's'), '[{"sku":"AB","qty":2}]');
    assert.equal(coerceProperty(null, cart, 's'), null);
  });

  it('refuses what breaks the schema inside, naming the keyword and where, as a schema violation', () => {
    const cases: Array<[unknown, RegExp]> = [
      [[{ sku: 'ab' }], /^cart: must match pattern "\^\[A-Z\]\+\$" at "\/0\/sku"$/],
      [[{ qty: 2 }], /^cart: must have required property 'sku' at "\/0"$/],
      [[{ sku: 'A', colour: 'red' }], /^cart: must NOT have additional properties \("colour"\) at "\/0"$/],
      [[{ sku: 'A', qty: 0 }], /^cart: must be >= 1 at "\/0\/qty"$/],
      [[{ sku: 'A' }, { sku: 'B' }, { sku: 'C' }, { sku: 'D' }], /^cart: must NOT have more than 3 items$/],
    ];
    for (const [value, message] of cases) {
      const f = failure(value);
      assert.match(f.failure, message);
      assert.equal(f.violation, true);
    }
  });

  it('refuses a value of the wrong kind as uncoercible, not as a violation', () => {
    for (const [value, message] of [[{ sku: 'A' }, /^cart: expected an array, got an object$/], ['AB', /^cart: expected an array, got "AB"$/], [3, /expected an array, got 3/]] as const) {
      const f = failure(value);
      assert.match(f.failure, message);
      assert.equal(f.violation, undefined);
    }
    const meta: ColumnSpec = { name: 'meta', type: 'json', nullable: true, origin: 'declared', nested: { type: 'object' } };
    assert.match(failure([], meta).failure, /expected an object, got an array/);
  });

  it('answers multipleOf and uniqueItems as a property\'s own keywords do: exact in decimal, every item compared', () => {
    const lines: ColumnSpec = { name: 'lines', type: 'json', nullable: true, origin: 'declared', nested: { type: 'array', items: { type: 'object', properties: { price: { multipleOf: 0.01 } } } } };
    assert.equal(coerceProperty([{ price: 19.99 }, { price: 0.07 }], lines, 's'), '[{"price":19.99},{"price":0.07}]');
    assert.match(failure([{ price: 19.995 }], lines).failure, /^lines: must be multiple of 0.01 at "\/0\/price"$/);
    const tuple: ColumnSpec = { name: 't', type: 'json', nullable: true, origin: 'declared', nested: { type: 'array', uniqueItems: true, prefixItems: [{ type: 'object' }, { type: 'object' }], items: { type: 'string' } } };
    // items of another type than `items` declares are compared too, and objects regardless of key order
    assert.match(failure([{ a: 1, b: 2 }, { b: 2, a: 1 }], tuple).failure, /^t: must NOT have duplicate items$/);
    assert.equal(coerceProperty([{ a: 1 }, { a: 2 }, 'x'], tuple, 's'), '[{"a":1},{"a":2},"x"]');
  });

  it('takes the kind of value from the property\'s own type, not from a failed branch', () => {
    const either: ColumnSpec = { name: 'p', type: 'json', nullable: true, origin: 'declared', nested: { type: ['object', 'array'], anyOf: [{ type: 'object', required: ['id'] }, { type: 'array', minItems: 1 }] } };
    const f = failure([], either);
    assert.equal(f.violation, true, f.failure);
    assert.match(failure('x', either).failure, /^p: expected an object or an array, got "x"$/);
  });

  it('shows the start of the schema in `schema show`', () => {
    assert.equal(describeChecks(cart), `schema ${JSON.stringify(cart.nested).slice(0, 60)}…`);
    assert.equal(describeChecks({ nested: { type: 'object' } }), 'schema {"type":"object"}');
  });

  it('leaves a JSON column without a schema (inferred, or declared as object-or-array) taking any JSON', () => {
    const any: ColumnSpec = { name: 'extra', type: 'json', nullable: true, origin: 'inferred' };
    assert.equal(coerceProperty({ a: [1] }, any, 's'), '{"a":[1]}');
    assert.equal(coerceProperty('x', any, 's'), '"x"');
  });

  it('names neither the value nor where in it for an x-pii column', () => {
    const secret: ColumnSpec = { ...cart, name: 'secret', pii: 'drop' };
    const inside = failure([{ sku: 'hunter2', 'bob@example.com': 1 }], secret);
    assert.match(inside.failure, /^secret: an array \(value withheld: x-pii drop\) breaks its schema's "(pattern|additionalProperties)"$/);
    const kind = failure('hunter2', secret);
    assert.equal(kind.failure, 'secret: a string (value withheld: x-pii drop) is not an array');
    assert.equal(coerceProperty([{ sku: 'OK' }], secret, 's'), null, 'a valid value is still dropped');
  });

  it('runs nested patterns in linear time and checks unique items in one pass', async () => {
    const result = await inWorker(`
      const col = (nested) => ({ name: 'v', type: 'json', nullable: true, origin: 'declared', nested });
      const digits = '1'.repeat(1_000_000);
      const many = Array.from({ length: 200_000 }, (_, i) => i);
      parentPort.postMessage([
        coerce.coerceProperty([digits + 'x'], col({ type: 'array', items: { type: 'string', pattern: '\\\\d+$' } }), 's'),
        coerce.coerceProperty({ ['a'.repeat(1_000_000) + '!']: 1 }, col({ type: 'object', patternProperties: { '^(a+)+$': true }, additionalProperties: false }), 's'),
        coerce.coerceProperty([...many, 0], col({ type: 'array', items: { type: 'integer' }, uniqueItems: true }), 's'),
        // Ajv's own uniqueItems compares every pair of these, from the end (minutes for a megabyte)
        coerce.coerceProperty([[-1], [-1], ...many.map((i) => [i])], col({ type: 'array', uniqueItems: true }), 's'),
      ]);
    `) as Array<{ failure: string }>;
    assert.ok(Array.isArray(result), String(result));
    assert.match(result[0]!.failure, /must match pattern/);
    assert.match(result[1]!.failure, /must NOT have additional properties/);
    assert.match(result[2]!.failure, /must NOT have duplicate items/);
    assert.match(result[3]!.failure, /must NOT have duplicate items/);
  });
});

describe('PII handling', () => {
  const email: ColumnSpec = { name: 'email', type: 'string', nullable: true, origin: 'declared', pii: 'hash' };
  it('hashes with the salt and never returns the raw value', () => {
    const v = coerceProperty('a@example.com', email, 'salt');
    assert.equal(v, createHash('sha256').update('salt').update('a@example.com').digest('hex'));
    assert.notEqual(coerceProperty('a@example.com', email, 'other'), v, 'the salt changes the hash');
  });
  it('drops values of drop columns', () => {
    assert.equal(coerceProperty('1.2.3.4', { ...email, name: 'ip', pii: 'drop' }, 's'), null);
  });
  it('never quotes a masked column\'s value in a failure (quarantine details are read by people it is masked from)', () => {
    const failures = [
      coerceProperty({ address: 'bob.secret@example.com' }, email, 's'),
      coerceProperty('secret-4711', { ...email, name: 'age', type: 'int64', pii: 'drop' }, 's'),
      coerceProperty('bob.secret@example.com', { ...email, allowed: ['x@example.com'] }, 's'),
    ];
    for (const f of failures) {
      assert.ok(isFailure(f));
      assert.doesNotMatch(f.failure, /secret/);
      assert.match(f.failure, /value withheld: x-pii/);
    }
    const plain = coerceProperty('secret-4711', { ...email, name: 'age', type: 'int64', pii: undefined }, 's');
    assert.ok(isFailure(plain) && /secret-4711/.test(plain.failure), 'other columns still show what was sent');
  });
});

describe('number text', () => {
  it('is rejected in linear time however long (a record must not stall its partition)', async () => {
    const result = await inWorker(`
      parentPort.postMessage([coerce.coerceValue('1'.repeat(1_000_000) + 'x', 'double'), coerce.coerceValue('1'.repeat(1000) + '.5e-997', 'double')]);
    `) as [ReturnType<typeof coerceValue>, number];
    assert.ok(Array.isArray(result), String(result));
    assert.ok(isFailure(result[0]), 'a million digits and a letter are not a number');
    assert.ok(Math.abs(result[1] - 111.11111111111111) < 1e-9, `a thousand digits with a fraction and an exponent are one: ${result[1]}`);
  });
});

describe('integers JSON.parse rounded (beyond 2^53, within int64)', () => {
  const big = JSON.parse('9007199254740993') as number; // parses as …992
  it('are refused by int64, string and json columns instead of stored rounded', () => {
    for (const type of ['int64', 'string'] as const) {
      const v = coerceValue(big, type);
      assert.ok(isFailure(v) && /lost precision in JSON; send it as a string/.test(v.failure), `${type}: ${JSON.stringify(v)}`);
    }
    const nested = coerceValue(JSON.parse('{"order":1234567890123456789}'), 'json');
    assert.ok(isFailure(nested) && /lost precision/.test(nested.failure));
    assert.equal(coerceValue(JSON.parse('{"order":123,"x":1e300}'), 'json'), '{"order":123,"x":1e+300}', 'whole doubles beyond int64 are doubles');
    assert.equal(coerceValue(big, 'double'), big, 'a double column holds a double');
    assert.equal(coerceValue('9007199254740993', 'int64'), 9007199254740993n, 'sent as a string, every digit is kept');
  });
});
