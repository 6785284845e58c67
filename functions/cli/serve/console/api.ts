// The console's JSON API: each route calls what the matching CLI command calls (status's measure and lineage,
// the schema registry's pin, the quarantine's queries and replay, ab_daily's rows), on the sources serve gives
// it (sources.ts): the local store it holds, or an AWS deployment. Values from data go out as JSON strings; the
// front end renders them as text, never as markup.
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { quoteIdentifier, quoteString } from '../../../core/identifiers.js';
import { INGEST_LOG_TABLE, JOB_RUNS_TABLE } from '../../../core/warehouse/clickhouse-ddl.js';
import { QUARANTINE_TABLE } from '../../../core/lake/layout.js';
import { applyDeclared, describeChange, schemaOf, SchemaCompatibilityError } from '../../../core/schema/registry-entry.js';
import { parseDeclaredSchema, SchemaDefinitionError, toDeclaredDocument } from '../../../core/schema/declared-schema.js';
import { tableColumns, type TableSchema } from '../../../core/schema/model.js';
import { formatRecordId, parseRecordId } from '../../../core/quarantine/record-id.js';
import { listSql, quarantineFilesSql, resolutionSql, rowsSql, toListRow, toQuarantinedRow, type RawListRow, type RawRow } from '../../../core/quarantine/queries.js';
import { replayQuarantined } from '../../../core/quarantine/replay.js';
import { describeTransformations, parseRename, parseSet, parseTimestampFormat, type Transformation } from '../../../core/quarantine/transform.js';
import { SRM_ALERT } from '../../../core/ab/report.js';
import { declaredSchemaOptions } from '../../../adapters/schema-files.js';
import { hourKey, type ConsoleSources, type Exclusive, type QueryTarget } from './sources.js';
import { parseStatement, READ_STATEMENTS, refusedSetting, statementAst, streamBytes } from '../../statement.js';
import { ALLOWED_SETTINGS } from '../protocol.js';
import { outsideReach, readSettingAllowed } from '../server.js';

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface ApiContext {
  readonly sources: ConsoleSources;
  readonly clock: () => number;
}

type Json = unknown;
type Handler = (ctx: ApiContext, params: URLSearchParams, body: Json) => Promise<Json>;

const HOUR_MS = 3_600_000;
const SQL_ROW_LIMIT = 5000;

const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || v === '') throw new ApiError(400, `${what} must be a non-empty string`);
  return v;
};

async function exists(rt: ConsoleSources, database: string, table: string): Promise<boolean> {
  const [r] = await rt.warehouse.query<{ n: string }>('SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {t:String}', { db: database, t: table });
  return r !== undefined && Number(r.n) !== 0;
}

async function eventTable(rt: ConsoleSources, raw: string | null): Promise<string> {
  const tables = await rt.eventTables();
  if (raw === null || !tables.includes(raw)) throw new ApiError(404, `no event table ${JSON.stringify(raw ?? '')}; it has: ${tables.sort().join(', ') || 'none'}`);
  return raw;
}

/** Columns and rows of a read query, as ClickHouse's JSONCompact gives them. */
async function compact(client: ClickHouseClient, query: string, params: Record<string, unknown> = {}): Promise<{ columns: Array<{ name: string; type: string }>; rows: unknown[][] }> {
  const rs = await client.query({ query, format: 'JSONCompact', ...(Object.keys(params).length ? { query_params: params } : {}) });
  const j = await rs.json<unknown[]>() as unknown as { meta: Array<{ name: string; type: string }>; data: unknown[][] };
  return { columns: j.meta, rows: j.data };
}

