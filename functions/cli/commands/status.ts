// `tributary status [--json] [--table T] [--env NAME] [--thresholds FILE]` and
// `tributary status lineage <table> --hour YYYY-MM-DDTHH`: is the local pipeline healthy, and which Kafka
// offsets made which files and inserts. Measures here; core/status/verdict.ts decides.
// Loaded only when the command runs (main.ts imports it inside its case).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { alarmThresholds, type AlarmThresholds } from '../../../infra/alarm-defaults.js';
import { overallVerdict, tableVerdict, type Finding, type Health, type TableMeasurements, type TableVerdict, type Thresholds } from '../../core/status/verdict.js';
import { groupLagFinding, metricPartitionLags, partitionLags, type PartitionLag } from '../../core/status/consumer-lag.js';
import { isSettled, parseManifest, planCompaction, readPartitionObjects, type CompactionManifest } from '../../core/lake/compaction-plan.js';
import { listHourPartitions } from '../../core/lake/compact-partition.js';
import { partitionPrefix } from '../../core/lake/layout.js';
import { hourEnd, MS_PER_HOUR, utcDate } from '../../core/time.js';
import { quoteIdentifier } from '../../core/identifiers.js';
import { INGEST_LOG_TABLE } from '../../core/warehouse/clickhouse-ddl.js';
import type { LocalRuntime } from '../local-runtime.js';
import type { Catalog, ObjectStore } from '../../core/ports.js';
import { cliClock } from '../clock.js';
import { escapeValue, formatTable, jsonLine } from '../print.js';
import { UsageError } from '../errors.js';

/** The exit code of a critical verdict: distinct from usage errors (2) and outside failures (1). */
export const EXIT_CRITICAL = 3;

export const STATUS_HELP = `tributary status [--json] [--table T] [--env NAME] [--thresholds FILE] [--grace-minutes 15]
                 [--brokers host:port[,…] [--group G]…]
tributary status lineage <table> --hour YYYY-MM-DDTHH [--json]

Is the local pipeline healthy? Per event table: freshness (now − newest event_time in ClickHouse), ingest
lag (now − newest finished_at in the ingest log), rows stored and quarantined in the last hour and day, the
quarantine rate (last hour), closed hours waiting for compaction; the latest day of each job and whether it
is final; a verdict per table and overall (ok, warn, critical) with the reasons.

Thresholds are the environment's CDK alarm settings in cdk.json (alarms.freshnessMinutes,
alarms.quarantinePercent): critical above them, warn above half of them (docs/operations.md).

  --json            one JSON object instead of tables
  --table T         one table
  --env NAME        the cdk.json environment whose thresholds apply (default dev)
  --thresholds F    per-table overrides: {"tables": {"<table>": {"freshnessMinutes": 120, …}}}
  --grace-minutes N an hour is closed (due for compaction) this long after it ends (default 15)
  --brokers B       also the consumer lag per group and topic-partition (Kafka admin), against
                    alarms.offsetLag (records per group): critical above it, warn above half
  --group G         the consumer groups to check (default: every group the brokers list)

Against AWS (TRIBUTARY_BUCKET set, with the variables of jobs and quarantine: docs/cli.md#against-aws): the
tables from the deployed ClickHouse, Glue and S3, and the consumer lag from CloudWatch: OffsetLag per ingest
function (what the OffsetLag alarms watch) and MSK's OffsetLag per group, topic and partition.

  --cluster C       the MSK cluster (name or ARN; default: msk of the --env environment in cdk.json)
  --function F      only these ingest functions' OffsetLag (default: every function that has one)

lineage: for a table and hour, every Kafka topic-partition and offset range, the lake file it went into
and the batch (one ClickHouse insert per table per batch) that inserted it, from the ingest log.

Exit codes: 0 ok or warn, ${EXIT_CRITICAL} critical, 2 usage error, 1 failure (ClickHouse, files).`;

