// What compaction should do for one hour partition, decided from the partition's objects, its manifests
// and the version the catalog points at. Pure: the orchestration in compact-partition.ts does the I/O.
//
// A partition's versions: version 0 is the folder itself (ingest's files); compaction N writes
// `_v<NNNN>/part-*.parquet` plus `_manifest.json` (inputs it superseded, outputs it wrote), then points the
// catalog at `_v<NNNN>/`. Superseded inputs are deleted only after a retention delay, so a reader that
// resolved the old location just before the switch still finds its files.
import { isCompactionOutput, parsePartitionKey } from './layout.js';

export const MANIFEST_FORMAT = 'tributary.compaction/1';

export interface CompactionManifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly table: string;
  readonly dt: string;
  readonly hour: number;
  readonly version: number;
  readonly createdAt: string;
  /** data files this version replaces (deleted after the retention delay) */
  readonly inputs: readonly string[];
  readonly outputs: ReadonlyArray<{ key: string; rows: number; bytes: number }>;
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** when the catalog was switched to this version */
  readonly switchedAt?: string;
  /** when the superseded inputs were deleted */
  readonly inputsDeletedAt?: string;
}

export interface CompactionClaim {
  readonly owner: string;
  readonly version: number;
  readonly startedAt: string;
  readonly expiresAt: string;
}

export interface PartitionObjects {
  /** Parquet data files with the version folder each lives in */
  readonly dataFiles: ReadonlyArray<{ key: string; version: number }>;
  readonly manifestKeys: ReadonlyMap<number, string>;
  readonly claimKeys: ReadonlyMap<number, string>;
  /** every key under a version folder, by version (to clear what a crashed run left) */
  readonly keysByVersion: ReadonlyMap<number, readonly string[]>;
}

/** Sorts a partition's listing into data files, manifests and claims by version. */
export function readPartitionObjects(prefix: string, keys: readonly string[]): PartitionObjects {
  const dataFiles: Array<{ key: string; version: number }> = [];
  const manifestKeys = new Map<number, string>();
  const claimKeys = new Map<number, string>();
  const keysByVersion = new Map<number, string[]>();
  for (const key of keys) {
    const parsed = parsePartitionKey(prefix, key);
    if (!parsed) continue;
    (keysByVersion.get(parsed.version) ?? keysByVersion.set(parsed.version, []).get(parsed.version)!).push(key);
    if (parsed.name === '_manifest.json') manifestKeys.set(parsed.version, key);
    else if (parsed.name === '_claim.json') claimKeys.set(parsed.version, key);
    else if (parsed.name.endsWith('.parquet')) dataFiles.push({ key, version: parsed.version });
  }
  return { dataFiles, manifestKeys, claimKeys, keysByVersion };
}

export type CompactionDecision =
  /** a previous run wrote version N completely but crashed before switching the catalog to it */
  | { readonly action: 'switch'; readonly manifest: CompactionManifest }
  | { readonly action: 'compact'; readonly version: number; readonly inputs: readonly string[] }
  | { readonly action: 'none'; readonly reason: string };

/**
 * Decides the next step. Inputs are every data file in a version the catalog has reached that no switched
 * manifest superseded: the current version's files plus stragglers that ingest wrote into an older
 * version while a compaction was switching. Files in versions the catalog has not reached are leftovers of
 * a crashed compaction, never inputs. `rewrite` compacts a partition that is already compacted, when its
 * files must take the table's current columns (a column added or widened since).
 */
export function planCompaction(objects: PartitionObjects, manifests: ReadonlyMap<number, CompactionManifest>, catalogVersion: number, rewrite = false): CompactionDecision {
  const next = catalogVersion + 1;
  const pending = manifests.get(next);
  if (pending) return { action: 'switch', manifest: pending };

  const superseded = new Set<string>();
  for (const [version, m] of manifests) if (version <= catalogVersion) for (const k of m.inputs) superseded.add(k);
  const inputs = objects.dataFiles.filter((f) => f.version <= catalogVersion && !superseded.has(f.key)).map((f) => f.key).sort();
  if (inputs.length === 0) return { action: 'none', reason: 'no data files' };
  const compacted = new Set(manifests.get(catalogVersion)?.outputs.map((o) => o.key) ?? []);
  // Every input an output of the current version: nothing new arrived (a large partition has several).
  if (!rewrite && inputs.every((k) => compacted.has(k))) return { action: 'none', reason: 'already compacted' };
  return { action: 'compact', version: next, inputs };
}

/**
 * A partition with nothing to do, told from its keys alone: the catalog's version holds its manifest and
 * compaction outputs only (no claim, no file ingest wrote there after the switch), and every other version
 * holds at most its manifest (the inputs it superseded deleted, no straggler, no crashed run's leftovers).
 */
export function isSettled(catalogVersion: number, prefix: string, keys: readonly string[]): boolean {
  if (catalogVersion === 0) return false;
  let manifest = false;
  for (const key of keys) {
    const parsed = parsePartitionKey(prefix, key);
    if (!parsed) return false;
    if (parsed.name === '_manifest.json') { if (parsed.version === catalogVersion) manifest = true; continue; }
    if (parsed.version !== catalogVersion || !isCompactionOutput(parsed.name)) return false;
  }
  return manifest;
}

/** Manifests whose superseded inputs may now be deleted: switched at least `retentionMs` ago. */
export function expiredManifests(manifests: ReadonlyMap<number, CompactionManifest>, catalogVersion: number, now: number, retentionMs: number): CompactionManifest[] {
  return [...manifests.values()].filter((m) =>
    m.version <= catalogVersion && m.switchedAt !== undefined && m.inputsDeletedAt === undefined
    && Date.parse(m.switchedAt) + retentionMs <= now);
}

export function parseManifest(doc: unknown, where: string): CompactionManifest {
  const m = doc as Partial<CompactionManifest> | null;
  if (!m || m.format !== MANIFEST_FORMAT || !Number.isSafeInteger(m.version) || !Array.isArray(m.inputs) || !Array.isArray(m.outputs)) {
    throw new Error(`${where}: not a ${MANIFEST_FORMAT} manifest`);
  }
  return m as CompactionManifest;
}
