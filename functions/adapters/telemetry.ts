// Logs and CloudWatch metrics (EMF) for an ingest invocation, through Powertools for AWS Lambda.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { IngestReport } from '../core/ingest.js';

/**
 * Batch totals go out without dimensions (cheap, for alarms); per-table and per-reason figures go out
 * as single metrics with one dimension each, so the dimension count stays bounded by tables × 1.
 */
export function publishIngestReport(report: IngestReport, metrics: Metrics, logger: Logger): void {
  metrics.addMetric('RecordsIn', MetricUnit.Count, report.recordsIn);
  metrics.addMetric('RecordsStored', MetricUnit.Count, report.stored);
  metrics.addMetric('RecordsQuarantined', MetricUnit.Count, report.quarantined);
  metrics.addMetric('FilesWritten', MetricUnit.Count, report.files.length);
  metrics.addMetric('BytesWritten', MetricUnit.Bytes, report.files.reduce((n, f) => n + f.bytes, 0));
  for (const [table, t] of Object.entries(report.tables)) {
    const m = metrics.singleMetric();
    m.addDimension('table', table);
    m.addMetric('RowsStored', MetricUnit.Count, t.rows);
    if (t.freshnessP50Ms !== undefined) m.addMetric('FreshnessP50', MetricUnit.Milliseconds, t.freshnessP50Ms);
    if (t.freshnessMaxMs !== undefined) m.addMetric('FreshnessMax', MetricUnit.Milliseconds, t.freshnessMaxMs);
  }
  for (const [reason, n] of Object.entries(report.quarantinedByReason)) {
    const m = metrics.singleMetric();
    m.addDimension('reason', reason);
    m.addMetric('Quarantined', MetricUnit.Count, n ?? 0);
  }
  logger.info('batch ingested', {
    recordsIn: report.recordsIn,
    stored: report.stored,
    quarantined: report.quarantined,
    quarantinedByReason: report.quarantinedByReason,
    tablesCreated: report.tablesCreated,
    columnsAdded: report.columnsAdded,
    files: report.files.map((f) => f.key),
  });
}