const HOUR_MS = 3_600_000;
const DEFAULT_COMPACTION_BACKLOG_HOURS = 2;
/** as far back as compaction looks (compactClosedPartitions' default lookback) */
const COMPACTION_LOOKBACK_MS = 7 * 24 * HOUR_MS;

type Overrides = ReadonlyMap<string, Partial<Thresholds>>;

export async function statusCommand(args: readonly string[], out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args], allowPositionals: true,
    options: {
      json: { type: 'boolean' }, table: { type: 'string' }, env: { type: 'string' }, thresholds: { type: 'string' },
      'grace-minutes': { type: 'string' }, hour: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      brokers: { type: 'string' }, group: { type: 'string', multiple: true },
      cluster: { type: 'string' }, function: { type: 'string', multiple: true },
    },
  });
  if (values.help) { out.write(`${STATUS_HELP}\n`); return 0; }
  const clock = cliClock();
  if (positionals[0] === 'lineage') {
    for (const o of ['table', 'env', 'thresholds', 'grace-minutes', 'brokers', 'group', 'cluster', 'function'] as const) if (values[o] !== undefined) throw new UsageError(`--${o} does not apply to status lineage`);
    const table = positionals[1];
    if (!table || positionals.length > 2) throw new UsageError('status lineage needs one table: tributary status lineage <table> --hour YYYY-MM-DDTHH');
    const hour = parseHour(values.hour);
    return withRuntime(clock, async (rt) => { out.write(`${await lineage(rt, table, hour, values.json === true)}\n`); return 0; });
  }
  if (positionals.length > 0) throw new UsageError(`status takes no argument ${JSON.stringify(positionals[0])} (did you mean status lineage <table> --hour …?)`);
  if (values.hour !== undefined) throw new UsageError('--hour applies to status lineage only');
  const aws = Boolean(process.env['TRIBUTARY_BUCKET']);
  if (values.group !== undefined && values.brokers === undefined && !aws) throw new UsageError('--group needs --brokers host:port (or TRIBUTARY_BUCKET: CloudWatch)');
  for (const o of ['cluster', 'function'] as const) if (values[o] !== undefined && !aws) throw new UsageError(`--${o} applies against AWS only (TRIBUTARY_BUCKET set)`);
  const brokers = values.brokers?.split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (brokers !== undefined && (brokers.length === 0 || !brokers.every((b) => /^[^\s:]+:\d+$/.test(b)))) throw new UsageError('--brokers must be host:port[,host:port…]');
  const graceMinutes = values['grace-minutes'] === undefined ? 15 : Number(values['grace-minutes']);
  if (!Number.isInteger(graceMinutes) || graceMinutes < 0) throw new UsageError('--grace-minutes must be an integer ≥ 0');
  const env = values.env ?? 'dev';
  const cdkJson = await cdkJsonPath();
  const alarms = environmentThresholds(env, cdkJson);
  const cluster = aws && values.brokers === undefined ? values.cluster ?? environmentCluster(env, cdkJson) : undefined;
  const overrides = values.thresholds === undefined ? new Map() : readOverrides(values.thresholds);
  return withRuntime(clock, async (rt) => {
    const lag = brokers !== undefined ? { consumers: await consumerLag(brokers, values.group, alarms.offsetLag) }
      : cluster !== undefined ? await cloudWatchLag(cluster, values.group, values.function, clock(), alarms.offsetLag) : undefined;
    const report = await measure(rt, clock(), { ...(values.table ? { table: values.table } : {}), graceMs: graceMinutes * 60_000, alarms, overrides, ...lag });
    out.write(`${values.json ? jsonLine({ ...report, env }) : describe(report, env, alarms)}\n`);
    // An override for a table the store does not have is not applied to anything: say so, not silently.
    const unmatched = values.table ? [] : [...overrides.keys()].filter((t) => !report.tables.some((s) => s.table === t));
    if (unmatched.length > 0) process.stderr.write(`tributary: ${values.thresholds} names ${unmatched.map(escapeValue).join(', ')}, which this store has no data for: those overrides apply to nothing yet\n`);
    return report.overall.health === 'critical' ? EXIT_CRITICAL : 0;
  });
}

