// While `tributary serve` holds the local store, the other commands run through it (serve/forward.ts →
// serve/commands.ts) instead of failing on chDB's lock: real processes throughout, serve started on a free port.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';
import { writeDiscovery } from '../../functions/cli/serve/discovery.js';
import { startServe as startServeProcess, type ServeProcess } from '../serve-process.js';

const exec = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'tributary-forward-'));
const data = join(home, 'data'); // the commands' own working directory: relative paths are theirs, not serve's
mkdirSync(data);
const env = { ...process.env, TRIBUTARY_HOME: home, TRIBUTARY_NOW: '2026-11-20T11:00:00Z', TRIBUTARY_SERVE_PASSWORD: '' };
const bin = join(PACKAGE_ROOT, 'bin/tributary.mjs');
type Failed = { code: number; stdout: string; stderr: string };
type Failure = { code?: string; type?: string; message: string };

const cli = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> =>
  exec(process.execPath, [bin, ...args], { env: { ...env, ...extra }, cwd: data, maxBuffer: 64 * 1024 * 1024 });

const pageViews = (prefix: string, n: number): string =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ event: 'page_view', event_id: `${prefix}${i}`, ts: `2026-11-20T10:${String(i % 60).padStart(2, '0')}:00Z`, user_id: `u${i % 50}`, properties: { path: `/p${i % 7}` } })).join('\n');

const startServe = (serveEnv: NodeJS.ProcessEnv = env, cwd = PACKAGE_ROOT): Promise<ServeProcess> => startServeProcess({ env: serveEnv, cwd });

const count = async (client: ClickHouseClient): Promise<number> =>
  Number((await (await client.query({ query: 'SELECT count() AS n FROM page_view', format: 'JSONEachRow' })).json<{ n: string | number }>())[0]!.n);

