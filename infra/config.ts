// Per-environment settings from cdk.json (`context.environments.<name>`), validated at synth so an
// unknown or incomplete environment fails with a message that names everything missing.
import { ALARM_SETTINGS, alarmThresholds } from './alarm-defaults.js';
import { LAKE_WRITES, type LakeWrites } from '../functions/adapters/environment.js';

/**
 * The ingest function's memory when an environment does not set `ingest.memoryMb`. 512 MB: a batch peaks at
 * ~150 MB, and most of an invocation waits on the network, which Lambda bills by memory; the CPU share it
 * buys (0.29 vCPU) still keeps up at every measured traffic (docs/benchmarks.md, bench:scale 2026-12-06).
 */
export const DEFAULT_INGEST_MEMORY_MB = 512;

/**
 * V8's semi-space for the ingest function when an environment does not set `ingest.semiSpaceMb`. Lambda's
 * bootstrap would size it at memory/20 (102 MB at 2 GB): a young generation that grows past 200 MB holding
 * batches that are garbage a moment later. At 8 MB a 10k-record batch peaks at 2× its NDJSON plus 150 MB
 * (docs/benchmarks.md: the memory goal and what it costs in throughput).
 */
export const DEFAULT_INGEST_SEMI_SPACE_MB = 8;

/**
 * The V8 heap Lambda's Node bootstrap gives a function of `memoryMb` when NODE_OPTIONS names no heap flag:
 * a new space of memory/10 in two semi-spaces, the rest old space.
 */
export function lambdaHeapSizing(memoryMb: number): { semiSpaceMb: number; oldSpaceMb: number } {
  return { semiSpaceMb: Math.floor(memoryMb / 20), oldSpaceMb: memoryMb - Math.floor(memoryMb / 10) };
}

/**
 * How an environment's ingest reaches its sinks (docs/deploy.md#topology):
 * - coupled: one event source mapping per topic, both sinks (lake and ClickHouse) in one invocation;
 * - split: two per topic, each with its own consumer group, function and batching: the fresh path
 *   (ClickHouse only, small window) and the lake path (lake files + Glue + quarantine, large window), so an
 *   outage of one sink stalls only its own path.
 */
export type Topology = 'coupled' | 'split';
export const TOPOLOGIES: readonly Topology[] = ['coupled', 'split'];

/** One event source mapping's batching: records per invocation (1–10,000) and seconds to fill a batch (0–300). */
export interface BatchingConfig {
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
}

/**
 * A split path's batching when a topic does not set it: starting points, not measurements
 * (docs/deploy.md#topology recommends settings per traffic class from `npm run bench:scale`).
 * Whatever the size, Lambda also ends a batch at its 6 MB invocation payload.
 */
export const DEFAULT_SPLIT_BATCHING: { readonly fresh: BatchingConfig; readonly lake: BatchingConfig } = {
  fresh: { batchSize: 1000, batchingWindowSeconds: 1 },
  lake: { batchSize: 10_000, batchingWindowSeconds: 120 },
};

/**
 * Event → lake within 5 minutes (issue 23): with spool writes, the lake path's window, the materializer's
 * interval and this allowance for its run must add up to at most LAKE_VISIBLE_SECONDS.
 */
export const MATERIALIZE_RUN_ALLOWANCE_SECONDS = 60;
export const LAKE_VISIBLE_SECONDS = 300;
export const DEFAULT_MATERIALIZE_EVERY_MINUTES = 2;

export interface TopicConfig {
  readonly name: string;
  /** coupled only: records per invocation, 1–10,000 (default 5,000) */
  readonly batchSize?: number;
  /** coupled only: seconds to wait to fill a batch, 0–300 (default 10) */
  readonly batchingWindowSeconds?: number;
  /** both mappings of the topic in split */
  readonly startingPosition?: 'LATEST' | 'TRIM_HORIZON';
  /** split only: the fresh path's mapping (ClickHouse) */
  readonly fresh?: BatchingConfig;
  /** split only: the lake path's mapping (lake files, Glue, quarantine) */
  readonly lake?: BatchingConfig;
}