// ── Overview ────────────────────────────────────────────────────────────────────────────────────────────
const overview: Handler = async (ctx) => {
  const { measure, environmentThresholds, cdkJsonPath } = await import('../../commands/status.js');
  const rt = ctx.sources;
  const now = ctx.clock();
  const alarms = environmentThresholds(rt.env, await cdkJsonPath());
  const lag = rt.consumerLag ? await rt.consumerLag(now, alarms) : {};
  const report = await measure(rt, now, { graceMs: 15 * 60_000, alarms, overrides: new Map(), ...lag });
  const w = rt.warehouse;
  const since = now - 24 * HOUR_MS;
  // Per hour of ingest: rows stored (throughput) and how old the newest event of each batch was (freshness).
  const throughput = !(await exists(rt, w.opsDatabase, INGEST_LOG_TABLE)) ? [] : await w.query<{ table: string; hour: string; rows: string }>(
    `SELECT event AS table, toString(toUnixTimestamp(toStartOfHour(finished_at)) * 1000) AS hour, sum(rows) AS rows
     FROM ${quoteIdentifier(w.opsDatabase)}.${quoteIdentifier(INGEST_LOG_TABLE)} FINAL
     WHERE outcome = 'stored' AND finished_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') GROUP BY table, hour ORDER BY hour`, { since });
  // Every table's hours in one query (one statement on chDB's one session, not one per table).
  const stored = new Set((await w.query<{ name: string }>('SELECT name FROM system.tables WHERE database = {db:String}', { db: w.database })).map((r) => r.name));
  const parts = report.tables.filter((t) => stored.has(t.table)).map((t) =>
    `SELECT ${quoteString(t.table)} AS table, toString(toUnixTimestamp(toStartOfHour(received_at)) * 1000) AS hour,
       quantile(0.5)(dateDiff('second', event_time, received_at)) AS p50, max(dateDiff('second', event_time, received_at)) AS max
     FROM ${quoteIdentifier(w.database)}.${quoteIdentifier(t.table)}
     WHERE received_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') GROUP BY hour`);
  const freshness = parts.length === 0 ? [] : (await w.query<{ table: string; hour: string; p50: number; max: number }>(`${parts.join('\nUNION ALL\n')}\nORDER BY hour, table`, { since }))
    .map((r) => ({ table: r.table, hour: Number(r.hour), p50: Number(r.p50), max: Number(r.max) }));
  return {
    env: rt.env, mode: rt.mode, alarms, report, freshness,
    throughput: throughput.map((r) => ({ table: r.table, hour: Number(r.hour), rows: Number(r.rows) })),
  };
};

// ── SQL ─────────────────────────────────────────────────────────────────────────────────────────────────
/**
 * A read query, refused as tributary serve refuses it while read-only (one statement, a read, nothing outside
 * the store), run without a readonly setting: chDB keeps a setting for the rest of its one session.
 */
