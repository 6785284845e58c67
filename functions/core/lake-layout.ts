// Object keys of the lake (DESIGN.md "Lake layout"). The same batch always yields the same key, which is
// what makes a redelivered batch overwrite its own file instead of adding a second copy.
import { pad2 } from './time.js';

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

export const dataKey = (table: string, dt: string, hour: number, r: FileRange): string =>
  partitionPrefix(table, dt, hour) + fileName(r);
