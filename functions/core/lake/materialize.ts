// The spool's materializer (docs/lake.md "Spool writes", docs/guarantees.md "The spool"): pending spool
// objects in, one Parquet file per (table, hour) out, partitions registered, lineage written, spools deleted.
//
// Steps, each safe to crash after; a rerun finishes a pending manifest before taking new work:
//   claim   a manifest named by the set of spool keys it takes (written only if absent), then a listing that
//           must show no other manifest: of two runs claiming at once, at least one sees the other's and backs off
//   plan    per topic-partition, the offsets already materialized (the base) and the files' keys, in the manifest
//   write   the files (rows past the base only, each Kafka record once), deterministic from spools + base
//   register the partitions in the catalog; lineage: `lake/_ingest_log/` (Kafka offsets → spool → file)
//   offsets the materialized offsets advance; manifest marked consumed; spools deleted; manifest deleted
// A batch redelivered after its spool was consumed writes the same spool key again: its records are at or
// below the offsets already materialized, so none of its rows is written twice, and it is deleted.
//
// Deferral (`deferMs`, docs/lake.md "Spool writes"): a table whose oldest pending row was spooled less than
// deferMs ago waits for a later run, so a rare table gets one file per several runs instead of one per run.
// Offsets are then kept per (table, topic-partition) beside a per-topic-partition floor (below it every
// table is done; it stays below a deferred table's first pending offset), and a spool is deleted only once
// no table has rows in it past its offsets: a spool holding deferred rows stays pending for the next run.
import { createHash } from 'node:crypto';
import { ColumnBuffers } from '../batch/column-buffers.js';
import type { CellValue } from '../batch/coerce.js';
import { dictionaryColumnsOf, encodeParquet, PARQUET_CONTENT_TYPE } from '../parquet/lake-file.js';
import { partitionId, type Catalog, type ObjectStore } from '../ports.js';
import { QUARANTINE_COLUMNS } from '../quarantine/quarantine-rows.js';
import { tableColumns, type ColumnSpec, type ColumnType } from '../schema/model.js';
import { hourEnd, utcDate } from '../time.js';
import { mapLimit } from '../util/concurrency.js';
import { dataKey, LAKE_PREFIX, partitionPrefix, QUARANTINE_TABLE, sortedRanges, type FileRange } from './layout.js';
import { readSpool, SPOOL_MANIFEST_PREFIX, SPOOL_OFFSETS_KEY, SPOOL_PENDING_PREFIX, type SpoolHeader, type SpoolReader, type SpoolSegment } from './spool.js';

export interface MaterializeOptions {
  /** spool objects one manifest takes at most (bounds the run's memory: a spool is ≤ one 6 MB batch) */
  readonly maxSpoolsPerManifest: number;
  /** a manifest younger than this belongs to a run that may still be working: another run backs off */
  readonly leaseMs: number;
  readonly concurrency: number;
  readonly owner: string;
  /** a table whose oldest pending row was spooled less than this long ago waits for a later run (0: none waits) */
  readonly deferMs: number;
}

export const DEFAULT_MATERIALIZE_OPTIONS: MaterializeOptions = { maxSpoolsPerManifest: 100, leaseMs: 10 * 60_000, concurrency: 4, owner: 'tributary-materialize', deferMs: 0 };

export type MaterializeStep = 'claimed' | 'planned' | 'written' | 'registered' | 'logged' | 'offsets' | 'consumed' | 'deleted';

export interface MaterializeDeps {
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly clock: () => number;
  readonly options?: Partial<MaterializeOptions>;
  /** called after each step (tests crash or run a second materializer there) */
  readonly onStep?: (step: MaterializeStep, manifest: string) => Promise<void> | void;
}

/** One planned output: a table's rows of one hour (or one hour's quarantine) from every spool of the manifest. */
interface PlannedFile {
  readonly key: string;
  readonly kind: 'data' | 'quarantine';
  readonly table: string;
  readonly dt: string;
  readonly hour: number;
  readonly rows: number;
}

interface SpoolManifest {
  readonly format: 1;
  readonly id: string;
  readonly owner: string;
  /** ISO time of the claim: the lease, and the lineage's materialized_at and day (a rerun writes the same) */
  readonly claimedAt: string;
  readonly spools: readonly string[];
  readonly state: 'claimed' | 'planned' | 'consumed';
  /** planned: per `kind\0table\0topic\0partition` of the tables it writes, the offset materialized before it (-1: none) */
  readonly base?: ReadonlyArray<readonly [string, number]>;
  /** planned: offsets once it is done: per table and topic-partition, and the per-topic-partition floors */
  readonly offsets?: ReadonlyArray<readonly [string, number]>;
  readonly files?: readonly PlannedFile[];
  /** planned: the tables (`kind\0table`) it writes; the others' rows wait in their spools */
  readonly due?: readonly string[];
  /** planned: the spools it deletes once done (every row of theirs materialized); the others stay pending */
  readonly consume?: readonly string[];
}

