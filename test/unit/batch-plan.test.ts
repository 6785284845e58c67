import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBatch, planBatch, type BatchPlan } from '../../functions/core/batch-plan.js';
import { DEFAULT_ENVELOPE_LIMITS } from '../../functions/core/envelope.js';
import { decodeMskEvent } from '../../functions/core/msk-event.js';
import { parseDeclaredSchema } from '../../functions/core/declared-schema.js';
import { tableColumns, type TableSchema } from '../../functions/core/schema.js';
import { mskEvent, NOW, pageView, TS } from '../helpers.js';

function plan(values: unknown[], known: Record<string, TableSchema> = {}, firstOffset = 0): BatchPlan {
  const { records, problems } = decodeMskEvent(mskEvent(values, { firstOffset }));
  return planBatch(parseBatch(records, problems, NOW, DEFAULT_ENVELOPE_LIMITS), { now: NOW, piiSalt: 's', knownSchemas: new Map(Object.entries(known)) });
}

const purchase = parseDeclaredSchema('purchase', {
  properties: { order_id: { type: 'string' }, price: { type: 'number' }, email: { type: 'string', 'x-pii': 'hash' } },
  required: ['order_id'],
});

describe('planBatch', () => {
  it('infers a schema for an unknown event from its batch, widening int to double', () => {
    const p = plan([
      pageView('a', { duration: 3, mobile: true, tags: ['x'], seen_at: '2026-11-19T09:00:00Z', ref: null }),
      pageView('b', { duration: 2.5, extra: 'late field' }),
    ]);
    const t = p.tables.get('page_view')!;
    assert.equal(t.before, undefined);
    assert.deepEqual(t.schema.properties.map((c) => `${c.name}:${c.type}`), ['page:string', 'duration:double', 'mobile:boolean', 'tags:json', 'seen_at:timestamp', 'extra:string']);
    assert.equal(p.quarantined.length, 0);
    assert.equal(p.splits.length, 1);
    const cols = tableColumns(t.schema).map((c) => c.name);
    const row = p.splits[0]!.rows.row(0);
    assert.equal(row[cols.indexOf('tags')], '["x"]');
    assert.equal(row[cols.indexOf('seen_at')], Date.UTC(2026, 10, 19, 9));
    assert.equal(row[cols.indexOf('received_at')], NOW);
  });

  it('reads only own properties: a column named constructor is null when a record lacks it', () => {
    const p = plan([pageView('a', { constructor: 'yes', hasOwnProperty: 1 }), pageView('b')]);
    assert.equal(p.quarantined.length, 0);
    const cols = tableColumns(p.tables.get('page_view')!.schema).map((c) => c.name);
    const rows = p.splits[0]!.rows;
    assert.equal(rows.row(0)[cols.indexOf('constructor')], 'yes');
    assert.equal(rows.row(1)[cols.indexOf('constructor')], null);
    assert.equal(rows.row(1)[cols.indexOf('has_own_property')], null);
  });

  it('quarantines a value that conflicts with the type learnt first, and keeps the rest of the batch', () => {
    const p = plan([pageView('a', { n: 1 }), pageView('b', { n: 'one' }), pageView('c', { n: 3 })]);
    assert.equal(p.splits[0]!.rows.length, 2);
    assert.deepEqual(p.quarantined.map((q) => [q.record.offset, q.reason]), [[1, 'type_conflict']]);
  });

  it('applies a declared schema: coercion, required fields, PII masking', () => {
    const p = plan([
      { event: 'purchase', event_id: 'p1', ts: TS, properties: { order_id: 'o1', price: '12.50', email: 'a@b.c' } },
      { event: 'purchase', event_id: 'p2', ts: TS, properties: { price: 3 } },
      { event: 'purchase', event_id: 'p3', ts: TS, properties: { order_id: 'o3', price: 'cheap' } },
    ], { purchase });
    assert.deepEqual(p.quarantined.map((q) => q.reason).sort(), ['missing_required', 'uncoercible_value']);
    const cols = tableColumns(p.tables.get('purchase')!.schema).map((c) => c.name);
    const row = p.splits[0]!.rows.row(0);
    assert.equal(row[cols.indexOf('price')], 12.5);
    assert.match(String(row[cols.indexOf('email')]), /^[0-9a-f]{64}$/);
  });

  it('refuses undeclared properties when the schema forbids them', () => {
    const closed = { ...purchase, allowNewProperties: false };
    const p = plan([{ event: 'purchase', ts: TS, properties: { order_id: 'o', surprise: 1 } }], { purchase: closed });
    assert.deepEqual(p.quarantined.map((q) => q.reason), ['unknown_property']);
  });

  it('quarantines records whose bytes could not be decoded, with the raw text kept', () => {
    const event = mskEvent([pageView('ok')]);
    event.records['tracking-0']!.push({ topic: 'tracking', partition: 0, offset: 1, timestamp: NOW, timestampType: 'CREATE_TIME', value: 'not*base64!' });
    const { records, problems } = decodeMskEvent(event);
    const p = planBatch(parseBatch(records, problems, NOW, DEFAULT_ENVELOPE_LIMITS), { now: NOW, piiSalt: '', knownSchemas: new Map() });
    assert.deepEqual(p.quarantined.map((q) => [q.record.offset, q.reason]), [[1, 'invalid_encoding']]);
    assert.equal(p.quarantined[0]!.record.value?.toString(), 'not*base64!');
    assert.equal(p.splits[0]!.rows.length, 1);
  });

  it('splits by table and UTC hour and names files by their offset range, deterministically', () => {
    const values = [
      pageView('a', {}, '2026-11-19T10:59:59.999Z'),
      pageView('b', {}, '2026-11-19T11:00:00.000Z'),
      { event: 'click', ts: '2026-11-19T11:30:00Z' },
      pageView('c', {}, '2026-11-19T10:15:00+00:00'),
    ];
    const p = plan(values, {}, 100);
    assert.deepEqual(p.splits.map((s) => s.key), [
      'lake/click/dt=2026-11-19/hour=11/tracking+0+102-102.parquet',
      'lake/page_view/dt=2026-11-19/hour=10/tracking+0+100-103.parquet',
      'lake/page_view/dt=2026-11-19/hour=11/tracking+0+101-101.parquet',
    ]);
    assert.deepEqual(plan(values, {}, 100).splits.map((s) => s.key), p.splits.map((s) => s.key));
  });
});
