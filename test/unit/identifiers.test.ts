import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeValue, excerpt, isValidEventName, isValidPropertyName, isValidTopic, normaliseName, quoteIdentifier, quoteString,
} from '../../functions/core/identifiers.js';

describe('normaliseName', () => {
  it('maps camelCase, PascalCase, acronyms and separators to lower snake_case', () => {
    assert.equal(normaliseName('userId'), 'user_id');
    assert.equal(normaliseName('UserID'), 'user_id');
    assert.equal(normaliseName('user_id'), 'user_id');
    assert.equal(normaliseName('HTTPRequest'), 'http_request');
    assert.equal(normaliseName('Newsletter Signup'), 'newsletter_signup');
    assert.equal(normaliseName('page-view.v2'), 'page_view_v2');
    assert.equal(normaliseName('__x__'), 'x');
  });

  it('keeps characters it cannot map, so hostile names fail validation instead of being rewritten', () => {
    // \u212A is the Kelvin sign and \u0130 a dotted capital I: String#toLowerCase maps them to "k" and "i̇".
    for (const hostile of ["a'b", 'a`b', '../etc', 'a;drop', 'naïve', 'имя', 'a"b', 'a\\b', 'x/y', '\u212Aey', 'page\u212A', '\u0130d']) {
      assert.equal(isValidPropertyName(normaliseName(hostile)), false, hostile);
      assert.equal(isValidEventName(normaliseName(hostile)), false, hostile);
    }
  });

  it('rejects overlong names without normalising them', () => {
    const long = 'a'.repeat(10_000);
    assert.equal(normaliseName(long), long);
    assert.equal(isValidEventName(long), false);
    assert.equal(isValidPropertyName('a'.repeat(128)), true);
    assert.equal(isValidPropertyName('a'.repeat(129)), false);
    assert.equal(isValidEventName('a'.repeat(63)), true);
    assert.equal(isValidEventName('a'.repeat(64)), false);
  });
});

describe('quoting', () => {
  it('escapes backticks, quotes and backslashes', () => {
    assert.equal(quoteIdentifier('a`b'), '`a\\`b`');
    assert.equal(quoteIdentifier('a\\`; DROP'), '`a\\\\\\`; DROP`');
    assert.equal(quoteString("it's"), "'it\\'s'");
    assert.equal(quoteString('a\\'), "'a\\\\'");
  });

  it('abbreviates long values in messages', () => {
    const e = excerpt('x'.repeat(10_000));
    assert.ok(e.length < 100);
    assert.match(e, /10000 chars/);
  });
});

describe('topics', () => {
  it('accepts Kafka topic names and refuses path tricks and the key separator', () => {
    assert.equal(isValidTopic('tracking.events-v1_2'), true);
    for (const bad of ['', '.', '..', 'a/b', 'a+b', '../x', 'a b', 't'.repeat(250)]) assert.equal(isValidTopic(bad), false, bad);
  });
});

describe('describeValue', () => {
  it('quotes text, shortens long text, prints scalars as they are and containers by kind', () => {
    assert.equal(describeValue('many'), '"many"');
    assert.match(describeValue('x'.repeat(5000)), /^"x{63}…\(5000 chars\)$/);
    assert.deepEqual([1.5, 1e21, true, null, undefined].map(describeValue), ['1.5', '1e+21', 'true', 'null', 'undefined']);
    assert.deepEqual([describeValue([1]), describeValue({ a: 1 })], ['an array', 'an object']);
  });

  it('describes a value nested far deeper than JSON.stringify can recurse', () => {
    const deep = JSON.parse(`${'['.repeat(50_000)}${']'.repeat(50_000)}`);
    assert.throws(() => JSON.stringify(deep), RangeError);
    assert.equal(describeValue(deep), 'an array');
  });
});
