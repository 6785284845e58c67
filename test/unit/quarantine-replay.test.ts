// The pure parts of `tributary quarantine`: record ids, transformations, the replay's ports, `show` text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesView, describeRecord, showText } from '../../functions/cli/commands/quarantine.js';
import { ColumnBuffers } from '../../functions/core/batch/column-buffers.js';
import type { IngestDeps } from '../../functions/core/ingest.js';
import { encodeParquet } from '../../functions/core/parquet/lake-file.js';
import type { IngestLogEntry, ObjectStore, Warehouse } from '../../functions/core/ports.js';
import { QUARANTINE_COLUMNS } from '../../functions/core/quarantine/quarantine-rows.js';
import { formatRecordId, parseRecordId } from '../../functions/core/quarantine/record-id.js';
import { besideKey, replayPorts } from '../../functions/core/quarantine/replay-ports.js';
import { replayRecord, type QuarantinedRow } from '../../functions/core/quarantine/replay.js';
import {
  applyTransformations, describeTransformations, parseRename, parseSet, parseTimestampFormat, readTimestamp, type Transformation,
} from '../../functions/core/quarantine/transform.js';

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const parsed = (b: Buffer | null): unknown => JSON.parse(b!.toString('utf8'));

describe('quarantine record ids', () => {
  it('round-trips <topic>:<partition>:<offset> and refuses anything else as a usage error', () => {
    assert.deepEqual(parseRecordId('page_view.v2:3:42'), { topic: 'page_view.v2', partition: 3, offset: 42 });
    assert.equal(formatRecordId({ topic: 't', partition: 0, offset: 7 }), 't:0:7');
    for (const bad of ['t:0', 't:-1:3', 't:0:07', 'a/b:0:1', ':0:1', 't:0:99999999999999999']) {
      assert.throws(() => parseRecordId(bad), (e: Error) => e.name === 'UsageError', bad);
    }
  });
});

describe('replay transformations', () => {
  it('renames a property in place, unless the new name is taken', () => {
    const t = [parseRename('Seats Count=seats_text')];
    const out = applyTransformations(json({ event: 'e', properties: { a: 1, 'Seats Count': 'many', b: 2 } }), t);
    assert.deepEqual(out.applied, ['rename']);
    assert.equal(out.value!.toString(), '{"event":"e","properties":{"a":1,"seats_text":"many","b":2}}');
    const taken = json({ event: 'e', properties: { 'Seats Count': 1, seats_text: 'x' } });
    assert.equal(applyTransformations(taken, t).value, taken, 'unchanged: the same bytes');
  });

  it('sets a default only where the property is missing or null; VALUE is JSON when it parses, else text', () => {
    const t = [parseSet('plan="007"'), parseSet('seats=1'), parseSet('note=free text')];
    assert.deepEqual(parsed(applyTransformations(json({ event: 'e', properties: { seats: null, plan: 'pro' } }), t).value),
      { event: 'e', properties: { seats: 1, plan: 'pro', note: 'free text' } });
    assert.deepEqual(parsed(applyTransformations(json({ event: 'e' }), t).value), { event: 'e', properties: { plan: '007', seats: 1, note: 'free text' } });
    assert.throws(() => parseSet('x=null'), /sets nothing/);
    assert.throws(() => parseSet('9lives=1'), /not a valid property name/);
    assert.throws(() => parseSet('novalue'), /needs NAME=VALUE/);
  });

  it('reads ts in epoch seconds, micro- and nanoseconds, or a UTC pattern, and writes ISO-8601', () => {
    assert.equal(readTimestamp(1763546400, parseFormat('epoch-s')), Date.parse('2025-11-19T10:00:00Z'));
    assert.equal(readTimestamp('1763546400123456', parseFormat('epoch-us')), Date.parse('2025-11-19T10:00:00.123Z'));
    assert.equal(readTimestamp('1763546400123456789', parseFormat('epoch-ns')), Date.parse('2025-11-19T10:00:00.123Z'));
    const dmy = parseFormat('DD/MM/YYYY HH:mm:ss');
    assert.equal(readTimestamp('19/11/2025 10:00:05', dmy), Date.parse('2025-11-19T10:00:05Z'));
    assert.equal(readTimestamp('31/02/2025 10:00:05', dmy), undefined, 'no 31 February');
    assert.equal(readTimestamp('2025-11-19', dmy), undefined);
    const out = applyTransformations(json({ event: 'e', ts: 1763546400 }), [parseTimestampFormat('epoch-s')]);
    assert.deepEqual(parsed(out.value), { event: 'e', ts: '2025-11-19T10:00:00.000Z' });
    assert.throws(() => parseTimestampFormat('HH:mm'), /lacks YYYY/);
    assert.throws(() => parseTimestampFormat('YYYY-MM-DDThh'), /neither a field/);
  });

  it('leaves a value it cannot rewrite faithfully as it is, and says why', () => {
    const t = [parseSet('x=1')];
    assert.equal(applyTransformations(Buffer.from('[1,2]'), t).skipped, 'the value is not a JSON object');
    assert.equal(applyTransformations(Buffer.from([0xff, 0x7b]), t).skipped, 'the value is not UTF-8 JSON');
    const big = Buffer.from('{"event":"e","properties":{"id":12345678901234567890}}');
    const out = applyTransformations(big, t);
    assert.equal(out.value, big);
    assert.match(out.skipped ?? '', /beyond 2\^53/);
    assert.equal(describeTransformations([parseRename('a=b'), parseSet('c=1'), parseTimestampFormat('epoch-s')]), '--rename a=b --set c=1 --ts-format epoch-s');
  });

  it('replays a record under its own identity, its key and headers as they were', () => {
    const row: QuarantinedRow = {
      topic: 'trial', partition: 2, offset: 9, kafkaTimestamp: 1763546400000, reason: 'type_conflict', detail: 'd', event: 'e',
      keyBase64: Buffer.from('k').toString('base64'), valueBase64: json({ event: 'e', properties: { a: 'x' } }).toString('base64'),
      headersJson: JSON.stringify([{ key: 'h', value_base64: Buffer.from([0xff]).toString('base64') }]), receivedAt: 0,
    };
    const r = replayRecord(row, [parseRename('a=b')]);
    assert.equal(r.transformed, true);
    assert.deepEqual({ ...r.record, key: r.record.key?.toString(), value: parsed(r.record.value), headers: r.record.headers?.map((h) => [h.key, [...h.value]]) },
      { topic: 'trial', partition: 2, offset: 9, timestamp: 1763546400000, key: 'k', value: { event: 'e', properties: { b: 'x' } }, headers: [['h', [0xff]]] });
    // malformed_json: ingest could not read it, so a transformation does not second-guess it
    const m = replayRecord({ ...row, reason: 'malformed_json' }, [parseRename('a=b')]);
    assert.equal(m.transformed, false);
    assert.match(m.skipped ?? '', /malformed_json/);
  });
});