/** What status measures: the local store, or the deployment's ClickHouse, Glue catalog and S3 bucket. */
export interface StatusSources {
  eventTables(): Promise<string[]>;
  readonly warehouse: LocalRuntime['warehouse'];
  readonly catalog: Pick<Catalog, 'listTables' | 'listPartitions'>;
  readonly store: Pick<ObjectStore, 'list' | 'get'>;
}

async function withRuntime(clock: () => number, f: (rt: StatusSources) => Promise<number>): Promise<number> {
  if (process.env['TRIBUTARY_BUCKET']) {
    const [{ openAwsServices }, { readServicesEnvironment }] = await Promise.all([import('../../adapters/aws-services.js'), import('../../adapters/environment.js')]);
    const services = await openAwsServices(readServicesEnvironment(process.env));
    try {
      return await f({ eventTables: () => services.catalog.listTables('event'), warehouse: services.warehouse, catalog: services.catalog, store: services.store });
    } finally {
      await services.warehouse.close();
    }
  }
  const { openLocalRuntime } = await import('../local-runtime.js');
  const rt = await openLocalRuntime({ clock });
  try {
    return await f(rt);
  } finally {
    await rt.close();
  }
}

function parseHour(value: string | undefined): { dt: string; hour: number } {
  const m = value === undefined ? null : /^(\d{4}-\d{2}-\d{2})T(\d{2})$/.exec(value);
  if (!m || !Number.isFinite(Date.parse(`${m[1]}T00:00:00Z`)) || Number(m[2]) > 23) throw new UsageError('status lineage needs --hour YYYY-MM-DDTHH (UTC), e.g. 2026-11-20T23');
  return { dt: m[1]!, hour: Number(m[2]) };
}

/** cdk.json of the working directory, else of the package: the file `cdk deploy` reads. */
export async function cdkJsonPath(): Promise<string | undefined> {
  const { PACKAGE_ROOT } = await import('../local-runtime.js');
  for (const p of [resolve('cdk.json'), resolve(PACKAGE_ROOT, 'cdk.json')]) if (existsSync(p)) return p;
  return undefined;
}

/** The environment's alarm thresholds, parsed as infra/config.ts parses them (same keys, same defaults). */
export function environmentThresholds(env: string, path: string | undefined): AlarmThresholds & { readonly source: string } {
  if (path === undefined) throw new UsageError(`--env ${env}: no cdk.json here or in the package`);
  const doc = readJson(path) as { context?: { environments?: Record<string, { alarms?: unknown }> } };
  const envs = doc.context?.environments ?? {};
  const block = Object.hasOwn(envs, env) ? envs[env] : undefined;
  if (block === undefined) throw new UsageError(`unknown environment ${JSON.stringify(env)}; ${path} defines: ${Object.keys(envs).join(', ') || 'none'}`);
  const problems: string[] = [];
  const t = alarmThresholds(block.alarms, problems);
  if (problems.length > 0) throw new UsageError(`environment ${env} in ${path}: ${problems.join('; ')}`);
  return { ...t, source: path };
}

/** A JSON file the user gave or keeps: one that does not parse is theirs to fix (exit 2), not a bug. */
function readJson(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`${file} is not JSON: ${(e as Error).message}`);
  }
}

const OVERRIDE_KEYS: readonly (keyof Thresholds)[] = ['freshnessMinutes', 'quarantinePercent', 'compactionBacklogHours'];

