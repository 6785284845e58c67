// The console's text helpers (console/src/text.ts) and its access rules (functions/cli/serve/console/access.ts).
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { highlight, toCsv } from '../../console/src/text.js';
import { checkAccess, isLoopback } from '../../functions/cli/serve/console/access.js';

describe('console text', () => {
  it('marks the property a quarantine reason names, and nothing else', () => {
    const value = JSON.stringify({ event: 'purchase', properties: { order_id: 'o1', price: 'twelve' } }, null, 2);
    const parts = highlight(value, 'price: expected a number, got "twelve" (column type double)');
    assert.deepEqual(parts.filter((p) => p.mark).map((p) => p.text), ['"price": "twelve"']);
    assert.equal(parts.map((p) => p.text).join(''), value);
    assert.deepEqual(highlight(value, 'required property order_key is missing'), [{ text: value, mark: false }]);
  });

  it('writes CSV that a spreadsheet reads back: quotes, commas, line breaks, nulls, objects', () => {
    const csv = toCsv({ columns: [{ name: 'a' }, { name: 'b,c' }], rows: [['x "y"', null], [{ k: 1 }, 'l1\nl2']] });
    assert.equal(csv, 'a,"b,c"\r\n"x ""y""",\r\n"{""k"":1}","l1\nl2"\r\n');
  });
});

describe('console access', () => {
  const req = (headers: Record<string, string>): IncomingMessage => ({ headers } as unknown as IncomingMessage);
  const loopback = { host: '127.0.0.1', user: 'default', password: undefined };

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.ok(isLoopback(h), h);
    for (const h of ['0.0.0.0', '10.0.0.1', 'example.com', '::']) assert.ok(!isLoopback(h), h);
  });

  it('on loopback: reads need a loopback Host, changes also the console header', () => {
    assert.equal(checkAccess(req({ host: '127.0.0.1:8123' }), loopback, false), undefined);
    assert.equal(checkAccess(req({ host: 'localhost:8123' }), loopback, false), undefined);
    assert.equal(checkAccess(req({ host: 'rebound.example:8123' }), loopback, false)?.status, 403);
    assert.equal(checkAccess(req({ host: '127.0.0.1:8123' }), loopback, true)?.status, 403);
    assert.equal(checkAccess(req({ host: '127.0.0.1:8123', 'x-tributary-console': '1' }), loopback, true), undefined);
  });

  it('elsewhere: refused without a password; with one, only serve\'s user and password', () => {
    assert.equal(checkAccess(req({ host: '10.0.0.5:8123' }), { host: '0.0.0.0', user: 'u', password: undefined }, false)?.status, 403);
    const o = { host: '0.0.0.0', user: 'u', password: 'p' };
    const basic = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;
    assert.equal(checkAccess(req({ host: '10.0.0.5:8123' }), o, false)?.status, 401);
    assert.equal(checkAccess(req({ host: '10.0.0.5:8123', authorization: basic('u:wrong') }), o, false)?.status, 401);
    assert.equal(checkAccess(req({ host: '10.0.0.5:8123', authorization: basic('v:p') }), o, false)?.status, 401);
    assert.equal(checkAccess(req({ host: '10.0.0.5:8123', authorization: basic('u:p') }), o, false), undefined);
    assert.equal(checkAccess(req({ host: '10.0.0.5:8123', authorization: basic('u:p:with:colons') }), { ...o, password: 'p:with:colons' }, false), undefined);
  });
});
