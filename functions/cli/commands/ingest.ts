// `tributary ingest <file.ndjson|-> [--topic T] [--batch-size N] [--batch-mb M]`: one file = one
// topic-partition, offsets = line numbers, cut into batches by a pure function of its content
// (file-batches.ts), so ingesting the same file again is an idempotent redelivery; another file under the
// same topic is refused rather than let overwrite it.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { isValidTopic } from '../../core/identifiers.js';
import { DEFAULT_INGEST_CONFIG, type IngestDeps } from '../../core/ingest.js';
import { DEFAULT_CUT, fileBatches, MIB } from '../file-batches.js';
import { emptySummary, runBatch, type RunSummary } from '../run-batches.js';
import { UsageError } from '../errors.js';
import { commandStdin } from '../command-io.js';

export interface IngestFileOptions {
  readonly file: string;
  readonly topic?: string;
  /** at most this many records per batch (default DEFAULT_CUT.maxRecords) */
  readonly batchSize?: number;
  /** at most this many MiB of lines per batch (default DEFAULT_CUT.maxBytes) */
  readonly batchMb?: number;
}

export const MAX_BATCH_SIZE = 1_000_000;
export const MAX_BATCH_MB = 1024;

// Defined beside the failure reporting, so parsing a command line loads nothing of ingest.
export { UsageError } from '../errors.js';

export function topicFor(file: string, topic: string | undefined): string {
  if (file === '-' && topic === undefined) {
    throw new UsageError('standard input has no name to make a topic of: pass --topic (two streams under one topic would overwrite each other\'s files)');
  }
  const t = topic ?? basename(file, extname(file));
  if (!isValidTopic(t)) throw new UsageError(`topic ${JSON.stringify(t)} is not a valid Kafka topic name ([A-Za-z0-9._-]{1,249}); pass --topic`);
  return t;
}

/** What the store remembers of a topic that `ingest` made from a file: its source, and its records' timestamp. */
interface TopicSource {
  /** the file's absolute path, or '-' for standard input */
  readonly source: string;
  /** the Kafka timestamp of every record of the topic: the file's mtime when it was first ingested */
  readonly timestamp: number;
}

const topicSourceKey = (topic: string): string => `_cli/topics/${topic}.json`;

/**
 * The topic's source and timestamp, recorded the first time it is ingested. A file is one topic-partition,
 * so a second file under the same topic would overwrite the first one's objects: it is refused. Records
 * keep the first ingest's timestamp, which stands in for event time when a record has no ts, so a file
 * touched since is still a redelivery of the same records.
 */
async function claimTopic(topic: string, file: string, deps: IngestDeps): Promise<TopicSource> {
  const source = file === '-' ? '-' : resolve(file);
  const key = topicSourceKey(topic);
  const fresh: TopicSource = { source, timestamp: file === '-' ? deps.clock() : Math.floor((await stat(file)).mtimeMs) };
  const first = await deps.store.putIfAbsent(key, Buffer.from(JSON.stringify(fresh)), { contentType: 'application/json' });
  const body = await deps.store.get(key);
  const claimed = body ? (JSON.parse(Buffer.from(body).toString('utf8')) as TopicSource) : fresh;
  // Two streams on standard input cannot be told apart: the second under a topic would overwrite the first.
  if (!first && source === '-') {
    throw new UsageError(`topic ${topic} was made from standard input before; another stream under it would overwrite its files: pass --topic with another name`);
  }
  if (claimed.source !== source) {
    throw new UsageError(`topic ${topic} was made from ${claimed.source === '-' ? 'standard input' : claimed.source}; ingesting ${file === '-' ? 'standard input' : source} under it would overwrite its files: pass --topic with another name`);
  }
  return claimed;
}

export async function ingestFile(options: IngestFileOptions, deps: IngestDeps): Promise<RunSummary> {
  const { batchSize = DEFAULT_CUT.maxRecords, batchMb } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new UsageError(`--batch-size must be an integer between 1 and ${MAX_BATCH_SIZE}`);
  }
  if (batchMb !== undefined && !(Number.isInteger(batchMb) && batchMb >= 1 && batchMb <= MAX_BATCH_MB)) {
    throw new UsageError(`--batch-mb must be an integer between 1 and ${MAX_BATCH_MB}`);
  }
  const topic = topicFor(options.file, options.topic);
  const { timestamp } = await claimTopic(topic, options.file, deps);
  // Bytes, not text: a line that is not UTF-8 reaches the handler as it is and is quarantined with its
  // raw bytes, instead of being stored with U+FFFD where the bytes were.
  const input: AsyncIterable<Buffer> = options.file === '-' ? commandStdin() : createReadStream(options.file, { highWaterMark: MIB });
  const batches = fileBatches(ndjsonLines(input), {
    maxRecords: batchSize,
    maxBytes: batchMb === undefined ? DEFAULT_CUT.maxBytes : batchMb * MIB,
    // the handler quarantines what a batch would write past this many files: cut before it
    maxGroups: deps.config?.maxFilesPerBatch ?? DEFAULT_INGEST_CONFIG.maxFilesPerBatch,
    timestamp,
  });
  const summary = emptySummary();
  for await (const batch of batches) {
    await runBatch(batch.map((r) => ({ topic, partition: 0, offset: r.offset, timestamp, key: null, value: r.value })), deps, summary);
  }
  return summary;
}

const LF = 0x0a;
const CR = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The lines of NDJSON bytes: split at \n only, since a lone \r is whitespace inside JSON (readline would
 * end a line there), without a line's trailing \r, and without a UTF-8 byte-order mark at the start. A
 * line longer than a chunk is gathered from its pieces once, not re-scanned with every chunk.
 */
export async function* ndjsonLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  let pieces: Buffer[] = [];
  let start = true;
  const line = (bytes: Buffer): Buffer => (bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, -1) : bytes);
  for await (const raw of input) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    if (start && chunk.length > 0) {
      // The mark may straddle the first chunks: wait for three bytes before deciding.
      const head = Buffer.concat([...pieces, chunk]);
      if (head.length < BOM.length && BOM.subarray(0, head.length).equals(head)) { pieces = [head]; continue; }
      chunk = head.subarray(0, BOM.length).equals(BOM) ? head.subarray(BOM.length) : head;
      pieces = [];
      start = false;
    }
    let from = 0;
    for (let nl = chunk.indexOf(LF); nl !== -1; nl = chunk.indexOf(LF, from)) {
      const part = chunk.subarray(from, nl);
      yield line(pieces.length > 0 ? Buffer.concat([...pieces, part]) : part);
      pieces = [];
      from = nl + 1;
    }
    if (from < chunk.length) pieces.push(chunk.subarray(from));
  }
  if (pieces.length > 0) yield line(Buffer.concat(pieces));
}
