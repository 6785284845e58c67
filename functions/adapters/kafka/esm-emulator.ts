// A local stand-in for the Lambda MSK event source mapping: consumes a Kafka-protocol broker with a consumer
// group (kafkajs), cuts batches by size, batching window and the 6 MB payload limit, invokes the handler with
// the exact MSK event, commits offsets only after success, retries failures with backoff (without limit by
// default, as the deployed mappings; with an attempt or record-age limit, then writes the batch to an
// on-failure directory and moves on). One partition's batches run in order; partitions run side by side,
// as the ESM's pollers do.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { encodeMskEvent, type MskEvent } from '../../core/decode/msk-event.js';

export interface EsmSettings {
  readonly brokers: readonly string[];
  readonly topics: readonly string[];
  readonly groupId: string;
  /** records per invocation, 1–10,000 (default 100, as the ESM) */
  readonly batchSize?: number;
  /** how long to gather a batch, ms (default 500, as the ESM) */
  readonly batchingWindowMs?: number;
  /** the invocation payload limit: 6 MB */
  readonly maxPayloadBytes?: number;
  /**
   * retries of a failing batch before it goes to the failure destination; default (or -1): no limit, as
   * the deployed mappings, which have no failure destination
   */
  readonly maximumRetryAttempts?: number;
  /** a batch whose oldest record is older than this goes to the failure destination (default: no limit) */
  readonly maximumRecordAgeSeconds?: number;
  /** where failed batches are written, one JSON file each (the on-failure destination) */
  readonly failureDirectory: string;
  readonly fromBeginning?: boolean;
  /** first retry delay, doubled each attempt up to 30 s (default 200 ms) */
  readonly retryBaseMs?: number;
  /** partitions delivered side by side (default 1: the local catalog and chDB are one process's files) */
  readonly concurrency?: number;
  /**
   * the consumer group's timeouts, ms (kafkajs defaults 30,000 / 60,000 / 3,000): a member that sends no
   * heartbeat for the session timeout (a batch's invocation takes longer, since heartbeats are sent between
   * batches) is evicted and its partitions go to the others; short ones make rebalances quick in tests
   */
  readonly sessionTimeoutMs?: number;
  readonly rebalanceTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** the client id the broker sees (default tributary-esm-emulator) */
  readonly clientId?: string;
}

export interface EsmStats {
  invocations: number;
  failedInvocations: number;
  recordsDelivered: number;
  batchesToFailureDestination: number;
}

export type Handler = (event: MskEvent) => Promise<unknown>;

const MSK_RECORD_OVERHEAD = 200; // JSON per record around the base64 key and value

