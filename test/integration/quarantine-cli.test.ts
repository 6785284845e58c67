// `tributary quarantine` as a user runs it: records quarantined for a type conflict land after
// `schema push` + `quarantine replay`, a second replay stores nothing more, a record that still fails stays
// open with its new reason, and a transformation fixes it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'tributary-quarantine-'));
const schemas = mkdtempSync(join(tmpdir(), 'tributary-quarantine-schemas-'));
// A fixed clock for every command: the records' hour (10:00 on 11-20) is closed and within the TTL window.
const env = { ...process.env, TRIBUTARY_HOME: home, TRIBUTARY_SCHEMAS: schemas, TRIBUTARY_NOW: '2026-11-21T00:10:00Z' };

interface Result { stdout: string; stderr: string; code: number }
async function cli(...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(PACKAGE_ROOT, 'bin/tributary.mjs'), ...args], { env, cwd: home, maxBuffer: 16 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}
const ok = async (...args: string[]): Promise<string> => {
  const r = await cli(...args);
  assert.equal(r.code, 0, `${args.join(' ')} exits 0: ${r.stderr}`);
  return r.stdout;
};
const scalar = async (sql: string): Promise<number> => Number((JSON.parse(await ok('sql', '--format', 'json', sql)) as Array<Record<string, string>>)[0]!['n']);
const lakeFiles = (table: string): string[] => readdirSync(join(home, 'lake', table), { recursive: true }).map(String).filter((f) => f.endsWith('.parquet')).sort();

/** What a stored table holds: raw ClickHouse rows (no FINAL: a duplicate would show), lake rows and files. */
async function stored(): Promise<{ clickhouse: number; lake: number; files: string[] }> {
  return {
    clickhouse: await scalar('SELECT count() AS n FROM tributary.trial_started'),
    lake: await scalar('SELECT count() AS n FROM lake.trial_started'),
    files: lakeFiles('trial_started'),
  };
}