export async function readQuery(target: QueryTarget, sql: string, params?: Readonly<Record<string, string>>): Promise<{ columns: Array<{ name: string; type: string }>; rows: unknown[][]; truncated: boolean; elapsedMs: number }> {
  const { client, database } = target;
  const exclusive: Exclusive = target.exclusive ?? ((f) => f());
  const started = performance.now();
  let statement;
  try {
    statement = await parseStatement(client, sql);
  } catch (e) {
    throw new ApiError(400, (e as Error).message.replace(/:? In scope SELECT formatQuery\([\s\S]*?(?=\s*\(\w+\)\s*$|$)/, ''));
  }
  if (statement.intoOutfile || /^SET\s/i.test(statement.formatted)) throw new ApiError(400, 'the console runs reads only (SELECT, SHOW, DESCRIBE, EXPLAIN, EXISTS)');
  const { ast, kind } = await statementAst(client, statement, params ? { ...params } : undefined);
  if (!READ_STATEMENTS.test(kind)) throw new ApiError(400, `the console runs reads only (SELECT, SHOW, DESCRIBE, EXPLAIN, EXISTS); this is ${kind}`);
  const reach = outsideReach(ast);
  if (reach) throw new ApiError(400, `${reach} reads outside the store (files, URLs, other servers), which the console refuses`);
  // Serve's allow-list: other settings name files the process would read (format_template_row, format_schema).
  const setting = refusedSetting(statement, ast, readSettingAllowed);
  if (setting === '') throw new ApiError(400, 'the query\'s SETTINGS could not be read to check them against the allowed settings');
  if (setting !== undefined) throw new ApiError(400, `setting ${setting} is not allowed by tributary serve (allowed: ${[...ALLOWED_SETTINGS].join(', ')})`);
  // Read no further than the page shows: a whole big table would be buffered while the session is held.
  const limits = { max_result_rows: String(SQL_ROW_LIMIT + 1), result_overflow_mode: 'break' as const };
  // A server over HTTP: the database named in the request, no session to put back; the client adds the FORMAT.
  if (target.kind === 'request' && statement.format !== undefined) throw new ApiError(400, `the console reads results as JSON: leave out FORMAT ${statement.format}`);
  const body = target.kind === 'request' ? Buffer.from(await (await client.query({
    query: sql, format: 'JSONCompactEachRowWithNamesAndTypes', http_headers: { 'X-ClickHouse-Database': database }, clickhouse_settings: limits,
    ...(params ? { query_params: params } : {}),
  })).text()) : await exclusive(async () => {
    // The session to itself while it is in `database` (serve's BI queries and commands share it), then as it was.
    const current = (await streamBytes((await client.exec({ query: 'SELECT currentDatabase()', clickhouse_settings: { default_format: 'TabSeparatedRaw' } })).stream)).toString('utf8').trim();
    await client.command({ query: `USE ${quoteIdentifier(database)}` });
    try {
      const rs = await client.exec({ query: sql, clickhouse_settings: { default_format: 'JSONCompactEachRowWithNamesAndTypes', ...limits }, ...(params ? { query_params: params } : {}) });
      return await streamBytes(rs.stream);
    } finally {
      // chDB's session keeps a query's settings: ClickHouse's defaults back for whoever comes next.
      await client.command({ query: `USE ${quoteIdentifier(current || 'default')}`, clickhouse_settings: { max_result_rows: '0', result_overflow_mode: 'throw' } });
    }
  });
  const lines = body.toString('utf8').split('\n').filter((l) => l !== '');
  const names = JSON.parse(lines[0] ?? '[]') as string[];
  const types = JSON.parse(lines[1] ?? '[]') as string[];
  const data = lines.slice(2);
  return {
    columns: names.map((name, i) => ({ name, type: types[i] ?? '' })),
    rows: data.slice(0, SQL_ROW_LIMIT).map((l) => JSON.parse(l) as unknown[]),
    truncated: data.length > SQL_ROW_LIMIT,
    elapsedMs: Math.round(performance.now() - started),
  };
}

const sql: Handler = async (ctx, _p, body) => {
  const b = body as { sql?: unknown };
  try {
    return await readQuery(ctx.sources.sql, str(b.sql, 'sql'));
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(400, (e as Error).message);
  }
};

/** The query on sample events in a scratch database: pasted NDJSON envelopes, or `generate` events like npm start's. */
const sqlOnSample: Handler = async (ctx, _p, body) => {
  const b = body as { sql?: unknown; events?: unknown; generate?: unknown; window?: unknown };
  if (b.window !== undefined && b.window !== 'hourly' && b.window !== 'daily') throw new ApiError(400, 'window must be "hourly" or "daily" (a job\'s window, bound to the sample\'s latest event)');
  const scratch = ctx.sources.scratch;
  if (typeof scratch === 'string') throw new ApiError(501, scratch);
  const { runOnSample, generatedSample, MAX_SAMPLE_EVENTS } = await import('./sample.js');
  let lines: string[];
  if (typeof b.events === 'string' && b.events.trim() !== '') lines = b.events.split(/\r?\n/).filter((l) => l.trim() !== '');
  else if (typeof b.generate === 'number' && Number.isInteger(b.generate) && b.generate > 0 && b.generate <= MAX_SAMPLE_EVENTS) lines = generatedSample(ctx.clock(), b.generate);
  else throw new ApiError(400, `paste sample events (one JSON envelope per line) or generate 1 to ${MAX_SAMPLE_EVENTS}`);
  try {
    return await runOnSample(scratch.client, str(b.sql, 'sql'), lines, scratch.exclusive, b.window);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(400, (e as Error).message);
  }
};

// ── Tables ──────────────────────────────────────────────────────────────────────────────────────────────
const tables: Handler = async (ctx) => {
  const rt = ctx.sources;
  const out = [];
  const registered = await rt.registry.tables();
  for (const table of registered) {
    const e = await rt.registry.read(table);
    if (!e) continue;
    out.push({
      table, status: e.status, version: e.version, updatedAt: e.updatedAt,
      declared: e.fields.filter((f) => f.origin === 'declared').length, inferred: e.fields.filter((f) => f.origin === 'inferred').length,
      lastChange: e.history.at(-1)?.change ?? '',
    });
  }
  for (const s of rt.schemas.list()) {
    if (registered.includes(s.table)) continue;
    out.push({ table: s.table, status: 'declared', version: null, updatedAt: null, declared: s.properties.length, inferred: 0, lastChange: 'schema file, no records yet' });
  }
  return { tables: out.sort((a, b) => a.table.localeCompare(b.table)) };
};

const fieldsOf = (s: TableSchema): Array<{ name: string; type: string; nullable: boolean; origin: string; pii: string | null }> =>
  s.properties.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable, origin: c.origin, pii: c.pii ?? null }));