export interface ClickHouseUser {
  readonly user: string;
  readonly secretName: string;
}

/**
 * How ClickHouse gets read access to this stack's lake for the `<event>_all` views:
 * - serviceRoleArn: ClickHouse Cloud's service role (console: Settings → Network security information →
 *   Service role ID (IAM)); the stack creates a role it may assume, named in the views' s3() calls;
 * - roleArn: a role of this account that a self-managed ClickHouse server already runs as; the stack attaches
 *   the read policy to it.
 */
export type LakeAccess = { readonly serviceRoleArn: string } | { readonly roleArn: string };

export interface EnvironmentConfig {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  /** create an MSK Serverless cluster (dev), or consume from an existing cluster by ARN */
  readonly msk: { readonly create: true; readonly clusterName: string } | { readonly clusterArn: string };
  /** coupled (default) or split: see Topology */
  readonly topology: Topology;
  /**
   * How the lake path writes (docs/lake.md#spool-writes): `direct` (default), Parquet files per (table, hour)
   * in each invocation; `spool`, one object per batch, made into files by the materializer every
   * `materializeEveryMinutes` (1–5, default 2).
   */
  readonly lakeWrites: LakeWrites;
  readonly materializeEveryMinutes: number;
  /**
   * With `spool` only: the materializer's deferral (TRIBUTARY_MATERIALIZE_DEFER_SECONDS, docs/lake.md#spool-writes),
   * 0–240 s, default 0: a table whose oldest pending row is younger waits for a later run (fewer files for rare
   * tables). It adds to an event's way to the lake: the lake window + it + the interval + 60 s must stay ≤ 300 s.
   */
  readonly materializeDeferSeconds: number;
  readonly topics: readonly TopicConfig[];
  /** Kafka consumer group of the ingest function (default tributary-<env>) */
  readonly consumerGroup: string;
  /** committed ids, so synth needs no lookups */
  readonly vpc: { readonly vpcId: string; readonly availabilityZones: readonly string[]; readonly privateSubnetIds: readonly string[]; readonly securityGroupIds: readonly string[] };
  readonly clickhouse: {
    readonly url: string;
    /** the event database; operational tables (_quarantine, _ingest_log) are in `<database>_ops` */
    readonly database: string;
    readonly ttlDays: number;
    /** ingest's ClickHouse user and the Secrets Manager secret holding its password */
    readonly ingest: ClickHouseUser;
    /** the jobs' (ab-daily) ClickHouse user and its password's secret: another user than ingest's */
    readonly jobs: ClickHouseUser;
    /** where the `<event>_all` views read the lake; true: this stack's bucket */
    readonly lakeUrl?: string | true;
    /** ClickHouse's principal for reading this stack's lake (required when lakeUrl is true) */
    readonly lakeAccess?: LakeAccess;
  };
  readonly piiSaltSecretName: string;
  readonly retention: { readonly quarantineDays: number; readonly noncurrentDays: number; readonly logDays: number };
  /** a customer-managed KMS key for the lake (default: S3-managed encryption) */
  readonly kmsKey: boolean;
  /**
   * The IAM role that may read lake/_quarantine/ (raw records, PII), besides the account root; the bucket
   * policy denies every other principal. Absent: the account root only (break-glass).
   */
  readonly dataStewardRoleArn?: string;
  /**
   * memoryMb: the function's memory (and CPU share); semiSpaceMb: V8's young generation, see
   * DEFAULT_INGEST_SEMI_SPACE_MB; registryTtlSeconds: how long a container caches the schema registry
   * (TRIBUTARY_REGISTRY_TTL_SECONDS: a pushed schema takes effect within it)
   */
  readonly ingest: { readonly memoryMb: number; readonly timeoutMinutes: number; readonly semiSpaceMb: number; readonly registryTtlSeconds: number };
  readonly alarms: { readonly emails: readonly string[]; readonly freshnessMinutes: number; readonly quarantinePercent: number; readonly offsetLag: number };
}

