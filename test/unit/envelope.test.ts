import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ENVELOPE_LIMITS, isRejection, parseEnvelope, propertyName, type Envelope } from '../../functions/core/decode/envelope.js';
import type { Rejection } from '../../functions/core/quarantine/reasons.js';
import { parseTimestamp } from '../../functions/core/time.js';
import { NOW, record, TS } from '../helpers.js';

const parse = (value: unknown, limits = DEFAULT_ENVELOPE_LIMITS): Envelope | Rejection => parseEnvelope(record(value), NOW, limits);
const ok = (value: unknown): Envelope => {
  const e = parse(value);
  if (isRejection(e)) assert.fail(`unexpected rejection ${e.reason}: ${e.detail}`);
  return e;
};
const reason = (value: unknown, limits = DEFAULT_ENVELOPE_LIMITS): string => {
  const e = parse(value, limits);
  if (!isRejection(e)) assert.fail('expected a rejection');
  return e.reason;
};

describe('parseEnvelope', () => {
  it('reads the envelope and normalises names', () => {
    const e = ok({ event: 'PageView', event_id: 'e1', ts: TS, user_id: 'u1', properties: { pageUrl: '/x', nested: { a: [1] } } });
    assert.equal(e.table, 'page_view');
    assert.equal(e.eventId, 'e1');
    assert.equal(e.eventTime, Date.parse(TS));
    assert.equal(e.userId, 'u1');
    assert.deepEqual(Object.keys(e.properties).map(propertyName), ['page_url', 'nested']);
    assert.deepEqual(e.properties['pageUrl'], '/x', 'properties keep the names as sent');
  });

  it('refuses properties that normalise to the same column, whichever way they meet', () => {
    assert.equal(reason({ event: 'x', ts: TS, properties: { user_name: 1, userName: 2 } }), 'invalid_property_name');
    assert.equal(reason({ event: 'x', ts: TS, properties: { 'user-name': 1, userName: 2 } }), 'invalid_property_name');
    // more renamed names than the pairwise check handles: the Set path
    const many: Record<string, number> = {};
    for (let i = 0; i < 12; i++) many[`fieldNo${i}`] = i;
    ok({ event: 'x', ts: TS, properties: many });
    assert.equal(reason({ event: 'x', ts: TS, properties: { ...many, 'field-no11': 1 } }), 'invalid_property_name');
    assert.equal(reason({ event: 'x', ts: TS, properties: { ...many, field_no3: 1 } }), 'invalid_property_name');
  });

  it('derives event_id from topic/partition/offset when absent, and falls back to the Kafka timestamp for ts', () => {
    const e = parseEnvelope(record({ event: 'x' }, { topic: 't', partition: 3, offset: 42, timestamp: NOW - 5 }), NOW);
    assert.ok(!isRejection(e));
    assert.equal(e.eventId, 't-3-42');
    assert.equal(e.eventTime, NOW - 5);
  });

  it('keeps user ids above 2^53 exact', () => {
    // The raw JSON text, not a JS literal: the digits must survive JSON.parse's double conversion.
    assert.equal(ok(`{"event":"x","ts":"${TS}","user_id":12345678901234567890}`).userId, '12345678901234567890');
    assert.equal(ok({ event: 'x', ts: TS, user_id: 42 }).userId, '42');
  });

  it('takes those digits from the top-level user_id, never from a nested one or from inside a string', () => {
    const big = '98765432109876543210';
    const texts = [
      `{"event":"x","context":{"user_id":7},"ts":"${TS}","user_id":${big}}`,
      `{"event":"x","properties":{"referrer":{"user_id":42},"list":[{"user_id":1}]},"user_id" : ${big} }`,
      `{"event":"x","note":"\\\\\\"user_id\\": 5 {[","user_id":${big},"ts":"${TS}"}`,
      `{"event":"x","ts":"${TS}","properties":{"a":"}}"},"user_id":-${big}}`,
    ];
    assert.deepEqual(texts.map((t) => ok(t).userId), [big, big, big, `-${big}`]);
    // Spelt with an escape, the key is not found in the text: quarantined rather than rounded.
    assert.equal(reason(`{"event":"x","ts":"${TS}","user\\u005fid":${big}}`), 'uncoercible_value');
  });

  it('quarantines each kind of bad envelope with its reason', () => {
    assert.equal(reason(null), 'empty_value');
    assert.equal(reason(''), 'empty_value');
    assert.equal(reason('{"event": "x", '), 'malformed_json');
    assert.equal(reason('[1,2]'), 'not_an_object');
    assert.equal(reason('"just a string"'), 'not_an_object');
    assert.equal(reason({ ts: TS }), 'missing_event');
    assert.equal(reason({ event: '' }), 'missing_event');
    assert.equal(reason({ event: 42 }), 'invalid_event_name');
    assert.equal(reason({ event: "x'; DROP TABLE y; --" }), 'invalid_event_name');
    assert.equal(reason({ event: '../../etc/passwd' }), 'invalid_event_name');
    assert.equal(reason({ event: 'e'.repeat(10_000) }), 'invalid_event_name');
    assert.equal(reason({ event: 'x', event_id: { a: 1 } }), 'invalid_event_id');
    assert.equal(reason({ event: 'x', event_id: 'i'.repeat(129) }), 'invalid_event_id');
    assert.equal(reason({ event: 'x', ts: 'yesterday' }), 'invalid_timestamp');
    assert.equal(reason({ event: 'x', ts: '2026-02-30T00:00:00Z' }), 'invalid_timestamp');
    assert.equal(reason({ event: 'x', ts: 1763546400 }), 'invalid_timestamp', 'epoch seconds read as ms land in 1970');
    assert.equal(reason({ event: 'x', ts: NOW + 61 * 60_000 }), 'future_timestamp');
    assert.equal(reason({ event: 'x', ts: TS, user_id: { id: 1 } }), 'uncoercible_value');
    assert.equal(reason({ event: 'x', ts: TS, properties: [1] }), 'not_an_object');
    assert.equal(reason({ event: 'x', ts: TS, properties: { 'bad`name': 1 } }), 'invalid_property_name');
    assert.equal(reason({ event: 'x', ts: TS, properties: { ['p'.repeat(10_000)]: 1 } }), 'invalid_property_name');
    assert.equal(reason({ event: 'x', ts: TS, properties: { userId: 1, user_id: 2 } }), 'invalid_property_name');
    assert.equal(reason({ event: 'x', ts: TS, properties: { event_time: 1 } }), 'invalid_property_name');
  });

  it('refuses a key sent twice at any depth, and is not fooled by colons in strings', () => {
    assert.equal(reason('{"event": "x", "event": "y"}'), 'malformed_json');
    assert.equal(reason(`{"event": "x", "ts": ${JSON.stringify(TS)}, "properties": {"a" : 1, "a" : 2}}`), 'malformed_json');
    assert.equal(reason(`{"event": "x", "ts": ${JSON.stringify(TS)}, "properties": {"a": {"b": 1, "b": 1}}}`), 'malformed_json');
    // strings that look like keys to the quick colon count: the exact scan decides
    assert.deepEqual(ok(`{"event": "x", "ts": ${JSON.stringify(TS)}, "properties": {"a": " :b", "c": ":", "d": "\\\":e"}}`).properties, { a: ' :b', c: ':', d: '":e' });
    assert.deepEqual(ok(`{"event": "x", "ts": ${JSON.stringify(TS)}, "properties": {"u": "https://x.test/a:b", "t": "12:00:00"}}`).properties, { u: 'https://x.test/a:b', t: '12:00:00' });
  });

  it('allows an hour of clock skew into the future, not more', () => {
    assert.ok(!isRejection(parse({ event: 'x', ts: NOW + 59 * 60_000 })));
  });

  it('rejects oversized payloads and deep nesting without crashing', () => {
    assert.equal(reason({ event: 'x', properties: { blob: 'z'.repeat(2000) } }, { ...DEFAULT_ENVELOPE_LIMITS, maxRecordBytes: 1000 }), 'payload_too_large');
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { d: deep };
    assert.equal(reason({ event: 'x', ts: TS, properties: { deep } }), 'too_deeply_nested');
    // Far deeper than any stack: must still end in a reason, never a crash.
    const bomb = `{"event":"x","properties":{"p":${'['.repeat(200_000)}${']'.repeat(200_000)}}}`;
    assert.match(reason(bomb, { ...DEFAULT_ENVELOPE_LIMITS, maxRecordBytes: 1_000_000 }), /^(too_deeply_nested)$/);
  });

  it('counts nesting through objects and arrays alike, up to the limit and not one level more', () => {
    // The property value itself is level 1: a value of exactly maxDepth levels is kept.
    const nest = (levels: number): unknown => {
      let v: unknown = 'leaf';
      for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { k: v };
      return v;
    };
    const limits = { ...DEFAULT_ENVELOPE_LIMITS, maxDepth: 5 };
    assert.ok(!isRejection(parse({ event: 'x', ts: TS, properties: { ok: nest(5), flat: [1, 2, { a: 3 }] } }, limits)));
    assert.equal(reason({ event: 'x', ts: TS, properties: { ok: nest(5), deep: nest(6) } }, limits), 'too_deeply_nested');
    // The deep branch may sit behind shallow siblings.
    assert.equal(reason({ event: 'x', ts: TS, properties: { p: [1, { a: 'b' }, nest(6)] } }, { ...limits, maxDepth: 6 }), 'too_deeply_nested');
  });

  it('rejects invalid UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('{"event":"x","properties":{"s":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
    const e = parseEnvelope(record(null, { value: bytes }), NOW);
    assert.ok(isRejection(e));
    assert.equal(e.reason, 'malformed_json');
  });
});

describe('parseTimestamp', () => {
  it('reads ISO-8601 with zones, without zone as UTC, and epoch milliseconds', () => {
    assert.equal(parseTimestamp('2026-11-19T10:00:00.123Z'), Date.UTC(2026, 10, 19, 10, 0, 0, 123));
    assert.equal(parseTimestamp('2026-11-19T12:00:00+02:00'), Date.UTC(2026, 10, 19, 10));
    assert.equal(parseTimestamp('2026-11-19 10:00'), Date.UTC(2026, 10, 19, 10));
    assert.equal(parseTimestamp('2026-11-19T10:00:00.123456789Z'), Date.UTC(2026, 10, 19, 10, 0, 0, 123));
    assert.equal(parseTimestamp(1763546400123), 1763546400123);
    assert.equal(parseTimestamp('1763546400123'), 1763546400123);
    assert.equal(parseTimestamp('2026-13-01T00:00:00Z'), undefined);
    assert.equal(parseTimestamp('2026-11-19T24:00:00Z'), undefined);
    assert.equal(parseTimestamp(1.5), undefined);
    // The canonical toISOString() layout takes a fast path: it must be exactly as strict.
    assert.equal(parseTimestamp('2024-02-29T23:59:59.999Z'), Date.UTC(2024, 1, 29, 23, 59, 59, 999));
    assert.equal(parseTimestamp('2026-02-29T00:00:00.000Z'), undefined, 'not a leap year (Date.parse would say March 1)');
    assert.equal(parseTimestamp('2026-04-31T00:00:00.000Z'), undefined);
    assert.equal(parseTimestamp('2026-11-19T10:00:00.12aZ'), undefined);
    assert.equal(parseTimestamp('2026-11-19T10:60:00.000Z'), undefined);
    assert.equal(parseTimestamp(true), undefined);
  });

  it('reads years 0–99 as those years (Date.UTC alone would make them 1900–1999)', () => {
    assert.equal(parseTimestamp('0001-01-01T00:00:00.000Z'), Date.parse('0001-01-01T00:00:00.000Z'));
    assert.equal(parseTimestamp('0099-12-31 23:59'), Date.parse('0099-12-31T23:59:00Z'));
    assert.equal(parseTimestamp('0000-02-29T12:00:00Z'), Date.parse('0000-02-29T12:00:00Z'), 'year 0 is a leap year');
    assert.equal(parseTimestamp('0001-02-29T00:00:00Z'), undefined);
  });

  it('takes zone offsets up to ±23:59 and epoch milliseconds only as exact integers', () => {
    assert.equal(parseTimestamp('2026-11-19T10:00:00+23:59'), Date.UTC(2026, 10, 19, 10) - (23 * 60 + 59) * 60_000);
    assert.equal(parseTimestamp('2026-11-19T10:00:00-0130'), Date.UTC(2026, 10, 19, 11, 30));
    for (const zone of ['+99:99', '-47:00', '+24:00', '+05:60']) assert.equal(parseTimestamp(`2026-11-19T10:00:00${zone}`), undefined, zone);
    assert.equal(parseTimestamp(1e20), undefined);
    assert.equal(parseTimestamp(2 ** 53), undefined);
    assert.equal(parseTimestamp('9999999999999999'), undefined, '16 digits beyond 2^53');
    assert.equal(parseTimestamp('-8640000000000'), -8_640_000_000_000);
  });

  it('reads every day of four centuries in the canonical layout as Date does', () => {
    // 1900–2299: century years that are and are not leap years, and dates before the epoch
    for (let ms = Date.UTC(1900, 0, 1, 23, 59, 59, 999); ms < Date.UTC(2300, 0, 1); ms += 86_400_000) {
      const iso = new Date(ms).toISOString();
      if (parseTimestamp(iso) !== ms) assert.fail(`${iso}: ${parseTimestamp(iso)} ≠ ${ms}`);
    }
  });
});
