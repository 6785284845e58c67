// Compaction of one closed hour partition: many small files with possible duplicate event_ids in, a few
// large files with one row per event_id out, readers switched over atomically through the catalog.
//
// Steps, each safe to crash after: claim the next version (a lease, so a second run at once backs off) →
// engine writes the new files under `_v<N>/` → manifest → catalog partition location switched to `_v<N>/`
// (the atomic step: readers see the old files or the new ones, never both, never neither) → manifest
// marked switched → superseded files deleted once the retention delay has passed (a later run does it).
import {
  expiredManifests, isSettled, MANIFEST_FORMAT, parseManifest, planCompaction, readPartitionObjects,
  type CompactionClaim, type CompactionManifest,
} from './compaction-plan.js';
import { claimKey, isCompactionOutput, manifestKey, partitionPrefix, tablePrefix, versionPrefix } from './layout.js';
import { partitionLag } from './glue-table.js';
import { partitionId, type Catalog, type ObjectStore, type PartitionRef } from '../ports.js';
import { tableColumns, type ColumnSpec, type TableSchema } from '../schema/model.js';
import { hourEnd, MS_PER_HOUR, utcDate, utcHour } from '../time.js';
import { PARQUET_CONTENT_TYPE } from '../parquet/lake-file.js';

export interface CompactionJob {
  readonly store: ObjectStore;
  readonly inputs: readonly string[];
  /** the version folder to write the outputs into, each named `compactionOutputName(i)` (layout.ts) */
  readonly outputPrefix: string;
  /** the table's current columns: every output file has exactly these, in this order */
  readonly columns: readonly ColumnSpec[];
  readonly targetFileBytes: number;
  /** inputs above this many bytes are processed in several bounded pieces (split by hash of event_id) */
  readonly maxPieceBytes: number;
}

export interface CompactionResult {
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly bytesIn: number;
  readonly outputs: ReadonlyArray<{ key: string; rows: number; bytes: number }>;
}

/** Reads Parquet, keeps the latest received_at per event_id (as ClickHouse does), writes Parquet (DuckDB in production). */
export interface CompactionEngine {
  compact(job: CompactionJob): Promise<CompactionResult>;
}

export interface CompactionOptions {
  readonly targetFileBytes: number;
  readonly maxPieceBytes: number;
  /** superseded files are kept this long after the switch, for readers that resolved the old location */
  readonly retentionMs: number;
  /** how long a claim holds off other runs; a crashed run's claim expires and a re-run takes over */
  readonly leaseMs: number;
  readonly owner: string;
}

export const DEFAULT_COMPACTION_OPTIONS: CompactionOptions = {
  targetFileBytes: 256 * 1024 * 1024,
  maxPieceBytes: 2 * 1024 * 1024 * 1024,
  retentionMs: 60 * 60_000,
  leaseMs: 15 * 60_000,
  owner: 'tributary-compact',
};

export type CompactionStep = 'claimed' | 'written' | 'manifest' | 'switched' | 'marked';

export interface CompactionDeps {
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly engine: CompactionEngine;
  readonly clock: () => number;
  readonly options?: Partial<CompactionOptions>;
  /** called after each step (tests use it to crash or read mid-way) */
  readonly onStep?: (step: CompactionStep) => Promise<void> | void;
}

export interface PartitionCompaction {
  readonly table: string;
  readonly dt: string;
  readonly hour: number;
  /** 'updated': only the partition's columns in the catalog were brought up to the table's */
  readonly outcome: 'compacted' | 'switched' | 'updated' | 'skipped' | 'busy';
  readonly detail: string;
  readonly version: number;
  readonly filesBefore: number;
  readonly filesAfter: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly duplicatesRemoved: number;
  /** superseded files deleted by this run (from earlier compactions past their retention) */
  readonly filesDeleted: number;
}

const JSON_TYPE = { contentType: 'application/json' };
const iso = (ms: number): string => new Date(ms).toISOString();
const encode = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value, null, 2));
const decode = (bytes: Uint8Array): unknown => JSON.parse(Buffer.from(bytes).toString('utf8'));

export interface PartitionVisit {
  /** only delete what earlier compactions superseded (a partition just past the lookback) */
  readonly cleanupOnly?: boolean;
  /** the table as the run read it (saves a catalog read per partition) */
  readonly schema?: TableSchema;
}

