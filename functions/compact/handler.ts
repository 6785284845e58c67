// Lambda entry point for scheduled compaction (EventBridge, hourly at :20): wiring only; the work
// is in core/lake/compact-partition.ts. An event may name a table and/or a date to compact just those.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { GLUE_CLIENT_CONFIG, GlueCatalog } from '../adapters/catalog/glue.js';
import { DuckDbCompactionEngine } from '../adapters/compaction/duckdb-engine.js';
import { S3_CLIENT_CONFIG, S3Store } from '../adapters/object-store/s3.js';
import { compactClosedPartitions, type CompactionDeps } from '../core/lake/compact-partition.js';
import { isValidEventName } from '../core/identifiers.js';
import { readCompactEnvironment, type CompactEnvironment } from './config.js';

const logger = new Logger({ serviceName: 'tributary-compact' });
const metrics = new Metrics({ namespace: 'Tributary', serviceName: 'tributary-compact' });

let wiring: { deps: CompactionDeps; env: CompactEnvironment } | undefined;

function dependencies(): { deps: CompactionDeps; env: CompactEnvironment } {
  if (wiring) return wiring;
  const env = readCompactEnvironment(process.env);
  wiring = {
    env,
    deps: {
      store: new S3Store(new S3Client(S3_CLIENT_CONFIG), { bucket: env.bucket, ...(env.kmsKeyId ? { kmsKeyId: env.kmsKeyId } : {}) }),
      catalog: new GlueCatalog(new GlueClient(GLUE_CLIENT_CONFIG), env.glueDatabase),
      engine: new DuckDbCompactionEngine({ scratchDir: env.scratchDir, memoryLimit: env.memoryLimit }),
      clock: Date.now,
      options: { targetFileBytes: env.targetFileBytes, retentionMs: env.retentionMs, owner: `lambda:${process.env['AWS_LAMBDA_LOG_STREAM_NAME'] ?? process.pid}` },
    },
  };
  return wiring;
}

export interface CompactEvent {
  readonly table?: string;
  readonly dt?: string;
}

/** Stops picking up partitions with this much time left, so a started partition can finish. */
export const SAFETY_MARGIN_MS = 5 * 60_000;

export const handler = async (event: CompactEvent | undefined, context: Context): Promise<{ compacted: number; busy: number }> => {
  const { deps, env } = dependencies();
  if (event?.table !== undefined && !isValidEventName(event.table)) throw new Error('event.table is not a table name');
  if (event?.dt !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(event.dt)) throw new Error('event.dt must be YYYY-MM-DD');
  try {
    const results = await compactClosedPartitions(deps, {
      graceMs: env.graceMs, lookbackMs: env.lookbackMs,
      // A named date is compacted whatever its age: the lookback is for the hourly schedule.
      ...(event?.table ? { tables: [event.table] } : {}), ...(event?.dt ? { dt: event.dt, lookbackMs: Infinity } : {}),
      stopWhen: () => context.getRemainingTimeInMillis() < SAFETY_MARGIN_MS,
    });
    for (const r of results.filter((x) => x.outcome !== 'skipped' || x.filesDeleted > 0)) logger.info('partition', { ...r });
    const compacted = results.filter((r) => r.outcome === 'compacted' || r.outcome === 'switched');
    metrics.addMetric('PartitionsCompacted', 'Count', compacted.length);
    metrics.addMetric('FilesBefore', 'Count', compacted.reduce((n, r) => n + r.filesBefore, 0));
    metrics.addMetric('FilesAfter', 'Count', compacted.reduce((n, r) => n + r.filesAfter, 0));
    metrics.addMetric('DuplicatesRemoved', 'Count', compacted.reduce((n, r) => n + r.duplicatesRemoved, 0));
    metrics.addMetric('BytesCompacted', 'Bytes', compacted.reduce((n, r) => n + r.bytesBefore, 0));
    metrics.addMetric('SupersededFilesDeleted', 'Count', results.reduce((n, r) => n + r.filesDeleted, 0));
    metrics.addMetric('PartitionColumnsUpdated', 'Count', results.filter((r) => r.outcome === 'updated').length);
    return { compacted: compacted.length, busy: results.filter((r) => r.outcome === 'busy').length };
  } catch (err) {
    logger.error('compaction failed; the next scheduled run resumes it', err as Error);
    metrics.addMetric('CompactionFailures', 'Count', 1);
    throw err;
  } finally {
    metrics.publishStoredMetrics();
  }
};
