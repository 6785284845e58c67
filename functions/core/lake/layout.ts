// Object keys of the lake (docs/lake.md "Layout"). The same batch always yields the same key, which is
// what makes a redelivered batch overwrite its own file instead of adding a second copy.
import { hash } from 'node:crypto';
import { pad2 } from '../time.js';

export const LAKE_PREFIX = 'lake';
export const QUARANTINE_TABLE = '_quarantine';

export interface FileRange {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
}

export const tablePrefix = (table: string): string => `${LAKE_PREFIX}/${table}/`;

export const partitionPrefix = (table: string, dt: string, hour: number): string =>
  `${LAKE_PREFIX}/${table}/dt=${dt}/hour=${pad2(hour)}/`;

/**
 * A file's name from the Kafka records it holds. One topic-partition: `<topic>+<partition>+<first>-<last>`.
 * Several (one file per table and hour holds every partition of the batch): `<topic>+<n>p+<digest>`, the
 * digest over the sorted ranges, so a redelivery of the same batch names the same file. '+' cannot occur in
 * a topic name, and `<n>p` is never a partition number, so the two shapes never collide.
 */
export function fileName(ranges: readonly FileRange[]): string {
  if (ranges.length === 0) throw new Error('a data file holds at least one Kafka range');
  const first = ranges[0]!;
  if (ranges.length === 1) return `${first.topic}+${first.partition}+${first.firstOffset}-${first.lastOffset}.parquet`;
  const digest = rangesDigest(ranges);
  // Hyphenated like a single range's offsets, so one key pattern (`*+*+*-*.parquet`) covers both in IAM.
  return `${first.topic}+${ranges.length}p+${digest.slice(0, 8)}-${digest.slice(8)}.parquet`;
}

/** Ranges in one order whatever order the batch met them: by topic, then partition. */
export const sortedRanges = (ranges: Iterable<FileRange>): FileRange[] =>
  [...ranges].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));

/** 64 bits of SHA-256 over the sorted ranges. */
export function rangesDigest(ranges: readonly FileRange[]): string {
  const text = sortedRanges(ranges).map((r) => `${r.topic}\u0000${r.partition}\u0000${r.firstOffset}\u0000${r.lastOffset}`).join('\n');
  return hash('sha256', text, 'hex').slice(0, 16);
}

/**
 * Compaction writes each new version of a partition under `_v<NNNN>/` inside it. The leading underscore
 * makes Hive, Athena and Spark treat the folder as hidden, so a reader of an older version's location
 * never also reads a newer one; version 0 is the partition folder itself.
 */
export const versionFolder = (version: number): string => (version === 0 ? '' : `_v${String(version).padStart(4, '0')}/`);

/** The folder of one version of a partition: what the catalog's partition location points at. */
export const versionPrefix = (table: string, dt: string, hour: number, version: number): string =>
  partitionPrefix(table, dt, hour) + versionFolder(version);

export const dataKey = (table: string, dt: string, hour: number, ranges: readonly FileRange[], version = 0): string =>
  versionPrefix(table, dt, hour, version) + fileName(sortedRanges(ranges));

/** What a compaction engine names its outputs, `part-<n>.parquet`: never a name ingest or the materializer writes (theirs hold a '+'). */
export const compactionOutputName = (index: number): string => `part-${String(index).padStart(5, '0')}.parquet`;
export const isCompactionOutput = (name: string): boolean => /^part-\d+\.parquet$/.test(name);

/** A compaction's record of what it read and wrote, next to the files it wrote. */
export const manifestKey = (table: string, dt: string, hour: number, version: number): string =>
  `${versionPrefix(table, dt, hour, version)}_manifest.json`;

/** A compaction's lease on a version it is writing, so a second run at once backs off. */
export const claimKey = (table: string, dt: string, hour: number, version: number): string =>
  `${versionPrefix(table, dt, hour, version)}_claim.json`;

/** Splits a key inside a partition into its version and file name; undefined for keys of another shape. */
export function parsePartitionKey(partition: string, key: string): { version: number; name: string } | undefined {
  if (!key.startsWith(partition)) return undefined;
  const rest = key.slice(partition.length);
  const m = /^(?:_v(\d{4,})\/)?([^/]+)$/.exec(rest);
  return m ? { version: m[1] ? Number(m[1]) : 0, name: m[2]! } : undefined;
}