const table: Handler = async (ctx, p) => {
  const rt = ctx.sources;
  const name = p.get('table') ?? '';
  const entry = await rt.registry.read(name);
  if (!entry) throw new ApiError(404, `no registered schema for ${JSON.stringify(name)}`);
  const w = rt.warehouse;
  const inClickHouse = await exists(rt, w.database, name);
  const sample = inClickHouse ? await compact(w.client, `SELECT * FROM ${quoteIdentifier(w.database)}.${quoteIdentifier(name)} ORDER BY event_time DESC LIMIT 20`) : { columns: [], rows: [] };
  const hours = new Map<string, { hour: string; clickhouse: number; lake: number }>();
  const at = (key: string): { hour: string; clickhouse: number; lake: number } => {
    let h = hours.get(key);
    if (!h) hours.set(key, (h = { hour: key, clickhouse: 0, lake: 0 }));
    return h;
  };
  // Against AWS a window (the lake's side costs a request per file); locally every hour.
  const since = rt.hoursWindowMs === undefined ? undefined : Math.floor((ctx.clock() - rt.hoursWindowMs) / HOUR_MS) * HOUR_MS;
  if (inClickHouse) {
    const where = since === undefined ? '' : ` WHERE toDateTime(dt, 'UTC') + toIntervalHour(hour) >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')`;
    for (const r of await w.query<{ dt: string; hour: number; n: string }>(`SELECT toString(dt) AS dt, hour, count() AS n FROM ${quoteIdentifier(w.database)}.${quoteIdentifier(name)}${where} GROUP BY dt, hour`, since === undefined ? {} : { since })) {
      at(hourKey(r.dt, Number(r.hour))).clickhouse = Number(r.n);
    }
  }
  for (const [key, n] of await rt.lakeHours(name, since)) at(key).lake = n;
  return {
    entry: { ...entry, appliedDeclarations: undefined },
    standardColumns: tableColumns(schemaOf(entry)).filter((c) => c.origin === 'standard').map((c) => c.name),
    document: JSON.stringify(toDeclaredDocument(schemaOf(entry)), null, 2),
    sample, hours: [...hours.values()].sort((a, b) => a.hour.localeCompare(b.hour)),
    hoursSince: since === undefined ? null : new Date(since).toISOString(),
  };
};

/** What pushing `document` would do: the fields before and after, the change, or why it cannot apply. */
async function planPush(rt: ConsoleSources, name: string, document: unknown): Promise<{ declared: TableSchema; verdict: Json }> {
  let doc: unknown = document;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch (e) {
      throw new ApiError(400, `the schema is not JSON: ${(e as Error).message}`);
    }
  }
  let declared: TableSchema;
  try {
    declared = parseDeclaredSchema(name, doc, declaredSchemaOptions());
  } catch (e) {
    if (e instanceof SchemaDefinitionError) throw new ApiError(400, e.message);
    throw e;
  }
  const prev = await rt.registry.read(name);
  const before = prev ? schemaOf(prev) : undefined;
  try {
    const after = applyDeclared(before, declared);
    return { declared, verdict: { compatible: true, problems: [], change: describeChange(before, after), before: before ? fieldsOf(before) : [], after: fieldsOf(after) } };
  } catch (e) {
    if (!(e instanceof SchemaCompatibilityError)) throw e;
    return { declared, verdict: { compatible: false, problems: e.problems, change: null, before: before ? fieldsOf(before) : [], after: fieldsOf(declared) } };
  }
}

const checkSchema: Handler = async (ctx, _p, body) => {
  const b = body as { table?: unknown; document?: unknown };
  return (await planPush(ctx.sources, str(b.table, 'table'), b.document)).verdict;
};

const pushSchema: Handler = async (ctx, _p, body) => {
  const b = body as { table?: unknown; document?: unknown };
  const name = str(b.table, 'table');
  const { declared, verdict } = await planPush(ctx.sources, name, b.document);
  if (!(verdict as { compatible: boolean }).compatible) throw new ApiError(409, `schema ${name} cannot be applied: ${(verdict as { problems: string[] }).problems.join('; ')}`);
  const { entry, changed } = await ctx.sources.registry.pin(declared, 'console push', 'unless-in-force');
  return { changed, version: entry.version, change: entry.history.at(-1)?.change ?? '' };
};

