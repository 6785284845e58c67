// Object keys of the lake (docs/lake.md "Layout"). The same batch always yields the same key, which is
// what makes a redelivered batch overwrite its own file instead of adding a second copy.
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

/** `<topic>+<partition>+<firstOffset>-<lastOffset>.parquet`: '+' cannot occur in a Kafka topic name. */
export const fileName = (r: FileRange): string => `${r.topic}+${r.partition}+${r.firstOffset}-${r.lastOffset}.parquet`;

/**
 * Compaction writes each new version of a partition under `_v<NNNN>/` inside it. The leading underscore
 * makes Hive, Athena and Spark treat the folder as hidden, so a reader of an older version's location
 * never also reads a newer one; version 0 is the partition folder itself.
 */
export const versionFolder = (version: number): string => (version === 0 ? '' : `_v${String(version).padStart(4, '0')}/`);

/** The folder of one version of a partition: what the catalog's partition location points at. */
export const versionPrefix = (table: string, dt: string, hour: number, version: number): string =>
  partitionPrefix(table, dt, hour) + versionFolder(version);

export const dataKey = (table: string, dt: string, hour: number, r: FileRange, version = 0): string =>
  versionPrefix(table, dt, hour, version) + fileName(r);

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
