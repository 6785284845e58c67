// The schema registry: one immutable document per table version under `_registry/events/<table>/` in the
// object store. Writers append the next version with a conditional put (If-None-Match), so two invocations
// that evolve a table at once cannot both win: the loser re-reads and re-plans. Readers cache entries for a
// short TTL, which is how `schema push` takes effect without a deploy or a restart. A refresh lists every
// table's versions in one LIST and reads only the entries whose latest version changed: per container and
// TTL one request, not a LIST and a GET per table (50 tables every 30 s was most of ingest's S3 bill).
import {
  ADOPTED_SOURCE, applyDeclared, declarationHash, describeChange, nextEntry, parseRegistryEntry, REGISTRY_PREFIX,
  registryKey, registryPrefix, schemaOf, type RegistryEntry,
} from './registry-entry.js';
import type { ObjectStore } from '../ports.js';
import type { TableSchema } from './model.js';

export interface DeclaredSchemas {
  /** The declared schema of an event table, if a file pins it. */
  declared(table: string): TableSchema | undefined;
  /** How the registry's history names the declared document, e.g. `schema file purchase.json`. */
  sourceOf(table: string): string;
}

export interface SchemaRegistryOptions {
  /** how long a loaded entry is trusted before it is re-read (default 30 s) */
  readonly ttlMs?: number;
  readonly clock?: () => number;
  /** schema files shipped with the deployment; each is applied once (when its content is new) */
  readonly declared?: DeclaredSchemas;
  /**
   * The schema of a table that exists without a registry entry (the catalog's, from before the
   * registry): a declaration applied to such a table is checked against it, like against a version.
   */
  readonly adopt?: (table: string) => Promise<TableSchema | undefined>;
}

export interface CurrentSchemas {
  readonly entries: ReadonlyMap<string, RegistryEntry>;
  /** declared files that could not be applied; ingest goes on with the registry's schema */
  readonly problems: readonly string[];
}

const JSON_TYPE = { contentType: 'application/json' };
const MAX_ATTEMPTS = 8;

export class SchemaRegistry {
  /** `key`: the version document the entry was read from (undefined: the table had none) */
  private readonly cache = new Map<string, { entry: RegistryEntry | undefined; key: string | undefined; loadedAt: number }>();
  private readonly ttlMs: number;
  private readonly clock: () => number;

  constructor(private readonly store: ObjectStore, private readonly options: SchemaRegistryOptions = {}) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.clock = options.clock ?? Date.now;
  }

  /** The latest stored version of a table, bypassing the cache. */
  async read(table: string): Promise<RegistryEntry | undefined> {
    const keys = (await this.store.list(registryPrefix(table))).filter((k) => k.endsWith('.json'));
    return this.load(table, keys.at(-1), this.clock());
  }

  private async load(table: string, latest: string | undefined, loadedAt: number): Promise<RegistryEntry | undefined> {
    let entry: RegistryEntry | undefined;
    if (latest) {
      const body = await this.store.get(latest);
      if (!body) throw new Error(`registry version ${latest} was listed but cannot be read`);
      entry = parseRegistryEntry(JSON.parse(Buffer.from(body).toString('utf8')), latest);
    }
    this.cache.set(table, { entry, key: latest, loadedAt });
    return entry;
  }

  /**
   * Brings `tables` (and every other cached table) up to date with one LIST of the whole registry: an entry
   * whose latest version is unchanged is only marked fresh, a changed one is read. The listing grows with
   * the versions of all tables (1,000 keys a page): a few pages at most for a registry of hundreds of tables.
   */
  private async refresh(tables: Iterable<string>): Promise<void> {
    const now = this.clock();
    const latest = new Map<string, string>();
    for (const key of await this.store.list(REGISTRY_PREFIX)) {
      const slash = key.indexOf('/', REGISTRY_PREFIX.length);
      if (!key.endsWith('.json') || slash < 0) continue;
      const table = key.slice(REGISTRY_PREFIX.length, slash);
      const seen = latest.get(table);
      if (seen === undefined || key > seen) latest.set(table, key);
    }
    for (const table of new Set([...tables, ...this.cache.keys()])) {
      const key = latest.get(table);
      const hit = this.cache.get(table);
      if (hit && hit.key === key) this.cache.set(table, { ...hit, loadedAt: now });
      else await this.load(table, key, now);
    }
  }

  /** Current entries for the tables of a batch (cached for the TTL), after applying new declared files. */
  async current(tables: Iterable<string>): Promise<CurrentSchemas> {
    const entries = new Map<string, RegistryEntry>();
    const problems: string[] = [];
    const wanted = [...tables];
    const now = this.clock();
    if (wanted.some((t) => { const hit = this.cache.get(t); return !hit || now - hit.loadedAt >= this.ttlMs; })) await this.refresh(wanted);
    for (const table of wanted) {
      let entry = this.cache.get(table)?.entry;
      const declared = this.options.declared?.declared(table);
      if (declared && !entry?.appliedDeclarations.includes(declarationHash(declared))) {
        try {
          entry = (await this.pin(declared, this.options.declared!.sourceOf(table))).entry;
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
      if (entry) entries.set(table, entry);
    }
    return { entries, problems };
  }

  /**
   * Appends `entry` as the next version. False when another writer stored that version first: the caller
   * re-reads (the cache is already refreshed) and re-plans.
   */
  async commit(entry: RegistryEntry): Promise<boolean> {
    const body = Buffer.from(JSON.stringify(entry, null, 2));
    if (await this.store.putIfAbsent(registryKey(entry.table, entry.version), body, JSON_TYPE)) {
      this.cache.set(entry.table, { entry, key: registryKey(entry.table, entry.version), loadedAt: this.clock() });
      return true;
    }
    await this.read(entry.table);
    return false;
  }

  /**
   * Applies a declared schema: a new `pinned` version, unless the document is already applied. A schema
   * file is applied once (`once`: a later `schema push` wins until the file changes); a push applies
   * unless it is the declaration in force, so pushing an earlier document again restores it (its PII
   * handling included). Throws SchemaCompatibilityError for unsafe changes.
   */
  async pin(declared: TableSchema, source: string, when: 'once' | 'unless-in-force' = 'once'): Promise<{ entry: RegistryEntry; changed: boolean }> {
    const hash = declarationHash(declared);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const prev = await this.read(declared.table);
      const applied = prev?.appliedDeclarations ?? [];
      if (when === 'once' ? applied.includes(hash) : applied.at(-1) === hash) return { entry: prev!, changed: false };
      const adopted = prev ? undefined : await this.options.adopt?.(declared.table);
      const before = prev ? schemaOf(prev) : adopted;
      const schema = applyDeclared(before, declared);
      const entry = nextEntry(prev, schema, {
        now: this.clock(), status: 'pinned', defaultSource: source, declarationHash: hash,
        ...(adopted ? { sources: new Map(adopted.properties.map((c) => [c.name, ADOPTED_SOURCE])) } : {}),
        change: `pinned by ${source}: ${describeChange(before, schema)}`,
      });
      if (await this.commit(entry)) return { entry, changed: true };
    }
    throw new Error(`schema registry: ${declared.table} kept changing under ${MAX_ATTEMPTS} attempts to pin it`);
  }

  /** Every table with at least one version. */
  async tables(): Promise<string[]> {
    const keys = await this.store.list(REGISTRY_PREFIX);
    return [...new Set(keys.map((k) => k.slice(REGISTRY_PREFIX.length).split('/')[0]!))].sort();
  }
}
