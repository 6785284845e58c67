// Ingest function configuration from the environment, validated once at cold start.
import { resolve } from 'node:path';

export interface IngestEnvironment {
  readonly bucket: string;
  readonly kmsKeyId?: string;
  readonly glueDatabase: string;
  readonly clickhouse: { url: string; username: string; password: string; database: string };
  readonly schemasDir: string;
  readonly piiSalt: string;
  readonly registryTtlMs: number;
  readonly maxNewColumnsPerHour: number;
}

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

export function readIngestEnvironment(env: NodeJS.ProcessEnv): IngestEnvironment {
  const missing: string[] = [];
  const need = (name: string): string => {
    const v = env[name];
    if (!v) missing.push(name);
    return v ?? '';
  };
  const invalid: string[] = [];
  const positiveInteger = (name: string, fallback: number): number => {
    const v = env[name];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) invalid.push(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
  const config: IngestEnvironment = {
    bucket: need('TRIBUTARY_BUCKET'),
    ...(env['TRIBUTARY_KMS_KEY_ID'] ? { kmsKeyId: env['TRIBUTARY_KMS_KEY_ID'] } : {}),
    glueDatabase: need('TRIBUTARY_GLUE_DATABASE'),
    clickhouse: {
      url: need('CLICKHOUSE_URL'),
      username: env['CLICKHOUSE_USER'] ?? 'default',
      password: env['CLICKHOUSE_PASSWORD'] ?? '',
      database: env['CLICKHOUSE_DATABASE'] ?? 'tributary',
    },
    schemasDir: resolve(env['LAMBDA_TASK_ROOT'] ?? '.', env['TRIBUTARY_SCHEMAS_DIR'] ?? 'schemas/events'),
    piiSalt: need('TRIBUTARY_PII_SALT'),
    registryTtlMs: 1000 * positiveInteger('TRIBUTARY_REGISTRY_TTL_SECONDS', 30),
    maxNewColumnsPerHour: positiveInteger('TRIBUTARY_MAX_NEW_COLUMNS_PER_HOUR', 50),
  };
  if (missing.length > 0) throw new ConfigurationError(`ingest function is missing environment variables: ${missing.join(', ')}`);
  if (invalid.length > 0) throw new ConfigurationError(invalid.join('; '));
  return config;
}