function readOverrides(file: string): Overrides {
  const doc = readJson(file);
  const tables = typeof doc === 'object' && doc !== null && 'tables' in doc ? (doc as { tables: unknown }).tables : undefined;
  if (typeof tables !== 'object' || tables === null || Array.isArray(tables)) throw new UsageError(`${file}: expected {"tables": {"<table>": {${OVERRIDE_KEYS.map((k) => `"${k}": N`).join(', ')}}}}`);
  const out = new Map<string, Partial<Thresholds>>();
  for (const [table, o] of Object.entries(tables as Record<string, unknown>)) {
    if (typeof o !== 'object' || o === null) throw new UsageError(`${file}: tables.${table} must be an object`);
    const entry: Record<string, number> = {};
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      if (!OVERRIDE_KEYS.includes(k as keyof Thresholds)) throw new UsageError(`${file}: tables.${table}.${k} is not a threshold (known: ${OVERRIDE_KEYS.join(', ')})`);
      if (typeof v !== 'number' || !(v >= 0)) throw new UsageError(`${file}: tables.${table}.${k} must be a number ≥ 0`);
      entry[k] = v;
    }
    out.set(table, entry as Partial<Thresholds>);
  }
  return out;
}

export interface TableStatus extends TableVerdict {
  readonly freshnessSeconds: number | null;
  readonly ingestLagSeconds: number | null;
  readonly stored: { readonly lastHour: number; readonly lastDay: number };
  readonly quarantined: { readonly lastHour: number; readonly lastDay: number };
  readonly hoursAwaitingCompaction: number;
  readonly thresholds: Thresholds;
}

export interface JobStatus {
  readonly table: string;
  readonly latestDt: string | null;
  /** whether every row of the latest day is final; null for a job without is_final */
  readonly isFinal: boolean | null;
}

export interface StatusReport {
  readonly now: string;
  readonly overall: { readonly health: Health; readonly reason: string };
  readonly tables: readonly TableStatus[];
  readonly jobs: readonly JobStatus[];
  /** with --brokers: each consumer group's lag */
  readonly consumers?: readonly ConsumerStatus[];
  readonly functions?: readonly FunctionLagStatus[];
}

export interface ConsumerStatus {
  readonly group: string;
  readonly health: Health;
  readonly reason: string | null;
  readonly lag: number;
  readonly partitions: readonly PartitionLag[];
}

export interface MeasureOptions {
  /** ingest functions' OffsetLag from CloudWatch (against AWS) */
  readonly functions?: readonly FunctionLagStatus[];
  readonly table?: string;
  readonly graceMs: number;
  readonly alarms: AlarmThresholds;
  readonly overrides: Overrides;
  readonly consumers?: readonly ConsumerStatus[];
}

const seconds = (ms: number | undefined): number | null => (ms === undefined ? null : Math.round(ms / 1000));