function parseFormat(text: string): Extract<Transformation, { kind: 'ts-format' }>['format'] {
  return (parseTimestampFormat(text) as Extract<Transformation, { kind: 'ts-format' }>).format;
}

/** An object store in memory. */
function memoryStore(): ObjectStore & { objects: Map<string, Uint8Array> } {
  const objects = new Map<string, Uint8Array>();
  return {
    objects,
    async put(key, body) { objects.set(key, body); },
    async putIfAbsent(key, body) { if (objects.has(key)) return false; objects.set(key, body); return true; },
    async get(key) { return objects.get(key); },
    async delete(keys) { for (const k of keys) objects.delete(k); },
    async list(prefix) { return [...objects.keys()].filter((k) => k.startsWith(prefix)).sort(); },
    uri: (key) => `mem://${key}`,
  };
}

function recordingWarehouse(): Warehouse & { inserts: Array<{ table: string; token: string }>; logs: Array<{ entries: readonly IngestLogEntry[]; token: string }> } {
  const inserts: Array<{ table: string; token: string }> = [];
  const logs: Array<{ entries: readonly IngestLogEntry[]; token: string }> = [];
  return {
    inserts, logs, database: 'tributary',
    async ensureTable() {}, async ensureQuarantineTable() {}, async replacePartition() {}, async close() {},
    async insertParquet(table, _columns, _file, token) { inserts.push({ table, token }); },
    async query() { return []; },
    async recordIngest(entries, token) { logs.push({ entries, token }); },
  };
}

const quarantineFile = (offsets: number[], reason: string): Promise<Uint8Array> =>
  encodeParquet(ColumnBuffers.fromRows(QUARANTINE_COLUMNS, offsets.map((o) => ['t', 0, o, 0, reason, 'd', null, null, null, '[]', 5, 0, 0])));

