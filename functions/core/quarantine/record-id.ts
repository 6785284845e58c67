// A quarantined record's name on the command line: `<topic>:<partition>:<offset>`, its Kafka identity.
// A topic name cannot hold ':' (Kafka allows [A-Za-z0-9._-]), so the three parts always split back.
import { excerpt, isValidTopic } from '../identifiers.js';

export interface RecordId {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export const formatRecordId = (r: RecordId): string => `${r.topic}:${r.partition}:${r.offset}`;

export class RecordIdError extends Error {
  override readonly name = 'UsageError';
}

/** Parses `<topic>:<partition>:<offset>`; a RecordIdError (a usage error) says what is wrong. */
export function parseRecordId(text: string): RecordId {
  const m = /^(.+):(0|[1-9]\d{0,9}):(0|[1-9]\d{0,15})$/.exec(text);
  if (!m) throw new RecordIdError(`${excerpt(text)} is not a record id: expected <topic>:<partition>:<offset>, e.g. page_view:0:42`);
  const [, topic, partition, offset] = m;
  if (!isValidTopic(topic!)) throw new RecordIdError(`${excerpt(topic!)} is not a valid Kafka topic name`);
  const p = Number(partition), o = Number(offset);
  if (p > 2_147_483_647 || !Number.isSafeInteger(o)) throw new RecordIdError(`${excerpt(text)}: partition or offset out of range`);
  return { topic: topic!, partition: p, offset: o };
}
