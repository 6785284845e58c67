// `tributary ingest <file.ndjson|-> [--topic T] [--batch-size N]`: one file = one topic-partition,
// offsets = line numbers, so ingesting the same file again is an idempotent redelivery.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline';
import { isValidTopic } from '../../core/identifiers.js';
import type { IngestDeps } from '../../core/ingest.js';
import { emptySummary, runBatches, type ProducedRecord, type RunSummary } from '../run-batches.js';

export interface IngestFileOptions {
  readonly file: string;
  readonly topic?: string;
  readonly batchSize: number;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function topicFor(file: string, topic: string | undefined): string {
  const t = topic ?? (file === '-' ? 'stdin' : basename(file, extname(file)));
  if (!isValidTopic(t)) throw new UsageError(`topic ${JSON.stringify(t)} is not a valid Kafka topic name ([A-Za-z0-9._-]{1,249}); pass --topic`);
  return t;
}

export async function ingestFile(options: IngestFileOptions, deps: IngestDeps): Promise<RunSummary> {
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1 || options.batchSize > 100_000) {
    throw new UsageError('--batch-size must be an integer between 1 and 100000');
  }
  const topic = topicFor(options.file, options.topic);
  // The Kafka timestamp stands in for event time when a record has no ts: the file's mtime keeps it stable.
  const timestamp = options.file === '-' ? Date.now() : Math.floor((await stat(options.file)).mtimeMs);
  const input = options.file === '-' ? process.stdin : createReadStream(options.file);
  const lines = createInterface({ input, crlfDelay: Infinity });
  const summary = emptySummary();
  let pending: ProducedRecord[] = [];
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue; // a blank line carries no record
    pending.push({ topic, partition: 0, offset: line, timestamp, key: null, value: Buffer.from(text, 'utf8') });
    if (pending.length >= options.batchSize) {
      await runBatches(pending, deps, options.batchSize, summary);
      pending = [];
    }
  }
  if (pending.length > 0) await runBatches(pending, deps, options.batchSize, summary);
  return summary;
}