// ── Quarantine ──────────────────────────────────────────────────────────────────────────────────────────
async function quarantineReady(rt: ConsoleSources): Promise<void> {
  await rt.warehouse.ensureQuarantineTable();
  await rt.warehouse.ensureQuarantineResolvedTable();
}

const quarantine: Handler = async (ctx, p) => {
  const rt = ctx.sources;
  await quarantineReady(rt);
  const w = rt.warehouse;
  const reasons = p.getAll('reason');
  const events = p.getAll('event');
  const selection = { ...(reasons.length ? { reasons } : {}), ...(events.length ? { events } : {}), includeResolved: p.get('all') === '1' };
  const list = listSql(w.opsDatabase, selection);
  const counts = (await w.query<RawListRow>(list.query, list.params)).map(toListRow);
  const hourly = await w.query<{ hour: string; reason: string; event: string; n: string }>(
    `SELECT toString(toUnixTimestamp(toStartOfHour(kafka_timestamp)) * 1000) AS hour, reason, ifNull(event, '') AS event, count() AS n
     FROM ${quoteIdentifier(w.opsDatabase)}.${quoteIdentifier(QUARANTINE_TABLE)} FINAL GROUP BY hour, reason, event ORDER BY hour`);
  const rowsQuery = rowsSql(w.opsDatabase, selection);
  const records = (await w.query<RawRow>(`${rowsQuery.query} LIMIT 500`, rowsQuery.params)).map(toQuarantinedRow)
    .map((r) => ({ id: formatRecordId(r), reason: r.reason, event: r.event, detail: r.detail, status: r.resolved ? 'resolved' : 'open', kafkaTimestamp: new Date(r.kafkaTimestamp).toISOString() }));
  return { counts, hourly: hourly.map((h) => ({ hour: Number(h.hour), reason: h.reason, event: h.event, records: Number(h.n) })), records };
};

const quarantineRecord: Handler = async (ctx, p) => {
  const rt = ctx.sources;
  await quarantineReady(rt);
  const w = rt.warehouse;
  let id;
  try {
    id = parseRecordId(p.get('id') ?? '');
  } catch (e) {
    throw new ApiError(400, (e as Error).message);
  }
  const q = rowsSql(w.opsDatabase, { ids: [id], includeResolved: true });
  const row = (await w.query<RawRow>(q.query, q.params)).map(toQuarantinedRow)[0];
  if (!row) throw new ApiError(404, `not in the quarantine: ${formatRecordId(id)}`);
  const { describeRecord } = await import('../../commands/quarantine.js');
  const r = (await w.query<Record<string, unknown>>(resolutionSql(w.opsDatabase, row).query))[0];
  const files = await w.query<{ file_key: string }>(quarantineFilesSql(w.opsDatabase, row).query, quarantineFilesSql(w.opsDatabase, row).params).catch(() => []);
  return describeRecord(row, r ? { resolved_at: new Date(Number(r['resolved_ms'])).toISOString(), how: String(r['how']) } : undefined, files.map((f) => f.file_key));
};

interface ReplayJob {
  done: number; total: number; landed: number; failed: number;
  finished: boolean; error: string | null; summary: string | null;
}
const replays = new Map<string, ReplayJob>();

