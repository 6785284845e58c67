// A ClickHouse HTTP interface in the test process, backed by chDB (the real ClickHouse engine): enough of the
// protocol for @clickhouse/client — SQL in the body or `query`, `param_*` query parameters, settings as URL
// parameters, `INSERT … FORMAT <fmt>` with the data in the body, errors as ClickHouse reports them. No modern
// ClickHouse server installs here; this lets the deployed code path (HTTP, Parquet bodies) run for real.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { Session } from 'chdb';
import { unescapeParam as unescapeText } from '../functions/cli/serve/protocol.js';

export interface ClickHouseHttp {
  readonly url: string;
  readonly session: Session;
  /** SQL statements received, for assertions */
  readonly statements: string[];
  close(): Promise<void>;
}

const PROTOCOL_PARAMS = new Set(['query', 'database', 'default_format', 'query_id', 'session_id', 'role', 'enable_http_compression', 'wait_end_of_query', 'send_progress_in_http_headers', 'http_headers_progress_interval_ms']);
const INSERT_FORMAT = /^\s*(INSERT\s+INTO\s+[\s\S]+?)\s+FORMAT\s+(\w+)\s*$/i;
const TRAILING_FORMAT = /\s+FORMAT\s+(\w+)\s*;?\s*$/i;

/**
 * ClickHouse reads a `param_<name>` value in its escaped text format: a String parameter's `\n`, `\t`, `\'`
 * and `\\` (as @clickhouse/client writes them) are one character each. chDB's binding takes the value as it
 * is, so a String-typed parameter is unescaped here first (composite types keep their own quoting).
 */
function unescapeParam(sql: string, name: string, value: string): string {
  const type = new RegExp(`\\{${name}:\\s*([^}]+)\\}`).exec(sql)?.[1] ?? '';
  if (!/^(Nullable\(|LowCardinality\()*(String|FixedString)/.test(type)) return value;
  return unescapeText(value) ?? value;
}

export async function startClickHouseHttp(): Promise<ClickHouseHttp> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-ch-http-'));
  const session = new Session(join(dir, 'db'));
  const statements: string[] = [];
  let files = 0;

  const run = async (url: URL, body: Buffer): Promise<{ status: number; text: string }> => {
    const params: Record<string, string> = {};
    const settings: string[] = [];
    const sqlText = url.searchParams.get('query') ?? body.toString('utf8');
    for (const [k, v] of url.searchParams) {
      if (k.startsWith('param_')) params[k.slice(6)] = unescapeParam(sqlText, k.slice(6), v);
      else if (!PROTOCOL_PARAMS.has(k)) settings.push(`${k} = '${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);
    }
    const inUrl = url.searchParams.get('query');
    let sql = inUrl ?? body.toString('utf8');
    let format = 'TabSeparated';
    const insert = inUrl ? INSERT_FORMAT.exec(inUrl) : null;
    if (insert) {
      // The body is the data: hand it to the engine as a file in its format.
      const file = join(dir, `body-${files++}`);
      writeFileSync(file, body);
      sql = `${insert[1]} ${settings.length ? `SETTINGS ${settings.join(', ')} ` : ''}SELECT * FROM file('${file}', '${insert[2]}')`;
    } else {
      const f = TRAILING_FORMAT.exec(sql);
      if (f) {
        format = f[1]!;
        sql = sql.slice(0, f.index);
      }
    }
    statements.push(sql);
    try {
      const result = Object.keys(params).length > 0 ? await session.queryBindAsync(sql, params, { format }) : await session.queryAsync(sql, { format });
      return { status: 200, text: result.text() };
    } catch (err) {
      const message = (err as Error).message;
      return { status: 500, text: /Code: \d+/.test(message) ? message.slice(message.indexOf('Code:')) : `Code: 1000. DB::Exception: ${message}` };
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void run(new URL(req.url ?? '/', 'http://localhost'), Buffer.concat(chunks)).then(({ status, text }) => {
        const code = /Code: (\d+)/.exec(text)?.[1];
        res.writeHead(status, { 'content-type': 'text/plain; charset=UTF-8', ...(status !== 200 && code ? { 'x-clickhouse-exception-code': code } : {}) });
        res.end(text);
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    session,
    statements,
    close: () => new Promise<void>((r) => server.close(() => { session.cleanup(); rmSync(dir, { recursive: true, force: true }); r(); })),
  };
}

/**
 * @clickhouse/client instances on a started server, each closed with the server after the file's tests:
 * `before`/`after` are registered where this is called (a file's top level or a describe).
 */
export function clickHouseClients(): { client(): ClickHouseClient; server(): ClickHouseHttp } {
  let ch: ClickHouseHttp | undefined;
  const clients: ClickHouseClient[] = [];
  before(async () => { ch = await startClickHouseHttp(); });
  after(async () => { for (const c of clients) await c.close(); await ch?.close(); });
  return {
    client: () => {
      const c = createClient({ url: ch!.url, log: { level: 127 as never } });
      clients.push(c);
      return c;
    },
    server: () => ch!,
  };
}

