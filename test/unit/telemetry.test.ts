// The EMF the ingest function emits must carry the dimension sets its alarms and dashboard query
// (infra/monitoring.ts: SCHEMA(Tributary, service, "table") for per-table figures).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { publishIngestReport } from '../../functions/adapters/telemetry.js';
import type { IngestReport } from '../../functions/core/ingest.js';

describe('publishIngestReport', () => {
  it('emits every per-table figure with the table dimension, and per-reason counts with the reason', () => {
    // Powertools writes EMF straight to stdout through a Console of its own.
    const lines: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array): boolean => {
      lines.push(...String(chunk).split('\n').filter((l) => l.startsWith('{')));
      return true;
    }) as typeof process.stdout.write;
    try {
      const metrics = new Metrics({ namespace: 'Tributary', serviceName: 'tributary-ingest' });
      const logger = new Logger({ serviceName: 'tributary-ingest', logLevel: 'SILENT' });
      const report = {
        recordsIn: 10, stored: 8, quarantined: 2, files: [{ key: 'a', bytes: 100 }],
        tables: new Map([['page_view', { rows: 8, files: 1, bytes: 100, freshnessP50Ms: 1_000, freshnessMaxMs: 5_000 }]]),
        quarantinedByReason: { malformed_json: 2 }, tablesCreated: [], columnsAdded: [], columnsWidened: [], schemaProblems: [],
      } as unknown as IngestReport;
      publishIngestReport(report, metrics, logger);
      metrics.publishStoredMetrics();
    } finally {
      process.stdout.write = original;
    }
    const emf = lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as { _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } });
    const dimensionsOf = new Map<string, string[]>();
    for (const e of emf) for (const d of e._aws.CloudWatchMetrics) for (const m of d.Metrics) dimensionsOf.set(m.Name, d.Dimensions[0]!);
    for (const name of ['RowsStored', 'FreshnessP50', 'FreshnessMax']) assert.deepEqual(dimensionsOf.get(name), ['service', 'table'], name);
    assert.deepEqual(dimensionsOf.get('Quarantined'), ['service', 'reason']);
    assert.deepEqual(dimensionsOf.get('RecordsIn'), ['service']);
  });
});
