// `tributary serve` as BI tools meet it: the official @clickhouse/client, and raw HTTP requests shaped as
// clickhouse-connect (Superset) and clickhouse-go (Grafana's ClickHouse plugin in HTTP mode) send them, against
// the command started as a subprocess on a free loopback port over a store with a small ingested file.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';
import { startServe as startServeProcess, type ServeProcess } from '../serve-process.js';

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'tributary-serve-'));
const env = { ...process.env, TRIBUTARY_HOME: home, TRIBUTARY_NOW: '2026-11-20T11:00:00Z', TRIBUTARY_SERVE_PASSWORD: '' };
const bin = join(PACKAGE_ROOT, 'bin/tributary.mjs');
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
type Failure = { code?: string; type?: string; message: string };

const startServe = (args: string[]): Promise<ServeProcess> => startServeProcess({ env, args });

describe('tributary serve', () => {
  let server: Awaited<ReturnType<typeof startServe>>;
  let client: ClickHouseClient;

  before(async () => {
    const events = join(home, 'page_view.ndjson');
    writeFileSync(events, ['a1', 'a2', 'a3'].map((id, i) =>
      JSON.stringify({ event: 'page_view', event_id: id, ts: `2026-11-20T10:0${i}:00Z`, user_id: `u${i}`, properties: { path: `/p${i}` } })).join('\n'));
    await run(process.execPath, [bin, 'ingest', events, '--topic', 'events'], { env, cwd: PACKAGE_ROOT });
    const passwordFile = join(home, 'password');
    writeFileSync(passwordFile, 'secret\n');
    server = await startServe(['--user', 'analyst', '--password-file', passwordFile]);
    client = createClient({ url: server.url, username: 'analyst', password: 'secret', database: 'tributary' });
  });

  after(async () => {
    await client?.close();
    await server?.stop();
  });

  it('answers @clickhouse/client: count() of an ingested table, in JSONEachRow, JSON and TabSeparated', async () => {
    const rs = await client.query({ query: 'SELECT count() AS n FROM page_view', format: 'JSONEachRow' });
    assert.deepEqual(await rs.json(), [{ n: 3 }]);
    const json = await (await client.query({ query: 'SELECT path FROM page_view ORDER BY path', format: 'JSON' })).json<{ path: string }>();
    assert.deepEqual(json.data.map((r) => r.path), ['/p0', '/p1', '/p2']);
    assert.equal(json.rows, 3);
    assert.equal(await (await client.query({ query: 'SELECT path, user_id FROM page_view ORDER BY path LIMIT 2', format: 'TabSeparated' })).text(), '/p0\tu0\n/p1\tu1\n');
    assert.equal((await client.ping()).success, true);
  });

  it('reads query parameters as ClickHouse does: a String with a newline, tab, quote or backslash, an Array(String) with a newline, NULL', async () => {
    for (const v of ['a\nb', "it's", 'back\\slash', 'tab\there', '\\N']) {
      const [row] = await (await client.query({ query: 'SELECT {s:String} AS s, length({s:String}) AS n', query_params: { s: v }, format: 'JSONEachRow' })).json<{ s: string; n: string }>();
      assert.deepEqual([row!.s, Number(row!.n)], [v, v.length], JSON.stringify(v));
    }
    const [arr] = await (await client.query({ query: 'SELECT {a:Array(String)} AS a', query_params: { a: ['x y', 'n\nl'] }, format: 'JSONEachRow' })).json<{ a: string[] }>();
    assert.deepEqual(arr!.a, ['x y', 'n\nl']);
    const [nul] = await (await client.query({ query: 'SELECT isNull({v:Nullable(String)}) AS is_null', query_params: { v: null }, format: 'JSONEachRow' })).json<{ is_null: number }>();
    assert.equal(Number(nul!.is_null), 1);
  });

  it('refuses writes while read-only, in ClickHouse\'s error shape, and the data stays', async () => {
    for (const sql of ['DROP TABLE page_view', 'CREATE TABLE x (a UInt8) ENGINE = Memory', "INSERT INTO FUNCTION file('x.csv', CSV, 'a UInt8') SELECT 1"]) {
      await assert.rejects(client.command({ query: sql }), (e: Failure) => e.code === '164' && e.type === 'READONLY' && /read-only/.test(e.message), sql);
    }
    await assert.rejects(client.query({ query: 'SELECT 1 SETTINGS readonly = 0' }), (e: Failure) => e.code === '164');
    // readonly = 2 would let these read any file the process can, or reach the network
    for (const sql of ["SELECT * FROM file('/etc/hostname', 'LineAsString')", "SELECT file('/etc/hostname')",
      "SELECT count() FROM numbers(3) WHERE number IN (SELECT 1 FROM url('http://127.0.0.1:1/x', CSV, 'a UInt8'))"]) {
      await assert.rejects(client.query({ query: sql }), (e: Failure) => e.code === '497' && e.type === 'ACCESS_DENIED' && /reads outside the store/.test(e.message), sql);
    }
    assert.deepEqual(await (await client.query({ query: 'SELECT sum(number) AS s FROM numbers(4)', format: 'JSONEachRow' })).json(), [{ s: 6 }]);
    await assert.rejects(client.query({ query: 'SELECT 1; DROP TABLE page_view' }), (e: Failure) => e.code === '62' && /Multi-statements/.test(e.message));
    assert.deepEqual(await (await client.query({ query: 'SELECT count() AS n FROM page_view', format: 'JSONEachRow' })).json(), [{ n: 3 }]);
  });

  it('refuses a bad password or an unknown user (AUTHENTICATION_FAILED, 403)', async () => {
    for (const [username, password] of [['analyst', 'wrong'], ['default', ''], ['default', 'secret']]) {
      const bad = createClient({ url: server.url, username, password });
      try {
        await assert.rejects(bad.query({ query: 'SELECT 1' }), (e: Failure) => e.code === '516' && e.type === 'AUTHENTICATION_FAILED');
      } finally {
        await bad.close();
      }
    }
    const res = await fetch(`${server.url}/?query=SELECT%201`, { headers: { 'X-ClickHouse-User': 'analyst', 'X-ClickHouse-Key': 'nope' } });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-clickhouse-exception-code'), '516');
    const ok = await fetch(`${server.url}/?query=SELECT%201`, { headers: { 'X-ClickHouse-User': 'analyst', 'X-ClickHouse-Key': 'secret' } });
    assert.equal(await ok.text(), '1\n');
  });

  it('reports errors as ClickHouse does: Code: N. DB::Exception: … (NAME), its HTTP status and X-ClickHouse-Exception-Code', async () => {
    await assert.rejects(client.query({ query: 'SELECT nope FROM page_view' }), (e: Failure) => e.code === '47' && e.type === 'UNKNOWN_IDENTIFIER');
    const res = await fetch(`${server.url}/`, { method: 'POST', body: 'SELECT * FROM no_such_table', headers: { Authorization: basic('analyst', 'secret') } });
    assert.equal(res.status, 404); // exceptionCodeToHTTPStatus.cpp: UNKNOWN_TABLE → 404
    assert.equal(res.headers.get('x-clickhouse-exception-code'), '60');
    assert.match(await res.text(), /^Code: 60\. DB::Exception: .*no_such_table.*\. \(UNKNOWN_TABLE\) \(version [\d.]+\)\n$/s);
    const syntax = await fetch(`${server.url}/`, { method: 'POST', body: 'SELEC 1', headers: { Authorization: basic('analyst', 'secret') } });
    assert.equal(syntax.status, 400);
    assert.match(await syntax.text(), /^Code: 62\. DB::Exception: Syntax error.*\(SYNTAX_ERROR\)/s);
    const setting = await fetch(`${server.url}/?query=SELECT%201&allow_ddl=1`, { headers: { Authorization: basic('analyst', 'secret') } });
    assert.equal(setting.status, 404);
    assert.match(await setting.text(), /^Code: 115\. DB::Exception: Setting allow_ddl is not allowed by tributary serve/);
  });

  it('answers /ping and / with Ok., and GET queries with query parameters; a request cannot lift read-only', async () => {
    assert.equal(await (await fetch(`${server.url}/ping`)).text(), 'Ok.\n');
    assert.equal(await (await fetch(`${server.url}/`)).text(), 'Ok.\n');
    const res = await fetch(`${server.url}/?query=${encodeURIComponent('SELECT 40 + 2 AS answer')}&default_format=JSONEachRow&user=analyst&password=secret`);
    assert.equal(await res.text(), '{"answer":42}\n');
    assert.equal(res.headers.get('x-clickhouse-format'), 'JSONEachRow');
    const bound = await fetch(`${server.url}/?${new URLSearchParams({ query: 'SELECT count() FROM page_view WHERE path = {p:String}', param_p: '/p1' })}`, { headers: { Authorization: basic('analyst', 'secret') } });
    assert.equal(await bound.text(), '1\n');
    const lift = await fetch(`${server.url}/?query=SELECT%201&readonly=0`, { headers: { Authorization: basic('analyst', 'secret') } });
    assert.equal(lift.headers.get('x-clickhouse-exception-code'), '164');
  });

  it('takes the shapes clickhouse-connect sends (Superset)', async () => {
    // clickhouse_connect/driver/httpclient.py: Basic auth header, a session_id generated per client, a query_id per
    // request, wait_end_of_query=1, the SQL in a POST body; client.py _init_common_settings sends these first.
    const session = randomUUID();
    const headers = { Authorization: basic('analyst', 'secret'), 'User-Agent': 'clickhouse-connect/0.8.0 (lv:py/3.11.4; mode:sync; os:linux)', 'Content-Type': 'text/plain; charset=utf-8' };
    const post = (params: Record<string, string>, body: string, extra: Record<string, string> = {}): Promise<Response> =>
      fetch(`${server.url}/?${new URLSearchParams({ session_id: session, query_id: randomUUID(), ...params })}`, { method: 'POST', body, headers: { ...headers, ...extra } });
    // command('SELECT version(), timezone()', use_database=False): TabSeparated text back, read as value\tvalue\n
    const version = await post({}, 'SELECT version(), timezone()');
    assert.equal(version.status, 200);
    assert.match(await version.text(), /^\d+(\.\d+)+\t\S+\n$/);
    assert.equal(version.headers.get('x-clickhouse-session-id'), session);
    // the settings probe, in Native, with HTTP compression asked for (Accept-Encoding from available_compression)
    const settings = await post({ database: 'tributary', wait_end_of_query: '1', enable_http_compression: '1' },
      'SELECT name, value, readonly as readonly FROM system.settings LIMIT 10000\n FORMAT Native', { 'Accept-Encoding': 'lz4,zstd,br,gzip' });
    assert.equal(settings.status, 200);
    assert.equal(settings.headers.get('x-clickhouse-format'), 'Native');
    assert.ok(JSON.parse(settings.headers.get('x-clickhouse-summary')!).read_rows > 0);
    // fetch decodes the gzip body itself; the Native block names its columns
    assert.match(Buffer.from(await settings.arrayBuffer()).toString('latin1'), /readonly/);
    // the protocol-version check: SELECT 1 AS check in Native with client_protocol_version
    const check = await post({ database: 'tributary', client_protocol_version: '54405' }, 'SELECT 1 AS check\n FORMAT Native');
    assert.equal(check.status, 200);
    assert.match(Buffer.from(await check.arrayBuffer()).toString('latin1'), /check/);
    // a query afterwards: database, date_time_input_format (set by the client once the probe says it is writable)
    const rows = await post({ database: 'tributary', date_time_input_format: 'best_effort' }, 'SELECT count() FROM page_view\n FORMAT TabSeparated');
    assert.equal(await rows.text(), '3\n');
    assert.equal(rows.headers.get('x-clickhouse-format'), 'TabSeparated');
    assert.ok(rows.headers.get('x-clickhouse-query-id'));
  });

  it('takes the shapes clickhouse-go sends in HTTP mode (Grafana\'s ClickHouse plugin)', async () => {
    // clickhouse-go v2 conn_http.go dialHttp: database, the plugin's settings, default_format=Native and
    // client_protocol_version as URL parameters, user:password in the URL (Basic auth), then queryHello.
    const url = `${server.url}/?${new URLSearchParams({ database: 'tributary', max_execution_time: '30', default_format: 'Native', client_protocol_version: '54460' })}`;
    const res = await fetch(url, { method: 'POST', body: 'SELECT displayName(), version(), revision(), timezone()', headers: { Authorization: basic('analyst', 'secret'), 'User-Agent': 'clickhouse-go/2.30.0 (lv:go/1.22; os:linux)' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-clickhouse-format'), 'Native');
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    const block = Buffer.from(await res.arrayBuffer());
    assert.equal(block[0], 4); // Native: 4 columns
    assert.equal(block[1], 1); // 1 row
    // gzip when asked (clickhouse-go's Compression{Method: GZIP} sets enable_http_compression=1, Accept-Encoding: gzip)
    const raw = await fetch(`${server.url}/?database=tributary&enable_http_compression=1`, { method: 'POST', body: 'SELECT count() FROM page_view',
      headers: { Authorization: basic('analyst', 'secret'), 'Accept-Encoding': 'gzip' } });
    assert.equal(raw.headers.get('content-encoding'), 'gzip');
    assert.equal(await raw.text(), '3\n'); // fetch gunzips
    // the query a dashboard panel sends, with X-ClickHouse-Database and X-ClickHouse-Format headers
    const panel = await fetch(`${server.url}/`, { method: 'POST', body: 'SELECT path, count() AS c FROM page_view GROUP BY path ORDER BY path',
      headers: { Authorization: basic('analyst', 'secret'), 'X-ClickHouse-Database': 'tributary', 'X-ClickHouse-Format': 'JSONCompactEachRow' } });
    assert.equal(await panel.text(), '["\\/p0", 1]\n["\\/p1", 1]\n["\\/p2", 1]\n');
  });

  it('resets a setting a request changed before the next request runs', async () => {
    const q = (extra: string): Promise<string> => fetch(`${server.url}/?query=${encodeURIComponent("SELECT value FROM system.settings WHERE name = 'max_result_rows'")}${extra}`,
      { headers: { Authorization: basic('analyst', 'secret') } }).then((r) => r.text());
    const before = await q('');
    assert.equal(await q('&max_result_rows=1000'), '1000\n');
    assert.equal(await q(''), before);
  });

  it('refuses ClickHouse block compression it does not write, saying how to turn it off', async () => {
    const res = await fetch(`${server.url}/?query=SELECT%201&compress=1`, { headers: { Authorization: basic('analyst', 'secret') } });
    assert.equal(res.status, 501);
    assert.match(await res.text(), /^Code: 48\. DB::Exception: compress=1 .*set compress=0/);
  });

  it('serializes concurrent queries and answers each', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      client.query({ query: `SELECT ${i} AS i, count() AS n FROM page_view`, format: 'JSONEachRow' }).then((r) => r.json<{ i: number; n: number }>())));
    assert.deepEqual(answers.map((a) => a[0]), Array.from({ length: 8 }, (_, i) => ({ i, n: 3 })));
  });

  it('has a --help naming its options; a bad option exits 2 and a missing password file 1, each with one line', async () => {
    const { stdout } = await run(process.execPath, [bin, 'serve', '--help'], { env, cwd: PACKAGE_ROOT });
    for (const option of ['--port', '--host', '--user', '--password-file', '--write', 'TRIBUTARY_SERVE_PASSWORD']) assert.ok(stdout.includes(option), option);
    type Failed = { code: number; stderr: string };
    await assert.rejects(run(process.execPath, [bin, 'serve', '--port', 'nope'], { env, cwd: PACKAGE_ROOT }),
      (e: Failed) => e.code === 2 && e.stderr === 'tributary: --port must be an integer from 0 to 65535\n');
    const missing = join(home, 'no-password');
    await assert.rejects(run(process.execPath, [bin, 'serve', '--password-file', missing], { env, cwd: PACKAGE_ROOT }),
      (e: Failed) => e.code === 1 && e.stderr === `tributary: ${missing}: no such file or directory\n`);
  });

  it('holds its settings allow-list for a query\'s own SETTINGS too: none reads a file back (format_template_row, format_schema)', async () => {
    const secret = join(home, 'credentials');
    writeFileSync(secret, '[default]\naws_secret_access_key = TOPSECRET\n');
    const q = (s: string): string => s.replace('FILE', secret.replace(/'/g, "\\'"));
    for (const sql of ["SELECT * FROM format(Template, 'x') SETTINGS format_template_row = 'FILE'",
      "SELECT 1 AS x FORMAT Template SETTINGS format_template_resultset = 'FILE'",
      "SELECT * FROM (SELECT * FROM format(Template, 'x') SETTINGS format_template_row = 'FILE') SETTINGS max_threads = 1",
      "SELECT 1 FORMAT Protobuf SETTINGS format_schema = 'FILE:M'"]) {
      const res = await fetch(`${server.url}/`, { method: 'POST', body: q(sql), headers: { Authorization: basic('analyst', 'secret') } });
      const text = await res.text();
      assert.doesNotMatch(text, /TOPSECRET/, sql);
      assert.equal(res.headers.get('x-clickhouse-exception-code'), '115', `${sql}: ${text}`);
      assert.match(text, /is not allowed by tributary serve/, sql);
    }
    // Allowed settings still run in a query.
    assert.deepEqual(await (await client.query({ query: 'SELECT count() AS n FROM page_view SETTINGS max_threads = 1, readonly = 1', format: 'JSONEachRow' })).json(), [{ n: 3 }]);
  });

  it('reads a gzip request body (Content-Encoding: gzip)', async () => {
    const res = await fetch(`${server.url}/`, { method: 'POST', body: gzipSync('SELECT 7'), headers: { Authorization: basic('analyst', 'secret'), 'Content-Encoding': 'gzip' } });
    assert.equal(await res.text(), '7\n');
  });
});

describe('tributary serve --write', () => {
  let server: Awaited<ReturnType<typeof startServe>>;
  let client: ClickHouseClient;
  const auth = { Authorization: basic('default', '') };

  before(async () => {
    server = await startServe(['--write']); // the store of the suite above, which has stopped
    client = createClient({ url: server.url, database: 'tributary' });
  });

  after(async () => {
    await client?.close();
    await server?.stop();
  });

  it('lets statements write: CREATE, an INSERT with its data in the body, DROP', async () => {
    await client.command({ query: 'CREATE TABLE notes (id UInt32, note String) ENGINE = MergeTree ORDER BY id' });
    await client.insert({ table: 'notes', values: [{ id: 1, note: 'a' }, { id: 2, note: 'b' }], format: 'JSONEachRow' });
    assert.deepEqual(await (await client.query({ query: 'SELECT id, note FROM notes ORDER BY id', format: 'JSONEachRow' })).json(), [{ id: 1, note: 'a' }, { id: 2, note: 'b' }]);
    // clickhouse-connect's raw_insert shape: INSERT … FORMAT in the query parameter, the rows in the body
    const raw = await fetch(`${server.url}/?${new URLSearchParams({ database: 'tributary', query: 'INSERT INTO notes (id, note) FORMAT TabSeparated' })}`,
      { method: 'POST', body: '3\tc\n', headers: { ...auth, 'Content-Type': 'application/octet-stream' } });
    assert.equal(raw.status, 200, await raw.text());
    assert.equal(await (await client.query({ query: 'SELECT count() AS n FROM notes', format: 'JSONEachRow' })).json<{ n: number }>().then((r) => r[0]!.n), 3);
    await client.command({ query: 'DROP TABLE notes' });
  });

  it('still runs a GET, or a request with readonly = 1, read-only, and that does not outlast the request', async () => {
    const get = await fetch(`${server.url}/?query=${encodeURIComponent('CREATE TABLE g (a UInt8) ENGINE = Memory')}`, { headers: auth });
    assert.equal(get.headers.get('x-clickhouse-exception-code'), '164');
    await assert.rejects(client.command({ query: 'CREATE TABLE r (a UInt8) ENGINE = Memory', clickhouse_settings: { readonly: '1' } }), (e: Failure) => e.code === '164');
    await client.command({ query: 'CREATE TABLE r (a UInt8) ENGINE = Memory' });
    await client.command({ query: 'DROP TABLE r' });
  });

  it('refuses what a web page sends it: a cross-site POST (CSRF) and a foreign Host (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const post = (headers: Record<string, string>, sql: string): Promise<{ status: number; code: string | undefined; text: string }> => new Promise((resolve, reject) => {
      const req = request(`${server.url}/`, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { text += c; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, code: res.headers['x-clickhouse-exception-code'] as string | undefined, text }));
      });
      req.on('error', reject);
      req.end(sql);
    });
    // A form or fetch(no-cors) from another site: the browser sends its Origin (and Sec-Fetch-Site).
    const csrf = await post({ origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' }, 'CREATE TABLE pwned (a UInt8) ENGINE = Memory');
    assert.equal(csrf.status, 403, csrf.text);
    assert.equal(csrf.code, '497');
    assert.match(csrf.text, /another site/);
    const sameSite = await post({ 'sec-fetch-site': 'same-site' }, 'CREATE TABLE pwned (a UInt8) ENGINE = Memory');
    assert.equal(sameSite.status, 403, sameSite.text);
    // A page of attacker.example whose name now resolves to 127.0.0.1: same-origin to the browser, its own Host here.
    const rebound = await post({ host: `attacker.example:${new URL(server.url).port}`, origin: `http://attacker.example:${new URL(server.url).port}` }, 'SELECT count() FROM page_view');
    assert.equal(rebound.status, 403, rebound.text);
    assert.match(rebound.text, /Host/);
    assert.equal((await post({ host: 'attacker.example' }, 'SELECT 1')).status, 403);
    assert.equal(await (await client.query({ query: "SELECT count() AS n FROM system.tables WHERE database = 'tributary' AND name = 'pwned'", format: 'JSONEachRow' })).json<{ n: number }>().then((r) => r[0]!.n), 0);
    // BI clients (no Origin) and localhost names are served as before.
    assert.equal((await post({ host: `localhost:${new URL(server.url).port}` }, 'SELECT 1')).text, '1\n');
  });

  it('refuses SET, which would outlast its request in chDB\'s one session', async () => {
    await assert.rejects(client.command({ query: 'SET max_threads = 1' }), (e: Failure) => e.code === '48' && /URL parameters/.test(e.message));
  });
});
