// The lake's spool (docs/lake.md "Spool writes"): with `lakeWrites: "spool"`, an ingest batch writes ONE
// object holding every table's rows instead of one Parquet file per (table, hour); the materializer
// (materialize.ts) turns pending spool objects into one Parquet file per (table, hour) every few minutes.
// S3 bills a PUT per object whatever its size, so the lake's PUTs then scale with batches, not batches × tables.
//
// Format: a text line naming the format, a JSON header line (the batch's Kafka ranges, when it was written,
// and an index of its segments: table, hour, ranges, columns, rows, where its bytes are), then each segment's
// rows as one JSON document. Rows, not Parquet: the materializer merges many batches' rows of a table into
// one file with the table's current columns, so it needs the cells back exactly (int64 beyond 2^53 included);
// encoding them once, there, into the same column buffers and encoder as a direct write keeps one Parquet
// writer and saves ingest the encoding. Bigints are listed beside the rows, so parsing needs no reviver.
import type { CellValue } from '../batch/coerce.js';
import type { ColumnType } from '../schema/model.js';
import { rangesDigest, sortedRanges, type FileRange } from './layout.js';

export const SPOOL_PREFIX = '_spool/';
/** pending spool objects, one per ingest batch */
export const SPOOL_PENDING_PREFIX = `${SPOOL_PREFIX}pending/`;
/** the materializer's claim manifests, named by the set of spool keys they take */
export const SPOOL_MANIFEST_PREFIX = `${SPOOL_PREFIX}manifests/`;
/** per topic-partition, the highest Kafka offset already materialized (consumed) */
export const SPOOL_OFFSETS_KEY = `${SPOOL_PREFIX}offsets.json`;
export const SPOOL_CONTENT_TYPE = 'application/x-tributary-spool';
const MAGIC = 'tributary-spool 1';

export type LakeWrites = 'direct' | 'spool';
export const LAKE_WRITES: readonly LakeWrites[] = ['direct', 'spool'];

/** One table's rows of one (dt, hour), or one hour's quarantined records. */
export interface SpoolSegment {
  readonly kind: 'data' | 'quarantine';
  readonly table: string;
  readonly dt: string;
  readonly hour: number;
  /** the key a direct write gives these rows (a quarantine segment is written under it as is) */
  readonly key: string;
  readonly ranges: readonly FileRange[];
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: ColumnType }>;
  readonly rows: readonly (readonly CellValue[])[];
}

export interface SpoolHeader {
  /** the batch's Kafka records, one range per topic-partition, sorted */
  readonly ranges: readonly FileRange[];
  /** epoch ms: when ingest wrote it (the backlog age counts from here) */
  readonly writtenAt: number;
  readonly segments: ReadonlyArray<Omit<SpoolSegment, 'rows'> & { readonly rowCount: number; readonly start: number; readonly length: number }>;
}

export interface Spool extends Omit<SpoolHeader, 'segments'> {
  readonly segments: readonly SpoolSegment[];
}

/**
 * The spool key of a batch: a digest of its sorted Kafka ranges, so a redelivery of the same batch names
 * the same object. `<topic>+<n>p+<digest>` like a multi-partition file name ('+' is not in a topic name).
 */
export function spoolKey(ranges: readonly FileRange[]): string {
  if (ranges.length === 0) throw new Error('a spool holds at least one Kafka range');
  const sorted = sortedRanges(ranges);
  return `${SPOOL_PENDING_PREFIX}${sorted[0]!.topic}+${sorted.length}p+${rangesDigest(sorted)}.spool`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface SegmentBody { readonly rows: readonly (readonly CellValue[])[]; readonly big: ReadonlyArray<readonly [number, number, string]> }

function segmentBody(rows: readonly (readonly CellValue[])[]): Uint8Array {
  const big: Array<[number, number, string]> = [];
  const plain = rows.map((row, r) => {
    if (!row.some((v) => typeof v === 'bigint')) return row;
    return row.map((v, c) => {
      if (typeof v !== 'bigint') return v;
      big.push([r, c, v.toString()]);
      return null;
    });
  });
  return encoder.encode(JSON.stringify({ rows: plain, big }));
}

export function encodeSpool(spool: Spool): Uint8Array {
  const bodies = spool.segments.map((s) => segmentBody(s.rows));
  let start = 0;
  const header: SpoolHeader = {
    ranges: sortedRanges(spool.ranges),
    writtenAt: spool.writtenAt,
    segments: spool.segments.map((s, i) => {
      const { rows, ...rest } = s;
      const entry = { ...rest, rowCount: rows.length, start, length: bodies[i]!.length };
      start += bodies[i]!.length;
      return entry;
    }),
  };
  const head = encoder.encode(`${MAGIC}\n${JSON.stringify(header)}\n`);
  const out = new Uint8Array(head.length + start);
  out.set(head, 0);
  let at = head.length;
  for (const b of bodies) { out.set(b, at); at += b.length; }
  return out;
}

/** A spool whose segments' rows are parsed only when asked for (a materializer run defers some tables). */
export interface SpoolReader {
  readonly header: SpoolHeader;
  rows(segment: number): CellValue[][];
}

/** Reads a spool object's header; rows on demand. Throws on anything that is not a spool object. */
export function readSpool(bytes: Uint8Array, key = 'spool'): SpoolReader {
  const first = bytes.indexOf(10);
  const second = first < 0 ? -1 : bytes.indexOf(10, first + 1);
  if (first < 0 || second < 0 || decoder.decode(bytes.subarray(0, first)) !== MAGIC) throw new Error(`${key} is not a ${MAGIC} object`);
  const header = JSON.parse(decoder.decode(bytes.subarray(first + 1, second))) as SpoolHeader;
  const base = second + 1;
  return {
    header,
    rows(i) {
      const s = header.segments[i]!;
      const body = JSON.parse(decoder.decode(bytes.subarray(base + s.start, base + s.start + s.length))) as SegmentBody;
      const rows = body.rows as CellValue[][];
      for (const [r, c, v] of body.big) rows[r]![c] = BigInt(v);
      if (rows.length !== s.rowCount) throw new Error(`${key}: segment ${s.table} ${s.dt}/${s.hour} holds ${rows.length} rows, its index says ${s.rowCount}`);
      return rows;
    },
  };
}

/** Reads a spool object whole; throws on anything that is not one (a foreign object under the prefix is a bug to see). */
export function decodeSpool(bytes: Uint8Array, key = 'spool'): Spool {
  const r = readSpool(bytes, key);
  const segments = r.header.segments.map((s, i): SpoolSegment => {
    const { rowCount: _n, start: _s, length: _l, ...rest } = s;
    return { ...rest, rows: r.rows(i) };
  });
  return { ranges: r.header.ranges, writtenAt: r.header.writtenAt, segments };
}

/** The header alone (the backlog age needs no rows). */
export function spoolWrittenAt(bytes: Uint8Array): number {
  const first = bytes.indexOf(10);
  const second = bytes.indexOf(10, first + 1);
  return (JSON.parse(decoder.decode(bytes.subarray(first + 1, second))) as SpoolHeader).writtenAt;
}
