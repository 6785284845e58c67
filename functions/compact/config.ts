// Compaction function configuration from the environment, validated once at cold start.
import { ConfigurationError, integerSetting, requiredSetting } from '../adapters/environment.js';

export interface CompactEnvironment {
  readonly bucket: string;
  readonly kmsKeyId?: string;
  readonly glueDatabase: string;
  readonly graceMs: number;
  readonly lookbackMs: number;
  readonly targetFileBytes: number;
  readonly retentionMs: number;
  /** DuckDB memory_limit; leave headroom below the function's memory for Node and buffers */
  readonly memoryLimit: string;
  readonly scratchDir: string;
}

export function readCompactEnvironment(env: NodeJS.ProcessEnv): CompactEnvironment {
  const problems: string[] = [];
  const need = (name: string): string => requiredSetting(env, name, problems);
  const wholeNumber = (name: string, fallback: number): number => integerSetting(env, name, fallback, 0, problems);
  const minutes = (name: string, fallback: number): number => wholeNumber(name, fallback) * 60_000;
  const config: CompactEnvironment = {
    bucket: need('TRIBUTARY_BUCKET'),
    ...(env['TRIBUTARY_KMS_KEY_ID'] ? { kmsKeyId: env['TRIBUTARY_KMS_KEY_ID'] } : {}),
    glueDatabase: need('TRIBUTARY_GLUE_DATABASE'),
    graceMs: minutes('TRIBUTARY_COMPACT_GRACE_MINUTES', 15),
    lookbackMs: minutes('TRIBUTARY_COMPACT_LOOKBACK_MINUTES', 48 * 60),
    targetFileBytes: wholeNumber('TRIBUTARY_COMPACT_TARGET_MB', 256) * 1024 * 1024,
    retentionMs: minutes('TRIBUTARY_COMPACT_RETENTION_MINUTES', 60),
    memoryLimit: env['TRIBUTARY_COMPACT_MEMORY_LIMIT'] ?? '2GB',
    scratchDir: env['TRIBUTARY_COMPACT_SCRATCH_DIR'] ?? '/tmp',
  };
  if (config.targetFileBytes < 1024 * 1024) problems.push('TRIBUTARY_COMPACT_TARGET_MB must be at least 1');
  if (problems.length > 0) throw new ConfigurationError(`compaction function configuration: ${problems.join('; ')}`);
  return config;
}
