import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backfillLines } from '../../bench/backfill-file.js';
import { normaliseName } from '../../functions/core/identifiers.js';
import { MS_PER_HOUR, parseTimestamp } from '../../functions/core/time.js';
import { DEFAULT_CUT, fileBatches, groupOf, type CutOptions, type FileRecord } from '../../functions/cli/file-batches.js';

const KAFKA_TS = Date.UTC(2026, 10, 20, 7, 30);

/** The group as JSON.parse and the handler's own helpers give it: what the scanner must agree with. */
function parsedGroup(line: string): string | undefined {
  let v: unknown;
  try { v = JSON.parse(line); } catch { return undefined; }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const { event, ts } = v as { event?: unknown; ts?: unknown };
  if (typeof event !== 'string') return undefined;
  const time = ts === undefined || ts === null ? KAFKA_TS : parseTimestamp(ts);
  return time === undefined ? undefined : `${Math.floor(time / MS_PER_HOUR)} ${normaliseName(event)}`;
}

async function* linesOf(lines: readonly string[]): AsyncGenerator<Buffer> {
  for (const l of lines) yield Buffer.from(l);
}

async function cut(lines: readonly string[], o: Partial<CutOptions> = {}): Promise<FileRecord[][]> {
  const out: FileRecord[][] = [];
  for await (const b of fileBatches(linesOf(lines), { ...DEFAULT_CUT, maxGroups: 1000, timestamp: KAFKA_TS, ...o })) out.push(b);
  return out;
}

test('a line\'s (event, hour) is what JSON.parse and the handler\'s helpers make of it, nested keys and escapes included', () => {
  const lines = [
    '{"event":"page_view","ts":"2026-11-01T18:33:47.808Z","properties":{"event":"nested","ts":"1999-01-01T00:00:00Z"}}',
    ' { "ts" : 1762000000000 , "event" : "Newsletter Signup" } ',
    '{"event":"a","properties":{"s":"}{\\"event\\":\\"x\\"","arr":[1,[2,{"ts":3}],"]"]},"ts":"2026-11-02T01:00:00+05:30"}',
    '{"event":"pa\\u0067e_view","ts":"2026-11-01T00:59:59Z"}',
    '{"\\u0065vent":"escaped_key","ts":"2026-11-01T00:00:00Z"}',
    '{"event":"first","event":"second","ts":"2026-11-01T03:00:00Z","ts":"2026-11-01T04:00:00Z"}',
    '{"event":"no_ts"}',
    '{"event":"null_ts","ts":null}',
    '{"event":"bad_ts","ts":"yesterday"}',
    '{"event":"object_ts","ts":{"at":1}}',
    '{"event":42,"ts":"2026-11-01T00:00:00Z"}',
    '{"event":"trailing","ts":"2026-11-01T00:00:00Z"} x',
    '{"event":"truncated","ts":"2026-11-01T00:00:00Z",',
    '["event","ts"]',
    '{}',
    'not json',
    '{"event":"ünïcode ëvent","ts":"2026-11-01T05:00:00Z"}',
    '{"event":"digits","ts":"1762000000000"}',
  ];
  for (const line of lines) assert.equal(groupOf(Buffer.from(line), KAFKA_TS), parsedGroup(line), line);
  // and on a real backfill's lines
  for (const line of backfillLines({ events: 2000, start: Date.UTC(2026, 10, 1), malformedRate: 0.05 })) {
    assert.equal(groupOf(Buffer.from(line), KAFKA_TS), parsedGroup(line), line);
  }
});

test('a batch ends before the line that would pass the record, byte or (event, hour) bound; offsets stay line numbers', async () => {
  const line = (event: string, hour: number): string => JSON.stringify({ event, ts: new Date(Date.UTC(2026, 10, 1, hour)).toISOString() });
  const lines = [line('a', 0), '', line('a', 0), line('b', 0), '  ', line('a', 1), line('a', 0)];
  const offsets = (batches: FileRecord[][]): number[][] => batches.map((b) => b.map((r) => r.offset));
  assert.deepEqual(offsets(await cut(lines)), [[1, 3, 4, 6, 7]]);
  assert.deepEqual(offsets(await cut(lines, { maxRecords: 2 })), [[1, 3], [4, 6], [7]]);
  // (a,0) (b,0) fit two groups; (a,1) would be a third
  assert.deepEqual(offsets(await cut(lines, { maxGroups: 2 })), [[1, 3, 4], [6, 7]]);
  const size = Buffer.byteLength(line('a', 0));
  assert.deepEqual(offsets(await cut(lines, { maxBytes: 2 * size })), [[1, 3], [4, 6], [7]]);
  // a line longer than the bound is a batch of its own rather than no batch
  assert.deepEqual(offsets(await cut(lines, { maxBytes: 1 })), [[1], [3], [4], [6], [7]]);
});

test('a two-day backfill in time-shuffled order is one batch by default (10,000 records per batch cut it in three before)', async () => {
  const lines = backfillLines({ events: 25_000, start: Date.UTC(2026, 10, 1) });
  const batches = await cut(lines);
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.length, 25_000);
  // the same file cuts the same way every time: a re-ingest is a redelivery of the same batches
  assert.deepEqual((await cut(lines, { maxRecords: 7_000 })).map((b) => b.length), [7_000, 7_000, 7_000, 4_000]);
});

test('a shuffled month is cut so that no batch writes more (event, hour) files than the handler allows', async () => {
  const lines = backfillLines({ events: 20_000, start: Date.UTC(2026, 9, 1), days: 30 });
  const batches = await cut(lines, { maxGroups: 1000 });
  assert.ok(batches.length > 1);
  for (const b of batches) {
    const groups = new Set(b.map((r) => parsedGroup(r.value.toString())));
    assert.ok(groups.size <= 1000, `${groups.size} groups`);
  }
});