export interface ManifestReport {
  readonly id: string;
  readonly spools: number;
  /** rows in the spools, and rows written (fewer when a spool held records already materialized) */
  readonly rowsIn: number;
  readonly rowsWritten: number;
  readonly files: ReadonlyArray<{ key: string; table: string; rows: number; bytes: number }>;
  /** epoch ms: the oldest spool's write time (undefined when a resumed manifest's spools were gone) */
  readonly oldestSpool: number | undefined;
  readonly resumed: boolean;
  /** tables whose rows this manifest left for a later run */
  readonly deferred: number;
}

export interface MaterializeReport {
  /** 'busy': another run holds a manifest (or claimed at the same moment): this run did nothing */
  readonly outcome: 'done' | 'idle' | 'busy' | 'stopped';
  readonly manifests: readonly ManifestReport[];
  /** spool objects left pending when the run ended */
  readonly pending: number;
  /**
   * tables left for a later run by deferral: those of the manifests, and those of spool sets whose every
   * table waited (no manifest is written for them)
   */
  readonly deferred: number;
}

const JSON_TYPE = { contentType: 'application/json' };
const encodeJson = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value, null, 1));
const decodeJson = <T>(bytes: Uint8Array): T => JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
const tpId = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
const manifestKeyOf = (id: string): string => `${SPOOL_MANIFEST_PREFIX}${id}.json`;

/** A manifest's id: a digest of its sorted spool keys, so two runs taking the same set name the same claim. */
export function manifestId(spools: readonly string[]): string {
  return createHash('sha256').update([...spools].sort().join('\n')).digest('hex').slice(0, 24);
}

/** Lineage of the spool: one row per (file, spool, topic-partition). */
export const LINEAGE_TABLE = '_ingest_log';
const col = (name: string, type: ColumnType, nullable = false): ColumnSpec => ({ name, type, nullable, origin: 'standard' });
export const LINEAGE_COLUMNS: readonly ColumnSpec[] = [
  col('manifest', 'string'), col('spool_key', 'string'), col('file_key', 'string'), col('event', 'string'), col('outcome', 'string'),
  col('_topic', 'string'), col('_partition', 'int32'), col('first_offset', 'int64'), col('last_offset', 'int64'), col('rows', 'int64'),
  col('min_event_time', 'timestamp', true), col('max_event_time', 'timestamp', true), col('spool_written_at', 'timestamp'), col('materialized_at', 'timestamp'),
];
// The claim time is in the name: with deferral, a spool set can be claimed again (its kept spools alone).
export const lineageKey = (id: string, claimedAt: number): string => `${LAKE_PREFIX}/${LINEAGE_TABLE}/dt=${utcDate(claimedAt)}/${id}-${claimedAt.toString(36)}.parquet`;

/**
 * Materializes pending spool objects until none is left or `stopWhen` says so (the function's time).
 */