const replay: Handler = async (ctx, _p, body) => {
  const b = body as { ids?: unknown; rename?: unknown; set?: unknown; tsFormat?: unknown };
  if (!Array.isArray(b.ids) || b.ids.length === 0 || b.ids.length > 10_000) throw new ApiError(400, 'ids must be a list of 1 to 10000 record ids');
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.trim() !== '') : []);
  let ids, transformations: Transformation[];
  try {
    ids = b.ids.map((i) => parseRecordId(String(i)));
    transformations = [...list(b.rename).map(parseRename), ...list(b.set).map(parseSet), ...(typeof b.tsFormat === 'string' && b.tsFormat !== '' ? [parseTimestampFormat(b.tsFormat)] : [])];
  } catch (e) {
    throw new ApiError(400, (e as Error).message);
  }
  const rt = ctx.sources;
  await quarantineReady(rt);
  const w = rt.warehouse;
  const q = rowsSql(w.opsDatabase, { ids, includeResolved: true });
  const found = (await w.query<RawRow>(q.query, q.params)).map(toQuarantinedRow);
  if (found.length === 0) throw new ApiError(404, 'none of these records is in the quarantine');
  // The ports first: a setting replay needs and lacks (against AWS, the PII salt) is answered, not a failed job.
  let deps;
  try {
    deps = await rt.replayDeps();
  } catch (e) {
    if ((e as Error).name === 'ConfigurationError') throw new ApiError(400, `replay cannot run: ${(e as Error).message}`);
    throw e;
  }
  const job: ReplayJob = { done: 0, total: found.length, landed: 0, failed: 0, finished: false, error: null, summary: null };
  const id = randomUUID();
  replays.set(id, job);
  const how = `console replay${transformations.length ? ` ${describeTransformations(transformations)}` : ''}`;
  void replayQuarantined(found, deps, {
    transformations, batchSize: 100, how, onBatch: (p) => Object.assign(job, p),
  }).then((report) => {
    Object.assign(job, { finished: true, done: report.selected, landed: report.landed, failed: report.failed.length,
      summary: `${report.landed} stored and marked resolved, ${report.failed.length} quarantined again${transformations.length ? ` (${describeTransformations(transformations)})` : ''}` });
  }, (e: unknown) => Object.assign(job, { finished: true, error: rt.redact((e as Error).message) }));
  return { job: id, total: found.length };
};

const replayProgress: Handler = async (_ctx, p) => {
  const job = replays.get(p.get('job') ?? '');
  if (!job) throw new ApiError(404, 'no such replay');
  return job;
};

// ── Lineage ─────────────────────────────────────────────────────────────────────────────────────────────
const lineageRoute: Handler = async (ctx, p) => {
  const rt = ctx.sources;
  const name = await eventTable(rt, p.get('table'));
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})$/.exec(p.get('hour') ?? '');
  if (!m || Number(m[2]) > 23) throw new ApiError(400, 'hour must be YYYY-MM-DDTHH (UTC)');
  const { lineage } = await import('../../commands/status.js');
  const rows = JSON.parse(await lineage(rt, name, { dt: m[1]!, hour: Number(m[2]) }, true)) as unknown[];
  const w = rt.warehouse;
  const hours = !(await exists(rt, w.opsDatabase, INGEST_LOG_TABLE)) ? [] : (await w.query<{ h: string }>(
    `SELECT DISTINCT extract(file_key, 'dt=(\\d{4}-\\d{2}-\\d{2})/hour=(\\d{2})') AS d, concat(d, 'T', extract(file_key, 'hour=(\\d{2})')) AS h
     FROM ${quoteIdentifier(w.opsDatabase)}.${quoteIdentifier(INGEST_LOG_TABLE)} WHERE event = {t:String} AND d != '' ORDER BY h DESC LIMIT 200`, { t: name })).map((r) => r.h);
  return { table: name, hour: p.get('hour'), rows, hours };
};

const lineageTables: Handler = async (ctx) => ({ tables: (await ctx.sources.eventTables()).sort() });

// ── Jobs and experiments ────────────────────────────────────────────────────────────────────────────────
/** The SQL job files serve would run (schemas/jobs/ or TRIBUTARY_JOBS), for the SQL page's sample debugging. */
const jobFiles: Handler = async () => {
  const [{ sqlJobFiles, readSqlJobFile }, { defaultJobsDir }, { formatProblem }] = await Promise.all([import('../../../adapters/job-files.js'), import('../../local-runtime.js'), import('../../../core/jobs/sql-job-file.js')]);
  return {
    files: sqlJobFiles(defaultJobsDir()).map((file) => {
      const { job, problems } = readSqlJobFile(file);
      return { file: basename(file), ...(job ? { name: job.name, window: job.window, description: job.description, sql: job.sql } : {}), problems: problems.map(formatProblem) };
    }),
  };
};


