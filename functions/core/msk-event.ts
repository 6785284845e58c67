// The Lambda event source mapping event for Amazon MSK / self-managed Kafka, and its decoding.
// Shape: https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html
import { excerpt, isValidTopic } from './identifiers.js';

export interface MskRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: string;
  /** base64; absent or null for a null key */
  key?: string | null;
  /** base64; absent or null for a tombstone */
  value?: string | null;
  /** one single-entry object per header, the value as a byte array */
  headers?: Array<Record<string, number[]>>;
}

export interface MskEvent {
  eventSource: 'aws:kafka' | 'SelfManagedKafka' | string;
  eventSourceArn?: string;
  bootstrapServers?: string;
  records: Record<string, MskRecord[]>;
}

export interface KafkaHeader {
  readonly key: string;
  readonly value: Buffer;
}

/** A Kafka record with its payload decoded to bytes, in the order it arrived. */
export interface DecodedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly KafkaHeader[];
}

/** Decoding problems that concern a single record; they become quarantine reasons, not thrown batches. */
export interface RecordDecodeProblem {
  readonly record: DecodedRecord;
  readonly detail: string;
}

function decodeBase64(value: string | null | undefined): Buffer | null | 'invalid' {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || value.length % 4 !== 0) return 'invalid';
  const bytes = Buffer.from(value, 'base64');
  // Node skips characters outside the alphabet; a short result means the text was not clean base64.
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  return bytes.length === (value.length / 4) * 3 - padding ? bytes : 'invalid';
}

function decodeHeaders(headers: MskRecord['headers']): KafkaHeader[] | 'invalid' {
  if (headers === undefined || headers === null) return [];
  if (!Array.isArray(headers)) return 'invalid';
  const out: KafkaHeader[] = [];
  for (const h of headers) {
    if (typeof h !== 'object' || h === null) return 'invalid';
    for (const [key, bytes] of Object.entries(h)) {
      if (!Array.isArray(bytes) || !bytes.every((b) => Number.isInteger(b) && b >= -128 && b <= 255)) return 'invalid';
      // Java clients serialise header bytes as signed values; map them to unsigned.
      out.push({ key, value: Buffer.from(bytes.map((b) => b & 0xff)) });
    }
  }
  return out;
}

export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

/**
 * Flattens the event into records, ordered by topic-partition then offset, so downstream grouping and
 * file naming are deterministic however the mapping ordered its keys. A structurally broken event (no
 * records map) is an InvalidEventError: nothing can be attributed to a partition, so retrying is right.
 */
export function decodeMskEvent(event: MskEvent): { records: DecodedRecord[]; problems: RecordDecodeProblem[] } {
  if (typeof event !== 'object' || event === null || typeof event.records !== 'object' || event.records === null) {
    throw new InvalidEventError('not a Kafka event source mapping event: "records" is missing');
  }
  const records: DecodedRecord[] = [];
  const problems: RecordDecodeProblem[] = [];
  const partitions = Object.keys(event.records).sort();
  for (const tp of partitions) {
    const list = event.records[tp];
    if (!Array.isArray(list)) throw new InvalidEventError(`records[${JSON.stringify(tp)}] is not an array`);
    for (const r of [...list].sort((a, b) => a.offset - b.offset)) {
      if (typeof r.topic !== 'string' || !Number.isInteger(r.partition) || r.partition < 0 || !Number.isSafeInteger(r.offset) || r.offset < 0) {
        throw new InvalidEventError(`record in ${JSON.stringify(tp)} lacks topic/partition/offset`);
      }
      // The topic becomes part of object keys: a name Kafka itself would refuse never reaches a path.
      if (!isValidTopic(r.topic)) throw new InvalidEventError(`topic ${excerpt(r.topic)} is not a valid Kafka topic name`);
      const key = decodeBase64(r.key);
      const value = decodeBase64(r.value);
      const headers = decodeHeaders(r.headers);
      const timestamp = Number.isFinite(r.timestamp) ? r.timestamp : 0;
      const decoded: DecodedRecord = {
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        timestamp,
        key: key === 'invalid' ? null : key,
        value: value === 'invalid' ? Buffer.from(String(r.value)) : value,
        headers: headers === 'invalid' ? [] : headers,
      };
      records.push(decoded);
      const bad = [key === 'invalid' && 'key', value === 'invalid' && 'value', headers === 'invalid' && 'headers'].filter(Boolean);
      if (bad.length > 0) problems.push({ record: decoded, detail: `invalid base64/bytes in ${bad.join(', ')}` });
    }
  }
  return { records, problems };
}

/** Builds the MSK event for a set of records: what the event source mapping would hand to the function. */
export function encodeMskEvent(
  records: ReadonlyArray<{ topic: string; partition: number; offset: number; timestamp: number; key?: Buffer | null; value: Buffer | null; headers?: readonly KafkaHeader[] }>,
  source: { eventSourceArn?: string; bootstrapServers?: string } = {},
): MskEvent {
  const grouped: Record<string, MskRecord[]> = {};
  for (const r of records) {
    const tp = `${r.topic}-${r.partition}`;
    (grouped[tp] ??= []).push({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      timestampType: 'CREATE_TIME',
      key: r.key ? r.key.toString('base64') : null,
      value: r.value ? r.value.toString('base64') : null,
      headers: (r.headers ?? []).map((h) => ({ [h.key]: [...h.value] })),
    });
  }
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: source.eventSourceArn ?? 'arn:aws:kafka:local:000000000000:cluster/tributary-local/local',
    bootstrapServers: source.bootstrapServers ?? 'localhost:9092',
    records: grouped,
  };
}
