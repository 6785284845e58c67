import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMskEvent, encodeMskEvent, InvalidEventError, NOT_BASE64, NOT_UTF8, valueSize, valueText, type MskEvent } from '../../functions/core/decode/msk-event.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('decodeMskEvent', () => {
  it('decodes the event source mapping shape: base64 key/value, headers as byte arrays, null keys', () => {
    const event: MskEvent = {
      eventSource: 'aws:kafka',
      eventSourceArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/c/abc',
      bootstrapServers: 'b-1.example:9098',
      records: {
        'tracking-1': [
          { topic: 'tracking', partition: 1, offset: 8, timestamp: 1763546400000, timestampType: 'CREATE_TIME', key: null, value: b64('{"b":2}'), headers: [] },
          {
            topic: 'tracking', partition: 1, offset: 7, timestamp: 1763546400000, timestampType: 'CREATE_TIME', key: b64('user-7'), value: b64('{"a":1}'),
            // Java producers serialise header bytes as signed: -61,-87 is "é" in UTF-8
            headers: [{ 'content-type': [97, 112, 112] }, { note: [-61, -87] }],
          },
        ],
        'tracking-0': [{ topic: 'tracking', partition: 0, offset: 3, timestamp: 1763546400000, timestampType: 'CREATE_TIME', value: b64('{}') }],
      },
    };
    const { records, problems } = decodeMskEvent(event);
    assert.deepEqual(problems, []);
    assert.deepEqual(records.map((r) => `${r.partition}:${r.offset}`), ['0:3', '1:7', '1:8'], 'sorted by partition then offset');
    const r7 = records[1]!;
    assert.equal(r7.key?.toString(), 'user-7');
    assert.equal(r7.value?.toString(), '{"a":1}');
    assert.deepEqual(r7.headers.map((h) => [h.key, h.value.toString('utf8')]), [['content-type', 'app'], ['note', 'é']]);
    assert.equal(records[2]!.key, null);
    assert.equal(records[0]!.key, null, 'an absent key decodes as null');
  });

  it('reports a key or headers that are not base64/bytes as a per-record problem instead of throwing', () => {
    const event: MskEvent = {
      eventSource: 'aws:kafka',
      records: {
        't-0': [
          { topic: 't', partition: 0, offset: 1, timestamp: 1, timestampType: 'CREATE_TIME', key: '@@not base64@@', value: b64('{}') },
          { topic: 't', partition: 0, offset: 2, timestamp: 1, timestampType: 'CREATE_TIME', value: b64('{}'), headers: [{ h: [999] }] },
          { topic: 't', partition: 0, offset: 3, timestamp: 1, timestampType: 'CREATE_TIME', key: b64('k'), value: b64('{}'), headers: [{ h: [1] }] },
        ],
      },
    };
    const { records, problems } = decodeMskEvent(event);
    assert.equal(records.length, 3);
    assert.deepEqual(problems.map((p) => [p.record.offset, p.detail]), [[1, 'invalid base64/bytes in key'], [2, 'invalid base64/bytes in headers']]);
  });

  it('accepts partition and offset sent as decimal text, as some published sample events have them', () => {
    const event = { eventSource: 'aws:kafka', records: { 't-0': [
      { topic: 't', partition: '0', offset: '12', timestamp: 1, timestampType: 'CREATE_TIME', value: b64('{}') },
      { topic: 't', partition: '0', offset: '9', timestamp: 1, timestampType: 'CREATE_TIME', value: b64('{}') },
    ] } } as unknown as MskEvent;
    const { records } = decodeMskEvent(event);
    assert.deepEqual(records.map((r) => [r.partition, r.offset]), [[0, 9], [0, 12]]);
    for (const bad of ['-1', '01', '1.5', '9007199254740993', '']) {
      const broken = { eventSource: 'aws:kafka', records: { 't-0': [{ topic: 't', partition: bad, offset: 1, timestamp: 1, timestampType: 'CREATE_TIME', value: b64('{}') }] } } as unknown as MskEvent;
      assert.throws(() => decodeMskEvent(broken), InvalidEventError, bad);
    }
  });

  it('keeps a key and headers that are not base64/bytes as they were sent, so the quarantine can replay them', () => {
    const event = { eventSource: 'aws:kafka', records: { 't-0': [
      { topic: 't', partition: 0, offset: 1, timestamp: 1, timestampType: 'CREATE_TIME', key: '@@not base64@@', value: b64('{}'), headers: [{ trace: b64('abc') }, { note: 'plain text' }, { n: [1, 2] }] },
      { topic: 't', partition: 0, offset: 2, timestamp: 1, timestampType: 'CREATE_TIME', value: b64('{}'), headers: 'a string' },
    ] } } as unknown as MskEvent;
    const { records, problems } = decodeMskEvent(event);
    assert.deepEqual(problems.map((p) => p.record.offset), [1, 2]);
    assert.equal(records[0]!.key!.toString(), '@@not base64@@');
    assert.deepEqual(records[0]!.headers.map((h) => [h.key, h.value.toString()]), [['trace', 'abc'], ['note', 'plain text'], ['n', '\u0001\u0002']]);
    assert.deepEqual(records[1]!.headers.map((h) => [h.key, h.value.toString()]), [['', 'a string']]);
  });

  it('reads a value that is not base64 as NOT_BASE64, and as its raw text for the quarantine', () => {
    const event: MskEvent = { eventSource: 'aws:kafka', records: { 't-0': [{ topic: 't', partition: 0, offset: 1, timestamp: 1, timestampType: 'CREATE_TIME', value: '@@not base64@@' }] } };
    const { records, problems } = decodeMskEvent(event);
    assert.deepEqual(problems, []);
    assert.equal(valueText(records[0]!), NOT_BASE64);
    assert.equal(records[0]!.value?.toString(), '@@not base64@@', 'the raw text is kept for the quarantine');
  });

  it('reads only clean base64 as a value: whitespace, stray characters and bad padding are NOT_BASE64', () => {
    const clean = b64('{"a":1}');
    const values = [`${clean.slice(0, 4)} ${clean.slice(5)}`, `${clean.slice(0, 4)}\n${clean.slice(5)}`, `${clean.slice(0, -4)}@@@@`, `=${clean.slice(1)}`, 'QQ=A'];
    const event: MskEvent = { eventSource: 'aws:kafka', records: { 't-0': values.map((value, i) => ({ topic: 't', partition: 0, offset: i, timestamp: 1, timestampType: 'CREATE_TIME', value })) } };
    const { records } = decodeMskEvent(event);
    for (const r of records) assert.equal(valueText(r), NOT_BASE64, String(r.offset));
  });

  it('decodes mixed ASCII and multi-byte UTF-8 text exactly', () => {
    const text = '{"title":"Spring sale · 春季促销 🌸","n":1}';
    const { records } = decodeMskEvent(encodeMskEvent([{ topic: 't', partition: 0, offset: 1, timestamp: 1, value: Buffer.from(text) }]));
    assert.equal(valueText(records[0]!), text);
  });

  it('decodes values into one shared buffer, sized for the largest value', () => {
    const big = 'é'.repeat(100_000);
    const { records } = decodeMskEvent(encodeMskEvent([
      { topic: 't', partition: 0, offset: 1, timestamp: 1, value: Buffer.from('{"a":1}') },
      { topic: 't', partition: 0, offset: 2, timestamp: 1, value: Buffer.from(big) },
      { topic: 't', partition: 0, offset: 3, timestamp: 1, value: Buffer.from('') },
      { topic: 't', partition: 0, offset: 4, timestamp: 1, value: Buffer.from([0x7b, 0xff, 0x7d]) },
      { topic: 't', partition: 0, offset: 5, timestamp: 1, value: Buffer.from('{"a":"\uFFFD"}') },
    ]));
    assert.equal(valueText(records[0]!), '{"a":1}');
    assert.equal(valueSize(records[1]!), 200_000);
    assert.equal(valueText(records[1]!), big);
    assert.equal(valueText(records[2]!), '');
    assert.equal(valueText(records[3]!), NOT_UTF8);
    assert.equal(valueText(records[4]!), '{"a":"\uFFFD"}', 'U+FFFD sent on purpose is text');
    assert.equal(records[1]!.value?.toString(), big, 'record.value is its own copy');
  });

  it('rejects an event without records as a whole (nothing can be attributed)', () => {
    assert.throws(() => decodeMskEvent({ eventSource: 'aws:kafka' } as unknown as MskEvent), InvalidEventError);
  });

  it('refuses topic names that Kafka would refuse, before they reach an object key', () => {
    for (const topic of ['../../etc', 'a/b', 'a+b', '']) {
      const event: MskEvent = { eventSource: 'aws:kafka', records: { x: [{ topic, partition: 0, offset: 1, timestamp: 1, timestampType: 'CREATE_TIME', value: b64('{}') }] } };
      assert.throws(() => decodeMskEvent(event), InvalidEventError, topic);
    }
  });

  it('round-trips through encodeMskEvent', () => {
    const event = encodeMskEvent([
      { topic: 'a', partition: 2, offset: 10, timestamp: 5, key: Buffer.from('k'), value: Buffer.from('v'), headers: [{ key: 'h', value: Buffer.from([1, 255]) }] },
      { topic: 'a', partition: 2, offset: 11, timestamp: 6, key: null, value: null },
    ]);
    assert.deepEqual(Object.keys(event.records), ['a-2']);
    const { records } = decodeMskEvent(event);
    assert.equal(records[0]!.key?.toString(), 'k');
    assert.deepEqual([...records[0]!.headers[0]!.value], [1, 255]);
    assert.equal(records[1]!.value, null);
  });
});
