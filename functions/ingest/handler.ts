// Lambda entry point for the MSK event source mapping: wiring only; the work is in core/ingest.ts.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { createClient } from '@clickhouse/client';
import { GLUE_CLIENT_CONFIG, GlueCatalog } from '../adapters/catalog/glue.js';
import { S3_CLIENT_CONFIG, S3Store } from '../adapters/object-store/s3.js';
import { SchemaFiles } from '../adapters/schema-files.js';
import { publishIngestReport } from '../adapters/telemetry.js';
import { ClickHouseWarehouse } from '../adapters/warehouse/clickhouse.js';
import { ingestBatch, type IngestDeps } from '../core/ingest.js';
import { SchemaRegistry } from '../core/schema-registry.js';
import type { MskEvent } from '../core/msk-event.js';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { lakeGlob } from '../core/clickhouse-ddl.js';
import { quoteString } from '../core/identifiers.js';
import { ConfigurationError, readIngestEnvironment, type SecretSource } from './config.js';

const logger = new Logger({ serviceName: 'tributary-ingest' });
const metrics = new Metrics({ namespace: 'Tributary', serviceName: 'tributary-ingest' });

let deps: Promise<IngestDeps> | undefined;

/** Secrets are fetched once per container (Powertools caches them; a rotation reaches new containers). */
const secretValue = async (s: SecretSource): Promise<string> => {
  if ('value' in s) return s.value;
  const v = await getSecret(s.secretArn, { maxAge: 3600 });
  if (typeof v !== 'string' || v === '') throw new ConfigurationError(`secret ${s.secretArn} is empty or binary`);
  return v;
};

/** Built once per container: clients keep their connections and the catalog its partition cache. */
function dependencies(): Promise<IngestDeps> {
  deps ??= build().catch((err) => {
    deps = undefined; // a failed cold start (secret not readable yet) is retried by the next invocation
    throw err;
  });
  return deps;
}

async function build(): Promise<IngestDeps> {
  const env = readIngestEnvironment(process.env);
  const [password, piiSalt] = await Promise.all([secretValue(env.clickhouse.password), secretValue(env.piiSalt)]);
  const clickhouse = createClient({
    url: env.clickhouse.url, // https:// gives TLS (ClickHouse Cloud); the client verifies the server certificate
    username: env.clickhouse.username,
    password,
    request_timeout: 60_000,
    compression: { request: false, response: true },
  });
  const lakeUrl = env.clickhouse.lakeUrl;
  const store = new S3Store(new S3Client(S3_CLIENT_CONFIG), { bucket: env.bucket, ...(env.kmsKeyId ? { kmsKeyId: env.kmsKeyId } : {}) });
  return {
    store,
    catalog: new GlueCatalog(new GlueClient(GLUE_CLIENT_CONFIG), env.glueDatabase),
    warehouse: new ClickHouseWarehouse(clickhouse, {
      database: env.clickhouse.database,
      ttlDays: env.clickhouse.ttlDays,
      // The server reads the lake with its own S3 credentials (ClickHouse Cloud: an IAM role on the service).
      ...(lakeUrl ? { lakeSource: (table: string, structure: string) => `s3(${quoteString(lakeGlob(lakeUrl, table))}, 'Parquet', ${quoteString(structure)})` } : {}),
    }),
    // Declared files ship with the function; pushed schemas are read from the bucket after the TTL.
    registry: new SchemaRegistry(store, { ttlMs: env.registryTtlMs, declared: SchemaFiles.load(env.schemasDir) }),
    clock: Date.now,
    config: { piiSalt, maxNewColumnsPerHour: env.maxNewColumnsPerHour },
  };
}

/**
 * Returns normally only when every record is stored or quarantined. Any infrastructure error throws, so
 * the event source mapping retries the whole batch; deterministic keys and dedup tokens make that safe.
 */
export const handler = async (event: MskEvent): Promise<{ stored: number; quarantined: number }> => {
  try {
    const report = await ingestBatch(event, await dependencies());
    publishIngestReport(report, metrics, logger);
    for (const problem of report.schemaProblems) logger.warn('declared schema not applied', { problem });
    return { stored: report.stored, quarantined: report.quarantined };
  } catch (err) {
    logger.error('batch failed; the event source mapping will retry it', err as Error);
    metrics.addMetric('BatchFailures', 'Count', 1);
    throw err;
  } finally {
    metrics.publishStoredMetrics();
  }
};