const jobs: Handler = async (ctx) => {
  const rt = ctx.sources;
  const w = rt.warehouse;
  const events = new Set(await rt.catalog.listTables('event'));
  const out = [];
  for (const t of (await rt.catalog.listTables()).filter((x) => !events.has(x)).sort()) {
    if (!(await exists(rt, w.database, t))) { out.push({ table: t, windows: [] }); continue; }
    const hasFinal = Number((await w.query<{ n: string }>("SELECT count() AS n FROM system.columns WHERE database = {db:String} AND table = {t:String} AND name IN ('is_final', 'computed_at')", { db: w.database, t }))[0]?.n) === 2;
    const windows = await w.query<{ dt: string; rows: string; final: number | null; computed: string | null }>(
      `SELECT toString(dt) AS dt, count() AS rows, ${hasFinal ? 'min(is_final) AS final, toString(max(computed_at)) AS computed' : 'NULL AS final, NULL AS computed'}
       FROM ${quoteIdentifier(w.database)}.${quoteIdentifier(t)} GROUP BY dt ORDER BY dt DESC LIMIT 60`);
    out.push({ table: t, windows: windows.map((r) => ({ dt: r.dt, rows: Number(r.rows), isFinal: r.final === null ? null : Boolean(Number(r.final)), computedAt: r.computed })) });
  }
  const experiments = (await exists(rt, w.database, 'ab_daily'))
    ? (await w.query<{ e: string }>(`SELECT DISTINCT experiment_id AS e FROM ${quoteIdentifier(w.database)}.ab_daily ORDER BY e`)).map((r) => r.e) : [];
  // The latest runs of every job (the runner's history: failed runs with their message).
  const runs = !(await exists(rt, w.opsDatabase, JOB_RUNS_TABLE)) ? [] : (await w.query<{ job: string; window: string; outcome: string; rows: string; started: string; ms: string; error: string }>(
    `SELECT job, window, outcome, rows, toString(toUnixTimestamp64Milli(started_at)) AS started, toString(dateDiff('millisecond', started_at, finished_at)) AS ms, error
     FROM ${quoteIdentifier(w.opsDatabase)}.${quoteIdentifier(JOB_RUNS_TABLE)} ORDER BY started_at DESC, job, window LIMIT 200`))
    .map((r) => ({ job: r.job, window: r.window, outcome: r.outcome, rows: Number(r.rows), startedAt: Number(r.started), ms: Number(r.ms), error: r.error }));
  return { jobs: out, experiments, runs };
};

const experiment: Handler = async (ctx, p) => {
  const rt = ctx.sources;
  const w = rt.warehouse;
  const id = p.get('id') ?? '';
  const rows = !(await exists(rt, w.database, 'ab_daily')) ? [] : await w.query<Record<string, unknown>>(
    `SELECT toString(dt) AS dt, variant, metric, toString(units) AS units, mean, control_variant, abs_lift, rel_lift, ci_low, ci_high, p_value, srm_p_value,
       toString(crossover_users) AS crossover_users, is_final
     FROM ${quoteIdentifier(w.database)}.ab_daily WHERE experiment_id = {id:String} ORDER BY dt, metric, variant`, { id });
  if (rows.length === 0) throw new ApiError(404, `no ab_daily results for experiment ${JSON.stringify(id)}`);
  return {
    experiment: id, srmAlert: SRM_ALERT,
    rows: rows.map((r) => ({ ...r, units: Number(r['units']), crossover_users: Number(r['crossover_users']), is_final: Boolean(Number(r['is_final'])) })),
  };
};

/** GET and POST routes by path. */
export const ROUTES: ReadonlyMap<string, { method: 'GET' | 'POST'; handler: Handler }> = new Map([
  ['/api/overview', { method: 'GET', handler: overview }],
  ['/api/sql', { method: 'POST', handler: sql }],
  ['/api/sql/sample', { method: 'POST', handler: sqlOnSample }],
  ['/api/tables', { method: 'GET', handler: tables }],
  ['/api/table', { method: 'GET', handler: table }],
  ['/api/schema/check', { method: 'POST', handler: checkSchema }],
  ['/api/schema/push', { method: 'POST', handler: pushSchema }],
  ['/api/quarantine', { method: 'GET', handler: quarantine }],
  ['/api/quarantine/record', { method: 'GET', handler: quarantineRecord }],
  ['/api/quarantine/replay', { method: 'POST', handler: replay }],
  ['/api/quarantine/replay-progress', { method: 'GET', handler: replayProgress }],
  ['/api/lineage', { method: 'GET', handler: lineageRoute }],
  ['/api/lineage/tables', { method: 'GET', handler: lineageTables }],
  ['/api/jobs', { method: 'GET', handler: jobs }],
  ['/api/jobs/files', { method: 'GET', handler: jobFiles }],
  ['/api/experiment', { method: 'GET', handler: experiment }],
]);
