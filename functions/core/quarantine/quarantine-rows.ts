// The quarantine table: one row per rejected record, raw bytes kept so it can be replayed.
import type { CellValue } from '../batch/coerce.js';
import { dataKey, QUARANTINE_TABLE, sortedRanges, type FileRange } from '../lake/layout.js';
import { column, type ColumnSpec } from '../schema/model.js';
import { epochDay, isStorableTime, utcDate, utcHour } from '../time.js';
import type { QuarantinedRecord } from './reasons.js';

const col = column;

/** A quarantined record's identity: where it sat in Kafka. A replay keeps it, and its resolution names it. */
export const KAFKA_IDENTITY_COLUMNS: readonly ColumnSpec[] = [
  col('_topic', 'string', false, 'Kafka topic'),
  col('_partition', 'int32', false, 'Kafka partition'),
  col('_offset', 'int64', false, 'Kafka offset'),
  col('kafka_timestamp', 'timestamp', false, 'Kafka record timestamp'),
];

export const QUARANTINE_COLUMNS: readonly ColumnSpec[] = [
  ...KAFKA_IDENTITY_COLUMNS,
  col('reason', 'string', false, 'Quarantine reason code'),
  col('detail', 'string', false, 'What exactly was wrong'),
  col('event', 'string', true, 'Normalised event name, when known'),
  col('key_base64', 'string', true, 'Kafka key, base64'),
  col('value_base64', 'string', true, 'Kafka value, base64 (the raw record)'),
  col('headers_json', 'string', false, 'Kafka headers as [{key, value_base64}]'),
  col('received_at', 'timestamp', false, 'When the ingest function processed the record'),
  col('dt', 'date', false, 'Date of the Kafka timestamp (UTC), partition key'),
  col('hour', 'int32', false, 'Hour of the Kafka timestamp (UTC), partition key'),
];

export interface QuarantineFile {
  readonly key: string;
  readonly dt: string;
  readonly hour: number;
  /** the Kafka records of the file, per topic-partition, sorted */
  readonly ranges: readonly FileRange[];
  /** rows per range, in the order of `ranges` */
  readonly rowsPerRange: readonly number[];
  /** each row's partition and offset, in row order: what the file holds, for its dedup token */
  readonly partitions: readonly number[];
  readonly offsets: readonly number[];
  readonly rows: CellValue[][];
}

/**
 * Groups rejected records into one file per hour of their Kafka timestamp, every topic-partition of the
 * batch in it: the timestamp and the record's position are fixed properties of the record, so a
 * redelivered batch writes the same quarantine keys.
 */
export function quarantineFiles(records: readonly QuarantinedRecord[], receivedAt: number): QuarantineFile[] {
  interface Group { dt: string; hour: number; ranges: Map<string, FileRange & { rows: number }>; partitions: number[]; offsets: number[]; rows: CellValue[][] }
  const groups = new Map<string, Group>();
  const sorted = [...records].sort((a, b) =>
    a.record.topic === b.record.topic ? a.record.partition - b.record.partition || a.record.offset - b.record.offset : a.record.topic < b.record.topic ? -1 : 1);
  for (const q of sorted) {
    const r = q.record;
    // A Kafka timestamp beyond what the dt and kafka_timestamp columns hold (a producer sending
    // microseconds, say) files the record under the epoch instead, with the value in the detail: the key
    // stays deterministic and the row can be written, where the timestamp itself would fail every retry.
    const storable = isStorableTime(r.timestamp);
    const timestamp = storable ? r.timestamp : 0;
    const detail = storable ? q.detail : `${q.detail} [Kafka timestamp ${r.timestamp} is outside 1900–2299]`;
    const dt = utcDate(timestamp);
    const hour = utcHour(timestamp);
    const id = `${dt}\u0000${hour}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { dt, hour, ranges: new Map(), partitions: [], offsets: [], rows: [] }));
    const tp = `${r.topic}\u0000${r.partition}`;
    const range = g.ranges.get(tp);
    if (range) g.ranges.set(tp, { ...range, lastOffset: r.offset, rows: range.rows + 1 });
    else g.ranges.set(tp, { topic: r.topic, partition: r.partition, firstOffset: r.offset, lastOffset: r.offset, rows: 1 });
    g.partitions.push(r.partition);
    g.offsets.push(r.offset);
    g.rows.push([
      r.topic, r.partition, r.offset, timestamp, q.reason, detail, q.event ?? null,
      r.key ? r.key.toString('base64') : null,
      r.value ? r.value.toString('base64') : null,
      JSON.stringify(r.headers.map((h) => ({ key: h.key, value_base64: h.value.toString('base64') }))),
      receivedAt, epochDay(timestamp), hour,
    ]);
  }
  return [...groups.values()].map((g) => {
    const ranges = sortedRanges(g.ranges.values());
    return {
      key: dataKey(QUARANTINE_TABLE, g.dt, g.hour, ranges),
      dt: g.dt,
      hour: g.hour,
      ranges: ranges.map(({ topic, partition, firstOffset, lastOffset }) => ({ topic, partition, firstOffset, lastOffset })),
      rowsPerRange: ranges.map((r) => (r as FileRange & { rows: number }).rows),
      partitions: g.partitions,
      offsets: g.offsets,
      rows: g.rows,
    };
  });
}