export async function compactPartition(table: string, partition: PartitionRef, deps: CompactionDeps, visit: PartitionVisit = {}): Promise<PartitionCompaction> {
  const o = { ...DEFAULT_COMPACTION_OPTIONS, ...deps.options };
  const { dt } = partition;
  // Only hour partitions of event tables are compacted; a job writes each day's output as one file.
  if (partition.hour === undefined) throw new Error(`${table}/dt=${dt} is not an hour partition`);
  const hour = partition.hour;
  const step = async (s: CompactionStep): Promise<void> => { await deps.onStep?.(s); };
  const base = { table, dt, hour, filesBefore: 0, filesAfter: 0, bytesBefore: 0, bytesAfter: 0, rowsIn: 0, rowsOut: 0, duplicatesRemoved: 0, filesDeleted: 0 };

  const state = (await deps.catalog.getPartitions(table, [partition])).get(partitionId(partition));
  if (!state) return { ...base, outcome: 'skipped', detail: 'partition not in the catalog', version: 0 };
  const prefix = partitionPrefix(table, dt, hour);
  const objects = readPartitionObjects(prefix, await deps.store.list(prefix));
  const manifests = new Map<number, CompactionManifest>();
  for (const [version, key] of objects.manifestKeys) {
    const body = await deps.store.get(key);
    if (body) manifests.set(version, parseManifest(decode(body), key));
  }

  // A run that crashed after switching the catalog but before marking its manifest: the switch happened,
  // so mark it now and drop the claim; its superseded inputs then expire like any other's.
  for (const m of [...manifests.values()]) {
    if (m.version > state.version || m.switchedAt !== undefined) continue;
    if (m.version === state.version) await adoptStragglers(m, deps);
    const marked = { ...m, switchedAt: iso(deps.clock()) };
    await deps.store.put(manifestKey(table, dt, hour, m.version), encode(marked), JSON_TYPE);
    await deps.store.delete([claimKey(table, dt, hour, m.version)]);
    manifests.set(m.version, marked);
  }

  // Housekeeping first: delete what earlier compactions superseded once nobody can still be reading it.
  let filesDeleted = 0;
  for (const m of expiredManifests(manifests, state.version, deps.clock(), o.retentionMs)) {
    await deps.store.delete(m.inputs);
    filesDeleted += m.inputs.length;
    const marked = { ...m, inputsDeletedAt: iso(deps.clock()) };
    await deps.store.put(manifestKey(table, dt, hour, m.version), encode(marked), JSON_TYPE);
    manifests.set(m.version, marked);
  }

  if (visit.cleanupOnly) return { ...base, filesDeleted, outcome: 'skipped', detail: 'past the lookback: cleanup only', version: state.version };
  const current = visit.schema ?? (await deps.catalog.getTable(table));
  if (!current) throw new Error(`catalog has no table ${table}`);
  // A column widened since the partition last took the table's columns: its files may hold the narrower
  // type, so they are rewritten with the table's types, and the switch gives the partition its columns.
  const lag = partitionLag(state, current);
  const decision = planCompaction(objects, manifests, state.version, lag === 'types');
  if (decision.action === 'none' && lag !== 'none') {
    await deps.catalog.switchPartition(table, partition, state.version, state.location);
    return { ...base, filesDeleted, outcome: 'updated', detail: `${decision.reason}; partition columns brought up to the table's`, version: state.version };
  }
  if (decision.action === 'none') return { ...base, filesDeleted, outcome: 'skipped', detail: decision.reason, version: state.version };
  if (decision.action === 'switch') {
    // A crashed run wrote everything but did not switch: finish its work.
    await switchTo(decision.manifest, deps, step);
    return { ...base, ...statsOf(decision.manifest), filesDeleted, outcome: 'switched', detail: 'completed an interrupted compaction', version: decision.manifest.version };
  }

  const { version, inputs } = decision;
  const claim: CompactionClaim = { owner: o.owner, version, startedAt: iso(deps.clock()), expiresAt: iso(deps.clock() + o.leaseMs) };
  const claimAt = claimKey(table, dt, hour, version);
  if (!(await deps.store.putIfAbsent(claimAt, encode(claim), JSON_TYPE))) {
    const held = await deps.store.get(claimAt);
    const other = held ? (decode(held) as CompactionClaim) : undefined;
    if (other && Date.parse(other.expiresAt) > deps.clock()) {
      return { ...base, filesDeleted, outcome: 'busy', detail: `version ${version} is being written by ${other.owner} until ${other.expiresAt}`, version: state.version };
    }
    // The claim expired: its run crashed. Take over, clearing whatever it left in the version folder.
    await deps.store.put(claimAt, encode(claim), JSON_TYPE);
  }
  const leftovers = (objects.keysByVersion.get(version) ?? []).filter((k) => k !== claimAt);
  if (leftovers.length > 0) await deps.store.delete(leftovers);
  await step('claimed');

  const schema = await deps.catalog.getTable(table);
  if (!schema) throw new Error(`catalog has no table ${table}`);
  const result = await deps.engine.compact({
    store: deps.store, inputs, outputPrefix: versionPrefix(table, dt, hour, version), columns: tableColumns(schema),
    targetFileBytes: o.targetFileBytes, maxPieceBytes: o.maxPieceBytes,
  });
  // A later run tells a settled partition by its outputs' names (isSettled): a misnamed output would hide late files.
  const misnamed = result.outputs.find((f) => !f.key.startsWith(versionPrefix(table, dt, hour, version)) || !isCompactionOutput(f.key.slice(f.key.lastIndexOf('/') + 1)));
  if (misnamed) throw new Error(`compaction engine wrote ${misnamed.key}: outputs must be ${versionPrefix(table, dt, hour, version)}part-<n>.parquet`);
  await step('written');

  const manifest: CompactionManifest = {
    format: MANIFEST_FORMAT, table, dt, hour, version, createdAt: iso(deps.clock()), inputs,
    outputs: result.outputs, rowsIn: result.rowsIn, rowsOut: result.rowsOut,
    bytesIn: result.bytesIn, bytesOut: result.outputs.reduce((n, f) => n + f.bytes, 0),
  };
  await deps.store.put(manifestKey(table, dt, hour, version), encode(manifest), JSON_TYPE);
  await step('manifest');
  await switchTo(manifest, deps, step);
  const why = lag === 'types' ? ' (rewritten with the table\'s column types)' : '';
  return { ...base, ...statsOf(manifest), filesDeleted, outcome: 'compacted', detail: `${inputs.length} files → ${manifest.outputs.length}${why}`, version };
}

