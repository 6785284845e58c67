// Materializer function configuration from the environment, validated once at cold start.
import { ConfigurationError, integerSetting, requiredSetting } from '../adapters/environment.js';

export interface MaterializeEnvironment {
  readonly bucket: string;
  readonly kmsKeyId?: string;
  readonly glueDatabase: string;
  /** spool objects per manifest: bounds a manifest's memory (each spool is at most one 6 MB batch) */
  readonly maxSpoolsPerManifest: number;
  /** how long a manifest holds off another run: longer than the function's timeout */
  readonly leaseMs: number;
  /** a table whose oldest spooled row is younger than this waits for a later run (docs/lake.md#spool-writes) */
  readonly deferMs: number;
}

export function readMaterializeEnvironment(env: NodeJS.ProcessEnv): MaterializeEnvironment {
  const problems: string[] = [];
  const need = (name: string): string => requiredSetting(env, name, problems);
  const config: MaterializeEnvironment = {
    bucket: need('TRIBUTARY_BUCKET'),
    ...(env['TRIBUTARY_KMS_KEY_ID'] ? { kmsKeyId: env['TRIBUTARY_KMS_KEY_ID'] } : {}),
    glueDatabase: need('TRIBUTARY_GLUE_DATABASE'),
    maxSpoolsPerManifest: integerSetting(env, 'TRIBUTARY_SPOOLS_PER_MANIFEST', 100, 1, problems),
    leaseMs: integerSetting(env, 'TRIBUTARY_MATERIALIZE_LEASE_SECONDS', 360, 60, problems) * 1000,
    deferMs: integerSetting(env, 'TRIBUTARY_MATERIALIZE_DEFER_SECONDS', 0, 0, problems) * 1000,
  };
  if (problems.length > 0) throw new ConfigurationError(`materializer function configuration: ${problems.join('; ')}`);
  return config;
}
