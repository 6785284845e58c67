// Replaying quarantined records through the ingest path, under their own Kafka identity (topic, partition,
// offset, Kafka timestamp): the same deterministic file keys and insert tokens as a redelivery, so a
// record replayed twice is stored once. Records that land are marked resolved; the others are quarantined
// again by ingest itself, with their new reason.
import { createHash } from 'node:crypto';
import { ColumnBuffers } from '../batch/column-buffers.js';
import { encodeMskEvent, type KafkaHeader } from '../decode/msk-event.js';
import { ingestBatch, type IngestDeps } from '../ingest.js';
import { encodeParquet, PARQUET_CONTENT_TYPE } from '../parquet/lake-file.js';
import { formatRecordId, type RecordId } from './record-id.js';
import { replayPorts } from './replay-ports.js';
import { QUARANTINE_RESOLVED_TABLE, RESOLUTION_COLUMNS, resolutionKey } from './resolution.js';
import { applyTransformations, type Transformation } from './transform.js';

/** A quarantined record as the quarantine keeps it (one row of `_quarantine`, read with FINAL). */
export interface QuarantinedRow extends RecordId {
  readonly kafkaTimestamp: number;
  readonly reason: string;
  readonly detail: string;
  readonly event: string | null;
  readonly keyBase64: string | null;
  readonly valueBase64: string | null;
  /** `[{key, value_base64}]` */
  readonly headersJson: string;
  readonly receivedAt: number;
}

export interface ReplayDeps extends IngestDeps {
  /** creates the warehouse's resolution table if it does not exist */
  readonly ensureResolutionTable: () => Promise<void>;
}

export interface ReplayOptions {
  readonly transformations: readonly Transformation[];
  /** records per ingest invocation */
  readonly batchSize: number;
  /** the command that replays, recorded with each resolution */
  readonly how: string;
  readonly onBatch?: (progress: { done: number; total: number; landed: number; failed: number }) => void;
}

export interface ReplayReport {
  readonly selected: number;
  readonly landed: number;
  /** records quarantined again, with their new reason (read back by the caller) */
  readonly failed: readonly RecordId[];
  /** records a transformation changed */
  readonly transformed: number;
  /** records no transformation applied to, by why (a value that is not a JSON object, …) */
  readonly untransformed: ReadonlyMap<string, number>;
  readonly batches: number;
}

/** The Kafka record to replay: the quarantined bytes, the value transformed, the identity unchanged. */
export function replayRecord(row: QuarantinedRow, ts: readonly Transformation[]): { record: Parameters<typeof encodeMskEvent>[0][number]; skipped?: string; transformed: boolean } {
  const headers = (JSON.parse(row.headersJson) as Array<{ key: string; value_base64: string }>).map((h): KafkaHeader => ({ key: h.key, value: Buffer.from(h.value_base64, 'base64') }));
  const original = row.valueBase64 === null ? null : Buffer.from(row.valueBase64, 'base64');
  // A value ingest could not parse as JSON (duplicate keys included) is replayed as it is: rewriting it
  // would silently decide what the producer meant.
  const t = row.reason === 'malformed_json' && ts.length > 0 ? { value: original, applied: [], skipped: 'ingest could not read it as JSON (malformed_json)' } : applyTransformations(original, ts);
  return {
    record: {
      topic: row.topic, partition: row.partition, offset: row.offset, timestamp: row.kafkaTimestamp,
      key: row.keyBase64 === null ? null : Buffer.from(row.keyBase64, 'base64'), value: t.value, headers,
    },
    transformed: t.applied.length > 0,
    ...(t.skipped ? { skipped: t.skipped } : {}),
  };
}

export async function replayQuarantined(rows: readonly QuarantinedRow[], replayDeps: ReplayDeps, options: ReplayOptions): Promise<ReplayReport> {
  // A replay happens after the deliveries it replays: its rows must outrank theirs in the ReplacingMergeTree
  // (version received_at), or a record quarantined again would show its older reason. A clock that lags
  // them (a fixed TRIBUTARY_NOW, a skewed laptop) is moved just past the newest.
  let floor = -Infinity;
  for (const r of rows) if (r.receivedAt >= floor) floor = r.receivedAt + 1;
  const deps: ReplayDeps = { ...replayDeps, clock: () => Math.max(replayDeps.clock(), floor) };
  const sorted = [...rows].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition || a.offset - b.offset : a.topic < b.topic ? -1 : 1));
  const failed: RecordId[] = [];
  const untransformed = new Map<string, number>();
  let landed = 0, transformed = 0, batches = 0;
  for (let start = 0; start < sorted.length; start += options.batchSize) {
    const batch = sorted.slice(start, start + options.batchSize);
    const records = batch.map((row) => {
      const r = replayRecord(row, options.transformations);
      if (r.transformed) transformed++;
      if (r.skipped) untransformed.set(r.skipped, (untransformed.get(r.skipped) ?? 0) + 1);
      return r.record;
    });
    const tap = replayPorts(deps);
    await ingestBatch(encodeMskEvent(records), tap.deps);
    const again = await tap.requarantined();
    const stored = batch.filter((r) => !again.has(formatRecordId(r)));
    failed.push(...batch.filter((r) => again.has(formatRecordId(r))).map(({ topic, partition, offset }) => ({ topic, partition, offset })));
    if (stored.length > 0) await recordResolutions(stored, deps, options.how);
    landed += stored.length;
    batches++;
    options.onBatch?.({ done: start + batch.length, total: sorted.length, landed, failed: failed.length });
  }
  return { selected: sorted.length, landed, failed, transformed, untransformed, batches };
}

/**
 * The resolutions of one batch, as one Parquet body: into the warehouse's `_quarantine_resolved` and the
 * lake. Token and key name the records and the command, so a retried replay adds nothing.
 */
async function recordResolutions(rows: readonly QuarantinedRow[], deps: ReplayDeps, how: string): Promise<void> {
  const now = deps.clock();
  const cells = rows.map((r) => [r.topic, r.partition, r.offset, r.kafkaTimestamp, r.reason, r.event, now, how]);
  const bytes = await encodeParquet(ColumnBuffers.fromRows(RESOLUTION_COLUMNS, cells), { dictionaryColumns: ['_topic', 'reason', 'event', 'how'] });
  const digest = createHash('sha256').update(`${how}\n${rows.map(formatRecordId).join('\n')}`).digest('hex').slice(0, 32);
  const key = resolutionKey(now, digest);
  const sinks = deps.config?.sinks ?? { lake: true, warehouse: true };
  if (sinks.lake) await deps.store.put(key, bytes, { contentType: PARQUET_CONTENT_TYPE });
  if (sinks.warehouse) {
    await deps.ensureResolutionTable();
    await deps.warehouse.insertParquet(QUARANTINE_RESOLVED_TABLE, RESOLUTION_COLUMNS, { key, bytes }, `${QUARANTINE_RESOLVED_TABLE}#${digest}`);
  }
}