export async function materializeSpool(deps: MaterializeDeps, run: { stopWhen?: () => boolean } = {}): Promise<MaterializeReport> {
  const o = { ...DEFAULT_MATERIALIZE_OPTIONS, ...deps.options };
  const manifests: Array<ManifestReport & { kept: readonly string[] }> = [];
  let outcome: MaterializeReport['outcome'] = 'idle';
  // spools this run has looked at and left pending (their rows deferred): not taken again in this run
  const kept = new Set<string>();
  // one time for the run's deferral decisions: a table that waits in one of its manifests waits in all
  const ctx: RunContext = { now: deps.clock(), headers: new Map() };
  // spools still pending when the run ends, when its last listing tells (else one more LIST)
  let remaining: number | undefined;
  let waited = 0;
  for (;;) {
    if (run.stopWhen?.()) { outcome = 'stopped'; break; }
    // A pending manifest first: a crashed run's, once its lease has passed.
    const open = await deps.store.list(SPOOL_MANIFEST_PREFIX);
    if (open.length > 0) {
      const key = open[0]!;
      const body = await deps.store.get(key);
      if (!body) continue; // finished between the listing and the read
      const m = decodeJson<SpoolManifest>(body);
      if (Date.parse(m.claimedAt) + o.leaseMs > deps.clock()) { outcome = manifests.length > 0 ? 'done' : 'busy'; break; }
      const report = await execute(m, deps, o, true, ctx);
      manifests.push(report);
      for (const k of report.kept) kept.add(k);
      outcome = 'done';
      continue;
    }
    const listing = await deps.store.list(SPOOL_PENDING_PREFIX);
    const pending = listing.filter((k) => !kept.has(k));
    if (pending.length === 0) { remaining = listing.length; break; }
    const spools = pending.length <= o.maxSpoolsPerManifest ? pending : await offsetPrefix(pending, deps.store, o, ctx);
    // The manifest takes every spool the listing showed: the run ends after it. Spools written meanwhile wait
    // for the next run (as one written just after this run would), instead of a second manifest a few seconds
    // later that would write another file per table and LIST twice more (docs/lake.md#spool-writes).
    const last = spools.length === pending.length;
    const left = (gone: readonly string[]): number => { const g = new Set(gone); return listing.filter((k) => !g.has(k)).length; };
    // Read and plan before claiming: a set whose every table waits costs no write at all (the plan is made
    // again after the claim, from the offsets then).
    const read = await readSpools(deps.store, spools, o.concurrency);
    for (const r of read) if (r.spool) ctx.headers.set(r.key, r.spool.header);
    const draft = planUnits(read.filter((r): r is ReadSpool => r.spool !== undefined), await readOffsets(deps.store), ctx.now, o.deferMs, []);
    if (draft.due.size === 0) {
      waited += draft.deferred;
      // every row either waits or is materialized already (a redelivery): those spools can go now
      if (draft.consume.length > 0) await deps.store.delete(draft.consume);
      for (const k of spools) kept.add(k);
      if (last) { remaining = left(draft.consume); break; }
      continue;
    }
    const id = manifestId(spools);
    const claim: SpoolManifest = { format: 1, id, owner: o.owner, claimedAt: new Date(deps.clock()).toISOString(), spools, state: 'claimed' };
    if (!(await deps.store.putIfAbsent(manifestKeyOf(id), encodeJson(claim), JSON_TYPE))) { outcome = manifests.length > 0 ? 'done' : 'busy'; break; }
    await deps.onStep?.('claimed', id);
    // Claim, then look: a run that sees any manifest but its own backs off (and withdraws its claim). With
    // S3's strong consistency, of two runs claiming at once at least one sees the other's manifest.
    const others = (await deps.store.list(SPOOL_MANIFEST_PREFIX)).filter((k) => k !== manifestKeyOf(id));
    if (others.length > 0) {
      await deps.store.delete([manifestKeyOf(id)]);
      outcome = manifests.length > 0 ? 'done' : 'busy';
      break;
    }
    const report = await execute(claim, deps, o, false, ctx, read);
    manifests.push(report);
    for (const k of report.kept) kept.add(k);
    outcome = 'done';
    if (last) { const keptNow = new Set(report.kept); remaining = left(spools.filter((k) => !keptNow.has(k))); break; }
  }
  const pending = remaining ?? (await deps.store.list(SPOOL_PENDING_PREFIX)).length;
  return { outcome, manifests: manifests.map(({ kept: _k, ...r }) => r), pending, deferred: waited + manifests.reduce((n, m) => n + m.deferred, 0) };
}

interface ReadSpool { readonly key: string; readonly spool: SpoolReader }

/** What a run knows across its manifests: its time, and the headers of the spools it has read. */
interface RunContext { readonly now: number; readonly headers: Map<string, SpoolHeader> }

async function headersOf(store: ObjectStore, keys: readonly string[], ctx: RunContext, concurrency: number): Promise<SpoolHeader[]> {
  await mapLimit(keys.filter((k) => !ctx.headers.has(k)), concurrency, async (key) => {
    const body = await store.get(key);
    if (body) ctx.headers.set(key, readSpool(body, key).header);
  });
  return keys.flatMap((k) => ctx.headers.get(k) ?? []);
}

/**
 * More spools pending than a manifest takes: the oldest, closed under Kafka order. A manifest advances a
 * topic-partition's offsets to the highest it took, so it must not leave behind a spool with records of
 * that partition below one it takes (spool keys are digests: their order is no order). Ingest writes a
 * partition's batches one after another, so this drops nothing in practice; if it ever left none, all go.
 */