/** Splits a partition's messages into invocations: at most batchSize records and maxPayloadBytes of event. */
export function cutBatches<T extends { key: Buffer | null; value: Buffer | null; headers?: KafkaMessage['headers'] }>(messages: readonly T[], batchSize: number, maxPayloadBytes: number, topic = ''): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const m of messages) {
    // Key and value travel as base64; header bytes as JSON arrays of decimal numbers (up to 4 characters
    // each); the topic name is repeated in every record.
    let headerBytes = 0;
    for (const [k, v] of Object.entries(m.headers ?? {})) for (const part of [v].flat()) headerBytes += k.length + 8 + 4 * (part === undefined ? 0 : Buffer.byteLength(part));
    const size = Math.ceil((((m.key?.length ?? 0) + (m.value?.length ?? 0)) * 4) / 3) + headerBytes + topic.length + MSK_RECORD_OVERHEAD;
    if (current.length > 0 && (current.length >= batchSize || bytes + size > maxPayloadBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export class EsmEmulator {
  readonly stats: EsmStats = { invocations: 0, failedInvocations: 0, recordsDelivered: 0, batchesToFailureDestination: 0 };
  /** commits the group refused (a rebalance under way): those chunks are delivered again */
  refusedCommits = 0;
  /** the partitions assigned at each join of the group (a rebalance adds one), per topic */
  readonly assignments: Array<Record<string, number[]>> = [];
  /** kafkajs consumer crashes (it restarts itself after those it deems retriable) */
  readonly crashes: string[] = [];
  private paused = false;
  private stopping = false;
  private readonly consumer: Consumer;
  private lastActivity = Date.now();
  private inFlight = 0;
  private joined = false;

  constructor(private readonly settings: EsmSettings, private readonly handler: Handler) {
    const kafka = new Kafka({ clientId: settings.clientId ?? 'tributary-esm-emulator', brokers: [...settings.brokers], logLevel: logLevel.NOTHING });
    const window = settings.batchingWindowMs ?? 500;
    this.consumer = kafka.consumer({
      groupId: settings.groupId,
      // Wait up to the batching window for a batch's worth of data, as the ESM's window does.
      maxWaitTimeInMs: window,
      minBytes: window > 0 ? 1024 * 1024 : 1,
      maxBytesPerPartition: settings.maxPayloadBytes ?? 6 * 1024 * 1024,
      ...(settings.sessionTimeoutMs !== undefined ? { sessionTimeout: settings.sessionTimeoutMs } : {}),
      ...(settings.rebalanceTimeoutMs !== undefined ? { rebalanceTimeout: settings.rebalanceTimeoutMs } : {}),
      ...(settings.heartbeatIntervalMs !== undefined ? { heartbeatInterval: settings.heartbeatIntervalMs } : {}),
    });
  }

  async start(): Promise<void> {
    const s = this.settings;
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.joined = true;
      this.lastActivity = Date.now();
      this.assignments.push(e.payload.memberAssignment);
      // A consumer kafkajs restarted after a crash has a new group state: paused again before it fetches.
      if (this.paused) this.consumer.pause(s.topics.map((topic) => ({ topic })));
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.crashes.push(`${e.payload.error.name}: ${e.payload.error.message}${e.payload.restart ? ' (restarted by kafkajs)' : ''}`);
      // kafkajs gives up on an error it deems fatal (a broker's unexpected error code, say) and has already
      // disconnected; an ESM poller does not stop, so the consumer connects and rejoins (it keeps its topics).
      if (!e.payload.restart && !this.stopping) {
        setTimeout(() => {
          if (this.stopping) return;
          this.consumer.connect().then(() => this.run()).catch((err: Error) => this.crashes.push(`restart failed: ${err.message}`));
        }, 1_000);
      }
    });
    await this.consumer.connect();
    this.lastActivity = Date.now();
    for (const topic of s.topics) await this.consumer.subscribe({ topic, fromBeginning: s.fromBeginning ?? true });
    await this.run();
  }

  private async run(): Promise<void> {
    const s = this.settings;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: s.concurrency ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        this.inFlight++;
        try {
          for (const chunk of cutBatches(batch.messages, s.batchSize ?? 100, s.maxPayloadBytes ?? 6 * 1024 * 1024, batch.topic)) {
            if (!isRunning() || isStale()) return;
            if (!await this.deliver(batch.topic, batch.partition, chunk, heartbeat, isRunning)) return;
            const last = chunk[chunk.length - 1]!.offset;
            // Commit only after success (or after the batch went to the failure destination). A commit the
            // group refuses (a rebalance began: the partition may be another member's by now) leaves the chunk
            // unresolved, to be delivered again from the last committed offset by whoever owns the partition
            // after the rebalance; thrown out of eachBatch, the refusal would stop this consumer for good
            // (kafkajs wraps it as non-retriable and does not restart).
            try {
              await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last) + 1n) }]);
            } catch {
              this.refusedCommits++;
              return;
            }
            resolveOffset(last);
          }
        } finally {
          this.inFlight--;
          this.lastActivity = Date.now();
        }
      },
    });
  }

  /** false: the emulator was stopped while the batch failed, and leaves it uncommitted to the partition's next owner */
  private async deliver(topic: string, partition: number, chunk: readonly KafkaMessage[], heartbeat: () => Promise<void>, isRunning: () => boolean): Promise<boolean> {
    const s = this.settings;
    const event = encodeMskEvent(chunk.map((m) => ({
      topic, partition, offset: Number(m.offset), timestamp: Number(m.timestamp), key: m.key, value: m.value,
      headers: Object.entries(m.headers ?? {}).flatMap(([key, v]) => (v === undefined ? [] : [v].flat().map((x) => ({ key, value: Buffer.isBuffer(x) ? x : Buffer.from(String(x)) })))),
    })), { bootstrapServers: s.brokers.join(',') });
    const oldest = Math.min(...chunk.map((m) => Number(m.timestamp)));
    for (let attempt = 0; ; attempt++) {
      this.stats.invocations++;
      try {
        await this.handler(event);
        this.stats.recordsDelivered += chunk.length;
        return true;
      } catch (err) {
        this.stats.failedInvocations++;
        // Stopping waits for the batch in delivery: retrying it without limit would keep a stopped emulator alive.
        if (!isRunning()) return false;
        const tooOld = s.maximumRecordAgeSeconds !== undefined && Date.now() - oldest > s.maximumRecordAgeSeconds * 1000;
        const retries = s.maximumRetryAttempts === undefined || s.maximumRetryAttempts < 0 ? Infinity : s.maximumRetryAttempts;
        if (attempt >= retries || tooOld) {
          await this.toFailureDestination(topic, partition, chunk, event, err as Error, attempt + 1);
          return true;
        }
        await heartbeat();
        await new Promise((r) => setTimeout(r, Math.min(30_000, (s.retryBaseMs ?? 200) * 2 ** attempt)));
      }
    }
  }

  private async toFailureDestination(topic: string, partition: number, chunk: readonly KafkaMessage[], event: MskEvent, err: Error, attempts: number): Promise<void> {
    await mkdir(this.settings.failureDirectory, { recursive: true });
    const name = `${topic}+${partition}+${chunk[0]!.offset}-${chunk[chunk.length - 1]!.offset}.json`;
    await writeFile(join(this.settings.failureDirectory, name), JSON.stringify({ error: err.message, attempts, failedAt: new Date().toISOString(), event }, null, 2));
    this.stats.batchesToFailureDestination++;
  }

  /** Resolves once no batch has arrived for `idleMs` (the local run's way of saying "caught up"). */
  async waitUntilIdle(idleMs: number, timeoutMs = 600_000): Promise<void> {
    const started = Date.now();
    while (!this.joined || this.inFlight > 0 || Date.now() - this.lastActivity < idleMs) {
      if (Date.now() - started > timeoutMs) throw new Error('the event source emulator did not catch up in time');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops fetching (a batch already fetched is still delivered: wait for `idle`). */
  pause(): void {
    this.paused = true;
    // (a consumer restarting after a crash has no group state: it is paused at its join)
    try { this.consumer.pause(this.settings.topics.map((topic) => ({ topic }))); } catch { /* paused at its join */ }
  }

  resume(): void {
    this.paused = false;
    try { this.consumer.resume(this.settings.topics.map((topic) => ({ topic }))); } catch { /* not paused at its join */ }
  }

  /** no batch being delivered */
  get idle(): boolean {
    return this.inFlight === 0;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
  }
}
