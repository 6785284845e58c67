// `tributary serve`'s HTTP server: ClickHouse's HTTP interface over the local store's chDB, one query at a time.
// chDB is one session per process and a setting set with one query stays set for the next, so every query here
// runs with the session to itself (the commands serve runs for other processes share it), with its database and
// the client's allowed settings, and puts both back after it. Read-only is the statement's AST (a read, reaching
// nothing outside the store), not the readonly setting: once set in chDB's session it never lets the process write again.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import type { ClickHouseClient, DataFormat } from '@clickhouse/client';
import { quoteIdentifier } from '../../core/identifiers.js';
import { liftsReadOnly, parseStatement, READ_STATEMENTS, refusedSetting, statementAst, streamBytes, type Statement } from '../statement.js';
import { isLoopback } from './console/access.js';
import { ALLOWED_SETTINGS, ClickHouseHttpError, contentTypeOf, errorResponse, parseQueryRequest, type Credentials, type QueryRequest } from './protocol.js';

/**
 * Reads a request body, keeping at most `max` bytes (the rest is read and dropped, so the connection can
 * answer); `done` gets the kept chunks and the body's full size, which the caller compares with `max`.
 */
export function readCappedBody(req: IncomingMessage, max: number, done: (chunks: Buffer[], size: number) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= max) chunks.push(c);
  });
  req.on('end', () => done(chunks, size));
}