async function offsetPrefix(pending: readonly string[], store: ObjectStore, o: MaterializeOptions, ctx: RunContext): Promise<string[]> {
  await headersOf(store, pending, ctx, o.concurrency);
  const known = pending.filter((k) => ctx.headers.has(k));
  const order = [...known].sort((a, b) => ctx.headers.get(a)!.writtenAt - ctx.headers.get(b)!.writtenAt || (a < b ? -1 : 1));
  const taken = new Set(order.slice(0, o.maxSpoolsPerManifest));
  for (;;) {
    const lowestLeft = new Map<string, number>();
    for (const k of order) {
      if (taken.has(k)) continue;
      for (const r of ctx.headers.get(k)!.ranges) { const tp = tpId(r.topic, r.partition); lowestLeft.set(tp, Math.min(lowestLeft.get(tp) ?? Infinity, r.firstOffset)); }
    }
    const drop = [...taken].filter((k) => ctx.headers.get(k)!.ranges.some((r) => (lowestLeft.get(tpId(r.topic, r.partition)) ?? Infinity) < r.firstOffset));
    if (drop.length === 0) break;
    for (const k of drop) taken.delete(k);
  }
  return taken.size > 0 ? order.filter((k) => taken.has(k)) : order;
}

async function readSpools(store: ObjectStore, keys: readonly string[], concurrency: number): Promise<Array<{ key: string; spool: SpoolReader | undefined }>> {
  return mapLimit(keys, concurrency, async (key) => {
    const body = await store.get(key);
    return { key, spool: body ? readSpool(body, key) : undefined };
  });
}

/**
 * The materialized offsets: `topic\0partition` → the floor (every table done up to it; the only kind of
 * entry before deferral), `kind\0table\0topic\0partition` → that table's.
 */
async function readOffsets(store: ObjectStore): Promise<Map<string, number>> {
  const body = await store.get(SPOOL_OFFSETS_KEY);
  return new Map(body ? decodeJson<Array<[string, number]>>(body) : []);
}

const unitId = (kind: string, table: string): string => `${kind}\u0000${table}`;
/** the offset up to which a table's rows of a topic-partition are materialized */
const doneUpTo = (offsets: ReadonlyMap<string, number>, unit: string, tp: string): number =>
  Math.max(offsets.get(tp) ?? -1, offsets.get(`${unit}\u0000${tp}`) ?? -1);

interface UnitPlan {
  /** tables written now */
  readonly due: Set<string>;
  /** spools every row of which is materialized once the due tables are */
  readonly consume: string[];
  /** per due table and topic-partition, the offset materialized before (the rows to skip) */
  readonly base: Map<string, number>;
  /** the offsets once done: per due table and topic-partition, and the floors */
  readonly after: Map<string, number>;
  readonly deferred: number;
}

/**
 * Which tables are written now, from the spools' headers alone: a table with rows past its offsets is due
 * once its oldest such row's spool is `deferMs` old. Offsets advance for due tables to the highest offset
 * of the taken spools; a topic-partition's floor to that too, but never to a deferred row.
 */
function planUnits(spools: readonly ReadSpool[], offsets: ReadonlyMap<string, number>, now: number, deferMs: number, others: readonly SpoolHeader[]): UnitPlan {
  const oldest = new Map<string, number>();
  const last = new Map<string, number>();
  for (const { spool } of spools) {
    for (const r of spool.header.ranges) { const tp = tpId(r.topic, r.partition); last.set(tp, Math.max(last.get(tp) ?? -1, r.lastOffset)); }
    for (const seg of spool.header.segments) {
      const u = unitId(seg.kind, seg.table);
      if (seg.ranges.some((r) => r.lastOffset > doneUpTo(offsets, u, tpId(r.topic, r.partition)))) oldest.set(u, Math.min(oldest.get(u) ?? Infinity, spool.header.writtenAt));
    }
  }
  const due = new Set([...oldest].filter(([, at]) => now - at >= deferMs).map(([u]) => u));
  const base = new Map<string, number>();
  const after = new Map<string, number>();
  const floor = new Map(last);
  const consume: string[] = [];
  for (const { key, spool } of spools) {
    let keep = false;
    for (const seg of spool.header.segments) {
      const u = unitId(seg.kind, seg.table);
      for (const r of seg.ranges) {
        const tp = tpId(r.topic, r.partition);
        const done = doneUpTo(offsets, u, tp);
        if (due.has(u)) { base.set(`${u}\u0000${tp}`, done); continue; }
        if (r.lastOffset <= done) continue;
        keep = true;
        floor.set(tp, Math.min(floor.get(tp)!, r.firstOffset - 1));
      }
    }
    if (!keep) consume.push(key);
  }
  // nor past rows left in the spools it does not take (a waiting table's, in spools kept earlier)
  for (const header of others) {
    for (const seg of header.segments) {
      const u = unitId(seg.kind, seg.table);
      for (const r of seg.ranges) {
        const tp = tpId(r.topic, r.partition);
        if (floor.has(tp) && r.lastOffset > doneUpTo(offsets, u, tp)) floor.set(tp, Math.min(floor.get(tp)!, r.firstOffset - 1));
      }
    }
  }
  for (const u of due) for (const [tp, off] of last) after.set(`${u}\u0000${tp}`, Math.max(doneUpTo(offsets, u, tp), off));
  for (const [tp, off] of floor) after.set(tp, Math.max(offsets.get(tp) ?? -1, off));
  return { due, consume, base, after, deferred: oldest.size - due.size };
}