async function switchTo(m: CompactionManifest, deps: CompactionDeps, step: (s: CompactionStep) => Promise<void>): Promise<void> {
  const location = deps.store.uri(versionPrefix(m.table, m.dt, m.hour, m.version));
  await deps.catalog.switchPartition(m.table, { dt: m.dt, hour: m.hour }, m.version, location);
  await adoptStragglers(m, deps);
  await step('switched');
  await deps.store.put(manifestKey(m.table, m.dt, m.hour, m.version), encode({ ...m, switchedAt: iso(deps.clock()) }), JSON_TYPE);
  await deps.store.delete([claimKey(m.table, m.dt, m.hour, m.version)]);
  await step('marked');
}

/**
 * Files ingest wrote into an older version while this compaction ran (it looked the version up before the
 * switch) are copied into the new one, so a reader of the catalog sees them now rather than after the next
 * compaction. The originals stay inputs of that compaction, which folds each copy with its original. Ingest
 * covers the other order (its write landing after this listing) by looking the version up again.
 */
async function adoptStragglers(m: CompactionManifest, deps: CompactionDeps): Promise<void> {
  const prefix = partitionPrefix(m.table, m.dt, m.hour);
  const objects = readPartitionObjects(prefix, await deps.store.list(prefix));
  const superseded = new Set(m.inputs);
  for (const [version, key] of objects.manifestKeys) {
    if (version >= m.version) continue;
    const body = await deps.store.get(key);
    if (body) for (const k of parseManifest(decode(body), key).inputs) superseded.add(k);
  }
  const target = versionPrefix(m.table, m.dt, m.hour, m.version);
  const present = new Set(objects.keysByVersion.get(m.version) ?? []);
  for (const f of objects.dataFiles) {
    const copy = target + f.key.slice(f.key.lastIndexOf('/') + 1);
    if (f.version >= m.version || superseded.has(f.key) || present.has(copy)) continue;
    const body = await deps.store.get(f.key);
    if (body) await deps.store.putIfAbsent(copy, body, { contentType: PARQUET_CONTENT_TYPE });
  }
}

function statsOf(m: CompactionManifest): Pick<PartitionCompaction, 'filesBefore' | 'filesAfter' | 'bytesBefore' | 'bytesAfter' | 'rowsIn' | 'rowsOut' | 'duplicatesRemoved'> {
  return {
    filesBefore: m.inputs.length, filesAfter: m.outputs.length, bytesBefore: m.bytesIn, bytesAfter: m.bytesOut,
    rowsIn: m.rowsIn, rowsOut: m.rowsOut, duplicatesRemoved: m.rowsIn - m.rowsOut,
  };
}

export interface LakeCompactionOptions {
  /** only these tables (default: every catalog table) */
  readonly tables?: readonly string[];
  /** only this date's partitions (YYYY-MM-DD); a date older than the lookback needs a longer `lookbackMs` */
  readonly dt?: string;
  /** a partition is compacted once its hour ended at least this long ago (default 15 min) */
  readonly graceMs?: number;
  /**
   * partitions whose hour ended longer ago than this are left alone (default 7 days), except those whose
   * columns lag the table's: their catalog columns are updated (a column added) or their files rewritten
   * (a column widened) whatever their age
   */
  readonly lookbackMs?: number;
  /** checked before each partition: true stops the run (a Lambda near its timeout); the next run goes on */
  readonly stopWhen?: () => boolean;
}

