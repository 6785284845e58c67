// The SQL behind `tributary quarantine list | show | replay`: which quarantined records a selection names,
// read with FINAL (one row per record, its latest delivery) and marked open or resolved. Values are bound
// as query parameters; ids are validated and quoted.
import { quoteString } from '../identifiers.js';
import { QUARANTINE_TABLE } from '../lake/layout.js';
import { INGEST_LOG_TABLE, qualified } from '../warehouse/clickhouse-ddl.js';
import type { RecordId } from './record-id.js';
import type { QuarantinedRow } from './replay.js';
import { QUARANTINE_RESOLVED_TABLE } from './resolution.js';

export interface QuarantineSelection {
  readonly reasons?: readonly string[];
  readonly events?: readonly string[];
  /** Kafka timestamp, epoch ms: from (included) … until (excluded) */
  readonly since?: number;
  readonly until?: number;
  readonly ids?: readonly RecordId[];
  /** resolved records too (always, for records named by id) */
  readonly includeResolved: boolean;
}

interface Sql { readonly query: string; readonly params: Record<string, unknown> }

const idCondition = (ids: readonly RecordId[]): string =>
  `(${ids.map((id) => `(_topic = ${quoteString(id.topic)} AND _partition = ${id.partition} AND _offset = ${id.offset})`).join(' OR ')})`;

/** Records of the selection, with `resolved` (0/1), as an inner query. */
function selected(ops: string, s: QuarantineSelection, columns: string): Sql {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (s.reasons?.length) { where.push('reason IN {reasons:Array(String)}'); params['reasons'] = s.reasons; }
  if (s.events?.length) { where.push('event IN {events:Array(String)}'); params['events'] = s.events; }
  if (s.since !== undefined) { where.push("kafka_timestamp >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')"); params['since'] = s.since; }
  if (s.until !== undefined) { where.push("kafka_timestamp < fromUnixTimestamp64Milli({until:Int64}, 'UTC')"); params['until'] = s.until; }
  if (s.ids?.length) where.push(idCondition(s.ids));
  const resolved = `(_topic, _partition, _offset) IN (SELECT _topic, _partition, _offset FROM ${qualified(ops, QUARANTINE_RESOLVED_TABLE)})`;
  const inner = `SELECT ${columns}, ${resolved} AS resolved FROM ${qualified(ops, QUARANTINE_TABLE)} FINAL${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  const open = s.includeResolved || s.ids?.length ? '' : ' WHERE NOT resolved';
  return { query: `SELECT * FROM (${inner})${open}`, params };
}

export interface ListRow {
  readonly reason: string;
  readonly event: string | null;
  readonly status: 'open' | 'resolved';
  readonly records: number;
  /** Kafka timestamps of the oldest and newest record, ISO-8601 */
  readonly first: string;
  readonly last: string;
}

/** A row of listSql as ClickHouse returns it (64-bit integers as text). */
export interface RawListRow {
  reason: string; event: string | null; status: 'open' | 'resolved'; records: string | number; first_ms: string; last_ms: string;
}

export const toListRow = (r: RawListRow): ListRow => ({
  reason: r.reason, event: r.event, status: r.status, records: Number(r.records),
  first: new Date(Number(r.first_ms)).toISOString(), last: new Date(Number(r.last_ms)).toISOString(),
});

/** Counts by reason, event and status, the most frequent first. */
export function listSql(ops: string, s: QuarantineSelection): Sql {
  const inner = selected(ops, s, 'reason, event, kafka_timestamp');
  return {
    query: `SELECT reason, event, if(resolved, 'resolved', 'open') AS status, count() AS records,
  toString(toUnixTimestamp64Milli(min(kafka_timestamp))) AS first_ms, toString(toUnixTimestamp64Milli(max(kafka_timestamp))) AS last_ms
FROM (${inner.query}) GROUP BY reason, event, status ORDER BY records DESC, reason, event, status`,
    params: inner.params,
  };
}

/** The columns of a QuarantinedRow, as text where JSON would quote or round them. */
const ROW_COLUMNS = `_topic AS topic, _partition AS partition, toString(_offset) AS offset, toString(toUnixTimestamp64Milli(kafka_timestamp)) AS kafka_ms,
  reason, detail, event, key_base64, value_base64, headers_json, toString(toUnixTimestamp64Milli(received_at)) AS received_ms`;

export interface RawRow {
  topic: string; partition: number; offset: string; kafka_ms: string; reason: string; detail: string; event: string | null;
  key_base64: string | null; value_base64: string | null; headers_json: string; received_ms: string; resolved: number | boolean;
}

/** Every record of the selection, in Kafka order. */
export function rowsSql(ops: string, s: QuarantineSelection): Sql {
  const inner = selected(ops, s, ROW_COLUMNS);
  return { query: `${inner.query} ORDER BY topic, partition, toInt64(offset)`, params: inner.params };
}

export const toQuarantinedRow = (r: RawRow): QuarantinedRow & { resolved: boolean } => ({
  topic: r.topic, partition: Number(r.partition), offset: Number(r.offset), kafkaTimestamp: Number(r.kafka_ms), reason: r.reason, detail: r.detail,
  event: r.event, keyBase64: r.key_base64, valueBase64: r.value_base64, headersJson: r.headers_json, receivedAt: Number(r.received_ms), resolved: Boolean(Number(r.resolved)),
});

/** How and when a record was resolved. */
export function resolutionSql(ops: string, id: RecordId): Sql {
  return {
    query: `SELECT toString(toUnixTimestamp64Milli(resolved_at)) AS resolved_ms, how, reason FROM ${qualified(ops, QUARANTINE_RESOLVED_TABLE)} FINAL WHERE ${idCondition([id])}`,
    params: {},
  };
}

/** The quarantine files the ingest log names for deliveries whose offsets span the record (newest first). */
export function quarantineFilesSql(ops: string, id: RecordId): Sql {
  return {
    query: `SELECT file_key, max(finished_at) AS at FROM ${qualified(ops, INGEST_LOG_TABLE)}
WHERE outcome = 'quarantined' AND _topic = {topic:String} AND _partition = {partition:Int32} AND first_offset <= {offset:Int64} AND last_offset >= {offset:Int64}
GROUP BY file_key ORDER BY at DESC`,
    params: { topic: id.topic, partition: id.partition, offset: id.offset },
  };
}