/** The rows a file takes from one spool segment, and where they came from. */
interface Taken {
  readonly spoolKey: string;
  readonly writtenAt: number;
  readonly segment: SegmentInfo;
  readonly rows: Array<readonly CellValue[]>;
}

type SegmentInfo = Omit<SpoolSegment, 'rows'>;

interface Group {
  readonly kind: 'data' | 'quarantine';
  readonly table: string;
  readonly dt: string;
  readonly hour: number;
  readonly taken: Taken[];
  /** per topic-partition, the offsets taken */
  readonly ranges: Map<string, { topic: string; partition: number; first: number; last: number }>;
}

const groupId = (kind: string, table: string, dt: string, hour: number): string => `${kind}\u0000${table}\u0000${dt}\u0000${hour}`;

/** Where a segment's rows keep their Kafka position and event time. */
function positionColumns(s: SegmentInfo): { topic: number; partition: number; offset: number; time: number } {
  if (s.kind === 'quarantine') return { topic: 0, partition: 1, offset: 2, time: -1 };
  const at = (name: string): number => s.columns.findIndex((c) => c.name === name);
  return { topic: at('_topic'), partition: at('_partition'), offset: at('_offset'), time: at('event_time') };
}

/**
 * Every Kafka record once: the due tables' rows past their base offset, the first time the manifest meets
 * them (spools in key order, so a rerun takes the same rows from the same spools). A waiting table's
 * segments are not parsed.
 */
function groupRows(spools: readonly ReadSpool[], base: ReadonlyMap<string, number>, due: ReadonlySet<string> | 'all'): { groups: Map<string, Group>; rowsIn: number } {
  const groups = new Map<string, Group>();
  const seen = new Map<string, Set<number>>();
  // Only a topic-partition whose spools' ranges overlap (a redelivery with other boundaries) can meet a
  // record twice: the others skip the per-row set (a tenth of a run's CPU).
  const overlapping = overlappingPartitions(spools);
  let rowsIn = 0;
  for (const { key, spool } of [...spools].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    for (const [i, header] of spool.header.segments.entries()) {
      const u = unitId(header.kind, header.table);
      if (due !== 'all' && !due.has(u)) continue;
      const { rowCount: _n, start: _s, length: _l, ...segment } = header;
      const segmentRows = spool.rows(i);
      rowsIn += segmentRows.length;
      const p = positionColumns(segment);
      const id = groupId(segment.kind, segment.table, segment.dt, segment.hour);
      let g = groups.get(id);
      const rows: Array<readonly CellValue[]> = [];
      for (const row of segmentRows) {
        const topic = String(row[p.topic]);
        const partition = Number(row[p.partition]);
        const offset = Number(row[p.offset]);
        const tp = tpId(topic, partition);
        // (a manifest planned before deferral has per-topic-partition bases)
        if (offset <= (base.get(`${u}\u0000${tp}`) ?? base.get(tp) ?? -1)) continue;
        if (overlapping.has(tp)) {
          const s = seen.get(tp) ?? seen.set(tp, new Set()).get(tp)!;
          if (s.has(offset)) continue;
          s.add(offset);
        }
        rows.push(row);
        if (!g) groups.set(id, (g = { kind: segment.kind, table: segment.table, dt: segment.dt, hour: segment.hour, taken: [], ranges: new Map() }));
        const r = g.ranges.get(tp);
        if (!r) g.ranges.set(tp, { topic, partition, first: offset, last: offset });
        else { r.first = Math.min(r.first, offset); r.last = Math.max(r.last, offset); }
      }
      if (g && rows.length > 0) g.taken.push({ spoolKey: key, writtenAt: spool.header.writtenAt, segment, rows });
    }
  }
  return { groups, rowsIn };
}

