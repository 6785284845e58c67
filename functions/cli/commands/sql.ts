// `tributary sql "<query>" [--format table|csv|tsv|json|jsonl] [-f query.sql] [--write]`: one statement on the
// local ClickHouse, in the `tributary` database, with lake tables as `lake.<table>`. Reads only unless --write.
import type { ClickHouseClient, DataFormat } from '@clickhouse/client';
import { quoteIdentifier } from '../../core/identifiers.js';
import type { LocalStore } from '../local-runtime.js';
import { ReadOnlyError, UsageError } from '../errors.js';
import { formatTable, jsonLine } from '../print.js';
import { liftsReadOnly, parseStatement, READ_STATEMENTS, statementAst, streamBytes, type Statement } from '../statement.js';

export const SQL_FORMATS = ['table', 'csv', 'tsv', 'json', 'jsonl'] as const;
export type SqlFormat = (typeof SQL_FORMATS)[number];

export const isSqlFormat = (f: string): f is SqlFormat => (SQL_FORMATS as readonly string[]).includes(f);

export interface SqlOptions {
  /** how to print the rows; undefined: `table`, or the query's own FORMAT clause when it has one */
  readonly format?: SqlFormat;
  /** run statements that write (INSERT, CREATE, DROP, …); without it only reads run */
  readonly write?: boolean;
}

/** What ClickHouse prints for each --format: table, json and jsonl are laid out here from rows. */
const CLICKHOUSE_FORMAT = new Map<SqlFormat, DataFormat>([
  ['table', 'JSONEachRow'], ['json', 'JSONEachRow'], ['jsonl', 'JSONEachRow'], ['csv', 'CSVWithNames'], ['tsv', 'TabSeparatedWithNames'],
]);

const isClickHouseError = (e: unknown): e is Error & { type?: string } =>
  e instanceof Error && (e.name === 'ClickHouseError' || e.constructor.name === 'ClickHouseError');

/** The query parsed, its parser errors said as the command's. */
async function parse(client: ClickHouseClient, query: string): Promise<Statement> {
  try {
    return await parseStatement(client, query);
  } catch (err) {
    if (!isClickHouseError(err)) throw err;
    if (/Multi-statements are not allowed/.test(err.message)) {
      throw new UsageError('sql runs one statement per call; the query has several (separated by ";"): run them one by one');
    }
    if (/Empty query/.test(err.message)) throw new UsageError('sql needs a query: the one given is empty (or only comments)');
    // The parser's message, without the wrapper it came through.
    err.message = err.message.replace(/:? In scope SELECT formatQuery\([\s\S]*$/, '');
    throw err;
  }
}

export async function runSql(runtime: LocalStore, query: string, options: SqlOptions = {}): Promise<string> {
  const client = runtime.warehouse.client;
  const statement = await parse(client, query);
  if (statement.format && options.format) {
    throw new UsageError(`the query has its own FORMAT ${statement.format}: drop it, or drop --format ${options.format}`);
  }
  if (!options.write) {
    if (statement.intoOutfile) throw new UsageError('INTO OUTFILE writes a file: pass --write to run it');
    const { ast, kind } = await statementAst(client, statement);
    if (!READ_STATEMENTS.test(kind)) {
      throw new UsageError(`sql runs reads only (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, EXISTS); this is ${kind}: pass --write to run it`);
    }
    if (liftsReadOnly(statement, ast)) throw new ReadOnlyError("Cannot modify 'readonly' setting in readonly mode: sql runs reads only; pass --write to lift it");
  }
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(runtime.warehouse.database)}` });
  await runtime.refreshLakeViews();
  await client.command({ query: `USE ${quoteIdentifier(runtime.warehouse.database)}` });
  const format = options.format ?? 'table';
  let out: string;
  try {
    // No readonly setting: in chDB's one session it would hold for every later statement of the process (serve
    // runs commands for other processes); the statement's AST above keeps a read a read.
    const { stream } = await client.exec({ query, clickhouse_settings: { default_format: CLICKHOUSE_FORMAT.get(format) ?? 'JSONEachRow' } });
    out = (await streamBytes(stream)).toString('utf8');
  } catch (err) {
    throw await withNoDataHint(runtime, err);
  }
  // The query's own FORMAT, CSV and TSV are ClickHouse's text as it is; the terminal guard escapes what it must.
  if (statement.format || format === 'csv' || format === 'tsv') return out;
  const rows = out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  // Every layout escapes what a value could do to a terminal; JSON with \u escapes, so it stays JSON.
  if (format === 'jsonl') return rows.map((r) => `${jsonLine(r)}\n`).join('');
  if (format === 'json') return `[${rows.map(jsonLine).join(',\n')}]\n`;
  if (rows.length === 0 && options.write) return ''; // a write prints nothing, as ClickHouse's client does
  return `${formatTable(rows)}\n`;
}

/** A missing table or database on a store with no data yet: say how to get some. */
async function withNoDataHint(runtime: LocalStore, err: unknown): Promise<unknown> {
  if (!isClickHouseError(err) || !/UNKNOWN_TABLE|UNKNOWN_DATABASE/.test(`${err.type ?? ''} ${err.message}`)) return err;
  if ((await runtime.catalog.listTables()).length > 0) return err;
  err.message = `${err.message.trim()} (${runtime.home} has no data yet: run npm start, or tributary ingest <file.ndjson>)`;
  return err;
}
