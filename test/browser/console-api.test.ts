// The console's API off loopback: refused without a password, Basic auth with serve's user and password.
// Also the checks that keep other sites' pages from driving it on loopback.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startServe } from './pipeline.js';

const scratch = mkdtempSync(join(tmpdir(), 'tributary-console-api-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const port = (url: string): string => new URL(url).port;

describe('console API access', { timeout: 60_000 }, () => {
  it('bound beyond loopback without a password, the API refuses every request', async () => {
    const serve = await startServe(join(scratch, 'a'), ['--host', '0.0.0.0']);
    try {
      const res = await fetch(`http://127.0.0.1:${port(serve.url)}/api/overview`);
      assert.equal(res.status, 403);
      assert.match(((await res.json()) as { error: string }).error, /only with a password: start tributary serve with --password-file/);
      const page = await fetch(`http://127.0.0.1:${port(serve.url)}/console/`);
      assert.equal(page.status, 403);
    } finally {
      await serve.stop();
    }
  });

  it('bound beyond loopback with a password, it takes serve\'s user and password (Basic)', async () => {
    const serve = await startServe(join(scratch, 'b'), ['--host', '0.0.0.0', '--user', 'ops'], { TRIBUTARY_SERVE_PASSWORD: 's3cret' });
    try {
      const base = `http://127.0.0.1:${port(serve.url)}`;
      const anonymous = await fetch(`${base}/api/tables`);
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm=/);
      const wrong = await fetch(`${base}/api/tables`, { headers: { authorization: `Basic ${Buffer.from('ops:nope').toString('base64')}` } });
      assert.equal(wrong.status, 401);
      const right = await fetch(`${base}/api/tables`, { headers: { authorization: `Basic ${Buffer.from('ops:s3cret').toString('base64')}` } });
      assert.equal(right.status, 200);
      // An empty store: only the schema files' declared events, none registered yet.
      const { tables } = (await right.json()) as { tables: Array<{ status: string }> };
      assert.ok(tables.length > 0 && tables.every((t) => t.status === 'declared'));
    } finally {
      await serve.stop();
    }
  });

  it('on loopback with a password, the API and its pages take it too: other users of the machine reach loopback', async () => {
    const serve = await startServe(join(scratch, 'd'), [], { TRIBUTARY_SERVE_PASSWORD: 'pw' });
    try {
      const anonymous = await fetch(`${serve.url}/api/sql`, { method: 'POST', body: JSON.stringify({ sql: 'SELECT 1' }), headers: { 'x-tributary-console': '1' } });
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm=/);
      assert.equal((await fetch(`${serve.url}/console/`)).status, 401);
      const right = await fetch(`${serve.url}/api/sql`, { method: 'POST', body: JSON.stringify({ sql: 'SELECT 1 AS one' }), headers: { 'x-tributary-console': '1', authorization: `Basic ${Buffer.from('default:pw').toString('base64')}` } });
      assert.equal(right.status, 200);
      assert.deepEqual(((await right.json()) as { rows: unknown[][] }).rows, [[1]]);
    } finally {
      await serve.stop();
    }
  });

  it('the SQL page refuses settings in a query beyond serve\'s allow-list: none reads a file back', async () => {
    const secret = join(scratch, 'credentials');
    writeFileSync(secret, '[default]\naws_secret_access_key = TOPSECRET\n');
    const serve = await startServe(join(scratch, 'e'));
    try {
      const sql = `SELECT * FROM format(Template, 'x') SETTINGS format_template_row = '${secret}'`;
      for (const [path, body] of [['/api/sql', { sql }], ['/api/sql/sample', { sql, generate: 5 }]] as const) {
        const res = await fetch(`${serve.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'x-tributary-console': '1' } });
        const text = await res.text();
        assert.doesNotMatch(text, /TOPSECRET/, path);
        assert.equal(res.status, 400, text);
        assert.match(text, /format_template_row is not allowed/, path);
      }
      const allowed = await fetch(`${serve.url}/api/sql`, { method: 'POST', body: JSON.stringify({ sql: 'SELECT 2 AS two SETTINGS max_threads = 1' }), headers: { 'x-tributary-console': '1' } });
      assert.equal(allowed.status, 200);
    } finally {
      await serve.stop();
    }
  });

  it('runs a job file\'s SQL on sample events, its window bound to the sample\'s latest day, FINAL deduplicating by event_id', async () => {
    const serve = await startServe(join(scratch, 'j'));
    try {
      const headers = { 'x-tributary-console': '1' };
      const { files } = (await (await fetch(`${serve.url}/api/jobs/files`)).json()) as { files: Array<{ name?: string; window?: string; sql?: string; problems: string[] }> };
      assert.deepEqual(files.map((f) => f.name).sort(), ['daily-active-users', 'daily-revenue', 'hourly-funnel']);
      const dau = files.find((f) => f.name === 'daily-active-users')!;
      assert.equal(dau.window, 'daily');
      // Two days; a redelivered event (same event_id), a user on two platforms, an anonymous view.
      const pv = (id: string, day: string, user: string | null, platform: string, country: string): string =>
        JSON.stringify({ event: 'page_view', event_id: id, ts: `2026-11-${day}T10:00:00Z`, ...(user ? { user_id: user } : {}), properties: { platform, country } });
      const events = [pv('a', '20', 'u1', 'web', 'DE'), pv('b', '21', 'u1', 'web', 'DE'), pv('b', '21', 'u1', 'web', 'DE'), pv('c', '21', 'u2', 'web', 'DE'),
        pv('d', '21', 'u2', 'ios', 'FR'), pv('e', '21', null, 'ios', 'FR'), pv('f', '21', 'u3', 'web', 'DE')];
      // Independently: day 2026-11-21, distinct event_ids, users not null, by (platform, country).
      const expected = new Map<string, { users: Set<string>; views: number }>();
      const seen = new Set<string>();
      for (const line of events) {
        const e = JSON.parse(line) as { event_id: string; ts: string; user_id?: string; properties: { platform: string; country: string } };
        if (!e.ts.startsWith('2026-11-21') || seen.has(e.event_id) || e.user_id === undefined) continue;
        seen.add(e.event_id);
        const k = `${e.properties.platform}/${e.properties.country}`;
        const g = expected.get(k) ?? expected.set(k, { users: new Set(), views: 0 }).get(k)!;
        g.users.add(e.user_id);
        g.views++;
      }
      const res = await fetch(`${serve.url}/api/sql/sample`, { method: 'POST', headers, body: JSON.stringify({ sql: dau.sql, window: 'daily', events: events.join('\n') }) });
      const answer = (await res.json()) as { result: { columns: Array<{ name: string }>; rows: unknown[][] }; window: { start: string; end: string } };
      assert.equal(res.status, 200, JSON.stringify(answer));
      assert.deepEqual(answer.window, { kind: 'daily', start: '2026-11-21 00:00:00.000', end: '2026-11-22 00:00:00.000' });
      const got = new Map(answer.result.rows.map((r) => [`${String(r[0])}/${String(r[1])}`, [Number(r[2]), Number(r[3])]]));
      assert.deepEqual(got, new Map([...expected].map(([k, g]) => [k, [g.users.size, g.views]])));
      const bad = await fetch(`${serve.url}/api/sql/sample`, { method: 'POST', headers, body: JSON.stringify({ sql: dau.sql, window: 'weekly', generate: 5 }) });
      assert.equal(bad.status, 400);
    } finally {
      await serve.stop();
    }
  });

  it('the SQL page stops reading a big result at its row limit instead of buffering all of it (the session is held meanwhile)', async () => {
    const serve = await startServe(join(scratch, 'f'));
    try {
      // Rows past the first few blocks fail: a query read to its end errs, one stopped at the limit does not.
      const sql = 'SELECT number, throwIf(number > 400000, \'read past the limit\') AS t FROM numbers(1000000)';
      const res = await fetch(`${serve.url}/api/sql`, { method: 'POST', body: JSON.stringify({ sql }), headers: { 'x-tributary-console': '1' } });
      const body = (await res.json()) as { rows?: unknown[][]; truncated?: boolean; error?: string };
      assert.equal(res.status, 200, body.error);
      assert.equal(body.rows!.length, 5000);
      assert.equal(body.truncated, true);
      // The limit does not outlast the query in chDB's session: serve's own clients get every row.
      assert.equal(await (await fetch(`${serve.url}/?query=${encodeURIComponent('SELECT number FROM numbers(70000) FORMAT TSV')}`)).text().then((t) => t.split('\n').length - 1), 70000);
    } finally {
      await serve.stop();
    }
  });

  it('on loopback: a change needs the console\'s header, and a foreign Host (DNS rebinding) is refused', async () => {
    const serve = await startServe(join(scratch, 'c'));
    try {
      const body = JSON.stringify({ sql: 'SELECT 1' });
      const bare = await fetch(`${serve.url}/api/sql`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
      assert.equal(bare.status, 403);
      const ok = await fetch(`${serve.url}/api/sql`, { method: 'POST', body, headers: { 'x-tributary-console': '1' } });
      assert.equal(ok.status, 200);
      const { request } = await import('node:http');
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${serve.url}/api/tables`, { headers: { host: 'attacker.example:8123' } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 403);
      // ClickHouse's interface is untouched beside the console.
      assert.equal(await (await fetch(`${serve.url}/ping`)).text(), 'Ok.\n');
    } finally {
      await serve.stop();
    }
  });
});