function overlappingPartitions(spools: readonly ReadSpool[]): Set<string> {
  const ranges = new Map<string, Array<[number, number]>>();
  for (const { spool } of spools) for (const r of spool.header.ranges) { const tp = tpId(r.topic, r.partition); (ranges.get(tp) ?? ranges.set(tp, []).get(tp)!).push([r.firstOffset, r.lastOffset]); }
  const out = new Set<string>();
  for (const [tp, list] of ranges) {
    list.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < list.length; i++) if (list[i]![0] <= list[i - 1]![1]) { out.add(tp); break; }
  }
  return out;
}

const fileRanges = (g: Group): FileRange[] =>
  sortedRanges([...g.ranges.values()].map((r) => ({ topic: r.topic, partition: r.partition, firstOffset: r.first, lastOffset: r.last })));

async function execute(start: SpoolManifest, deps: MaterializeDeps, o: MaterializeOptions, resumed: boolean, ctx: RunContext, preRead?: ReadonlyArray<{ key: string; spool: SpoolReader | undefined }>): Promise<ManifestReport & { kept: readonly string[] }> {
  let m = start;
  const key = manifestKeyOf(m.id);
  const step = async (s: MaterializeStep): Promise<void> => { await deps.onStep?.(s, m.id); };
  let report: ManifestReport = { id: m.id, spools: m.spools.length, rowsIn: 0, rowsWritten: 0, files: [], oldestSpool: undefined, resumed, deferred: 0 };

  if (m.state !== 'consumed') {
    const read = preRead ?? await readSpools(deps.store, m.spools, o.concurrency);
    const missing = read.filter((r) => !r.spool).map((r) => r.key);
    // Planned, and spools gone: only a run that found every row of them materialized deletes spools without a
    // manifest, so this one advanced the offsets before it died (that run had listed the manifests before this
    // one was claimed, and read the offsets after). Its files, partitions and lineage are done: mark it consumed.
    const done = missing.length > 0 && m.state !== 'claimed' && await offsetsReached(deps.store, m);
    if (missing.length > 0 && m.state !== 'claimed' && !done) throw new Error(`manifest ${m.id} (${m.state}): spool objects gone before its offsets advanced: ${missing.slice(0, 3).join(', ')}`);
    if (done) {
      m = { ...m, state: 'consumed' };
      await deps.store.put(key, encodeJson(m), JSON_TYPE);
      await step('consumed');
    } else {
      // Before its plan, a spool can only be gone because a run found every row of it materialized (a
      // redelivery's): the manifest goes on without it.
      const spools = read.filter((r): r is ReadSpool => r.spool !== undefined);
      if (missing.length > 0) m = { ...m, spools: spools.map((r) => r.key) };
      const oldestSpool = Math.min(...spools.map((s) => s.spool.header.writtenAt));

      let planned: ReturnType<typeof groupRows> | undefined;
      let deferred = 0;
      if (m.state === 'claimed') {
        for (const r of spools) ctx.headers.set(r.key, r.spool.header);
        const taken = new Set(m.spools);
        const others = await headersOf(deps.store, (await deps.store.list(SPOOL_PENDING_PREFIX)).filter((k) => !taken.has(k)), ctx, o.concurrency);
        const units = planUnits(spools, await readOffsets(deps.store), ctx.now, o.deferMs, others);
        deferred = units.deferred;
        planned = groupRows(spools, units.base, units.due);
        const files = await plannedFiles([...planned.groups.values()], deps.catalog, deps.clock(), o.concurrency);
        m = { ...m, state: 'planned', base: [...units.base], offsets: [...units.after], files, due: [...units.due].sort(), consume: units.consume };
        await deps.store.put(key, encodeJson(m), JSON_TYPE);
        await step('planned');
      }

      // Written from the spools and the planned base alone, so a rerun writes the same files under the same keys
      // (a run that has just planned reuses its grouping: the same spools, the same base).
      const { groups, rowsIn } = planned ?? groupRows(spools, new Map(m.base ?? []), m.due ? new Set(m.due) : 'all');
      const plan = new Map((m.files ?? []).map((f) => [groupId(f.kind, f.table, f.dt, f.hour), f]));
      // the tables' columns as the catalog has them now: read on every manifest, never cached across runs (an
      // ingest may have widened a column since), in one request where the catalog can (docs/lake.md#spool-writes)
      const tables = [...new Set([...groups.values()].filter((g) => g.kind === 'data').map((g) => g.table))];
      const schemas = await readColumns(deps.catalog, tables, o.concurrency);
      const written = await mapLimit([...groups], o.concurrency, async ([id, g]) => {
        const file = plan.get(id);
        if (!file) throw new Error(`manifest ${m.id}: rows for ${g.table} ${g.dt}/${g.hour} that its plan has no file for`);
        const bytes = await encodeGroup(g, schemas.get(g.table) ?? []);
        await deps.store.put(file.key, bytes, { contentType: PARQUET_CONTENT_TYPE });
        return { key: file.key, table: g.table, rows: file.rows, bytes: bytes.length, group: g, body: bytes };
      });
      await followSwitches(written, deps, o.concurrency);
      await step('written');

      const byTable = new Map<string, Array<{ dt: string; hour: number }>>();
      for (const g of groups.values()) if (g.kind === 'data') (byTable.get(g.table) ?? byTable.set(g.table, []).get(g.table)!).push({ dt: g.dt, hour: g.hour });
      await mapLimit([...byTable], o.concurrency, ([table, parts]) => deps.catalog.addPartitions(table, parts, (p) => deps.store.uri(partitionPrefix(table, p.dt, p.hour))));
      await step('registered');

      const claimedAt = Date.parse(m.claimedAt);
      await deps.store.put(lineageKey(m.id, claimedAt), await encodeParquet(lineage(m, groups, plan, claimedAt), { dictionaryColumns: ['event', 'outcome', '_topic', 'spool_key', 'manifest'] }), { contentType: PARQUET_CONTENT_TYPE });
      await step('logged');

      const offsets = await readOffsets(deps.store);
      for (const [k, off] of m.offsets ?? []) offsets.set(k, Math.max(offsets.get(k) ?? -1, off));
      await deps.store.put(SPOOL_OFFSETS_KEY, encodeJson([...offsets].sort((a, b) => (a[0] < b[0] ? -1 : 1))), JSON_TYPE);
      await step('offsets');

      m = { ...m, state: 'consumed' };
      await deps.store.put(key, encodeJson(m), JSON_TYPE);
      await step('consumed');
      report = { ...report, rowsIn, rowsWritten: written.reduce((n, f) => n + f.rows, 0), files: written.map(({ key: k, table, rows, bytes }) => ({ key: k, table, rows, bytes })), oldestSpool, deferred };
    }
  }
  // a spool still holding a waiting table's rows stays pending for a later run
  const consume = m.consume ?? m.spools;
  if (consume.length > 0) await deps.store.delete(consume);
  await deps.store.delete([key]);
  await step('deleted');
  return { ...report, kept: m.spools.filter((k) => !consume.includes(k)) };
}

