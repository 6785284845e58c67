// A job file's query checked by ClickHouse itself (formatQuery parses it, EXPLAIN AST says what it is and
// what it reads, DESCRIBE says what it returns), and the JobDefinition that runs it per window.
import type { CellValue } from '../batch/coerce.js';
import { isValidPropertyName, quoteIdentifier as q } from '../identifiers.js';
import type { DerivedTable, Warehouse } from '../ports.js';
import { schemaOf } from '../schema/registry-entry.js';
import type { SchemaRegistry } from '../schema/registry.js';
import { column, type ColumnSpec, type ColumnType } from '../schema/model.js';
import type { JobDefinition } from './job.js';
import { escapeRegExp, formatProblem, lineOf, type JobProblem, type SqlJobFile } from './sql-job-file.js';
import type { JobWindow } from './window.js';

/** What the engine said about a job's query: the statement to run (tables qualified) and its sources. */
export interface InspectedQuery {
  /** ClickHouse's formatting of the query, its tables qualified with `{db:Identifier}` */
  readonly sql: string;
  /** event tables it reads */
  readonly sources: readonly string[];
}

export interface EngineDeps {
  readonly warehouse: Warehouse;
  readonly registry: SchemaRegistry;
}

/** Columns the framework adds to every job's output. */
export const FRAMEWORK_COLUMNS: readonly ColumnSpec[] = [
  column('is_final', 'boolean', false, 'false for provisional results of a window still open or within its lateness', 'declared'),
  column('computed_at', 'timestamp', false, 'When this row was computed', 'declared'),
];
const RESERVED = new Set(['is_final', 'computed_at', 'dt', 'hour']);

/** The ClickHouse time a window bound is passed as (UTC, milliseconds). */
export const clickhouseTime = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
export const windowParams = (w: JobWindow, database: string): Record<string, string> =>
  ({ window_start: clickhouseTime(w.start), window_end: clickhouseTime(w.end), db: database });

/** A window to bind when only the query's shape matters (EXPLAIN, DESCRIBE). */
const EPOCH: JobWindow = { date: '1970-01-01', start: 0, end: 1 };

/** A ClickHouse type as a Tributary column type (undefined: a type a lake column cannot hold as is). */
export function columnTypeOf(chType: string): { type: ColumnType; nullable: boolean } | undefined {
  let t = chType.trim();
  const low = /^LowCardinality\((.*)\)$/.exec(t);
  if (low) t = low[1]!;
  const nullableMatch = /^Nullable\((.*)\)$/.exec(t);
  if (nullableMatch) t = nullableMatch[1]!;
  const nullable = nullableMatch !== null;
  const type: ColumnType | undefined =
    /^(String|FixedString\(\d+\)|UUID|Enum(8|16)?\(.*\)|IPv4|IPv6)$/.test(t) ? 'string'
      : /^(U?Int(8|16)|Int32)$/.test(t) ? 'int32'
        : /^(UInt32|U?Int64)$/.test(t) ? 'int64'
          : /^(Float(32|64)|BFloat16|Decimal(32|64|128|256)?\(.*\))$/.test(t) ? 'double'
            : t === 'Bool' ? 'boolean'
              : /^Date(32)?$/.test(t) ? 'date'
                : /^DateTime(64)?(\(.*\))?$/.test(t) ? 'timestamp'
                  : undefined;
  return type && { type, nullable };
}