export class EnvironmentConfigError extends Error {
  override readonly name = 'EnvironmentConfigError';
}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads and validates one environment block; `names` lists the ones that exist, for the error message. */
export function parseEnvironment(name: string | undefined, environments: unknown): EnvironmentConfig {
  // -c environments='{…}' on the command line arrives as text
  const parsed = typeof environments === 'string' ? (JSON.parse(environments) as unknown) : environments;
  const all = isObject(parsed) ? parsed : {};
  if (!name) throw new EnvironmentConfigError(`choose an environment: -c env=<${Object.keys(all).join('|') || 'name'}>`);
  const raw = all[name];
  if (!isObject(raw)) throw new EnvironmentConfigError(`unknown environment ${JSON.stringify(name)}; cdk.json defines: ${Object.keys(all).join(', ') || 'none'}`);
  const problems: string[] = [];
  const unknownKeys = Object.keys(raw).filter((k) => !KNOWN_KEYS.has(k));
  if (unknownKeys.length > 0) problems.push(`unknown keys ${unknownKeys.map((k) => JSON.stringify(k)).join(', ')} (known: ${[...KNOWN_KEYS].join(', ')})`);
  unknownNestedKeys(raw, problems);
  const at = (path: string): unknown => path.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : Array.isArray(o) ? o[Number(k)] : undefined), raw);
  const str = (path: string, pattern?: RegExp): string => {
    const v = at(path);
    if (v === undefined || v === '') problems.push(`${path} is missing`);
    else if (typeof v !== 'string') problems.push(`${path} ${JSON.stringify(v)} ${pattern ? `does not match ${pattern}` : 'must be text'}`);
    else if (pattern && !pattern.test(v)) problems.push(`${path} ${JSON.stringify(v)} does not match ${pattern}`);
    return typeof v === 'string' ? v : '';
  };
  const strings = (path: string, pattern: RegExp, min = 1): string[] => {
    const v = at(path);
    if (!Array.isArray(v) || v.length < min || !v.every((x) => typeof x === 'string' && pattern.test(x))) problems.push(`${path} must list at least ${min} value(s) matching ${pattern}`);
    return Array.isArray(v) ? (v as string[]) : [];
  };
  const int = (path: string, fallback: number, min: number, max: number): number => {
    const v = at(path) ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) problems.push(`${path} must be an integer from ${min} to ${max}`);
    return typeof v === 'number' ? v : fallback;
  };

  const optionalString = (path: string, pattern: RegExp): string | undefined => {
    const v = at(path);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !pattern.test(v)) { problems.push(`${path} ${JSON.stringify(v)} does not match ${pattern}`); return undefined; }
    return v;
  };
  const optionalBoolean = (path: string): boolean | undefined => {
    const v = at(path);
    if (v !== undefined && typeof v !== 'boolean') problems.push(`${path} must be true or false, not ${JSON.stringify(v)}`);
    return typeof v === 'boolean' ? v : undefined;
  };

  const account = str('account', /^\d{12}$/);
  const kmsKey = optionalBoolean('kmsKey') ?? false;
  const region = str('region', /^[a-z]{2}(-[a-z]+)+-\d$/);
  let msk: EnvironmentConfig['msk'] = { clusterArn: '' };
  if (at('msk.create') !== undefined && at('msk.clusterArn') !== undefined) problems.push('msk has both "create" and "clusterArn": choose one');
  if (at('msk.create') === true) msk = { create: true, clusterName: str('msk.clusterName', /^[A-Za-z0-9-]{1,64}$/) };
  else if (at('msk.clusterArn') !== undefined) {
    // the name of a cluster this stack does not create would be ignored
    if (at('msk.clusterName') !== undefined) problems.push('msk.clusterName applies with "create": true only; with "clusterArn" the ARN names the cluster');
    msk = { clusterArn: str('msk.clusterArn', /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[^/]+\/[^/]+$/) };
  }
  else problems.push('msk needs either "create": true with "clusterName", or "clusterArn"');
  const topology = topologySetting(at('topology'), problems);
  const rawTopics = at('topics');
  const topics: TopicConfig[] = [];
  if (!Array.isArray(rawTopics) || rawTopics.length === 0) problems.push('topics must list at least one topic');
  else {
    rawTopics.forEach((t, i) => {
      const p = `topics.${i}`;
      if (!isObject(t) || typeof t['name'] !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(t['name'])) { problems.push(`${p}.name is missing or not a Kafka topic name`); return; }
      if (topics.some((o) => o.name === t['name'])) { problems.push(`${p}.name ${t['name']} is listed twice`); return; }
      const sp = t['startingPosition'];
      if (sp !== undefined && sp !== 'LATEST' && sp !== 'TRIM_HORIZON') problems.push(`${p}.startingPosition must be LATEST or TRIM_HORIZON`);
      const startingPosition = (sp as TopicConfig['startingPosition']) ?? 'LATEST';
      refuseUnknownKeys(p, Object.keys(t), TOPIC_KEYS, problems);
      // A setting of the other topology is refused, not ignored: it would not do what its author expects.
      const misplaced = (topology === 'split' ? ['batchSize', 'batchingWindowSeconds'] : ['fresh', 'lake']).filter((k) => t[k] !== undefined);
      for (const k of misplaced) {
        problems.push(topology === 'split'
          ? `${p}.${k} applies to topology "coupled" only; this environment is "split": set ${p}.fresh.${k} and ${p}.lake.${k}`
          : `${p}.${k} applies to topology "split" only; this environment is "${topology}" (set "topology": "split" to use it)`);
      }
      if (topology === 'coupled') {
        topics.push({ name: t['name'], batchSize: int(`${p}.batchSize`, 5000, 1, 10_000), batchingWindowSeconds: int(`${p}.batchingWindowSeconds`, 10, 0, 300), startingPosition });
        return;
      }
      const fresh = batching(at, `${p}.fresh`, DEFAULT_SPLIT_BATCHING.fresh, int, problems);
      const lake = batching(at, `${p}.lake`, DEFAULT_SPLIT_BATCHING.lake, int, problems);
      if (fresh.batchingWindowSeconds > lake.batchingWindowSeconds) {
        problems.push(`${p}.fresh.batchingWindowSeconds ${fresh.batchingWindowSeconds} is longer than ${p}.lake.batchingWindowSeconds ${lake.batchingWindowSeconds}: the fresh path is the low-latency one (swapped?)`);
      }
      topics.push({ name: t['name'], startingPosition, fresh, lake });
    });
  }
  const config: EnvironmentConfig = {
    name,
    account,
    region,
    msk,
    topology,
    lakeWrites: lakeWritesSetting(at('lakeWrites'), problems),
    materializeEveryMinutes: int('materializeEveryMinutes', DEFAULT_MATERIALIZE_EVERY_MINUTES, 1, 5),
    materializeDeferSeconds: int('materializeDeferSeconds', 0, 0, 240),
    topics,
    consumerGroup: consumerGroupBase(at('consumerGroup'), name, topics, topology, problems),
    vpc: {
      vpcId: str('vpc.vpcId', /^vpc-[0-9a-f]+$/),
      availabilityZones: strings('vpc.availabilityZones', /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 2),
      privateSubnetIds: strings('vpc.privateSubnetIds', /^subnet-[0-9a-f]+$/, 2),
      securityGroupIds: strings('vpc.securityGroupIds', /^sg-[0-9a-f]+$/),
    },
    clickhouse: clickhouseSettings(at, str, int, optionalString, account, kmsKey, problems),
    piiSaltSecretName: str('piiSaltSecretName'),
    retention: {
      quarantineDays: int('retention.quarantineDays', 30, 1, 3650),
      noncurrentDays: int('retention.noncurrentDays', 7, 1, 365),
      logDays: logRetention(at('retention.logDays'), problems),
    },
    kmsKey,
    ...optionalField('dataStewardRoleArn', roleArn(at('dataStewardRoleArn'), 'dataStewardRoleArn', problems)),
    ingest: ingestSettings(int, problems),
    alarms: {
      emails: at('alarms.emails') === undefined ? [] : strings('alarms.emails', /^[^\s@]+@[^\s@]+\.[^\s@]+$/, 0),
      // the defaults and bounds `tributary status` reads too
      ...alarmThresholds(at('alarms'), problems),
    },
  };
  // The freshness alarm takes the worst table over both paths: a lake window as long as its threshold
  // would keep it firing while nothing is wrong.
  for (const [i, t] of config.topics.entries()) {
    if (t.lake && t.lake.batchingWindowSeconds >= config.alarms.freshnessMinutes * 60) {
      problems.push(`topics.${i}.lake.batchingWindowSeconds ${t.lake.batchingWindowSeconds} is not shorter than alarms.freshnessMinutes ${config.alarms.freshnessMinutes} (the freshness alarm would fire on every lake batch)`);
    }
  }
  if (at('materializeEveryMinutes') !== undefined && config.lakeWrites !== 'spool') problems.push('materializeEveryMinutes applies to "lakeWrites": "spool" only (direct writes have no materializer)');
  if (at('materializeDeferSeconds') !== undefined && config.lakeWrites !== 'spool') problems.push('materializeDeferSeconds applies to "lakeWrites": "spool" only (direct writes have no materializer)');
  if (config.lakeWrites === 'spool') {
    // Spooled, an event reaches the lake when its batch closes, its table's deferral has passed, and the next
    // materializer run starts and finishes.
    const defer = config.materializeDeferSeconds;
    for (const [i, t] of config.topics.entries()) {
      const window = t.lake?.batchingWindowSeconds ?? t.batchingWindowSeconds ?? 0;
      const total = window + defer + 60 * config.materializeEveryMinutes + MATERIALIZE_RUN_ALLOWANCE_SECONDS;
      if (total > LAKE_VISIBLE_SECONDS) {
        problems.push(`topics.${i}: with "lakeWrites": "spool", its lake window ${window} s${defer > 0 ? ` + materializeDeferSeconds ${defer} s` : ''} + materializeEveryMinutes ${config.materializeEveryMinutes} min + ${MATERIALIZE_RUN_ALLOWANCE_SECONDS} s for the run is ${total} s, over the ${LAKE_VISIBLE_SECONDS} s an event may take to reach the lake: shorten the window${defer > 0 ? ', the deferral' : ''} or the interval`);
      }
    }
  }
  if (problems.length > 0) throw new EnvironmentConfigError(`environment ${JSON.stringify(name)} in cdk.json is incomplete:\n  - ${problems.join('\n  - ')}`);
  return config;
}

