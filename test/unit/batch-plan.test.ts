import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planBatch, type BatchPlan } from '../../functions/core/batch/batch-plan.js';
import { DEFAULT_ENVELOPE_LIMITS } from '../../functions/core/decode/envelope.js';
import { decodeMskEvent, type DecodedRecord } from '../../functions/core/decode/msk-event.js';
import { parseDeclaredSchema } from '../../functions/core/schema/declared-schema.js';
import { tableColumns, type TableSchema } from '../../functions/core/schema/model.js';
import { mskEvent, NOW, pageView, TS } from '../helpers.js';

function plan(values: unknown[], known: Record<string, TableSchema> = {}, firstOffset = 0): Promise<BatchPlan> {
  const { records, problems } = decodeMskEvent(mskEvent(values, { firstOffset }));
  return planBatch(records, problems, { now: NOW, piiSalt: 's', limits: DEFAULT_ENVELOPE_LIMITS, tableContext: (t) => ({ before: known[t] }) });
}

const purchase = parseDeclaredSchema('purchase', {
  properties: { order_id: { type: 'string' }, price: { type: 'number' }, email: { type: 'string', 'x-pii': 'hash' } },
  required: ['order_id'],
});

describe('planBatch', () => {
  it('infers a schema for an unknown event from its batch, widening int to double', async () => {
    const p = await plan([
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

  it('reads only own properties: a column named constructor is null when a record lacks it', async () => {
    const p = await plan([pageView('a', { constructor: 'yes', hasOwnProperty: 1 }), pageView('b')]);
    assert.equal(p.quarantined.length, 0);
    const cols = tableColumns(p.tables.get('page_view')!.schema).map((c) => c.name);
    const rows = p.splits[0]!.rows;
    assert.equal(rows.row(0)[cols.indexOf('constructor')], 'yes');
    assert.equal(rows.row(1)[cols.indexOf('constructor')], null);
    assert.equal(rows.row(1)[cols.indexOf('has_own_property')], null);
  });

  it('stores a property under its normalised column whether it is sent camelCase or snake_case', async () => {
    const p = await plan([
      pageView('a', { durationMs: 5, isMobile: true }),
      pageView('b', { duration_ms: 7, is_mobile: false }),
      pageView('c', { durationMs: 9.5 }),
      pageView('d', { durationMs: 'slow' }),
    ]);
    const t = p.tables.get('page_view')!;
    assert.deepEqual(t.schema.properties.map((c) => `${c.name}:${c.type}`), ['page:string', 'duration_ms:double', 'is_mobile:boolean']);
    const cols = tableColumns(t.schema).map((c) => c.name);
    const rows = p.splits[0]!.rows;
    assert.deepEqual([0, 1, 2].map((i) => [rows.row(i)[cols.indexOf('duration_ms')], rows.row(i)[cols.indexOf('is_mobile')]]), [[5, true], [7, false], [9.5, null]]);
    assert.deepEqual(p.quarantined.map((q) => [q.record.offset, q.reason]), [[3, 'type_conflict']]);
  });

  it('accepts a declared property sent camelCase when the schema forbids undeclared ones', async () => {
    const closed = { ...purchase, allowNewProperties: false };
    const p = await plan([{ event: 'purchase', ts: TS, properties: { orderId: 'o', price: 2 } }], { purchase: closed });
    assert.equal(p.quarantined.length, 0);
    const cols = tableColumns(p.tables.get('purchase')!.schema).map((c) => c.name);
    assert.equal(p.splits[0]!.rows.row(0)[cols.indexOf('order_id')], 'o');
  });

  it('quarantines a value that conflicts with the type learnt first, and keeps the rest of the batch', async () => {
    const p = await plan([pageView('a', { n: 1 }), pageView('b', { n: 'one' }), pageView('c', { n: 3 })]);
    assert.equal(p.splits[0]!.rows.length, 2);
    assert.deepEqual(p.quarantined.map((q) => [q.record.offset, q.reason]), [[1, 'type_conflict']]);
  });

  it('applies a declared schema: coercion, required fields, PII masking', async () => {
    const p = await plan([
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

  it('quarantines a value outside a declared enum as a schema violation, with the allowed values', async () => {
    const signup = parseDeclaredSchema('signup', { properties: { plan: { type: 'string', enum: ['free', 'pro'] } } });
    const p = await plan([{ event: 'signup', ts: TS, properties: { plan: 'pro' } }, { event: 'signup', ts: TS, properties: { plan: 'gold' } }], { signup });
    assert.deepEqual(p.quarantined.map((q) => [q.record.offset, q.reason]), [[1, 'schema_violation']]);
    assert.match(p.quarantined[0]!.detail, /"gold" is not one of "free", "pro"/);
  });

  it('quarantines values that break declared constraints as schema violations, and wrong types as uncoercible', async () => {
    const order = parseDeclaredSchema('order', {
      properties: { qty: { type: 'integer', minimum: 1, maximum: 99 }, code: { type: 'string', pattern: '^[A-Z]{3}$' }, note: { type: 'string', maxLength: 4 } },
    });
    const p = await plan([
      { event: 'order', ts: TS, properties: { qty: 1, code: 'EUR', note: 'ok' } },
      { event: 'order', ts: TS, properties: { qty: 0 } },
      { event: 'order', ts: TS, properties: { qty: '100' } },
      { event: 'order', ts: TS, properties: { code: 'eur' } },
      { event: 'order', ts: TS, properties: { note: 'too long' } },
      { event: 'order', ts: TS, properties: { qty: 'many' } },
      { event: 'order', ts: TS, properties: { qty: null, code: null, note: null } },
    ], { order });
    assert.deepEqual(p.quarantined.map((q) => [q.record.offset, q.reason]),
      [[1, 'schema_violation'], [2, 'schema_violation'], [3, 'schema_violation'], [4, 'schema_violation'], [5, 'uncoercible_value']]);
    assert.match(p.quarantined[0]!.detail, /qty: 0 is less than the minimum 1/);
    assert.match(p.quarantined[1]!.detail, /qty: "100" is greater than the maximum 99/);
    assert.match(p.quarantined[2]!.detail, /code: "eur" does not match the pattern "\^\[A-Z\]\{3\}\$"/);
    assert.match(p.quarantined[3]!.detail, /note: "too long" is longer than maxLength 4/);
    assert.equal(p.splits[0]!.rows.length, 2, 'the valid record and the all-null one are stored');
  });

  it('refuses undeclared properties when the schema forbids them', async () => {
    const closed = { ...purchase, allowNewProperties: false };
    const p = await plan([{ event: 'purchase', ts: TS, properties: { order_id: 'o', surprise: 1 } }], { purchase: closed });
    assert.deepEqual(p.quarantined.map((q) => q.reason), ['unknown_property']);
  });

  it('quarantines records whose bytes could not be decoded, with the raw text kept', async () => {
    const event = mskEvent([pageView('ok')]);
    event.records['tracking-0']!.push({ topic: 'tracking', partition: 0, offset: 1, timestamp: NOW, timestampType: 'CREATE_TIME', value: 'not*base64!' });
    const { records, problems } = decodeMskEvent(event);
    const p = await planBatch(records, problems, { now: NOW, piiSalt: '', limits: DEFAULT_ENVELOPE_LIMITS, tableContext: () => ({ before: undefined }) });
    assert.deepEqual(p.quarantined.map((q) => [q.record.offset, q.reason]), [[1, 'invalid_encoding']]);
    assert.equal(p.quarantined[0]!.record.value?.toString(), 'not*base64!');
    assert.equal(p.splits[0]!.rows.length, 1);
  });

  it('splits by table and UTC hour and names files by their offset range, deterministically', async () => {
    const values = [
      pageView('a', {}, '2026-11-19T10:59:59.999Z'),
      pageView('b', {}, '2026-11-19T11:00:00.000Z'),
      { event: 'click', ts: '2026-11-19T11:30:00Z' },
      pageView('c', {}, '2026-11-19T10:15:00+00:00'),
    ];
    const p = await plan(values, {}, 100);
    assert.deepEqual(p.splits.map((s) => s.key), [
      'lake/click/dt=2026-11-19/hour=11/tracking+0+102-102.parquet',
      'lake/page_view/dt=2026-11-19/hour=10/tracking+0+100-103.parquet',
      'lake/page_view/dt=2026-11-19/hour=11/tracking+0+101-101.parquet',
    ]);
    assert.deepEqual((await plan(values, {}, 100)).splits.map((s) => s.key), p.splits.map((s) => s.key));
  });

  it('opens no file for a record it quarantines, and ends a file\'s offset range at its last stored record', async () => {
    const p = await plan([
      pageView('a', { n: 1, label: 'first' }, '2026-11-19T10:00:00Z'),
      pageView('b', { n: 'two', label: 'rejected' }, '2026-11-19T11:00:00Z'), // would open hour 11
      pageView('d', { n: 'four', label: 'rejected too' }, '2026-11-19T10:45:00Z'),
      pageView('c', { n: 3 }, '2026-11-19T10:30:00Z'),
      pageView('e', { n: 'five' }, '2026-11-19T10:50:00Z'),
    ], {}, 100);
    assert.deepEqual(p.splits.map((s) => s.key), ['lake/page_view/dt=2026-11-19/hour=10/tracking+0+100-103.parquet']);
    assert.deepEqual(p.quarantined.map((q) => [q.record.offset, q.reason]), [[101, 'type_conflict'], [102, 'type_conflict'], [104, 'type_conflict']]);
    const cols = tableColumns(p.tables.get('page_view')!.schema).map((c) => c.name);
    assert.deepEqual(p.splits[0]!.rows.rows().map((r) => [r[cols.indexOf('event_id')], r[cols.indexOf('n')], r[cols.indexOf('label')]]), [['a', 1, 'first'], ['c', 3, null]]);
  });

  it('gives a column first seen mid-batch nulls in the earlier rows of every file of its table', async () => {
    const p = await plan([
      pageView('a', {}, '2026-11-19T10:00:00Z'),
      pageView('b', {}, '2026-11-19T11:00:00Z'),
      pageView('c', { referrer: 'x' }, '2026-11-19T10:30:00Z'),
    ]);
    const cols = tableColumns(p.tables.get('page_view')!.schema).map((c) => c.name);
    const [h10, h11] = p.splits;
    assert.deepEqual(h10!.rows.rows().map((r) => r[cols.indexOf('referrer')]), [null, 'x']);
    assert.deepEqual(h11!.rows.rows().map((r) => r[cols.indexOf('referrer')]), [null]);
    assert.deepEqual(h11!.rows.columns.map((c) => c.name), cols);
  });

  it('widens an int64 column to double mid-batch without changing the values already stored', async () => {
    const p = await plan([pageView('a', { n: 3 }), pageView('b', { n: '9007199254740993' }), pageView('c', { n: 2.5 })]);
    const t = p.tables.get('page_view')!;
    assert.equal(t.schema.properties.find((c) => c.name === 'n')!.type, 'double');
    assert.deepEqual(t.added.map((c) => `${c.name}:${c.type}`), ['page:string', 'n:double']);
    const k = tableColumns(t.schema).findIndex((c) => c.name === 'n');
    assert.deepEqual(p.splits[0]!.rows.rows().map((r) => r[k]), [3, 9007199254740992, 2.5]);
    assert.equal(p.quarantined.length, 0);
  });

  it('re-plans a column added as a timestamp that later meets plain text, keeping the original text', async () => {
    const p = await plan([pageView('a', { seen_at: '2026-11-19T09:00:00Z' }), pageView('b', { seen_at: 'yesterday' })]);
    const t = p.tables.get('page_view')!;
    assert.equal(t.schema.properties.find((c) => c.name === 'seen_at')!.type, 'string');
    const k = tableColumns(t.schema).findIndex((c) => c.name === 'seen_at');
    assert.deepEqual(p.splits[0]!.rows.rows().map((r) => r[k]), ['2026-11-19T09:00:00Z', 'yesterday']);
    assert.equal(p.quarantined.length, 0);
  });

  it('keeps a registered timestamp column a timestamp: text that is no time is a type conflict', async () => {
    const before = (await plan([pageView('a', { seen_at: '2026-11-19T09:00:00Z' })])).tables.get('page_view')!.schema;
    const p = await plan([pageView('b', { seen_at: 'yesterday' })], { page_view: before });
    assert.deepEqual(p.quarantined.map((q) => q.reason), ['type_conflict']);
  });

  it('leaves the table as it was when a record is quarantined: no widening, no new column, no re-plan', async () => {
    const before = (await plan([pageView('a', { n: 3, flag: true, seen_at: '2026-11-19T09:00:00Z' })])).tables.get('page_view')!.schema;
    const p = await plan([
      // n would widen and brand_new would be added, but flag conflicts with its boolean column
      pageView('b', { n: 1.5, brand_new: 'x', flag: 'maybe' }),
      pageView('c', { n: 4, flag: false }),
    ], { page_view: before });
    assert.deepEqual(p.quarantined.map((q) => [q.record.offset, q.reason]), [[0, 'type_conflict']]);
    const t = p.tables.get('page_view')!;
    assert.deepEqual(t.schema.properties.map((c) => `${c.name}:${c.type}`), before.properties.map((c) => `${c.name}:${c.type}`));
    assert.deepEqual([t.added, t.widened], [[], []]);
    assert.equal(p.splits[0]!.rows.length, 1);

    // A column this batch inferred as a timestamp is re-planned as text only for a record that is stored.
    const q = await plan([
      pageView('d', { left_at: '2026-11-19T09:00:00Z' }),
      pageView('e', { left_at: 'yesterday', flag: 'maybe' }),
    ], { page_view: before });
    assert.deepEqual(q.quarantined.map((r) => [r.record.offset, r.reason]), [[1, 'type_conflict']]);
    assert.equal(q.tables.get('page_view')!.schema.properties.find((c) => c.name === 'left_at')!.type, 'timestamp');
    assert.match(q.quarantined[0]!.detail, /boolean/);
  });

  it('stores a record that widens a column and adds another, applying both', async () => {
    const before = (await plan([pageView('a', { n: 3 })])).tables.get('page_view')!.schema;
    const p = await plan([pageView('b', { n: 1.5, fresh_one: 'x' }), pageView('c', { n: 2 })], { page_view: before });
    assert.equal(p.quarantined.length, 0);
    const t = p.tables.get('page_view')!;
    assert.deepEqual(t.widened.map((c) => `${c.name}:${c.type}`), ['n:double']);
    assert.deepEqual(t.added.map((c) => `${c.name}:${c.type}`), ['fresh_one:string']);
    const cols = tableColumns(t.schema).map((c) => c.name);
    assert.deepEqual(p.splits[0]!.rows.rows().map((r) => [r[cols.indexOf('n')], r[cols.indexOf('fresh_one')]]), [[1.5, 'x'], [2, null]]);
  });

  it('quarantines a record that makes a check throw as internal_error, and stores the rest of the batch', async () => {
    const { records } = decodeMskEvent(mskEvent([pageView('a'), pageView('c')]));
    // No real record is known to make a check throw (each one found was fixed): a record whose bytes
    // cannot be read the first time stands in for the next such bug.
    let reads = 0;
    const poison: DecodedRecord = {
      topic: 'tracking', partition: 0, offset: 1, timestamp: NOW, key: null, headers: [],
      get value(): Buffer {
        if (reads++ === 0) throw new TypeError('boom');
        return Buffer.from(JSON.stringify(pageView('b')));
      },
    };
    const p = await planBatch([records[0]!, poison, records[1]!], [], { now: NOW, piiSalt: '', limits: DEFAULT_ENVELOPE_LIMITS, tableContext: () => ({ before: undefined }) });
    assert.deepEqual(p.quarantined.map((q) => [q.record.offset, q.reason, q.detail]), [[1, 'internal_error', 'TypeError: boom']]);
    assert.equal(p.splits.reduce((n, s) => n + s.rows.length, 0), 2);
  });

  it('fails the batch when a table cannot be looked up, so that it is retried', async () => {
    const { records, problems } = decodeMskEvent(mskEvent([pageView('a')]));
    await assert.rejects(planBatch(records, problems, { now: NOW, piiSalt: '', limits: DEFAULT_ENVELOPE_LIMITS, tableContext: () => { throw new Error('registry unreachable'); } }), /registry unreachable/);
  });

  it('asks for each table once, the first time a record names it', async () => {
    const asked: string[] = [];
    const { records, problems } = decodeMskEvent(mskEvent([pageView('a'), { event: 'click', ts: TS }, pageView('b'), { event: 'click', ts: TS }]));
    await planBatch(records, problems, { now: NOW, piiSalt: '', limits: DEFAULT_ENVELOPE_LIMITS, tableContext: (t) => { asked.push(t); return { before: undefined }; } });
    assert.deepEqual(asked, ['page_view', 'click']);
  });

  it('names the first wrong column in column order, whatever the order of the JSON', async () => {
    const p = await plan([
      // price (2nd column) is uncoercible and order_id (1st, required) is missing
      { event: 'purchase', event_id: 'p1', ts: TS, properties: { price: 'cheap' } },
      // both wrong: price uncoercible, email fine, order_id null
      { event: 'purchase', event_id: 'p2', ts: TS, properties: { price: 'cheap', order_id: null } },
      // only price wrong, listed after a valid order_id
      { event: 'purchase', event_id: 'p3', ts: TS, properties: { email: 'x@y.z', price: 'free', order_id: 'o3' } },
    ], { purchase });
    assert.deepEqual(p.quarantined.map((q) => [q.record.offset, q.reason]), [[0, 'missing_required'], [1, 'missing_required'], [2, 'uncoercible_value']]);
    assert.match(p.quarantined[2]!.detail, /price/);
  });

  it('bounds the tables a batch creates from data: records of more new events are quarantined as table_limit', async () => {
    const { records, problems } = decodeMskEvent(mskEvent([
      { ...pageView('a'), event: 'e1' }, { ...pageView('b'), event: 'e2' }, { ...pageView('c'), event: 'e3' },
      { ...pageView('d'), event: 'purchase', properties: { order_id: 'o1' } }, { ...pageView('e'), event: 'e1' }, { ...pageView('f'), event: 'e3' },
    ]));
    // purchase has a schema, so it is no new table and is not counted
    const p = await planBatch(records, problems, { now: NOW, piiSalt: 's', limits: DEFAULT_ENVELOPE_LIMITS, tableContext: (t) => ({ before: t === 'purchase' ? purchase : undefined }), maxNewTables: 2 });
    assert.deepEqual([...p.tables.keys()].sort(), ['e1', 'e2', 'purchase']);
    assert.deepEqual(p.quarantined.map((q) => [q.record.offset, q.reason, q.event]), [[2, 'table_limit', 'e3'], [5, 'table_limit', 'e3']]);
    assert.match(p.quarantined[0]!.detail, /already creates 2 new tables/);
    assert.deepEqual(p.splits.map((s) => `${s.table}:${s.rows.length}`).sort(), ['e1:2', 'e2:1', 'purchase:1']);
  });

  it('bounds the files a batch writes: a record that would open one more is quarantined as file_limit, and changes no schema', async () => {
    const hour = (h: number, id: string, props: Record<string, unknown> = {}) => pageView(id, props, `2026-11-19T0${h}:30:00Z`);
    const { records, problems } = decodeMskEvent(mskEvent([hour(1, 'a'), hour(2, 'b'), hour(3, 'c', { only_here: 1 }), hour(1, 'd'), { ...hour(3, 'e'), event: 'click' }, hour(2, 'f')]));
    const p = await planBatch(records, problems, { now: NOW, piiSalt: 's', limits: DEFAULT_ENVELOPE_LIMITS, tableContext: () => ({ before: undefined }), maxFiles: 2 });
    assert.deepEqual(p.splits.map((s) => `${s.table} ${s.hour}:${s.rows.length}`), ['page_view 1:2', 'page_view 2:2']);
    assert.deepEqual(p.quarantined.map((q) => [q.record.offset, q.reason]), [[2, 'file_limit'], [4, 'file_limit']]);
    assert.match(p.quarantined[0]!.detail, /already writes 2 files/);
    assert.deepEqual(p.tables.get('page_view')!.schema.properties.map((c) => c.name), ['page'], 'the refused record adds no column');
  });
});

describe('planBatch and integers JSON.parse rounded', () => {
  it('quarantines them as a type conflict: an inferred int64 column does not widen to keep them rounded, a new column is not a double', async () => {
    const p = await plan([
      pageView('a', { n: 1 }),
      `{"event":"page_view","event_id":"b","ts":"${TS}","properties":{"page":"/","n":9007199254740993}}`,
      `{"event":"page_view","event_id":"c","ts":"${TS}","properties":{"page":"/","fresh":1234567890123456789}}`,
      pageView('d', { n: 2.5, big: 1e300 }),
    ]);
    assert.deepEqual(p.quarantined.map((q) => [q.record.offset, q.reason]), [[1, 'type_conflict'], [2, 'type_conflict']]);
    assert.match(p.quarantined[0]!.detail, /lost precision in JSON; send it as a string/);
    const t = p.tables.get('page_view')!;
    assert.deepEqual(t.schema.properties.map((c) => `${c.name}:${c.type}`), ['page:string', 'n:double', 'big:double'], 'a fraction widens; 1e300 is a double');
  });
});