/** Names of the query's common table expressions, as ClickHouse formats them (`name AS` then `(`). */
function cteNames(formatted: string): Set<string> {
  return new Set([...formatted.matchAll(/(?:^|,)\s*([A-Za-z_][A-Za-z0-9_]*) AS\s*\n\s*\(/gm)].map((m) => m[1]!));
}

/**
 * `FROM t` / `JOIN t` outside literals, where t is an unqualified source table, becomes `{db:Identifier}.t`.
 * Only ClickHouse's formatting is rewritten (literals escaped, one clause per line); the AST of the result
 * is checked again, so a table this misses is reported, never read from the wrong database.
 */
function qualifyTables(formatted: string, tables: ReadonlySet<string>): string {
  let out = '';
  let i = 0;
  while (i < formatted.length) {
    const c = formatted[i]!;
    if (c === "'" || c === '`' || c === '"') {
      let j = i + 1;
      while (j < formatted.length && formatted[j] !== c) j += formatted[j] === '\\' ? 2 : 1;
      out += formatted.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const m = /^\b(FROM|JOIN) ([A-Za-z_][A-Za-z0-9_]*)\b(?![.(])/.exec(formatted.slice(i, i + 200));
    if (m && (i === 0 || /\W/.test(formatted[i - 1]!)) && tables.has(m[2]!)) {
      out += `${m[1]} {db:Identifier}.${m[2]}`;
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

interface Ast { kind: string; tables: string[]; functions: string[] }

async function explainAst(warehouse: Warehouse, sql: string): Promise<Ast> {
  // (EXPLAIN only parses: nothing of the statement runs. Its rows are one column, named explain.)
  const rows = await warehouse.query<unknown>(`EXPLAIN AST ${sql}`, windowParams(EPOCH, warehouse.database));
  const lines = rows.map((r) => (typeof r === 'string' ? r : String(Object.values(r as Record<string, unknown>)[0])));
  const tables: string[] = [];
  const functions: string[] = [];
  lines.forEach((l, i) => {
    const t = /^\s*TableIdentifier (\S+)/.exec(l);
    if (t) tables.push(t[1]!);
    // A table function sits right under a TableExpression.
    const f = /^\s*Function (\w+)/.exec(l);
    if (f && /^\s*TableExpression/.test(lines[i - 1] ?? '')) functions.push(f[1]!);
  });
  return { kind: /^\s*(\w+)/.exec(lines[0] ?? '')?.[1] ?? 'unknown', tables, functions };
}

// ClickHouse's message without the wrapper query it names (formatQuery of the whole text).
const firstLine = (ex: Error): string => ex.message.split('\n')[0]!.replace(/[.:]?\s*In scope SELECT formatQuery.*$/, '').replace(/\s*\(version [^)]*\)\s*$/, '').trim();
/** A name as a regular expression, whole words only where the name starts or ends with a word character. */
const word = (name: string): RegExp => new RegExp(`${/^\w/.test(name) ? '\\b' : ''}${escapeRegExp(name)}${/\w$/.test(name) ? '\\b' : ''}`);

/**
 * Checks the query with ClickHouse's parser: one SELECT, reading tables of the event database only (no
 * table functions), each existing or declared (a declared one is created empty, as ingest would).
 */
export async function inspectQuery(job: SqlJobFile, deps: EngineDeps): Promise<{ query?: InspectedQuery; problems: JobProblem[] }> {
  const problems: JobProblem[] = [];
  const bad = (line: number, message: string): void => { problems.push({ file: job.file, line, message }); };
  const { warehouse } = deps;
  // An event table of that name would get the job's rows (and its window deletes) mixed with its events.
  if ((await deps.registry.current([job.table])).entries.has(job.table)) {
    bad(1, `its output table ${job.table} is an event table (registered in the schema registry): rename the job file, whose name in snake_case is the output table`);
    return { problems };
  }
  let formatted: string;
  try {
    formatted = (await warehouse.query<{ f: string }>('SELECT formatQuery({q:String}) AS f', { q: job.sql }))[0]!.f;
  } catch (e) {
    // ClickHouse counts lines from the query's start.
    const at = /\(line (\d+), col \d+\)/.exec((e as Error).message);
    bad(at ? job.sqlLine + Number(at[1]) - 1 : job.sqlLine, `ClickHouse cannot parse the query (a single SELECT): ${firstLine(e as Error)}`);
    return { problems };
  }
  const first = await explainAst(warehouse, formatted);
  if (!/^(SelectWithUnionQuery|SelectIntersectExceptQuery|SelectQuery)$/.test(first.kind)) {
    bad(job.sqlLine, `a job's query must be a SELECT; this is ${first.kind}`);
    return { problems };
  }
  for (const f of first.functions) bad(lineOf(job.sql, new RegExp(`\\b${escapeRegExp(f)}\\s*\\(`)) + job.sqlLine - 1, `table function ${f}() is not allowed: a job reads the event tables only`);
  const ctes = cteNames(formatted);
  const db = warehouse.database;
  const sources = new Set<string>();
  for (const t of first.tables) {
    if (ctes.has(t)) continue;
    const name = t.startsWith(`${db}.`) ? t.slice(db.length + 1) : t.includes('.') ? undefined : t;
    if (name === undefined) { bad(lineOf(job.sql, new RegExp(escapeRegExp(t))) + job.sqlLine - 1, `${t}: a job reads tables of its own database only (write the table's name alone)`); continue; }
    sources.add(name);
  }
  const lineOfTable = (t: string): number => (lineOf(job.sql, word(t)) || 1) + job.sqlLine - 1;
  if (sources.size > 0) {
    const existing = new Set((await warehouse.query<{ name: string }>(
      'SELECT name FROM system.tables WHERE database = {database:String} AND has({names:Array(String)}, name)', { database: db, names: [...sources] },
    )).map((r) => r.name));
    const missing = [...sources].filter((s) => !existing.has(s));
    const { entries } = await deps.registry.current(missing);
    for (const t of missing) {
      const entry = entries.get(t);
      if (entry) {
        try {
          await warehouse.ensureTable(schemaOf(entry));
        } catch (e) {
          // In a deployment the jobs' ClickHouse user may not create event tables (grants.sql): say what to do.
          if (!/ACCESS_DENIED|Not enough privileges/.test((e as Error).message)) throw e;
          bad(lineOfTable(t), `table ${t} is declared (schemas/events/${t}.json) but not in ClickHouse yet, and this ClickHouse user may not create event tables: `
            + `ingest creates it with the first ${t} event; to create it empty now, run \`tributary jobs check ${job.name}\` as the ingest user (CLICKHOUSE_USER=tributary_ingest)`);
        }
      } else bad(lineOfTable(t), `table ${t} does not exist and no schema declares it (schemas/events/${t}.json)`);
    }
  }
  if (problems.length > 0) return { problems };
  const sql = qualifyTables(formatted, new Set([...sources].filter((s) => !ctes.has(s))));
  const second = await explainAst(warehouse, sql);
  for (const t of second.tables) {
    if (!ctes.has(t) && !t.startsWith(`${db}.`)) bad(lineOfTable(t), `table ${t} could not be qualified with the job's database: write it as {db:Identifier}.${t}`);
  }
  return problems.length > 0 ? { problems } : { query: { sql, sources: [...sources].sort() }, problems };
}

/** The query's result columns (DESCRIBE), checked: valid names, types a lake column holds, the ordering key present. */
export async function describeOutput(job: SqlJobFile, query: InspectedQuery, warehouse: Warehouse): Promise<{ columns?: ColumnSpec[]; problems: JobProblem[] }> {
  const problems: JobProblem[] = [];
  const bad = (message: string, name?: string): void => {
    problems.push({ file: job.file, line: name ? (lineOf(job.sql, word(name)) || 1) + job.sqlLine - 1 : job.sqlLine, message });
  };
  const described = await warehouse.query<{ name: string; type: string }>(`DESCRIBE (${query.sql})`, windowParams(EPOCH, warehouse.database));
  const columns: ColumnSpec[] = [];
  for (const d of described) {
    if (!isValidPropertyName(d.name)) { bad(`result column ${JSON.stringify(d.name)} is not a valid column name (^[a-z][a-z0-9_]{0,127}$): give it an alias`, d.name); continue; }
    if (RESERVED.has(d.name)) { bad(`result column ${d.name} is reserved: the framework adds is_final, computed_at and the window's dt (and hour)`, d.name); continue; }
    const t = columnTypeOf(d.type);
    if (!t) { bad(`result column ${d.name} is ${d.type}: cast it to a scalar (String, Int64, Float64, Bool, Date, DateTime64); toJSONString() for arrays and maps`, d.name); continue; }
    columns.push(column(d.name, t.type, t.nullable, `${d.type} (job ${job.name})`, 'declared'));
  }
  for (const k of job.orderBy) {
    const c = columns.find((x) => x.name === k);
    if (!c) bad(`order_by names ${k}, which is not a result column`);
    else if (c.nullable) bad(`order_by column ${k} is Nullable: wrap it (ifNull, coalesce, assumeNotNull)`, k);
  }
  return problems.length > 0 ? { problems } : { columns, problems };
}

/** Every problem of a parsed job file that ClickHouse finds, or none. */
export async function checkSqlJob(job: SqlJobFile, deps: EngineDeps): Promise<JobProblem[]> {
  const inspected = await inspectQuery(job, deps);
  if (!inspected.query) return inspected.problems;
  return (await describeOutput(job, inspected.query, deps.warehouse)).problems;
}

export class SqlJobError extends Error {
  override readonly name = 'SqlJobError';
}

/** One line: the first problem, and how many more `jobs check` lists. */
const problemsError = (problems: readonly JobProblem[]): SqlJobError =>
  new SqlJobError(`${formatProblem(problems[0]!)}${problems.length > 1 ? ` (and ${problems.length - 1} more: tributary jobs check)` : ''}`);

/** The output table's columns as ClickHouse has them now (empty when it does not exist yet). */
async function storedColumns(warehouse: Warehouse, table: string): Promise<ColumnSpec[]> {
  const rows = await warehouse.query<{ name: string; type: string }>(
    'SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position', { db: warehouse.database, t: table });
  return rows.flatMap((r) => {
    const t = columnTypeOf(r.type);
    return t ? [column(r.name, t.type, t.nullable, `${r.type}`, 'declared')] : [];
  });
}

/**
 * The output's columns after this run: the stored ones in their order, then new result columns. Columns
 * only ever add (like event tables): a changed type or a vanished non-nullable column is refused.
 */
export function evolveColumns(stored: readonly ColumnSpec[], result: readonly ColumnSpec[], job: string): ColumnSpec[] {
  const byName = new Map(result.map((c) => [c.name, c]));
  const out: ColumnSpec[] = [];
  for (const s of stored) {
    if (RESERVED.has(s.name)) continue;
    const r = byName.get(s.name);
    if (r && r.type !== s.type) throw new SqlJobError(`${job}: result column ${s.name} is now ${r.type}, the output table has ${s.type}; output columns only add (rename the column, or drop the table to start over)`);
    if (!r && !s.nullable) throw new SqlJobError(`${job}: result column ${s.name} is gone from the query, and the output table's column is not Nullable; output columns only add`);
    out.push(r ? { ...r, nullable: s.nullable || r.nullable } : s);
  }
  for (const r of result) if (!stored.some((s) => s.name === r.name)) out.push(r);
  return out;
}

/** A JSON value of ClickHouse's as a cell of a column type (the select casts dates and times to numbers). */
function cell(v: unknown, type: ColumnType): CellValue {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'string': case 'json': return String(v);
    case 'boolean': return v === true || v === 1 || v === '1' || v === 'true';
    case 'int64': {
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : BigInt(String(v));
    }
    default: return Number(v);
  }
}

const selectExpression = (c: ColumnSpec): string =>
  c.type === 'timestamp' ? `toUnixTimestamp64Milli(toDateTime64(${q(c.name)}, 3)) AS ${q(c.name)}`
    : c.type === 'date' ? `toInt32(${q(c.name)}) AS ${q(c.name)}`
      : c.type === 'int64' ? `toString(${q(c.name)}) AS ${q(c.name)}`
        : q(c.name);

/** A job file as a framework job: each window runs its query in ClickHouse and delivers the rows. */
export function sqlJob(job: SqlJobFile): JobDefinition {
  const partitionKeys = job.window === 'hourly'
    ? [column('dt', 'date', false, 'Window day (UTC)', 'declared'), column('hour', 'int32', false, 'Window hour (UTC)', 'declared')]
    : [column('dt', 'date', false, 'Window day (UTC)', 'declared')];
  let output: DerivedTable = { table: job.table, columns: FRAMEWORK_COLUMNS, partitionKeys, description: `${job.description} (job ${job.name})` };
  let sources: readonly string[] = [];
  return {
    name: job.name,
    window: job.window,
    latenessMs: job.latenessMs,
    orderBy: job.orderBy,
    ...(job.maxBackfillDays !== undefined ? { maxBackfillDays: job.maxBackfillDays } : {}),
    // The runner reads the output after compute: its columns come from the query's result types.
    get output() { return output; },
    get sources() { return sources; },
    async prepare(deps: EngineDeps) {
      const inspected = await inspectQuery(job, deps);
      if (!inspected.query) throw problemsError(inspected.problems);
      sources = inspected.query.sources;
    },
    async compute(ctx) {
      const inspected = await inspectQuery(job, ctx);
      const described = inspected.query && await describeOutput(job, inspected.query, ctx.warehouse);
      const problems = [...inspected.problems, ...(described?.problems ?? [])];
      if (!inspected.query || !described?.columns || problems.length > 0) throw problemsError(problems);
      sources = inspected.query.sources;
      const columns = evolveColumns(await storedColumns(ctx.warehouse, job.table), described.columns, job.name);
      output = { ...output, columns: [...columns, ...FRAMEWORK_COLUMNS] };
      const present = new Set(described.columns.map((c) => c.name));
      const rows = await ctx.warehouse.query<Record<string, unknown>>(
        `SELECT ${described.columns.map(selectExpression).join(', ')} FROM (${inspected.query.sql}) LIMIT ${job.maxRows + 1}`,
        windowParams(ctx.window, ctx.warehouse.database));
      // A configured limit is enforced: the window fails instead of silently keeping the first rows.
      if (rows.length > job.maxRows) throw new SqlJobError(`${job.name}: the window has more than max_rows = ${job.maxRows} result rows; raise max_rows in ${job.file} or aggregate further`);
      return rows.map((r) => [...columns.map((c) => (present.has(c.name) ? cell(r[c.name], c.type) : null)), ctx.isFinal, ctx.computedAt]);
    },
  };
}