/** The columns of the tables, fresh: one getTables (Glue: a GetTables page per 100 tables) or a getTable each. */
async function readColumns(catalog: Catalog, tables: readonly string[], concurrency: number): Promise<Map<string, readonly ColumnSpec[]>> {
  const out = new Map<string, readonly ColumnSpec[]>();
  if (catalog.getTables) {
    const read = await catalog.getTables(tables);
    for (const t of tables) { const schema = read.get(t); out.set(t, schema ? tableColumns(schema) : []); }
    return out;
  }
  await mapLimit(tables, concurrency, async (table) => {
    const schema = await catalog.getTable(table);
    out.set(table, schema ? tableColumns(schema) : []);
  });
  return out;
}

/** Whether `_spool/offsets.json` has reached every offset the manifest advances (its offsets step happened). */
async function offsetsReached(store: ObjectStore, m: SpoolManifest): Promise<boolean> {
  const offsets = await readOffsets(store);
  return (m.offsets ?? []).length > 0 && (m.offsets ?? []).every(([k, off]) => (offsets.get(k) ?? -1) >= off);
}

/**
 * Keys of the manifest's files. A closed hour that compaction has moved to a version gets its late rows in
 * that version's folder, where readers look (as a direct write does).
 */
async function plannedFiles(groups: readonly Group[], catalog: Catalog, now: number, concurrency: number): Promise<PlannedFile[]> {
  const versions = new Map<string, number>();
  const closed = new Map<string, Group[]>();
  for (const g of groups) if (g.kind === 'data' && hourEnd(g.dt, g.hour) <= now) (closed.get(g.table) ?? closed.set(g.table, []).get(g.table)!).push(g);
  await mapLimit([...closed], concurrency, async ([table, list]) => {
    const states = await catalog.getPartitions(table, list.map((g) => ({ dt: g.dt, hour: g.hour })));
    for (const g of list) versions.set(groupId(g.kind, table, g.dt, g.hour), states.get(partitionId(g))?.version ?? 0);
  });
  return groups.map((g) => ({
    key: dataKey(g.kind === 'quarantine' ? QUARANTINE_TABLE : g.table, g.dt, g.hour, fileRanges(g), versions.get(groupId(g.kind, g.table, g.dt, g.hour)) ?? 0),
    kind: g.kind, table: g.table, dt: g.dt, hour: g.hour, rows: g.taken.reduce((n, t) => n + t.rows.length, 0),
  }));
}

