// Ingest function configuration from the environment, validated once at cold start.
import { resolve } from 'node:path';

export interface IngestEnvironment {
  readonly bucket: string;
  readonly kmsKeyId?: string;
  readonly glueDatabase: string;
  readonly clickhouse: { url: string; username: string; password: string; database: string };
  readonly schemasDir: string;
  readonly piiSalt: string;
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
  };
  if (missing.length > 0) throw new ConfigurationError(`ingest function is missing environment variables: ${missing.join(', ')}`);
  return config;
}