export async function measure(rt: StatusSources, now: number, o: MeasureOptions): Promise<StatusReport> {
  const all = (await rt.eventTables()).sort();
  if (o.table !== undefined && !all.includes(o.table)) {
    throw new UsageError(all.length > 0 ? `no table ${o.table} in the local store; its tables: ${all.join(', ')}`
      : `no table ${o.table}: the local store has no tables yet (run npm start, or tributary ingest <file.ndjson>)`);
  }
  const tables = o.table === undefined ? all : [o.table];
  const w = rt.warehouse;
  const existing = new Set((await w.query<{ db: string; name: string }>(
    'SELECT database AS db, name FROM system.tables WHERE database IN ({db:String}, {ops:String})', { db: w.database, ops: w.opsDatabase },
  )).map((r) => `${r.db}.${r.name}`));
  const params = { hour: now - HOUR_MS, day: now - 24 * HOUR_MS };
  const logged = new Map<string, { last: number; hour: number; day: number }>();
  if (existing.has(`${w.opsDatabase}.${INGEST_LOG_TABLE}`)) {
    const rows = await w.query<{ event: string; last: string; hour: string; day: string }>(
      `SELECT event, toUnixTimestamp64Milli(max(finished_at)) AS last,
         sumIf(rows, finished_at >= fromUnixTimestamp64Milli({hour:Int64}, 'UTC')) AS hour,
         sumIf(rows, finished_at >= fromUnixTimestamp64Milli({day:Int64}, 'UTC')) AS day
       FROM ${quoteIdentifier(w.opsDatabase)}.${quoteIdentifier(INGEST_LOG_TABLE)} FINAL WHERE outcome = 'stored' GROUP BY event`, params);
    for (const r of rows) logged.set(r.event, { last: Number(r.last), hour: Number(r.hour), day: Number(r.day) });
  }
  const quarantined = new Map<string, { hour: number; day: number }>();
  if (existing.has(`${w.opsDatabase}._quarantine`)) {
    const rows = await w.query<{ event: string; hour: string; day: string }>(
      `SELECT ifNull(event, '') AS event, countIf(received_at >= fromUnixTimestamp64Milli({hour:Int64}, 'UTC')) AS hour, count() AS day
       FROM ${quoteIdentifier(w.opsDatabase)}._quarantine FINAL WHERE received_at >= fromUnixTimestamp64Milli({day:Int64}, 'UTC') GROUP BY event`, params);
    for (const r of rows) quarantined.set(r.event, { hour: Number(r.hour), day: Number(r.day) });
  }
  const statuses: TableStatus[] = [];
  for (const table of tables) {
    let freshnessMs: number | undefined;
    if (existing.has(`${w.database}.${table}`)) {
      const [r] = await w.query<{ n: string; t: string }>(`SELECT count() AS n, toUnixTimestamp64Milli(max(event_time)) AS t FROM ${quoteIdentifier(w.database)}.${quoteIdentifier(table)}`);
      if (r && Number(r.n) > 0) freshnessMs = now - Number(r.t);
    }
    const log = logged.get(table);
    const q = quarantined.get(table) ?? { hour: 0, day: 0 };
    const m: TableMeasurements = {
      table, ...(freshnessMs === undefined ? {} : { freshnessMs }), ...(log ? { ingestLagMs: now - log.last } : {}),
      storedLastHour: log?.hour ?? 0, storedLastDay: log?.day ?? 0, quarantinedLastHour: q.hour, quarantinedLastDay: q.day,
      hoursAwaitingCompaction: await hoursAwaitingCompaction(rt, table, now, o.graceMs),
    };
    const thresholds: Thresholds = {
      freshnessMinutes: o.alarms.freshnessMinutes, quarantinePercent: o.alarms.quarantinePercent,
      compactionBacklogHours: DEFAULT_COMPACTION_BACKLOG_HOURS, ...o.overrides.get(table),
    };
    statuses.push({
      ...tableVerdict(m, thresholds), freshnessSeconds: seconds(m.freshnessMs), ingestLagSeconds: seconds(m.ingestLagMs),
      stored: { lastHour: m.storedLastHour, lastDay: m.storedLastDay }, quarantined: { lastHour: m.quarantinedLastHour, lastDay: m.quarantinedLastDay },
      hoursAwaitingCompaction: m.hoursAwaitingCompaction, thresholds,
    });
  }
  const lagFindings: Finding[] = [...(o.consumers ?? []), ...(o.functions ?? [])].flatMap((c) => (c.reason === null ? [] : [{ health: c.health, reason: c.reason }]));
  return {
    now: new Date(now).toISOString(), overall: overallVerdict(statuses, lagFindings), tables: statuses, jobs: await jobs(rt, existing),
    ...(o.consumers ? { consumers: o.consumers } : {}), ...(o.functions ? { functions: o.functions } : {}),
  };
}

/** An ingest function's OffsetLag (the event source mapping's metric) against alarms.offsetLag, as its alarm sees it. */
export interface FunctionLagStatus {
  readonly functionName: string;
  readonly health: Health;
  readonly reason: string | null;
  readonly lag: number;
}

/** The MSK cluster of an environment in cdk.json: its name, or the name in its ARN. */
export function environmentCluster(env: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const doc = readJson(path) as { context?: { environments?: Record<string, { msk?: { clusterName?: unknown; clusterArn?: unknown } }> } };
  const msk = doc.context?.environments?.[env]?.msk;
  if (typeof msk?.clusterName === 'string') return msk.clusterName;
  return typeof msk?.clusterArn === 'string' ? clusterName(msk.clusterArn) : undefined;
}

/** arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid> → <name>; a name as it is. */
const clusterName = (nameOrArn: string): string => (nameOrArn.startsWith('arn:') ? nameOrArn.split('/')[1] ?? nameOrArn : nameOrArn);

/** Consumer lag from CloudWatch: per group and partition (MSK) and per ingest function (Lambda's OffsetLag). */
export async function cloudWatchLag(cluster: string, groups: readonly string[] | undefined, functionNames: readonly string[] | undefined, now: number, offsetLag: number): Promise<{ consumers: ConsumerStatus[]; functions: FunctionLagStatus[] }> {
  const [{ CloudWatchClient }, { readOffsetLag }] = await Promise.all([import('@aws-sdk/client-cloudwatch'), import('../../adapters/cloudwatch-lag.js')]);
  const cw = new CloudWatchClient({});
  try {
    const reading = await readOffsetLag(cw, { clusterName: clusterName(cluster), now, ...(groups ? { groups } : {}), ...(functionNames ? { functionNames } : {}) });
    const byGroup = metricPartitionLags(reading.partitions);
    for (const g of groups ?? []) if (!byGroup.has(g)) byGroup.set(g, []);
    const consumers = [...byGroup].map(([group, partitions]): ConsumerStatus => {
      const finding = partitions.length === 0 ? { health: 'warn' as const, reason: `consumer group ${group} has no OffsetLag in CloudWatch for the last 15 minutes` } : groupLagFinding(group, partitions, offsetLag);
      return { group, health: finding?.health ?? 'ok', reason: finding?.reason ?? null, lag: partitions.reduce((n, p) => n + p.lag, 0), partitions };
    });
    const functions = reading.functions.map((f): FunctionLagStatus => {
      const health: Health = f.lag > offsetLag ? 'critical' : f.lag > offsetLag / 2 ? 'warn' : 'ok';
      const reason = health === 'ok' ? null : `ingest function ${f.functionName} OffsetLag ${f.lag} ${health === 'critical' ? '>' : '> half of'} ${offsetLag}`;
      return { functionName: f.functionName, health, reason, lag: f.lag };
    });
    return { consumers, functions };
  } finally {
    cw.destroy();
  }
}

