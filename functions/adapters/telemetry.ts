// Logs and CloudWatch metrics (EMF) for an ingest invocation, through Powertools for AWS Lambda.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { IngestReport } from '../core/ingest.js';

/** The ingest path a function is, from its TRIBUTARY_SINKS (unset: both sinks, the coupled function). */
export type IngestPathName = 'coupled' | 'fresh' | 'lake';

export function ingestPathOf(sinks: string | undefined): IngestPathName {
  const s = (sinks ?? '').replace(/\s+/g, '');
  return s === 'lake' ? 'lake' : s === 'clickhouse' ? 'fresh' : 'coupled';
}

/**
 * The metrics service (EMF dimension `service`) of an ingest path. split's two paths see the same records:
 * under one service, every per-table and per-batch figure would be counted twice on a dashboard.
 */
export const INGEST_SERVICES: Readonly<Record<IngestPathName, string>> = { coupled: 'tributary-ingest', fresh: 'tributary-ingest-fresh', lake: 'tributary-ingest-lake' };

export const ingestServiceName = (sinks: string | undefined): string => INGEST_SERVICES[ingestPathOf(sinks)];

/**
 * Batch totals go out without dimensions (cheap, for alarms); per-table and per-reason figures go out
 * as single metrics with one dimension each, so the dimension count stays bounded by tables × 1. A
 * single metric is published at its first addMetric and loses its dimensions then, so each figure gets
 * its own.
 */
export function publishIngestReport(report: IngestReport, metrics: Metrics, logger: Logger): void {
  metrics.addMetric('RecordsIn', MetricUnit.Count, report.recordsIn);
  metrics.addMetric('RecordsStored', MetricUnit.Count, report.stored);
  metrics.addMetric('RecordsQuarantined', MetricUnit.Count, report.quarantined);
  metrics.addMetric('FilesWritten', MetricUnit.Count, report.files.length);
  metrics.addMetric('BytesWritten', MetricUnit.Bytes, report.files.reduce((n, f) => n + f.bytes, 0) + (report.spool?.bytes ?? 0));
  if (report.spool) metrics.addMetric('SpoolObjectsWritten', MetricUnit.Count, 1);
  const single = (dimension: string, value: string, name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], n: number): void => {
    const m = metrics.singleMetric();
    m.addDimension(dimension, value);
    m.addMetric(name, unit, n);
  };
  for (const [table, t] of report.tables) {
    single('table', table, 'RowsStored', MetricUnit.Count, t.rows);
    if (t.freshnessP50Ms !== undefined) single('table', table, 'FreshnessP50', MetricUnit.Milliseconds, t.freshnessP50Ms);
    if (t.freshnessMaxMs !== undefined) single('table', table, 'FreshnessMax', MetricUnit.Milliseconds, t.freshnessMaxMs);
  }
  for (const [reason, n] of Object.entries(report.quarantinedByReason)) single('reason', reason, 'Quarantined', MetricUnit.Count, n ?? 0);
  logger.info('batch ingested', {
    recordsIn: report.recordsIn,
    stored: report.stored,
    quarantined: report.quarantined,
    quarantinedByReason: report.quarantinedByReason,
    tablesCreated: report.tablesCreated,
    columnsAdded: report.columnsAdded,
    files: report.files.map((f) => f.key),
    ...(report.spool ? { spool: report.spool.key } : {}),
  });
}