describe('tributary quarantine', () => {
  it('lists, shows, replays after a schema push, keeps what still fails open with its new reason, and stores a record once', { timeout: 240_000 }, async () => {
    const file = join(home, 'trial.ndjson');
    writeFileSync(file, [
      { event: 'trial_started', event_id: 't0', ts: '2026-11-20T10:00:00Z', properties: { plan: 'pro', seats: 2 } },
      { event: 'trial_started', event_id: 't1', ts: '2026-11-20T10:01:00Z', properties: { plan: 'pro', seats: '2.5' } },
      { event: 'trial_started', event_id: 't2', ts: '2026-11-20T10:02:00Z', properties: { plan: 'pro', seats: 'many\u202e' } },
      { event: 'trial_started', event_id: 't3', ts: Date.parse('2026-11-20T10:03:00Z') / 1000, properties: { plan: 'team', seats: 3 } },
    ].map((e) => JSON.stringify(e)).join('\n'));
    // The file's mtime is its records' Kafka timestamp.
    const kafkaTime = new Date('2026-11-20T10:30:00Z');
    utimesSync(file, kafkaTime, kafkaTime);
    assert.match(await ok('ingest', file), /4 records in 1 batches: 1 stored, 3 quarantined/);

    // list: open records by reason and event, with the Kafka timestamps
    const list = await ok('quarantine', 'list');
    assert.match(list, /type_conflict\s+trial_started\s+2\s+2026-11-20T10:30:00\.000Z\s+2026-11-20T10:30:00\.000Z/);
    assert.match(list, /invalid_timestamp\s+trial_started\s+1\s/);
    assert.match(list, /^3 open records$/m);
    const json = JSON.parse(await ok('quarantine', 'list', '--reason', 'type_conflict', '--json')) as Array<{ reason: string; records: number }>;
    assert.deepEqual(json.map((r) => [r.reason, r.records]), [['type_conflict', 2]]);
    assert.match(await ok('quarantine', 'list', '--since', '2026-11-21'), /^No open quarantined records match\.$/m);
    const badReason = await cli('quarantine', 'list', '--reason', 'nope');
    assert.equal(badReason.code, 2);
    assert.match(badReason.stderr, /not a quarantine reason; the reasons are invalid_encoding/);

    // show: the record decoded, escaped for the terminal, with its lineage
    const show = await ok('quarantine', 'show', 'trial:0:3');
    assert.match(show, /^trial:0:3 {2}open$/m);
    assert.match(show, /^reason: +type_conflict$/m);
    assert.match(show, /^detail: +seats: expected an integer, got "many\\u202e" \(column type int64\)$/m);
    assert.match(show, /^value: +\{"event":"trial_started","event_id":"t2",.*"seats":"many\\u202e"\}\}$/m);
    assert.doesNotMatch(show, /\u202e/, 'a bidi override reaches the terminal escaped');
    assert.match(show, /^kafka timestamp: +2026-11-20T10:30:00\.000Z$/m);
    assert.match(show, /^quarantine files: lake\/_quarantine\/dt=2026-11-20\/hour=10\/trial\+0\+2-4\.parquet$/m);
    const missing = await cli('quarantine', 'show', 'trial:0:1');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not in the quarantine: trial:0:1/);

    // Replayed before the fix: both fail again, and each is still one open record
    const early = await cli('quarantine', 'replay', '--reason', 'type_conflict');
    assert.equal(early.code, 1);
    assert.match(early.stdout, /Replayed 2 records in 1 batch .*: 0 stored and marked resolved, 2 quarantined again/);
    assert.match(early.stderr, /replay 2\/2: 0 stored, 2 quarantined again/);
    assert.match(await ok('quarantine', 'list'), /^3 open records$/m);

    // The fix: seats becomes a number (int64 → double is a safe change)
    assert.match(await ok('schema', 'pin', 'trial_started'), /Wrote/);
    const schemaFile = join(schemas, 'trial_started.json');
    const doc = JSON.parse(readFileSync(schemaFile, 'utf8'));
    doc.properties.seats = { type: 'number' };
    writeFileSync(schemaFile, JSON.stringify(doc));
    assert.match(await ok('schema', 'push', schemaFile), /widened seats int64 → double/);
    const before = await stored();
    assert.deepEqual([before.clickhouse, before.lake], [1, 1]);

    const replay = await cli('quarantine', 'replay', '--reason', 'type_conflict');
    assert.equal(replay.code, 1, 'one record still fails');
    assert.match(replay.stdout, /Replayed 2 records in 1 batch .*: 1 stored and marked resolved, 1 quarantined again/);
    assert.match(replay.stdout, /trial:0:3\s+uncoercible_value\s+seats: expected a number/);
    const landed = await stored();
    assert.deepEqual([landed.clickhouse, landed.lake], [2, 2]);
    assert.equal(await scalar("SELECT seats AS n FROM tributary.trial_started WHERE event_id = 't1'"), 2.5);

    // The record that still fails shows its latest reason, once; the landed one is resolved, not open
    const after = await ok('quarantine', 'list');
    assert.match(after, /uncoercible_value\s+trial_started\s+1\s/);
    assert.doesNotMatch(after, /type_conflict/);
    assert.match(after, /^2 open records$/m);
    assert.match(await ok('quarantine', 'list', '--all'), /type_conflict\s+trial_started\s+resolved\s+1\s/);
    assert.equal(await scalar('SELECT count() AS n FROM tributary_ops._quarantine FINAL'), 3);
    assert.match(await ok('quarantine', 'show', 'trial:0:2'), /^trial:0:2 {2}resolved$[\s\S]*^resolved: +2026-11-21T00:10:\S+ by quarantine replay$/m);

    // A second replay stores nothing more: by selection (nothing open matches) and by id (the resolved record again)
    assert.match(await ok('quarantine', 'replay', '--reason', 'type_conflict'), /Nothing to replay: no open quarantined record matches/);
    assert.match(await ok('quarantine', 'replay', 'trial:0:2'), /Replayed 1 record in 1 batch .*: 1 stored and marked resolved, 0 quarantined again/);
    assert.deepEqual(await stored(), landed, 'the same rows in ClickHouse (raw count) and the lake, the same files');

    // Transformations fix the rest: a value of another type under a new name, a timestamp in epoch seconds
    const renamed = await ok('quarantine', 'replay', 'trial:0:3', '--rename', 'seats=seats_text');
    assert.match(renamed, /1 stored and marked resolved, 0 quarantined again\nTransformed 1 with --rename seats=seats_text/);
    const timed = await ok('quarantine', 'replay', '--reason', 'invalid_timestamp', '--ts-format', 'epoch-s');
    assert.match(timed, /1 stored and marked resolved[\s\S]*Transformed 1 with --ts-format epoch-s/);
    assert.match(await ok('quarantine', 'list'), /^No open quarantined records\.$/m);
    assert.equal(await scalar("SELECT count() AS n FROM tributary.trial_started WHERE event_id = 't2' AND seats_text = 'many\u202e' AND seats IS NULL"), 1);
    assert.equal(await scalar("SELECT count() AS n FROM tributary.trial_started WHERE event_id = 't3' AND event_time = '2026-11-20 10:03:00'"), 1);
    const final = await stored();
    assert.deepEqual([final.clickhouse, final.lake], [4, 4]);
    assert.equal(await scalar('SELECT uniqExact(event_id) AS n FROM lake.trial_started'), 4);
    assert.equal(await scalar('SELECT count() AS n FROM tributary_ops._quarantine_resolved FINAL'), 3);
    assert.ok(lakeFiles('_quarantine').some((f) => f.startsWith('_resolved/dt=2026-11-21/')), 'resolutions in the lake too');

    const badTransform = await cli('quarantine', 'replay', '--rename', 'seats');
    assert.equal(badTransform.code, 2);
    assert.match(badTransform.stderr, /--rename needs NAME=VALUE/);
  });
});
