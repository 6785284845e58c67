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
import { readIngestEnvironment } from './config.js';

const logger = new Logger({ serviceName: 'tributary-ingest' });
const metrics = new Metrics({ namespace: 'Tributary', serviceName: 'tributary-ingest' });

let deps: IngestDeps | undefined;

/** Built once per container: clients keep their connections and the catalog its partition cache. */
function dependencies(): IngestDeps {
  if (deps) return deps;
  const env = readIngestEnvironment(process.env);
  const clickhouse = createClient({
    url: env.clickhouse.url,
    username: env.clickhouse.username,
    password: env.clickhouse.password,
    request_timeout: 60_000,
    compression: { request: false, response: true },
  });
  const store = new S3Store(new S3Client(S3_CLIENT_CONFIG), { bucket: env.bucket, ...(env.kmsKeyId ? { kmsKeyId: env.kmsKeyId } : {}) });
  deps = {
    store,
    catalog: new GlueCatalog(new GlueClient(GLUE_CLIENT_CONFIG), env.glueDatabase),
    warehouse: new ClickHouseWarehouse(clickhouse, { database: env.clickhouse.database }),
    // Declared files ship with the function; pushed schemas are read from the bucket after the TTL.
    registry: new SchemaRegistry(store, { ttlMs: env.registryTtlMs, declared: SchemaFiles.load(env.schemasDir) }),
    clock: Date.now,
    config: { piiSalt: env.piiSalt, maxNewColumnsPerHour: env.maxNewColumnsPerHour },
  };
  return deps;
}

/**
 * Returns normally only when every record is stored or quarantined. Any infrastructure error throws, so
 * the event source mapping retries the whole batch; deterministic keys and dedup tokens make that safe.
 */
export const handler = async (event: MskEvent): Promise<{ stored: number; quarantined: number }> => {
  try {
    const report = await ingestBatch(event, dependencies());
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