/**
 * A compaction that switched a closed hour between the plan (which keyed the file by the version then) and
 * the write left the file in the version the catalog has left (unless that compaction's own look after its
 * switch found it): its rows, counted in the offsets once this manifest is done, would be unreadable through
 * the catalog until the next compaction. Looked up again after the write, as direct ingest does, a moved
 * partition gets the file in its new version too; the next compaction folds the two copies.
 */
async function followSwitches(files: ReadonlyArray<{ key: string; group: Group; body: Uint8Array }>, deps: MaterializeDeps, concurrency: number): Promise<void> {
  const now = deps.clock();
  let current = files.filter((f) => f.group.kind === 'data' && hourEnd(f.group.dt, f.group.hour) <= now).map((f) => ({ ...f }));
  for (let round = 0; round < 3 && current.length > 0; round++) {
    const fresh = await plannedFiles(current.map((f) => f.group), deps.catalog, now, concurrency);
    const moved = current.flatMap((f, i) => (fresh[i]!.key === f.key ? [] : [{ ...f, key: fresh[i]!.key }]));
    await mapLimit(moved, concurrency, (f) => deps.store.put(f.key, f.body, { contentType: PARQUET_CONTENT_TYPE }));
    current = moved;
  }
}

/**
 * One Parquet file of a group: the table's columns as the catalog has them now (every segment's columns are
 * among them: ingest registers a column before it spools a row with it), a column a segment lacks is null.
 */
async function encodeGroup(g: Group, tableColumnsNow: readonly ColumnSpec[]): Promise<Uint8Array> {
  let columns: ColumnSpec[] = g.kind === 'quarantine' ? [...QUARANTINE_COLUMNS] : [...tableColumnsNow];
  for (const t of g.taken) {
    for (const c of t.segment.columns) if (!columns.some((x) => x.name === c.name)) columns = [...columns, { name: c.name, type: c.type, nullable: true, origin: 'inferred' }];
  }
  const buffers = new ColumnBuffers(columns, g.taken.reduce((n, t) => n + t.rows.length, 0));
  for (const t of g.taken) {
    const from = columns.map((c) => t.segment.columns.findIndex((s) => s.name === c.name));
    const doubles = columns.map((c) => c.type === 'double');
    const cells: CellValue[] = new Array<CellValue>(columns.length);
    for (const row of t.rows) {
      for (let i = 0; i < from.length; i++) {
        const k = from[i]!;
        const v = k < 0 ? null : row[k] ?? null;
        // An int64 column widened to double since the segment was spooled.
        cells[i] = doubles[i] && typeof v === 'bigint' ? Number(v) : v;
      }
      buffers.append(cells);
    }
  }
  return encodeParquet(buffers, { dictionaryColumns: g.kind === 'quarantine' ? ['_topic', 'reason', 'event'] : dictionaryColumnsOf(columns) });
}

function lineage(m: SpoolManifest, groups: ReadonlyMap<string, Group>, planned: ReadonlyMap<string, PlannedFile>, claimedAt: number): ColumnBuffers {
  const rows: CellValue[][] = [];
  for (const [id, g] of groups) {
    const file = planned.get(id)!;
    for (const t of g.taken) {
      const p = positionColumns(t.segment);
      const per = new Map<string, { topic: string; partition: number; first: number; last: number; rows: number; min: number; max: number }>();
      for (const row of t.rows) {
        const topic = String(row[p.topic]);
        const partition = Number(row[p.partition]);
        const offset = Number(row[p.offset]);
        const time = p.time >= 0 ? Number(row[p.time]) : NaN;
        const tp = tpId(topic, partition);
        const r = per.get(tp) ?? per.set(tp, { topic, partition, first: offset, last: offset, rows: 0, min: Infinity, max: -Infinity }).get(tp)!;
        r.first = Math.min(r.first, offset);
        r.last = Math.max(r.last, offset);
        r.rows++;
        if (Number.isFinite(time)) { r.min = Math.min(r.min, time); r.max = Math.max(r.max, time); }
      }
      for (const r of per.values()) {
        rows.push([m.id, t.spoolKey, file.key, g.table, g.kind === 'data' ? 'stored' : 'quarantined', r.topic, r.partition, r.first, r.last, r.rows,
          Number.isFinite(r.min) ? r.min : null, Number.isFinite(r.max) ? r.max : null, t.writtenAt, claimedAt]);
      }
    }
  }
  return ColumnBuffers.fromRows(LINEAGE_COLUMNS, rows);
}
