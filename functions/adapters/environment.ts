// Ingest function configuration from the environment, validated once at cold start. Secrets are named by
// their Secrets Manager ARN (resolved by the handler), or given directly for local runs.
import { resolve } from 'node:path';
import { LAKE_WRITES, type LakeWrites } from '../core/lake/spool.js';

// The stack (infra/, which imports no core module) validates cdk.json's lakeWrites against the same values.
export { LAKE_WRITES, type LakeWrites };

/** A secret value, or where to fetch it. */
export type SecretSource = { readonly value: string } | { readonly secretArn: string };

/** What every function (and the CLI against AWS) needs to reach the lake, the catalog and ClickHouse. */
export interface ServicesEnvironment {
  readonly bucket: string;
  readonly kmsKeyId?: string;
  readonly glueDatabase: string;
  readonly clickhouse: {
    /** https:// for ClickHouse Cloud (TLS), http:// inside a VPC */
    readonly url: string;
    readonly username: string;
    readonly password: SecretSource;
    readonly database: string;
    /** days ClickHouse keeps; the `<event>_all` views read older days from the lake */
    readonly ttlDays: number;
    /** where ClickHouse reads the lake for `<event>_all` views, e.g. https://bucket.s3.eu-west-1.amazonaws.com/lake */
    readonly lakeUrl?: string;
    /** the IAM role ClickHouse Cloud assumes to read the lake (`extra_credentials(role_arn = …)` in the views) */
    readonly lakeRoleArn?: string;
    /**
     * Ingest inserts asynchronously (CLICKHOUSE_ASYNC_INSERT=1), accepted only with the tables declared
     * replicated (CLICKHOUSE_TABLES_REPLICATED=1): docs/clickhouse.md#asynchronous-inserts.
     */
    readonly asyncInsert?: boolean;
  };
}

/** Where an ingest function delivers (TRIBUTARY_SINKS): both in the `coupled` topology, one path of `split`. */
export interface IngestSinks {
  readonly lake: boolean;
  readonly warehouse: boolean;
}

const SINKS = new Map<string, IngestSinks>([
  ['lake,clickhouse', { lake: true, warehouse: true }],
  ['clickhouse,lake', { lake: true, warehouse: true }],
  ['lake', { lake: true, warehouse: false }],
  ['clickhouse', { lake: false, warehouse: true }],
]);

/** Variables a path reads only when it delivers to that sink: set for the other path, they are refused. */
const CLICKHOUSE_VARIABLES = ['CLICKHOUSE_URL', 'CLICKHOUSE_USER', 'CLICKHOUSE_PASSWORD', 'CLICKHOUSE_PASSWORD_SECRET_ARN', 'CLICKHOUSE_DATABASE', 'CLICKHOUSE_TTL_DAYS', 'CLICKHOUSE_LAKE_URL', 'CLICKHOUSE_LAKE_ROLE_ARN', 'CLICKHOUSE_ASYNC_INSERT', 'CLICKHOUSE_TABLES_REPLICATED'];
const LAKE_VARIABLES = ['TRIBUTARY_GLUE_DATABASE', 'TRIBUTARY_MAX_FILES_PER_BATCH', 'TRIBUTARY_LAKE_WRITES'];

export interface IngestEnvironment extends ServicesEnvironment {
  /** the sinks this function delivers to; the other sink's settings are empty and never read */
  readonly sinks: IngestSinks;
  /** TRIBUTARY_LAKE_WRITES: `direct` (files per (table, hour)) or `spool` (one object per batch, docs/lake.md#spool-writes) */
  readonly lakeWrites: LakeWrites;
  readonly schemasDir: string;
  readonly piiSalt: SecretSource;
  readonly registryTtlMs: number;
  readonly maxNewColumnsPerHour: number;
  readonly maxColumnsPerTable: number;
  readonly maxNewTablesPerBatch: number;
  readonly maxFilesPerBatch: number;
}

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** A setting that must be set; when it is not, `NAME is missing` is added to `problems`. */
export function requiredSetting(env: NodeJS.ProcessEnv, name: string, problems: string[]): string {
  const v = env[name];
  if (!v) problems.push(`${name} is missing`);
  return v ?? '';
}

