// ClickHouse's HTTP interface as `tributary serve` reads requests and writes errors (functions/cli/serve/protocol.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClickHouseHttpError, credentialsOf, errorResponse, httpStatusOf, parseQueryRequest } from '../../functions/cli/serve/protocol.js';
import { outsideReach } from '../../functions/cli/serve/server.js';

const request = (query: string, headers: Record<string, string> = {}, body = '') =>
  parseQueryRequest({ url: new URL(`http://127.0.0.1:8123/?${query}`), headers: new Map(Object.entries(headers)), body });

describe('serve protocol: requests', () => {
  it('joins the query parameter and the body as ClickHouse does (INSERT … FORMAT in the URL, rows in the body)', () => {
    assert.equal(request('query=INSERT%20INTO%20t%20FORMAT%20CSV', {}, '1,2\n').sql, 'INSERT INTO t FORMAT CSV\n1,2\n');
    assert.equal(request('', {}, 'SELECT 1').sql, 'SELECT 1');
    assert.throws(() => request('', {}, '  '), (e: ClickHouseHttpError) => e.code === 62 && e.type === 'SYNTAX_ERROR');
  });

  it('takes database, format and credentials from headers before URL parameters', () => {
    const r = request('query=SELECT%201&database=a&default_format=CSV&user=u&password=p', { 'x-clickhouse-database': 'b', 'x-clickhouse-format': 'JSON' });
    assert.equal(r.database, 'b');
    assert.equal(r.defaultFormat, 'JSON');
    assert.deepEqual(r.credentials, { user: 'u', password: 'p' });
    assert.equal(request('query=SELECT%201').defaultFormat, 'TabSeparated');
    assert.deepEqual(request('query=SELECT%201').credentials, { user: 'default', password: '' });
  });

  it('reads Basic auth with a colon in the password, and X-ClickHouse-User/Key', () => {
    const url = new URL('http://127.0.0.1/');
    assert.deepEqual(credentialsOf(url, new Map([['authorization', `Basic ${Buffer.from('ana:a:b').toString('base64')}`]])), { user: 'ana', password: 'a:b' });
    assert.deepEqual(credentialsOf(url, new Map([['x-clickhouse-user', 'ana'], ['x-clickhouse-key', 'k']])), { user: 'ana', password: 'k' });
  });

  it('passes allow-listed settings and param_*, accepts transport parameters, refuses other settings', () => {
    const r = request('query=SELECT%201&max_execution_time=5&param_x=7&session_id=s&query_id=q&wait_end_of_query=1&client_protocol_version=54460');
    assert.deepEqual([...r.settings], [['max_execution_time', '5']]);
    assert.deepEqual([...r.params], [['x', '7']]);
    assert.equal(r.sessionId, 's');
    assert.equal(r.queryId, 'q');
    assert.throws(() => request('query=SELECT%201&allow_introspection_functions=1'), (e: ClickHouseHttpError) => e.code === 115 && /allow_introspection_functions is not allowed/.test(e.message));
    assert.throws(() => request('query=SELECT%201&default_format=JSON;DROP'), (e: ClickHouseHttpError) => e.type === 'UNKNOWN_FORMAT');
  });

  it('gzips only when enable_http_compression=1 and the client accepts gzip; refuses ClickHouse block compression', () => {
    assert.equal(request('query=SELECT%201&enable_http_compression=1', { 'accept-encoding': 'lz4, zstd, br, gzip' }).gzip, true);
    assert.equal(request('query=SELECT%201', { 'accept-encoding': 'gzip' }).gzip, false);
    assert.equal(request('query=SELECT%201&enable_http_compression=1', { 'accept-encoding': 'br' }).gzip, false);
    assert.throws(() => request('query=SELECT%201&compress=1'), (e: ClickHouseHttpError) => e.code === 48 && e.type === 'NOT_IMPLEMENTED');
    assert.equal(request('query=SELECT%201&compress=0').sql, 'SELECT 1');
  });
});

describe('serve protocol: errors', () => {
  it('answers with ClickHouse\'s HTTP status per exception (exceptionCodeToHTTPStatus.cpp)', () => {
    assert.equal(httpStatusOf('AUTHENTICATION_FAILED'), 403);
    assert.equal(httpStatusOf('REQUIRED_PASSWORD'), 401);
    assert.equal(httpStatusOf('SYNTAX_ERROR'), 400);
    assert.equal(httpStatusOf('UNKNOWN_TABLE'), 404);
    assert.equal(httpStatusOf('NOT_IMPLEMENTED'), 501);
    assert.equal(httpStatusOf('READONLY'), 500);
  });

  it('relays an engine error from its Code:, keeping its name, adding the version once', () => {
    const e = errorResponse(new Error('Code: 60. DB::Exception: Unknown table expression identifier \'x\' in scope SELECT * FROM x. (UNKNOWN_TABLE)'), '26.7.2.1');
    assert.deepEqual(e, { status: 404, code: 60, text: 'Code: 60. DB::Exception: Unknown table expression identifier \'x\' in scope SELECT * FROM x. (UNKNOWN_TABLE) (version 26.7.2.1)\n' });
    const own = errorResponse(new ClickHouseHttpError(516, 'AUTHENTICATION_FAILED', 'u: Authentication failed'), '1.0');
    assert.equal(own.text, 'Code: 516. DB::Exception: u: Authentication failed. (AUTHENTICATION_FAILED) (version 1.0)\n');
    // @clickhouse/client's ClickHouseError: message without the prefix, code and type apart
    const typed = Object.assign(new Error('Unknown expression identifier `nope`. '), { code: '47', type: 'UNKNOWN_IDENTIFIER' });
    assert.equal(errorResponse(typed, '1.0').text, 'Code: 47. DB::Exception: Unknown expression identifier `nope`. (UNKNOWN_IDENTIFIER) (version 1.0)\n');
    assert.equal(errorResponse(new Error('boom'), '1.0').status, 500);
  });
});

describe('serve: what reads outside the store', () => {
  it('finds table functions beyond the local ones and the scalar file() in an EXPLAIN AST dump', () => {
    const tableFunction = (name: string) => `SelectWithUnionQuery (children 1)\n TablesInSelectQuery (children 1)\n  TableExpression (children 1)\n   Function ${name} (children 1)\n`;
    assert.equal(outsideReach(tableFunction('file')), 'file()');
    assert.equal(outsideReach(tableFunction('s3')), 's3()');
    assert.equal(outsideReach(tableFunction('numbers')), undefined);
    assert.equal(outsideReach(' SelectQuery (children 1)\n  ExpressionList (children 1)\n   Function file (children 1)\n'), 'file()');
    assert.equal(outsideReach(' SelectQuery (children 1)\n  ExpressionList (children 1)\n   Function count (children 1)\n'), undefined);
  });
});