/** Each group's committed offsets against the partitions' high watermarks, through a Kafka admin client. */
async function consumerLag(brokers: readonly string[], groups: readonly string[] | undefined, offsetLag: number): Promise<ConsumerStatus[]> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ clientId: 'tributary-status', brokers: [...brokers], logLevel: logLevel.NOTHING, connectionTimeout: 5000, retry: { retries: 2 } }).admin();
  await admin.connect();
  try {
    const names = groups ?? (await admin.listGroups()).groups.map((g) => g.groupId).sort();
    const topics = (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort();
    const watermarks = (await Promise.all(topics.map(async (topic) => (await admin.fetchTopicOffsets(topic))
      .map((p) => ({ topic, partition: p.partition, high: Number(p.high), low: Number(p.low) }))))).flat();
    const out: ConsumerStatus[] = [];
    for (const group of names) {
      const committed = topics.length === 0 ? [] : (await admin.fetchOffsets({ groupId: group, topics }))
        .flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: Number(p.offset) })));
      const partitions = partitionLags(group, committed, watermarks);
      const finding = groupLagFinding(group, partitions, offsetLag);
      out.push({ group, health: finding?.health ?? 'ok', reason: finding?.reason ?? null, lag: partitions.reduce((n, p) => n + p.lag, 0), partitions });
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** Closed hours (past the grace, within compaction's lookback) that the next compaction would work on. */
async function hoursAwaitingCompaction(rt: StatusSources, table: string, now: number, graceMs: number): Promise<number> {
  let n = 0;
  const due = (await rt.catalog.listPartitions(table)).filter((p): p is typeof p & { hour: number } => {
    if (p.hour === undefined) return false;
    const end = hourEnd(p.dt, p.hour);
    return end + graceMs <= now && end >= now - COMPACTION_LOOKBACK_MS;
  });
  if (due.length === 0) return 0;
  // One listing for the table (a LIST per 1,000 keys), not one per hour: a settled hour costs nothing more.
  const listed = await listHourPartitions(rt.store, table, utcDate(now - COMPACTION_LOOKBACK_MS - MS_PER_HOUR), Math.floor((now - graceMs) / MS_PER_HOUR) * MS_PER_HOUR);
  for (const p of due) {
    const prefix = partitionPrefix(table, p.dt, p.hour);
    const keys = listed.get(prefix) ?? [];
    if (isSettled(p.version, prefix, keys)) continue;
    const objects = readPartitionObjects(prefix, keys);
    const manifests = new Map<number, CompactionManifest>();
    for (const [version, key] of objects.manifestKeys) {
      const body = await rt.store.get(key);
      if (body) manifests.set(version, parseManifest(JSON.parse(new TextDecoder().decode(body)) as unknown, key));
    }
    if (planCompaction(objects, manifests, p.version).action !== 'none') n++;
  }
  return n;
}

/** Each job's output table: its latest day, and whether that day is final. */
async function jobs(rt: StatusSources, existing: ReadonlySet<string>): Promise<JobStatus[]> {
  const events = new Set(await rt.catalog.listTables('event'));
  const w = rt.warehouse;
  const out: JobStatus[] = [];
  for (const table of (await rt.catalog.listTables()).filter((t) => !events.has(t)).sort()) {
    if (!existing.has(`${w.database}.${table}`)) { out.push({ table, latestDt: null, isFinal: null }); continue; }
    const name = `${quoteIdentifier(w.database)}.${quoteIdentifier(table)}`;
    const hasFinal = (await w.query<{ n: string }>('SELECT count() AS n FROM system.columns WHERE database = {db:String} AND table = {t:String} AND name = \'is_final\'', { db: w.database, t: table }))[0]?.n !== '0';
    const [r] = await w.query<{ n: string; dt: string; final: number | null }>(
      `SELECT count() AS n, toString(max(dt)) AS dt${hasFinal ? ', (SELECT min(is_final) FROM ' + name + ' WHERE dt = (SELECT max(dt) FROM ' + name + ')) AS final' : ''} FROM ${name}`);
    const any = r !== undefined && Number(r.n) > 0;
    out.push({ table, latestDt: any ? r.dt : null, isFinal: any && hasFinal ? Boolean(Number(r.final)) : null });
  }
  return out;
}

function minutes(s: number | null): string {
  if (s === null) return '–';
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}

function describe(r: StatusReport, env: string, a: AlarmThresholds): string {
  const lines = [
    `Pipeline: ${r.overall.health} — ${escapeValue(r.overall.reason)}`,
    `at ${r.now}; thresholds of environment ${escapeValue(env)} (cdk.json alarms): freshness ${a.freshnessMinutes} min, quarantine ${a.quarantinePercent} %; warn at half`,
    '',
    formatTable(r.tables.map((t) => ({
      table: t.table, health: t.health, freshness: minutes(t.freshnessSeconds), 'ingest lag': minutes(t.ingestLagSeconds),
      'stored 1h': t.stored.lastHour, 'stored 1d': t.stored.lastDay, 'quarantined 1h': t.quarantined.lastHour, 'quarantined 1d': t.quarantined.lastDay,
      'quarantine %': t.quarantineRatePercent === undefined ? '–' : t.quarantineRatePercent.toFixed(1), 'hours to compact': t.hoursAwaitingCompaction,
    }))),
  ];
  const reasons = r.tables.flatMap((t) => t.reasons.map((reason) => ({ table: t.table, health: t.health, reason })));
  if (reasons.length > 0) lines.push('', 'Reasons:', formatTable(reasons));
  if (r.consumers !== undefined) {
    const rows = r.consumers.flatMap((c): Array<Record<string, string | number>> => (c.partitions.length === 0 ? [{ group: c.group, topic: '–', partition: '–', committed: '–', high: '–', lag: '–' }]
      : c.partitions.map((p) => ({ group: c.group, topic: p.topic, partition: p.partition, committed: p.committed ?? '–', high: p.high ?? '–', lag: p.lag }))));
    lines.push('', `Consumer lag (alarms.offsetLag ${a.offsetLag} records per group):`, formatTable(rows));
    const reasons = r.consumers.filter((c) => c.reason !== null).map((c) => ({ group: c.group, health: c.health, reason: c.reason }));
    if (reasons.length > 0) lines.push(formatTable(reasons));
  }
  if (r.functions !== undefined && r.functions.length > 0) {
    lines.push('', `Ingest functions' OffsetLag (CloudWatch, the OffsetLag alarms' metric; alarms.offsetLag ${a.offsetLag}):`,
      formatTable(r.functions.map((f) => ({ function: f.functionName, health: f.health, 'offset lag': f.lag }))));
  }
  if (r.jobs.length > 0) {
    lines.push('', 'Jobs (latest window):', formatTable(r.jobs.map((j) => ({
      table: j.table, 'latest dt': j.latestDt ?? '–', final: j.isFinal === null ? '–' : j.isFinal ? 'final' : 'provisional',
    }))));
  }
  return lines.join('\n');
}

interface LineageRow {
  readonly topic: string;
  readonly partition: number;
  readonly first_offset: string;
  readonly last_offset: string;
  readonly rows: string;
  readonly outcome: string;
  readonly file_key: string;
  readonly batch_key: string;
  readonly finished_at: string;
}

export async function lineage(rt: StatusSources, table: string, at: { dt: string; hour: number }, json: boolean): Promise<string> {
  const all = (await rt.eventTables()).sort();
  if (!all.includes(table)) {
    throw new UsageError(all.length > 0 ? `no table ${table} in the local store; its tables: ${all.join(', ')}` : `no table ${table}: the local store has no tables yet`);
  }
  const w = rt.warehouse;
  const logged = (await w.query<{ n: string }>('SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {t:String}', { db: w.opsDatabase, t: INGEST_LOG_TABLE }))[0]?.n !== '0';
  const rows = !logged ? [] : await w.query<LineageRow>(
    `SELECT _topic AS topic, _partition AS partition, toString(first_offset) AS first_offset, toString(last_offset) AS last_offset, toString(rows) AS rows,
       outcome, file_key, batch_key, toString(finished_at) AS finished_at
     FROM ${quoteIdentifier(w.opsDatabase)}.${quoteIdentifier(INGEST_LOG_TABLE)} FINAL
     WHERE event = {t:String} AND startsWith(file_key, {prefix:String})
     ORDER BY topic, partition, first_offset, file_key`, { t: table, prefix: partitionPrefix(table, at.dt, at.hour) });
  if (json) return jsonLine(rows.map((r) => ({ ...r, first_offset: Number(r.first_offset), last_offset: Number(r.last_offset), rows: Number(r.rows) })));
  const hour = `${at.dt}T${String(at.hour).padStart(2, '0')}`;
  if (rows.length === 0) return `No ingest log rows for ${escapeValue(table)} at ${hour} (UTC).`;
  return [
    `${escapeValue(table)} ${hour}Z: ${rows.length} topic-partition ranges in ${new Set(rows.map((r) => r.file_key)).size} files, ${new Set(rows.map((r) => r.batch_key)).size} batches (one ClickHouse insert per table per batch)`,
    formatTable(rows.map((r) => ({
      topic: r.topic, partition: r.partition, offsets: `${r.first_offset}–${r.last_offset}`, rows: r.rows, file: r.file_key, 'batch (insert)': r.batch_key, finished: r.finished_at,
    }))),
  ].join('\n');
}
