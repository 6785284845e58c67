// Consumer lag per consumer group and topic-partition: locally from what a Kafka admin client returns (the
// group's committed offsets and each partition's high watermark), against AWS from CloudWatch's OffsetLag
// metrics (the lag alone). Pure: the CLI asks Kafka (kafkajs admin) or CloudWatch.
import type { Finding } from './verdict.js';

/** A partition's committed offset for a group: the next offset the group will read; -1 when it never committed. */
export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface PartitionWatermarks {
  readonly topic: string;
  readonly partition: number;
  /** the offset the next produced record gets */
  readonly high: number;
  /** the oldest offset still held */
  readonly low: number;
}

export interface PartitionLag {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  /** null: the group never committed on this partition, or the figure came from CloudWatch (the lag alone) */
  readonly committed: number | null;
  /** null: from CloudWatch, which gives the lag alone */
  readonly high: number | null;
  /** records not yet consumed: high − committed, or high − low without a commit (all that is held) */
  readonly lag: number;
}

/** Every partition of the topics the group committed on; a topic it never committed on is not its topic. */
export function partitionLags(group: string, committed: readonly CommittedOffset[], watermarks: readonly PartitionWatermarks[]): PartitionLag[] {
  const key = (t: string, p: number): string => `${t}\u0000${p}`;
  const byPartition = new Map(committed.map((c) => [key(c.topic, c.partition), c.offset]));
  const topics = new Set(committed.filter((c) => c.offset >= 0).map((c) => c.topic));
  return watermarks.filter((w) => topics.has(w.topic)).map((w) => {
    const c = byPartition.get(key(w.topic, w.partition));
    const at = c === undefined || c < 0 ? null : c;
    return { group, topic: w.topic, partition: w.partition, committed: at, high: w.high, lag: Math.max(0, w.high - (at ?? w.low)) };
  }).sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

/**
 * A group's lag against the OffsetLag alarm's threshold (records, summed over the group's partitions):
 * critical above it, warn above half of it; a group with no committed offsets is a warning.
 */
export function groupLagFinding(group: string, lags: readonly PartitionLag[], offsetLag: number): Finding | undefined {
  if (lags.length === 0) return { health: 'warn', reason: `consumer group ${group} has committed no offsets` };
  const total = lags.reduce((n, l) => n + l.lag, 0);
  if (total > offsetLag) return { health: 'critical', reason: `consumer group ${group} lags ${total} records > ${offsetLag}` };
  if (total > offsetLag / 2) return { health: 'warn', reason: `consumer group ${group} lags ${total} records > half of ${offsetLag}` };
  return undefined;
}

/** The latest value of one OffsetLag series of MSK (AWS/Kafka): per consumer group, topic and partition. */
export interface MetricLag {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

/** Per consumer group (in name order), its partitions' lags from CloudWatch values. */
export function metricPartitionLags(values: readonly MetricLag[]): Map<string, PartitionLag[]> {
  const out = new Map<string, PartitionLag[]>();
  for (const v of [...values].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))) {
    const list = out.get(v.group) ?? out.set(v.group, []).get(v.group)!;
    list.push({ group: v.group, topic: v.topic, partition: v.partition, committed: null, high: null, lag: Math.max(0, v.lag) });
  }
  return out;
}