function lakeWritesSetting(value: unknown, problems: string[]): LakeWrites {
  if (value === undefined) return 'direct';
  if (LAKE_WRITES.includes(value as LakeWrites)) return value as LakeWrites;
  problems.push(`lakeWrites must be "direct" (a Parquet file per table and hour in each invocation) or "spool" (one object per batch, made into files by the materializer every few minutes: docs/lake.md#spool-writes), not ${JSON.stringify(value)}`);
  return 'direct';
}

function topologySetting(value: unknown, problems: string[]): Topology {
  if (value === undefined) return 'coupled';
  if (TOPOLOGIES.includes(value as Topology)) return value as Topology;
  problems.push(`topology must be "coupled" (one event source mapping per topic, both sinks in one invocation) or "split" (a fresh path into ClickHouse and a lake path, each with its own mapping and consumer group), not ${JSON.stringify(value)}`);
  return 'coupled';
}

const TOPIC_KEYS: ReadonlySet<string> = new Set(['name', 'batchSize', 'batchingWindowSeconds', 'startingPosition', 'fresh', 'lake']);
const BATCHING_KEYS: ReadonlySet<string> = new Set(['batchSize', 'batchingWindowSeconds']);

/** A split path's batching (`topics.<i>.fresh` or `.lake`), each field defaulting on its own. */
function batching(at: Reader, path: string, fallback: BatchingConfig, int: IntReader, problems: string[]): BatchingConfig {
  const raw = at(path);
  if (raw !== undefined && !isObject(raw)) problems.push(`${path} must be {"batchSize", "batchingWindowSeconds"}`);
  if (isObject(raw)) refuseUnknownKeys(path, Object.keys(raw), BATCHING_KEYS, problems);
  // 10,000 records and 300 s are the MSK event source mapping's limits; the 6 MB payload ends a batch sooner.
  return { batchSize: int(`${path}.batchSize`, fallback.batchSize, 1, 10_000), batchingWindowSeconds: int(`${path}.batchingWindowSeconds`, fallback.batchingWindowSeconds, 0, 300) };
}

