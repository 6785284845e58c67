// Feeds records through the ingest handler as MSK batches, the way the event source mapping would:
// per topic-partition, in offset order, at most `batchSize` records per invocation.
import { ingestBatch, type IngestDeps, type IngestReport } from '../core/ingest.js';
import { encodeMskEvent } from '../core/decode/msk-event.js';
import { percentile } from '../core/util/stats.js';

export interface ProducedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

export interface RunSummary {
  batches: number;
  recordsIn: number;
  stored: number;
  quarantined: number;
  quarantinedByReason: Record<string, number>;
  tablesCreated: Set<string>;
  columnsAdded: Array<{ table: string; column: string; type: string }>;
  columnsWidened: Array<{ table: string; column: string; type: string }>;
  schemaProblems: Set<string>;
  files: number;
  bytes: number;
  /** by table name (from data, so Maps) */
  rowsByTable: Map<string, number>;
  /** per-batch freshness p50s and maxima, combined conservatively */
  freshnessP50Ms: Map<string, number[]>;
  freshnessMaxMs: Map<string, number>;
}

export function emptySummary(): RunSummary {
  return { batches: 0, recordsIn: 0, stored: 0, quarantined: 0, quarantinedByReason: {}, tablesCreated: new Set(), columnsAdded: [], columnsWidened: [], schemaProblems: new Set(), files: 0, bytes: 0, rowsByTable: new Map(), freshnessP50Ms: new Map(), freshnessMaxMs: new Map() };
}

export function addReport(s: RunSummary, r: IngestReport): void {
  s.batches++;
  s.recordsIn += r.recordsIn;
  s.stored += r.stored;
  s.quarantined += r.quarantined;
  for (const [reason, n] of Object.entries(r.quarantinedByReason)) s.quarantinedByReason[reason] = (s.quarantinedByReason[reason] ?? 0) + (n ?? 0);
  for (const t of r.tablesCreated) s.tablesCreated.add(t);
  s.columnsAdded.push(...r.columnsAdded);
  s.columnsWidened.push(...r.columnsWidened);
  for (const p of r.schemaProblems) s.schemaProblems.add(p);
  s.files += r.files.length;
  s.bytes += r.files.reduce((n, f) => n + f.bytes, 0);
  for (const [table, t] of r.tables) {
    s.rowsByTable.set(table, (s.rowsByTable.get(table) ?? 0) + t.rows);
    if (t.freshnessP50Ms !== undefined) s.freshnessP50Ms.set(table, [...(s.freshnessP50Ms.get(table) ?? []), t.freshnessP50Ms]);
    if (t.freshnessMaxMs !== undefined) s.freshnessMaxMs.set(table, Math.max(s.freshnessMaxMs.get(table) ?? 0, t.freshnessMaxMs));
  }
}

export const medianOf = (values: readonly number[]): number | undefined => percentile(values, 50);

/** One invocation of the handler with these records, as one MSK batch. */
export async function runBatch(records: readonly ProducedRecord[], deps: IngestDeps, summary: RunSummary): Promise<void> {
  addReport(summary, await ingestBatch(encodeMskEvent(records), deps));
}

export async function runBatches(records: readonly ProducedRecord[], deps: IngestDeps, batchSize: number, summary = emptySummary()): Promise<RunSummary> {
  const byPartition = new Map<string, ProducedRecord[]>();
  for (const r of records) {
    const tp = `${r.topic}-${r.partition}`;
    (byPartition.get(tp) ?? byPartition.set(tp, []).get(tp)!).push(r);
  }
  for (const list of byPartition.values()) {
    list.sort((a, b) => a.offset - b.offset);
    for (let i = 0; i < list.length; i += batchSize) await runBatch(list.slice(i, i + batchSize), deps, summary);
  }
  return summary;
}