describe('commands while tributary serve holds the store', () => {
  let server: Awaited<ReturnType<typeof startServe>>;
  let client: ClickHouseClient;

  before(async () => {
    writeFileSync(join(data, 'first.ndjson'), pageViews('a', 3));
    await cli(['ingest', 'first.ndjson']);
    server = await startServe();
    client = createClient({ url: server.url, database: 'tributary' });
  });

  after(async () => {
    await client?.close();
    await server?.stop();
  });

  it('writes serve.json (mode 0600) with serve\'s pid while it runs', () => {
    const file = join(home, 'serve.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const d = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; commandPort: number; token: string; url: string };
    assert.equal(d.pid, server.child.pid);
    assert.equal(d.url, server.url);
    assert.match(d.token, /^[0-9a-f]{64}$/);
  });

  it('answers SELECT count() FROM page_view through @clickhouse/client while tributary ingest runs in another process', async () => {
    const initial = await count(client);
    assert.equal(initial, 3);
    const n = 3000;
    writeFileSync(join(data, 'many.ndjson'), pageViews('m', n));
    // Small batches: the ingest takes many statements, and BI queries get their turns between them.
    const ingest = spawn(process.execPath, [bin, 'ingest', 'many.ndjson', '--batch-size', '100'], { env, cwd: data, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    ingest.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
    ingest.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
    const exited = new Promise<number | null>((r) => ingest.once('exit', (code) => r(code)));
    let running = true;
    void exited.then(() => { running = false; });
    const during: number[] = [];
    while (running) {
      const c = await count(client);
      if (running) during.push(c);
    }
    assert.equal(await exited, 0, `ingest failed: ${out}${err}`);
    assert.match(out, /3000/); // its summary came back through serve
    const final = await count(client);
    assert.equal(final, initial + n);
    assert.ok(during.length > 0, 'no answer while ingest ran');
    // Answered mid-ingest: some of its batches were in, not all.
    assert.ok(during.some((c) => c > initial && c < final), `counts seen while ingest ran: ${during.join(', ')}`);
  });

  it('runs sql through serve: reads, --write, and usage errors with their exit code; BI users still cannot write', async () => {
    const { stdout } = await cli(['sql', 'SELECT count() AS n FROM page_view', '--format', 'jsonl']);
    assert.deepEqual(JSON.parse(stdout), { n: 3003 });
    // serve's process still writes after the BI reads above (no readonly left in chDB's session)
    await cli(['sql', '--write', 'CREATE TABLE notes (a UInt8) ENGINE = MergeTree ORDER BY a']);
    await cli(['sql', '--write', 'INSERT INTO notes VALUES (1), (2)']);
    assert.deepEqual(JSON.parse((await cli(['sql', 'SELECT count() AS n FROM notes', '--format', 'jsonl'])).stdout), { n: 2 });
    for (const sql of ['DROP TABLE notes', 'INSERT INTO notes VALUES (3)']) {
      await assert.rejects(client.command({ query: sql }), (e: Failure) => e.code === '164' && e.type === 'READONLY', sql);
    }
    await assert.rejects(client.query({ query: 'SELECT 1 SETTINGS readonly = 0' }), (e: Failure) => e.code === '164');
    assert.deepEqual(await (await client.query({ query: 'SELECT count() AS n FROM notes', format: 'JSONEachRow' })).json(), [{ n: 2 }]);
    // still read-only for sql without --write, through serve as on its own
    await assert.rejects(cli(['sql', 'DROP TABLE notes']), (e: Failed) => e.code === 2 && /pass --write/.test(e.stderr));
    await assert.rejects(cli(['sql']), (e: Failed) => e.code === 2 && e.stderr === 'tributary: sql needs a query: tributary sql "SELECT …" or tributary sql -f query.sql\n');
    await cli(['sql', '--write', 'DROP TABLE notes']);
    // dev and a second serve open the store themselves: refused, naming the serve that holds it
    await assert.rejects(cli(['dev', '--events', '10']), (e: Failed) => e.code === 1 &&
      e.stderr === `tributary: tributary serve (pid ${server.child.pid}, ${server.url}) holds ${home}: stop it (Ctrl-C in its terminal) before npm start (tributary dev), then start it again\n`);
    await assert.rejects(cli(['serve', '--port', '0']), (e: Failed) => e.code === 1 && /holds .*: it already serves this store\n$/.test(e.stderr));
  });

  it('runs status through serve, on the caller\'s clock (TRIBUTARY_NOW), exit code included', async () => {
    const run = (now: string): Promise<{ code: number; report: { now: string; tables: Array<{ table: string }>; overall: { health: string } } }> =>
      cli(['status', '--json'], { TRIBUTARY_NOW: now }).then((r) => ({ code: 0, report: JSON.parse(r.stdout) }),
        (e: Failed) => ({ code: e.code, report: JSON.parse(e.stdout) }));
    const fresh = await run('2026-11-20T11:00:00Z');
    assert.ok(fresh.report.now.startsWith('2026-11-20T11:00'), fresh.report.now);
    assert.deepEqual(fresh.report.tables.map((t) => t.table), ['page_view']);
    assert.equal(fresh.code, 0);
    const late = await run('2026-11-22T11:00:00Z'); // two days later: stale past every threshold
    assert.ok(late.report.now.startsWith('2026-11-22T11:00'), late.report.now);
    assert.equal(late.report.overall.health, 'critical');
    assert.equal(late.code, 3);
  });

  it('takes a command\'s standard input (ingest -) through serve', async () => {
    const child = spawn(process.execPath, [bin, 'ingest', '-', '--topic', 'piped'], { env, cwd: data, stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
    child.stdin!.end(pageViews('s', 5));
    assert.equal(await new Promise((r) => child.once('exit', r)), 0, err);
    assert.equal(await count(client), 3008);
  });

  it('refuses a command whose caller does not show serve.json\'s token, and runs nothing', async () => {
    const { commandPort } = JSON.parse(readFileSync(join(home, 'serve.json'), 'utf8')) as { commandPort: number };
    const header = JSON.stringify({ argv: ['sql', '--write', 'CREATE TABLE pwned (a UInt8) ENGINE = Memory'], cwd: data, env: {}, stdoutIsTTY: false, stderrIsTTY: false });
    for (const authorization of ['Bearer nope', '']) {
      const res = await fetch(`http://127.0.0.1:${commandPort}/run`, { method: 'POST', body: `${header}\n`, headers: authorization ? { authorization } : {} });
      assert.equal(res.status, 403);
    }
    assert.equal((await cli(['sql', 'EXISTS TABLE pwned', '--format', 'tsv'])).stdout, 'result\n0\n');
  });

  it('removes serve.json when serve stops; a stale one (dead pid, or nothing listening) is ignored and the command opens the store itself', async () => {
    await client.close();
    await server.stop();
    const file = join(home, 'serve.json');
    assert.equal(existsSync(file), false);
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.once('exit', r));
    const cases = [
      { pid: dead.pid, commandPort: 1, token: 'x', url: 'http://127.0.0.1:1' },
      // a live pid (this test's) where nothing listens: a serve killed without cleaning up, its pid reused
      { pid: process.pid, commandPort: 1, token: 'x', url: 'http://127.0.0.1:1' },
    ];
    for (const stale of cases) {
      writeFileSync(file, JSON.stringify(stale), { mode: 0o600 });
      assert.deepEqual(JSON.parse((await cli(['sql', 'SELECT count() AS n FROM page_view', '--format', 'jsonl'])).stdout), { n: 3008 });
    }
  });
});

describe('a serve started with a relative TRIBUTARY_HOME', () => {
  it('runs a command from another directory in its own store, not in the caller\'s directory\'s namesake', async () => {
    const base = mkdtempSync(join(tmpdir(), 'tributary-forward-relative-'));
    const sub = join(base, 'sub');
    mkdirSync(sub);
    writeFileSync(join(sub, 'events.ndjson'), pageViews('r', 4));
    // serve in base with TRIBUTARY_HOME=store; the caller in base/sub names the same store as ../store.
    const server = await startServe({ ...env, TRIBUTARY_HOME: 'store' }, base);
    try {
      const here = { ...env, TRIBUTARY_HOME: '../store' };
      await exec(process.execPath, [bin, 'ingest', 'events.ndjson'], { env: here, cwd: sub });
      const { stdout } = await exec(process.execPath, [bin, 'sql', 'SELECT count() AS n FROM page_view', '--format', 'jsonl'], { env: here, cwd: sub });
      assert.deepEqual(JSON.parse(stdout), { n: 4 });
      assert.equal(existsSync(join(sub, 'store')), false, 'a store was made in the caller\'s directory');
    } finally {
      await server.stop();
    }
  });
});

describe('serve.json', () => {
  it('is written 0600 whatever lay at its temporary name: a file readable by others, or a link to elsewhere', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-discovery-'));
    const d = { pid: process.pid, commandPort: 1, token: 'a'.repeat(64), url: 'http://127.0.0.1:1' };
    const tmp = join(dir, `serve.json.${process.pid}.tmp`);
    writeFileSync(tmp, 'left over', { mode: 0o644 });
    writeDiscovery(dir, d);
    assert.equal(statSync(join(dir, 'serve.json')).mode & 0o777, 0o600);
    const elsewhere = join(dir, 'elsewhere.txt');
    writeFileSync(elsewhere, 'not serve\'s', { mode: 0o644 });
    symlinkSync(elsewhere, tmp);
    writeDiscovery(dir, { ...d, token: 'b'.repeat(64) });
    assert.equal(readFileSync(elsewhere, 'utf8'), 'not serve\'s');
    assert.equal(statSync(join(dir, 'serve.json')).mode & 0o777, 0o600);
    assert.equal((JSON.parse(readFileSync(join(dir, 'serve.json'), 'utf8')) as { token: string }).token, 'b'.repeat(64));
  });
});