/** The paths of a split topology, as they name their consumer groups (`<group>-<path>-<topic>`). */
export const SPLIT_PATHS = ['fresh', 'lake'] as const;

/**
 * The environment's consumer group, the base of each mapping's group id (`<group>-<topic>` coupled,
 * `<group>-fresh-<topic>` and `<group>-lake-<topic>` split), which Lambda limits to 200 characters of
 * [a-zA-Z0-9-/*:_+=.@].
 */
function consumerGroupBase(value: unknown, env: string, topics: readonly TopicConfig[], topology: Topology, problems: string[]): string {
  if (value !== undefined && (typeof value !== 'string' || !/^[a-zA-Z0-9\-/*:_+=.@]{1,150}$/.test(value))) {
    problems.push('consumerGroup must be 1–150 characters of [a-zA-Z0-9-/*:_+=.@]');
    return `tributary-${env}`;
  }
  const group = (value as string | undefined) ?? `tributary-${env}`;
  const infix = topology === 'split' ? Math.max(...SPLIT_PATHS.map((p) => p.length + 1)) : 0;
  for (const t of topics) if (group.length + 1 + infix + t.name.length > 200) problems.push(`consumerGroup "${group}" with topic ${t.name} makes a group id over 200 characters`);
  return group;
}

/** An IAM role ARN (no wildcards: a bucket policy condition on it would match more than one role). */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

function roleArn(value: unknown, path: string, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && ROLE_ARN.test(value)) return value;
  problems.push(`${path} ${JSON.stringify(value)} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`);
  return undefined;
}

type Reader = (path: string) => unknown;
type StringReader = (path: string, pattern?: RegExp) => string;
type OptionalStringReader = (path: string, pattern: RegExp) => string | undefined;

const CLICKHOUSE_KEYS: ReadonlySet<string> = new Set(['url', 'database', 'ttlDays', 'ingest', 'jobs', 'lakeUrl', 'lakeAccess']);

/**
 * ClickHouse: one user per function (ingest, jobs), each with its own password secret, and, when the
 * `_all` views read this stack's lake, the principal ClickHouse reads it as.
 */
function clickhouseSettings(at: Reader, str: StringReader, int: IntReader, optionalString: OptionalStringReader, account: string, kmsKey: boolean, problems: string[]): EnvironmentConfig['clickhouse'] {
  const raw = at('clickhouse');
  const keys = isObject(raw) ? Object.keys(raw) : [];
  if (keys.includes('user') || keys.includes('secretName')) {
    problems.push('clickhouse.user and clickhouse.secretName are replaced by clickhouse.ingest and clickhouse.jobs, each {"user", "secretName"}: ingest and the jobs log in as different ClickHouse users');
  }
  // (the replaced single user/secretName are refused above, with how to migrate)
  refuseUnknownKeys('clickhouse', keys.filter((k) => k !== 'user' && k !== 'secretName'), CLICKHOUSE_KEYS, problems);
  const user = (role: 'ingest' | 'jobs'): ClickHouseUser => {
    const block = at(`clickhouse.${role}`);
    if (isObject(block)) refuseUnknownKeys(`clickhouse.${role}`, Object.keys(block), CLICKHOUSE_USER_KEYS, problems);
    return { user: str(`clickhouse.${role}.user`, /^[A-Za-z0-9_.@-]{1,128}$/), secretName: str(`clickhouse.${role}.secretName`) };
  };
  const ingest = user('ingest');
  const jobs = user('jobs');
  if (ingest.user !== '' && ingest.user === jobs.user) problems.push(`clickhouse.ingest.user and clickhouse.jobs.user are the same user (${ingest.user}): give the jobs a user of their own`);
  if (ingest.secretName !== '' && ingest.secretName === jobs.secretName) problems.push(`clickhouse.ingest.secretName and clickhouse.jobs.secretName are the same secret (${ingest.secretName})`);
  const rawLakeUrl = at('clickhouse.lakeUrl');
  // true: the stack's own lake bucket (its name is known only once deployed)
  const lakeUrl = rawLakeUrl === true ? (true as const) : rawLakeUrl === false ? undefined : optionalString('clickhouse.lakeUrl', /^https:\/\/[^\s'"]+$/);
  const lakeAccess = lakeAccessSettings(at('clickhouse.lakeAccess'), account, problems);
  if (lakeUrl === true && lakeAccess === undefined && at('clickhouse.lakeAccess') === undefined) {
    problems.push(`clickhouse.lakeUrl true makes ClickHouse read this stack's lake bucket${kmsKey ? ' (encrypted with its KMS key)' : ''}, but nothing grants ClickHouse access: `
      + 'set clickhouse.lakeAccess.serviceRoleArn (ClickHouse Cloud: the service\'s "Service role ID (IAM)") or clickhouse.lakeAccess.roleArn (the role a self-managed ClickHouse server runs as), or clickhouse.lakeUrl false');
  }
  return {
    url: str('clickhouse.url', /^https?:\/\//),
    database: typeof at('clickhouse.database') === 'string' ? (at('clickhouse.database') as string) : 'tributary',
    ttlDays: int('clickhouse.ttlDays', 90, 1, 3650),
    ingest,
    jobs,
    ...optionalField('lakeUrl', lakeUrl),
    ...optionalField('lakeAccess', lakeAccess),
  };
}

function lakeAccessSettings(value: unknown, account: string, problems: string[]): LakeAccess | undefined {
  if (value === undefined) return undefined;
  const at = 'clickhouse.lakeAccess';
  if (!isObject(value)) { problems.push(`${at} must be {"serviceRoleArn": …} or {"roleArn": …}`); return undefined; }
  refuseUnknownKeys(at, Object.keys(value), LAKE_ACCESS_KEYS, problems);
  if (value['serviceRoleArn'] !== undefined && value['roleArn'] !== undefined) { problems.push(`${at} has both "serviceRoleArn" and "roleArn": choose one`); return undefined; }
  if (value['serviceRoleArn'] !== undefined) {
    const arn = roleArn(value['serviceRoleArn'], `${at}.serviceRoleArn`, problems);
    return arn === undefined ? undefined : { serviceRoleArn: arn };
  }
  if (value['roleArn'] !== undefined) {
    const arn = roleArn(value['roleArn'], `${at}.roleArn`, problems);
    if (arn === undefined) return undefined;
    // A role of another account cannot be given a policy by this stack (CDK would skip it without a word).
    if (arn.split(':')[4] !== account) { problems.push(`${at}.roleArn must be a role of this environment's account ${account} (for ClickHouse Cloud, use serviceRoleArn)`); return undefined; }
    return { roleArn: arn };
  }
  problems.push(`${at} needs "serviceRoleArn" (ClickHouse Cloud's service role) or "roleArn" (a role of this account that ClickHouse runs as)`);
  return undefined;
}

type IntReader = (path: string, fallback: number, min: number, max: number) => number;

/** The ingest function's memory, timeout and young generation; a semi-space Lambda's own sizing would exceed is refused. */
function ingestSettings(int: IntReader, problems: string[]): EnvironmentConfig['ingest'] {
  const memoryMb = int('ingest.memoryMb', DEFAULT_INGEST_MEMORY_MB, 512, 10_240);
  const semiSpaceMb = int('ingest.semiSpaceMb', DEFAULT_INGEST_SEMI_SPACE_MB, 1, 512);
  const lambdaSemiSpaceMb = lambdaHeapSizing(memoryMb).semiSpaceMb;
  if (semiSpaceMb > lambdaSemiSpaceMb) problems.push(`ingest.semiSpaceMb ${semiSpaceMb} is more than memory/20 (${lambdaSemiSpaceMb} MB at ingest.memoryMb ${memoryMb}), Lambda's own sizing`);
  return { memoryMb, timeoutMinutes: int('ingest.timeoutMinutes', 5, 1, 14), semiSpaceMb, registryTtlSeconds: int('ingest.registryTtlSeconds', 30, 5, 3600) };
}

/** The keys each settings object may hold: a misspelt one is refused, never ignored (`ingest.memoryMB`). */
const NESTED_KEYS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['msk', new Set(['create', 'clusterName', 'clusterArn'])],
  ['vpc', new Set(['vpcId', 'availabilityZones', 'privateSubnetIds', 'securityGroupIds'])],
  ['retention', new Set(['quarantineDays', 'noncurrentDays', 'logDays'])],
  ['ingest', new Set(['memoryMb', 'timeoutMinutes', 'semiSpaceMb', 'registryTtlSeconds'])],
  ['alarms', new Set(['emails', ...Object.keys(ALARM_SETTINGS)])],
]);

function unknownNestedKeys(raw: Raw, problems: string[]): void {
  for (const [key, known] of NESTED_KEYS) {
    const v = raw[key];
    if (v === undefined) continue;
    if (!isObject(v)) { problems.push(`${key} must be an object of ${[...known].join(', ')}`); continue; }
    refuseUnknownKeys(key, Object.keys(v), known, problems);
  }
}

const CLICKHOUSE_USER_KEYS: ReadonlySet<string> = new Set(['user', 'secretName']);
const LAKE_ACCESS_KEYS: ReadonlySet<string> = new Set(['serviceRoleArn', 'roleArn']);

/** A settings block's keys it does not know: refused, naming the ones it does. */
function refuseUnknownKeys(where: string, keys: readonly string[], known: ReadonlySet<string>, problems: string[]): void {
  const unknown = keys.filter((k) => !known.has(k));
  if (unknown.length > 0) problems.push(`${where} has unknown keys ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${[...known].join(', ')})`);
}

const KNOWN_KEYS: ReadonlySet<string> = new Set([
  'account', 'region', 'msk', 'topology', 'lakeWrites', 'materializeEveryMinutes', 'materializeDeferSeconds', 'topics', 'consumerGroup', 'vpc', 'clickhouse', 'piiSaltSecretName', 'retention', 'kmsKey', 'dataStewardRoleArn', 'ingest', 'alarms',
]);

const optionalField = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

/** The retention periods CloudWatch Logs accepts, in days. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

function logRetention(value: unknown, problems: string[]): number {
  if (value === undefined) return 30;
  if (typeof value === 'number' && LOG_RETENTION_DAYS.includes(value)) return value;
  problems.push(`retention.logDays must be one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(', ')}`);
  return 30;
}