/**
 * A table's keys of the hour partitions from `fromDate` (YYYY-MM-DD; undefined: the first) up to the hour starting at `beforeHourMs`,
 * in one listing, by partition prefix: what a run needs to tell settled partitions (isSettled) from the others.
 */
export async function listHourPartitions(store: Pick<ObjectStore, 'list'>, table: string, fromDate: string | undefined, beforeHourMs: number): Promise<Map<string, string[]>> {
  const range = { ...(fromDate === undefined ? {} : { startAfter: `${tablePrefix(table)}dt=${fromDate}` }), before: partitionPrefix(table, utcDate(beforeHourMs), utcHour(beforeHourMs)) };
  const listed = new Map<string, string[]>();
  for (const key of await store.list(tablePrefix(table), range)) {
    const hourFolder = key.indexOf('/', key.indexOf('/hour=') + 1);
    if (hourFolder < 0) continue;
    const prefix = key.slice(0, hourFolder + 1);
    (listed.get(prefix) ?? listed.set(prefix, []).get(prefix)!).push(key);
  }
  return listed;
}

/** Compacts every closed partition in the window, one at a time (each may hold gigabytes). */
export async function compactClosedPartitions(deps: CompactionDeps, options: LakeCompactionOptions = {}): Promise<PartitionCompaction[]> {
  const now = deps.clock();
  const grace = options.graceMs ?? 15 * 60_000;
  const lookback = options.lookbackMs ?? 7 * 24 * 3_600_000;
  // A compaction late in the lookback leaves superseded files that expire only after it: partitions just
  // past the lookback are still visited for those, long enough for the retention delay and two more runs.
  const cleanup = lookback + (deps.options?.retentionMs ?? DEFAULT_COMPACTION_OPTIONS.retentionMs) + 2 * 3_600_000;
  const out: PartitionCompaction[] = [];
  // Only event tables: a job's output (hourly or daily) has no event_id to fold on and is replaced whole
  // by its job, even when a table is named explicitly.
  const events = new Set(await deps.catalog.listTables('event'));
  // Every closed hour this run may visit, listed once per table: a partition compacted earlier and unchanged
  // since is then skipped without a request, where each visit cost a LIST, a GET and a Glue call (48 an
  // hour per table, most of compaction's bill at low traffic). From the day the cleanup window starts to
  // the first hour still open.
  // (undefined: from the table's first day, when the lookback reaches back without end: `compact --date`)
  const listedFrom = Number.isFinite(now - cleanup) && now - cleanup > 0 ? utcDate(now - cleanup) : undefined;
  const firstOpen = Math.floor((now - grace) / MS_PER_HOUR) * MS_PER_HOUR;
  for (const table of (options.tables ?? [...events]).filter((t) => events.has(t))) {
    const schema = await deps.catalog.getTable(table);
    if (!schema) continue;
    const partitions = (await deps.catalog.listPartitions(table)).filter((p) => p.hour !== undefined && (!options.dt || p.dt === options.dt));
    const listed = await listHourPartitions(deps.store, table, listedFrom, firstOpen);
    // Partitions that only lack columns added since (their files lack them too, or hold them unseen): the
    // catalog alone is brought in step, whatever their age, a hundred partitions a call.
    const behind = partitions.filter((p) => partitionLag(p, schema) === 'columns');
    if (behind.length > 0) {
      await deps.catalog.addPartitions(table, behind, (p) => p.location);
      for (const p of behind) out.push({ ...NOTHING, table, dt: p.dt, hour: p.hour!, version: p.version, outcome: 'updated', detail: 'partition columns brought up to the table\'s' });
    }
    for (const p of partitions) {
      const end = hourEnd(p.dt, p.hour!);
      if (end + grace > now) continue;
      // A partition with a column of a narrower type than the table's is compacted whatever its age.
      const inWindow = end >= now - lookback || partitionLag(p, schema) === 'types';
      if (!inWindow && end < now - cleanup) continue;
      if (options.stopWhen?.()) return out;
      if ((listedFrom === undefined || p.dt >= listedFrom) && partitionLag(p, schema) === 'none' && isSettled(p.version, partitionPrefix(table, p.dt, p.hour!), listed.get(partitionPrefix(table, p.dt, p.hour!)) ?? [])) {
        if (inWindow) out.push({ ...NOTHING, table, dt: p.dt, hour: p.hour!, version: p.version, outcome: 'skipped', detail: 'already compacted' });
        continue;
      }
      const r = await compactPartition(table, p, deps, { cleanupOnly: !inWindow, schema });
      if (inWindow || r.filesDeleted > 0) out.push(r);
    }
  }
  return out;
}

const NOTHING = { filesBefore: 0, filesAfter: 0, bytesBefore: 0, bytesAfter: 0, rowsIn: 0, rowsOut: 0, duplicatesRemoved: 0, filesDeleted: 0 } as const;