/** An integer setting from the environment, or its default; a bad value is added to `problems`. */
export function integerSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, problems: string[]): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) problems.push(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

export function readServicesEnvironment(env: NodeJS.ProcessEnv): ServicesEnvironment {
  const { bucket, kmsKeyId, glueDatabase, clickhouse } = readEnvironment(env, false);
  return { bucket, ...(kmsKeyId ? { kmsKeyId } : {}), glueDatabase, clickhouse };
}

export function readIngestEnvironment(env: NodeJS.ProcessEnv): IngestEnvironment {
  return readEnvironment(env, true);
}

function readEnvironment(env: NodeJS.ProcessEnv, ingest: boolean): IngestEnvironment {
  const missing: string[] = [];
  const invalid: string[] = [];
  const need = (name: string): string => {
    const v = env[name];
    if (!v) missing.push(name);
    return v ?? '';
  };
  /** NAME (the value) or NAME_SECRET_ARN (where it is kept); the ARN wins when both are set. */
  const secret = (name: string, required: boolean): SecretSource => {
    const arn = env[`${name}_SECRET_ARN`];
    if (arn) {
      if (!/^arn:aws[a-z-]*:secretsmanager:/.test(arn)) invalid.push(`${name}_SECRET_ARN is not a Secrets Manager ARN`);
      return { secretArn: arn };
    }
    const v = env[name];
    if (!v && required) missing.push(`${name} (or ${name}_SECRET_ARN)`);
    return { value: v ?? '' };
  };
  const positiveInteger = (name: string, fallback: number): number => integerSetting(env, name, fallback, 1, invalid);
  const flag = (name: string): boolean => {
    const v = env[name];
    if (v === undefined || v === '' || v === '0') return false;
    if (v !== '1') invalid.push(`${name} must be 1 or 0, got ${JSON.stringify(v)}`);
    return v === '1';
  };
  const bucket = need('TRIBUTARY_BUCKET');
  const sinksText = ingest ? (env['TRIBUTARY_SINKS'] ?? 'lake,clickhouse').replace(/\s+/g, '') : 'lake,clickhouse';
  const sinks = SINKS.get(sinksText) ?? { lake: true, warehouse: true };
  if (!SINKS.has(sinksText)) invalid.push(`TRIBUTARY_SINKS must be lake,clickhouse (coupled), lake or clickhouse (the two paths of split), got ${JSON.stringify(env['TRIBUTARY_SINKS'])}`);
  const unused = [...(sinks.warehouse ? [] : CLICKHOUSE_VARIABLES), ...(sinks.lake ? [] : LAKE_VARIABLES)].filter((name) => env[name] !== undefined && env[name] !== '');
  if (unused.length > 0) invalid.push(`${unused.join(', ')} ${unused.length === 1 ? 'is' : 'are'} set, but TRIBUTARY_SINKS=${sinksText} never reads ${unused.length === 1 ? 'it' : 'them'}`);
  const glueDatabase = sinks.lake ? need('TRIBUTARY_GLUE_DATABASE') : '';
  const url = sinks.warehouse ? need('CLICKHOUSE_URL') : '';
  if (url && !/^https?:\/\//.test(url)) invalid.push('CLICKHOUSE_URL must start with http:// or https://');
  const lakeRole = env['CLICKHOUSE_LAKE_ROLE_ARN'];
  if (lakeRole && !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/.test(lakeRole)) invalid.push('CLICKHOUSE_LAKE_ROLE_ARN is not an IAM role ARN');
  if (lakeRole && !env['CLICKHOUSE_LAKE_URL']) invalid.push('CLICKHOUSE_LAKE_ROLE_ARN is set without CLICKHOUSE_LAKE_URL: nothing would read the lake with it');
  // Asynchronous inserts are the ingest function's alone. They keep retries idempotent only where ClickHouse
  // deduplicates them by token, which its documentation promises for replicated tables only.
  const asyncInsert = ingest && sinks.warehouse && flag('CLICKHOUSE_ASYNC_INSERT');
  if (asyncInsert && !flag('CLICKHOUSE_TABLES_REPLICATED')) {
    invalid.push('CLICKHOUSE_ASYNC_INSERT=1 needs CLICKHOUSE_TABLES_REPLICATED=1 (ClickHouse Cloud, or Replicated* tables): ClickHouse deduplicates ' +
      'asynchronous inserts by their token only on replicated tables, elsewhere a retried batch would go in twice (docs/clickhouse.md#asynchronous-inserts)');
  }
  const lakeWrites = lakeWritesSetting(env['TRIBUTARY_LAKE_WRITES'], invalid);
  const config: IngestEnvironment = {
    sinks,
    lakeWrites,
    bucket,
    ...(env['TRIBUTARY_KMS_KEY_ID'] ? { kmsKeyId: env['TRIBUTARY_KMS_KEY_ID'] } : {}),
    glueDatabase,
    clickhouse: {
      url,
      username: env['CLICKHOUSE_USER'] ?? 'default',
      password: secret('CLICKHOUSE_PASSWORD', false),
      database: env['CLICKHOUSE_DATABASE'] ?? 'tributary',
      ttlDays: positiveInteger('CLICKHOUSE_TTL_DAYS', 90),
      ...(env['CLICKHOUSE_LAKE_URL'] ? { lakeUrl: env['CLICKHOUSE_LAKE_URL'] } : {}),
      ...(env['CLICKHOUSE_LAKE_ROLE_ARN'] ? { lakeRoleArn: env['CLICKHOUSE_LAKE_ROLE_ARN'] } : {}),
      ...(asyncInsert ? { asyncInsert } : {}),
    },
    schemasDir: resolve(env['LAMBDA_TASK_ROOT'] ?? '.', env['TRIBUTARY_SCHEMAS_DIR'] ?? 'schemas/events'),
    piiSalt: secret('TRIBUTARY_PII_SALT', ingest),
    registryTtlMs: 1000 * positiveInteger('TRIBUTARY_REGISTRY_TTL_SECONDS', 30),
    maxNewColumnsPerHour: positiveInteger('TRIBUTARY_MAX_NEW_COLUMNS_PER_HOUR', 50),
    maxColumnsPerTable: positiveInteger('TRIBUTARY_MAX_COLUMNS_PER_TABLE', 1000),
    maxNewTablesPerBatch: positiveInteger('TRIBUTARY_MAX_NEW_TABLES_PER_BATCH', 20),
    maxFilesPerBatch: positiveInteger('TRIBUTARY_MAX_FILES_PER_BATCH', 1000),
  };
  if (missing.length > 0) throw new ConfigurationError(`${ingest ? 'ingest function' : 'AWS configuration'} is missing environment variables: ${missing.join(', ')}`);
  if (invalid.length > 0) throw new ConfigurationError(invalid.join('; '));
  return config;
}

/** TRIBUTARY_LAKE_WRITES: unset is `direct`; anything else but the two settings is refused. */
export function lakeWritesSetting(value: string | undefined, problems: string[]): LakeWrites {
  if (value === undefined || value === '') return 'direct';
  if ((LAKE_WRITES as readonly string[]).includes(value)) return value as LakeWrites;
  problems.push(`TRIBUTARY_LAKE_WRITES must be direct (a Parquet file per table and hour in each invocation) or spool (one object per batch, materialized on a schedule: docs/lake.md#spool-writes), got ${JSON.stringify(value)}`);
  return 'direct';
}