export interface ServeOptions {
  readonly client: ClickHouseClient;
  /** the database a query runs in when the request names none */
  readonly database: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** undefined: the user has no password (like ClickHouse's `default`) */
  readonly password: string | undefined;
  /** let statements write; without it only reads run (checked on the statement's AST) */
  readonly write: boolean;
  /** runs `f` with chDB's session to itself (LocalRuntime.exclusive); default: as it is */
  readonly exclusive?: <T>(f: () => Promise<T>) => Promise<T>;
  /** largest request body accepted */
  readonly maxBodyBytes?: number;
  /** other handlers (the console): true when one answered the request */
  readonly routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export interface RunningServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Table functions that only compute or read this server's own tables; every other reaches files, URLs or servers. */
const LOCAL_TABLE_FUNCTIONS = new Set(['numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'generate_series', 'generateSeries', 'generateRandom', 'values', 'view', 'null', 'merge', 'format']);

/**
 * The first function in a query's AST (EXPLAIN AST) that reads outside the store: a table function not in the
 * list above, or the scalar file(). readonly = 2 refuses writes but lets both read any file the process can.
 */
export function outsideReach(ast: string): string | undefined {
  const lines = ast.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const name = /^\s*Function (\w+)/.exec(lines[i]!)?.[1];
    if (name === undefined) continue;
    const tableFunction = /^\s*TableExpression\b/.test(lines[i - 1] ?? '');
    if (tableFunction ? !LOCAL_TABLE_FUNCTIONS.has(name) : name.toLowerCase() === 'file') return `${name}()`;
  }
  return undefined;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** A setting a read may carry in its own SETTINGS clauses: the URL parameters' allow-list, and readonly kept on. */
export const readSettingAllowed = (name: string, value: string): boolean =>
  ALLOWED_SETTINGS.has(name) || (name === 'readonly' && (value === '1' || value === '2'));

/**
 * Why a request that a browser sent for some web page is refused, or undefined. No page of this server talks to
 * ClickHouse's interface and it sends no CORS headers, so a browser's request here is another site's: a form
 * or fetch posting a write (CSRF; browsers send Origin and Sec-Fetch-Site with it), or, on loopback, a page whose
 * own name was rebound to 127.0.0.1 (DNS rebinding; same-origin to the browser, but its Host is its name).
 */
export function browserRefusal(bound: string, headers: IncomingMessage['headers']): string | undefined {
  const host = headers.host ?? '';
  const name = /^\[([^\]]+)\](?::\d+)?$/.exec(host)?.[1] ?? /^([^:]*)(?::\d+)?$/.exec(host)?.[1] ?? host;
  // No Host at all (HTTP/1.0) is no browser's request.
  if (headers.host !== undefined && isLoopback(bound) && !isLoopback(name)) return `Host ${JSON.stringify(host)} is not this server's address: on ${bound} it answers for localhost and 127.0.0.1 only (a page rebinding its name to 127.0.0.1 sends its own); connect to http://127.0.0.1, or bind --host to serve other names`;
  const site = headers['sec-fetch-site'];
  const origin = headers.origin;
  if (site === 'cross-site' || site === 'same-site' || (origin !== undefined && origin !== `http://${host}`)) {
    return `a request from another site's page (Origin ${JSON.stringify(origin ?? '')}) is refused: ClickHouse's interface here answers BI tools and clients, not browsers`;
  }
  return undefined;
}

interface Answer {
  readonly status: number;
  readonly headers: Map<string, string>;
  readonly body: Buffer;
}

export async function startServe(options: ServeOptions): Promise<RunningServer> {
  const { client } = options;
  const one = async (sql: string): Promise<string> => (await streamBytes((await client.exec({ query: sql, clickhouse_settings: { default_format: 'TabSeparatedRaw' } })).stream)).toString('utf8').trim();
  const version = await one('SELECT version()');
  const timezone = await one('SELECT timezone()');
  // Each allowed setting's value before any client changed it: what a later query that does not set it gets back.
  const defaults = new Map<string, string>();
  const names = [...ALLOWED_SETTINGS].map((n) => `'${n}'`).join(', '); // constants, not input
  for (const line of (await one(`SELECT name, value FROM system.settings WHERE name IN (${names})`)).split('\n')) {
    const [name, value] = line.split('\t');
    if (name) defaults.set(name, value ?? '');
  }
  const exclusive = options.exclusive ?? (<T>(f: () => Promise<T>): Promise<T> => f());
  const expected = options.password === undefined ? undefined : digest(options.password);

  const authenticate = (c: Credentials): void => {
    const ok = c.user === options.user && (expected === undefined ? c.password === '' : timingSafeEqual(digest(c.password), expected));
    if (!ok) throw new ClickHouseHttpError(516, 'AUTHENTICATION_FAILED', `${c.user}: Authentication failed: password is incorrect, or there is no user with such name`);
  };

  /** ClickHouse's parser on the query, which refuses several statements; nothing of the query runs. */
  const parse = (sql: string): Promise<Statement> => parseStatement(client, sql).catch((err: unknown) => {
    // The parser's message, without the wrapper it came through.
    if (err instanceof Error) err.message = err.message.replace(/:? In scope SELECT formatQuery\([\s\S]*?(?=\s*\(\w+\)\s*$|$)/, '');
    throw err;
  });

  const run = async (req: QueryRequest, readOnlyRequest: boolean): Promise<Answer> => {
    authenticate(req.credentials);
    if (!options.write && req.settings.get('readonly') === '0') throw new ClickHouseHttpError(164, 'READONLY', "Cannot modify 'readonly' setting in readonly mode: tributary serve runs read-only (start it with --write to allow writes)");
    const statement = await parse(req.sql);
    // chDB would keep a SET for every later request (and it reaches settings beyond the allow-list).
    if (/^SET\s/i.test(statement.formatted)) throw new ClickHouseHttpError(48, 'NOT_IMPLEMENTED', 'SET is not supported by tributary serve: settings do not carry from one request to the next here; pass them as URL parameters (or SETTINGS in the query)');
    const readOnly = !options.write || readOnlyRequest || (req.settings.get('readonly') ?? '0') !== '0';
    if (readOnly) {
      const why = options.write ? 'this request is read-only (a GET, or readonly set)' : 'tributary serve runs read-only (start it with --write to allow writes)';
      if (statement.intoOutfile) throw new ClickHouseHttpError(164, 'READONLY', `Cannot execute query in readonly mode: ${why}`);
      const { ast, kind } = await statementAst(client, statement, req.params.size > 0 ? Object.fromEntries(req.params) : undefined);
      if (!READ_STATEMENTS.test(kind)) throw new ClickHouseHttpError(164, 'READONLY', `Cannot execute query in readonly mode: ${why}; this is ${kind}`);
      const reach = outsideReach(ast);
      if (reach) throw new ClickHouseHttpError(497, 'ACCESS_DENIED', `${reach} reads outside the store (files, URLs, other servers), which tributary serve refuses while read-only`);
      if (liftsReadOnly(statement, ast)) throw new ClickHouseHttpError(164, 'READONLY', `Cannot modify 'readonly' setting in readonly mode: ${why}`);
      const setting = refusedSetting(statement, ast, readSettingAllowed);
      if (setting !== undefined) {
        throw new ClickHouseHttpError(115, 'UNKNOWN_SETTING', setting === ''
          ? 'The query\'s SETTINGS clauses could not be read to check them against tributary serve\'s allowed settings'
          : `Setting ${setting} is not allowed by tributary serve (allowed: ${[...ALLOWED_SETTINGS].join(', ')})`);
      }
    }
    const database = req.database ?? options.database;
    // The client's settings; readonly is handled above (set, it would outlive the request in chDB's session).
    const settings = new Map([...req.settings].filter(([name]) => name !== 'readonly'));
    const queryId = req.queryId ?? randomUUID();
    const format = statement.format ?? req.defaultFormat;
    const result = await exclusive(async () => {
      const before = await one('SELECT currentDatabase()');
      await client.command({ query: `USE ${quoteIdentifier(database)}` });
      try {
        return await client.exec({
          query: req.sql, query_id: queryId,
          ...(req.params.size > 0 ? { query_params: Object.fromEntries(req.params) } : {}),
          clickhouse_settings: { ...Object.fromEntries(settings), default_format: req.defaultFormat as DataFormat },
        });
      } finally {
        // The session as it was, before anyone else's statement runs: its database, and each setting changed here at its default.
        const reset = Object.fromEntries([...settings.keys()].map((name) => [name, defaults.get(name) ?? '']));
        await client.command({ query: `USE ${quoteIdentifier(before)}`, ...(settings.size > 0 ? { clickhouse_settings: reset } : {}) });
      }
    });
    const body = await streamBytes(result.stream);
    const s = result.summary;
    const summary = { read_rows: s?.read_rows ?? '0', read_bytes: s?.read_bytes ?? '0', written_rows: s?.written_rows ?? '0', written_bytes: s?.written_bytes ?? '0',
      total_rows_to_read: s?.total_rows_to_read ?? '0', result_rows: s?.result_rows ?? '0', result_bytes: s?.result_bytes ?? '0', elapsed_ns: s?.elapsed_ns ?? '0' };
    return {
      status: 200, body,
      headers: new Map([
        ['content-type', contentTypeOf(format)], ['x-clickhouse-format', format], ['x-clickhouse-query-id', queryId],
        ['x-clickhouse-summary', JSON.stringify(summary)], ['x-clickhouse-timezone', timezone],
        ...(req.sessionId ? [['x-clickhouse-session-id', req.sessionId] as [string, string]] : []),
      ]),
    };
  };

  // One query at a time: chDB's session (current database, settings) is shared by every request.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(f: () => Promise<T>): Promise<T> => {
    const next = queue.then(f, f);
    queue = next.catch(() => undefined);
    return next;
  };

  const handle = async (req: IncomingMessage, body: Buffer): Promise<Answer> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const plain = (status: number, s: string): Answer => ({ status, headers: new Map([['content-type', 'text/plain; charset=UTF-8']]), body: Buffer.from(s) });
    if (url.pathname === '/ping' || url.pathname === '/replicas_status') return plain(200, 'Ok.\n');
    if (url.pathname !== '/') return plain(404, `There is no handle ${url.pathname}\n\nUse / or /ping\n`);
    if ((req.method === 'GET' || req.method === 'HEAD') && !url.searchParams.has('query')) return plain(200, 'Ok.\n');
    const refusal = browserRefusal(options.host, req.headers);
    if (refusal) throw new ClickHouseHttpError(497, 'ACCESS_DENIED', refusal);
    if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD') throw new ClickHouseHttpError(36, 'BAD_ARGUMENTS', `Unsupported HTTP method ${req.method ?? ''}`);
    const encoding = (req.headers['content-encoding'] ?? '').toLowerCase();
    let decoded: Buffer;
    if (encoding === '' || encoding === 'identity') decoded = body;
    else if (encoding === 'gzip') decoded = gunzipSync(body);
    else if (encoding === 'deflate') decoded = inflateSync(body);
    else throw new ClickHouseHttpError(48, 'NOT_IMPLEMENTED', `Content-Encoding ${encoding} is not supported by tributary serve (gzip and deflate are)`);
    const headers = new Map<string, string>();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k.toLowerCase(), v);
    const request = parseQueryRequest({ url, headers, body: decoded.toString('utf8') });
    // ClickHouse runs GET requests with readonly = 1.
    return serialized(() => run(request, req.method !== 'POST'));
  };

  const respond = (req: IncomingMessage, res: ServerResponse, a: Answer, gzip: boolean): void => {
    const headers: Record<string, string> = Object.fromEntries(a.headers);
    let body = a.body;
    if (gzip && a.status === 200) {
      body = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    headers['content-length'] = String(body.length);
    res.writeHead(a.status, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const maxBody = options.maxBodyBytes ?? 256 * 1024 * 1024;
  const server: Server = createServer((req, res) => {
    if (options.routes?.(req, res)) return;
    readCappedBody(req, maxBody, (chunks, size) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const wantsGzip = url.searchParams.get('enable_http_compression') === '1' && /\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''));
      const answer = size > maxBody
        ? Promise.reject(new ClickHouseHttpError(229, 'QUERY_IS_TOO_LARGE', `Request body of ${size} bytes is larger than ${maxBody}`))
        : handle(req, Buffer.concat(chunks));
      void answer.then((a) => respond(req, res, a, wantsGzip), (err: unknown) => {
        const e = errorResponse(err, version);
        respond(req, res, {
          status: e.status, body: Buffer.from(e.text),
          headers: new Map([['content-type', 'text/plain; charset=UTF-8'], ['x-clickhouse-exception-code', String(e.code)]]),
        }, false);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