describe('replay ports', () => {
  it('never overwrite a lake object that holds something else: the replay writes beside it, and the ingest log says where', async () => {
    const store = memoryStore();
    const warehouse = recordingWarehouse();
    const key = 'lake/_quarantine/dt=1970-01-01/hour=00/t+0+3-7.parquet';
    const earlier = await quarantineFile([3, 5, 7], 'type_conflict');
    store.objects.set(key, earlier);
    const tap = replayPorts({ store, warehouse } as unknown as IngestDeps);
    const again = await quarantineFile([3, 7], 'schema_violation');
    await tap.deps.store.put(key, again, { contentType: 'x' });
    assert.equal(store.objects.get(key), earlier, 'the earlier delivery keeps its file, record 5 included');
    assert.equal(store.objects.get(besideKey(key, again)), again);
    assert.match(besideKey(key, again), /t\+0\+3-7~[0-9a-f]{16}\.parquet$/);
    // the same bytes again: nothing new
    await tap.deps.store.put(key, again, { contentType: 'x' });
    assert.equal(store.objects.size, 2);
    await tap.deps.warehouse.recordIngest([{ file_key: key, outcome: 'quarantined', _topic: 't', _partition: 0, rows: 2 } as IngestLogEntry], 'ingest-log:t+0+3-7');
    assert.equal(warehouse.logs[0]!.entries[0]!.file_key, besideKey(key, again));
    assert.notEqual(warehouse.logs[0]!.token, 'ingest-log:t+0+3-7', 'not dropped as a repeat of the first delivery\'s log');
    assert.deepEqual([...(await tap.requarantined())].sort(), ['t:0:3', 't:0:7']);
  });

  it('insert the quarantine under a token that covers the rows, so a new reason is not dropped as a duplicate', async () => {
    const warehouse = recordingWarehouse();
    const tap = replayPorts({ store: memoryStore(), warehouse } as unknown as IngestDeps);
    const a = await quarantineFile([3], 'type_conflict');
    const b = await quarantineFile([3], 'schema_violation');
    await tap.deps.warehouse.insertParquet('_quarantine', QUARANTINE_COLUMNS, { key: 'k', bytes: a }, '_quarantine#abc');
    await tap.deps.warehouse.insertParquet('_quarantine', QUARANTINE_COLUMNS, { key: 'k', bytes: b }, '_quarantine#abc');
    await tap.deps.warehouse.insertParquet('page_view', QUARANTINE_COLUMNS, { key: 'k', bytes: a }, 'page_view#abc');
    const [ta, tb, tp] = warehouse.inserts.map((i) => i.token);
    assert.ok(ta!.startsWith('_quarantine#abc~') && tb!.startsWith('_quarantine#abc~') && ta !== tb);
    assert.equal(tp, 'page_view#abc', 'event tables keep the token over positions: a replay twice stores once');
  });
});

describe('quarantine show', () => {
  it('prints the record decoded, every value from data escaped, bytes that are not UTF-8 as base64', () => {
    const value = '{"event":"e\u001b]52;c;aGk=\u0007","properties":{}}';
    const view = describeRecord({
      topic: 't', partition: 0, offset: 4, kafkaTimestamp: Date.parse('2026-11-20T10:00:00Z'), reason: 'invalid_event_name', detail: 'event "e\u001b]52"',
      event: null, keyBase64: Buffer.from([0xff, 0xfe]).toString('base64'), valueBase64: Buffer.from(value).toString('base64'),
      headersJson: JSON.stringify([{ key: 'trace\u202e', value_base64: Buffer.from('abc').toString('base64') }]), receivedAt: Date.parse('2026-11-21T00:10:00Z'), resolved: false,
    }, undefined, ['lake/_quarantine/dt=2026-11-20/hour=10/t+0+4-4.parquet']);
    const text = showText(view);
    assert.doesNotMatch(text, /[\u001b\u0007\u202e]/);
    assert.match(text, /^t:0:4 {2}open$/m);
    assert.match(text, /^value: +\{"event":"e\\x1b\]52;c;aGk=\\x07","properties":\{\}\}$/m);
    assert.match(text, /^key: +base64:\/\/4=$/m);
    assert.match(text, /^headers: +trace\\u202e=abc$/m);
    assert.match(text, /^kafka timestamp: +2026-11-20T10:00:00\.000Z$/m);
    assert.match(text, /^quarantine files: lake\/_quarantine\/dt=2026-11-20\/hour=10\/t\+0\+4-4\.parquet$/m);
    assert.deepEqual(bytesView(null), null);
  });
});
