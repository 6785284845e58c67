// The process chaos run's checks between stages (nothing in flight) and at the end: the lake through the
// catalog, ClickHouse raw tables and `_dedup` views, `_ingest_log`, quarantine and, spooling, the spool's
// offsets, lineage and the lake's quarantine, against what Kafka delivered and what was committed.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parseManifest, type CompactionManifest } from '../../functions/core/lake/compaction-plan.js';
import { QUARANTINE_TABLE } from '../../functions/core/lake/layout.js';
import { LINEAGE_TABLE } from '../../functions/core/lake/materialize.js';
import { readSpool, SPOOL_MANIFEST_PREFIX, SPOOL_OFFSETS_KEY, SPOOL_PENDING_PREFIX, type SpoolHeader } from '../../functions/core/lake/spool.js';
import type { ClickHouseHttp } from '../clickhouse-http.js';
import type { FakeGlue } from '../glue-endpoint.js';
import type { Rec, Traffic } from './traffic.js';

export interface SinkFigures { rows: number; lost: number; duplicated: number; unexpected: number }
export interface StageFigures {
  readonly stage: number;
  readonly lake: SinkFigures & { crossBatchCopies: number; stranded: number };
  readonly clickhouseRaw: SinkFigures;
  readonly clickhouseDedup: SinkFigures;
  readonly ingestLog: { rows: number; duplicated: number; missingBatches: number };
  readonly quarantine: { records: number; missing: number; duplicated: number; wrongReason: number };
  /** spool mode only */
  readonly spool?: SpoolFigures;
}

export interface SpoolFigures {
  /** spool objects pending, manifests open */
  pending: number;
  openManifests: number;
  /** records materialized (at or below their table's offset in `_spool/offsets.json`) */
  materialized: number;
  /** committed records neither materialized nor in a pending spool */
  unaccounted: number;
  /** lineage rows (lake/_ingest_log) of finished manifests against the materialized records */
  lineage: { rows: number; lost: number; duplicated: number };
  /** the lake's quarantine files: poison records materialized, missing, in more than one file */
  lakeQuarantine: { records: number; missing: number; duplicated: number };
  /** at the end: topic-partitions with a record whose table's offset in `_spool/offsets.json` is below it */
  offsetsWrong: number;
  /**
   * at the end: topic-partitions whose floor (every table done below it) is behind the last produced offset
   * although every table's offset is at its end (not a loss: see docs/guarantees.md#the-spool-is-effectively-once)
   */
  floorBehind: number;
}

export interface CheckInput {
  readonly lakeCommitted: number[];
  readonly chCommitted: number[];
  readonly lakeDelivered: Map<string, Set<string>>;
  readonly chDelivered: Map<string, Set<string>>;
  readonly committedBatches: Set<string>;
  readonly final: boolean;
}

interface LakeRow { readonly file: string; readonly event_id: string; readonly p: number; readonly o: number }

export class Checker {
  private readonly cache = new Map<string, LakeRow[]>();
  private readonly spoolHeaders = new Map<string, SpoolHeader>();
  /** compaction manifests by object version (a manifest is rewritten when marked) */
  private readonly manifests = new Map<string, CompactionManifest>();
  /** scratch file names: unique across the sections a check runs at once */
  private files = 0;
  constructor(private readonly s3: S3Client, private readonly bucket: string, private readonly glue: FakeGlue, private readonly ch: ClickHouseHttp,
    private readonly traffic: Traffic, private readonly dir: string, private readonly spooling = false) { mkdirSync(dir, { recursive: true }); }

  private materializedEvents(done: (p: number, o: number) => boolean): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    this.traffic.partitions.forEach((records, p) => {
      for (const r of records) if ('table' in r && done(p, r.offset)) (out.get(r.table) ?? out.set(r.table, new Set()).get(r.table)!).add(r.id);
    });
    return out;
  }

  /** Rows of small Parquet files (lineage, quarantine), read whole each time. */
  private async parquetRows<T>(files: ReadonlyArray<{ key: string }>, schema: string): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < files.length; i += 200) {
      const names = await Promise.all(files.slice(i, i + 200).map(async (f, j) => {
        const name = `s${this.files++}-${i + j}.parquet`;
        writeFileSync(join(this.dir, name), await this.get(f.key));
        return name;
      }));
      if (names.length === 0) continue;
      out.push(...await this.query<T>(`SELECT * FROM file('${this.dir}/{${names.join(',')}}', 'Parquet', '${schema}')`));
      for (const name of names) rmSync(join(this.dir, name));
    }
    return out;
  }

  /**
   * Which records the materializer has taken, from `_spool/offsets.json`: per topic-partition a floor (every
   * table done up to it) and per (table or quarantine, topic-partition) an offset; a record is materialized when
   * its table's is at or past it. (The floor stays below a pending spool's first offset that the manifest did
   * not take, a redelivery with other boundaries included, so the per-table offsets say more.)
   */
  async materialized(): Promise<{ done: (p: number, o: number) => boolean; floors: number[] }> {
    const body = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: SPOOL_OFFSETS_KEY })).then((r) => r.Body!.transformToString(), () => '[]');
    const offsets = new Map(JSON.parse(body) as Array<[string, number]>);
    const floors = this.traffic.partitions.map((_, p) => offsets.get(`chaos\u0000${p}`) ?? -1);
    const done = (p: number, o: number): boolean => {
      const rec = this.traffic.partitions[p]![o]!;
      const unit = 'table' in rec ? `data\u0000${rec.table}` : `quarantine\u0000${QUARANTINE_TABLE}`;
      return o <= Math.max(floors[p]!, offsets.get(`${unit}\u0000chaos\u0000${p}`) ?? -1);
    };
    return { done, floors };
  }

  /**
   * What spool mode promises besides the lake files: every committed record materialized or in a pending spool;
   * lineage of exactly the materialized records; the lake's quarantine holding each materialized poison record
   * once; at the end nothing pending and the offsets at the produced ends.
   */
  private async checkSpool(c: CheckInput, m: Awaited<ReturnType<Checker['materialized']>>, note: (line: string) => void): Promise<SpoolFigures> {
    const pending = (await this.list(SPOOL_PENDING_PREFIX)).filter((f) => f.key.endsWith('.spool'));
    const manifests = new Set((await this.list(SPOOL_MANIFEST_PREFIX)).map((f) => f.key.slice(SPOOL_MANIFEST_PREFIX.length).replace(/\.json$/, '')));
    const covered: Array<Array<[number, number]>> = this.traffic.partitions.map(() => []);
    for (const f of pending) {
      const id = `${f.key}@${f.etag}`;
      let header = this.spoolHeaders.get(id);
      if (!header) {
        const body = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: f.key })).then((r) => r.Body!.transformToByteArray(), () => undefined);
        if (!body) continue; // consumed since the listing (nothing is in flight at a check: does not happen)
        header = readSpool(body, f.key).header;
        this.spoolHeaders.set(id, header);
      }
      for (const r of header.ranges) if (r.topic === 'chaos') covered[r.partition]?.push([r.firstOffset, r.lastOffset]);
    }
    // per partition, the records materialized
    const taken = this.traffic.partitions.map((records, p) => records.filter((r) => m.done(p, r.offset)).length);
    const figures: SpoolFigures = {
      pending: pending.length, openManifests: manifests.size, materialized: taken.reduce((a, b) => a + b, 0), unaccounted: 0,
      lineage: { rows: 0, lost: 0, duplicated: 0 }, lakeQuarantine: { records: 0, missing: 0, duplicated: 0 }, offsetsWrong: 0, floorBehind: 0,
    };
    c.lakeCommitted.forEach((committed, p) => {
      for (let o = 0; o < committed; o++) {
        if (m.done(p, o) || covered[p]!.some(([a, z]) => a <= o && o <= z)) continue;
        figures.unaccounted++;
        note(`spool: committed record ${p}:${o} neither materialized (per offsets.json) nor in a pending spool`);
      }
    });

    // Lineage: a manifest's rows of a table and partition lie past that table's offset before it and up to its
    // own, so the rows whose last offset is materialized are exactly the finished manifests': one per record.
    // Rows past the offsets belong to the open manifest (written before its offsets step) and nothing else.
    const lineage = await this.parquetRows<{ manifest: string; event: string; outcome: string; _partition: number; last_offset: string; rows: string }>(
      (await this.list(`lake/${LINEAGE_TABLE}/`)).filter((f) => f.key.endsWith('.parquet')),
      'manifest String, event String, outcome String, _topic String, _partition Int32, last_offset Int64, rows Int64');
    const perPartition = this.traffic.partitions.map(() => 0);
    const perUnit = new Map<string, number>();
    for (const r of lineage) {
      const p = Number(r._partition);
      const last = Number(r.last_offset);
      if (!m.done(p, last)) {
        if (!manifests.has(r.manifest)) note(`lineage: manifest ${r.manifest} (no longer open) logged ${r.event} ${p}:…${last}, past the offsets`);
        continue;
      }
      figures.lineage.rows += Number(r.rows);
      perPartition[p] = perPartition[p]! + Number(r.rows);
      const unit = `${p}\u0000${r.outcome === 'quarantined' ? '' : r.event}`;
      perUnit.set(unit, (perUnit.get(unit) ?? 0) + Number(r.rows));
    }
    perPartition.forEach((n, p) => {
      const must = taken[p]!;
      if (n < must) { figures.lineage.lost += must - n; note(`lineage: ${n} rows of partition ${p} for ${must} materialized records`); }
      if (n > must) { figures.lineage.duplicated += n - must; note(`lineage: ${n} rows of partition ${p} for ${must} materialized records`); }
    });
    if (c.final) {
      // each table's (and the quarantine's) records, per partition
      const expected = new Map<string, number>();
      this.traffic.partitions.forEach((records, p) => {
        for (const r of records) { const unit = `${p}\u0000${'table' in r ? r.table : ''}`; expected.set(unit, (expected.get(unit) ?? 0) + 1); }
      });
      for (const [unit, n] of expected) {
        if ((perUnit.get(unit) ?? 0) !== n) note(`lineage: ${perUnit.get(unit) ?? 0} rows for ${unit.replace('\u0000', ' ') || 'quarantine'} where ${n} records were produced`);
      }
    }

    // The lake's quarantine (spooled with the batch, written by the materializer): each poison record once.
    const quarantined = await this.parquetRows<{ _partition: number; _offset: string }>(
      (await this.list(`lake/${QUARANTINE_TABLE}/`)).filter((f) => f.key.endsWith('.parquet')), '_partition Int32, _offset Int64');
    const inLakeQuarantine = new Map<string, number>();
    for (const q of quarantined) { const k = `${q._partition}:${q._offset}`; inLakeQuarantine.set(k, (inLakeQuarantine.get(k) ?? 0) + 1); }
    figures.lakeQuarantine.records = inLakeQuarantine.size;
    for (const [k, n] of inLakeQuarantine) {
      const [p, o] = k.split(':').map(Number) as [number, number];
      const rec = this.traffic.partitions[p]?.[o];
      if (!rec || !('poison' in rec)) note(`lake quarantine: ${k} is not a poison record`);
      if (n > 1) { figures.lakeQuarantine.duplicated += n - 1; note(`lake quarantine: ${k} in ${n} rows`); }
    }
    this.traffic.partitions.forEach((records, p) => {
      for (const rec of records) {
        if ('poison' in rec && m.done(p, rec.offset) && !inLakeQuarantine.has(`${p}:${rec.offset}`)) { figures.lakeQuarantine.missing++; note(`lake quarantine: materialized poison ${p}:${rec.offset} (${rec.poison}) missing`); }
      }
    });

    if (c.final) {
      if (pending.length > 0) note(`spool: ${pending.length} spool objects still pending after the final run`);
      if (manifests.size > 0) note(`spool: ${manifests.size} manifests still open after the final run`);
      m.floors.forEach((floor, p) => {
        const last = this.traffic.partitions[p]!.length - 1;
        if (taken[p] !== last + 1) { figures.offsetsWrong++; note(`spool: offsets.json counts ${taken[p]} records of partition ${p} materialized, ${last + 1} were produced`); }
        if (floor > last) note(`spool: offsets.json has partition ${p}'s floor at ${floor}, past the last produced offset ${last}`);
        if (floor < last) figures.floorBehind++;
      });
    }
    return figures;
  }

  private async query<T>(sql: string): Promise<T[]> {
    const text = (await this.ch.session.queryAsync(sql, { format: 'JSONEachRow' })).text().trim();
    return text ? text.split('\n').map((l) => JSON.parse(l) as T) : [];
  }

  private async list(prefix: string): Promise<Array<{ key: string; etag: string }>> {
    const out: Array<{ key: string; etag: string }> = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const c of page.Contents ?? []) out.push({ key: c.Key!, etag: c.ETag ?? '' });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  private async get(key: string): Promise<Uint8Array> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return out.Body!.transformToByteArray();
  }

  /** event_id and Kafka position of every row of these files (read once per object version). */
  private async rows(files: Array<{ key: string; etag: string }>): Promise<LakeRow[]> {
    const fresh = files.filter((f) => !this.cache.has(`${f.key}@${f.etag}`));
    for (let i = 0; i < fresh.length; i += 200) {
      const chunk = fresh.slice(i, i + 200);
      const names = new Map<string, string>();
      await Promise.all(chunk.map(async (f, j) => {
        const name = `f${this.files++}-${i + j}.parquet`;
        writeFileSync(join(this.dir, name), await this.get(f.key));
        names.set(name, `${f.key}@${f.etag}`);
      }));
      for (const id of names.values()) this.cache.set(id, []);
      const got = await this.query<{ f: string; event_id: string; p: number; o: string }>(
        `SELECT _file AS f, event_id, _partition AS p, _offset AS o FROM file('${this.dir}/{${[...names.keys()].join(',')}}', 'Parquet', 'event_id String, _partition Int32, _offset Int64')`);
      for (const g of got) {
        const id = names.get(g.f)!;
        this.cache.get(id)!.push({ file: id.split('@')[0]!, event_id: g.event_id, p: g.p, o: Number(g.o) });
      }
      for (const name of names.keys()) rmSync(join(this.dir, name));
    }
    return files.flatMap((f) => this.cache.get(`${f.key}@${f.etag}`)!);
  }

  async check(stage: number, c: CheckInput): Promise<{ stage: StageFigures; violations: string[] }> {
    const violations: string[] = [];
    const note = (line: string): void => { if (violations.length < 40) violations.push(line); };
    const recordOf = (p: number, o: number): Rec | undefined => this.traffic.partitions[p]?.[o];
    const committedEvents = (committed: number[]): Map<string, Set<string>> => {
      const m = new Map<string, Set<string>>();
      committed.forEach((upTo, p) => {
        for (let o = 0; o < upTo; o++) {
          const r = this.traffic.partitions[p]![o]!;
          if ('table' in r) (m.get(r.table) ?? m.set(r.table, new Set()).get(r.table)!).add(r.id);
        }
      });
      return m;
    };

    // ---- lake, through the catalog (spooling: the records materialized must be there, the others in pending spools)
    const materialized = this.spooling ? await this.materialized() : undefined;
    const lakeMust = materialized ? this.materializedEvents(materialized.done) : committedEvents(c.lakeCommitted);
    const lake = { rows: 0, lost: 0, duplicated: 0, unexpected: 0, crossBatchCopies: 0, stranded: 0 };
    // The sinks are independent: their sections run at once (a stage's checks are on its critical path).
    const lakeSection = async (): Promise<void> => {
      const all = await this.list('lake/');
      await Promise.all([...lakeMust].map(async ([table, must]) => {
        const partitions = this.glue.partitions.get(table) ?? [];
        const visible: Array<{ key: string; etag: string }> = [];
        const stragglers: Array<{ key: string; etag: string }> = [];
        /** stragglers of partitions whose compaction switched the catalog but had not yet copied them in */
        const midSwitch: Array<{ key: string; etag: string }> = [];
        for (const part of partitions) {
          const location = String(part['StorageDescriptor']['Location']).replace(`s3://${this.bucket}/`, '');
          const folder = location.endsWith('/') ? location : `${location}/`;
          const partitionFolder = folder.replace(/_v\d{4,}\/$/, '');
          const current = Number(/_v(\d{4,})\/$/.exec(folder)?.[1] ?? 0);
          const inPartition = all.filter((f) => f.key.startsWith(partitionFolder));
          const superseded = new Set<string>();
          let switching = false;
          for (const m of inPartition.filter((f) => f.key.endsWith('_manifest.json'))) {
            const id = `${m.key}@${m.etag}`;
            let manifest = this.manifests.get(id);
            if (!manifest) {
              manifest = parseManifest(JSON.parse(Buffer.from(await this.get(m.key)).toString('utf8')), m.key);
              this.manifests.set(id, manifest);
            }
            if (manifest.version <= current) for (const k of manifest.inputs) superseded.add(k);
            // The catalog is at this version and its manifest is not marked switched: the run died between the
            // switch and copying the stragglers in (both switchTo and the next run's repair copy before marking).
            if (manifest.version === current && manifest.switchedAt === undefined) switching = true;
          }
          for (const f of inPartition) {
            if (!f.key.endsWith('.parquet')) continue;
            const rest = f.key.slice(partitionFolder.length);
            const version = Number(/^_v(\d{4,})\//.exec(rest)?.[1] ?? 0);
            if (f.key.startsWith(folder) && !f.key.slice(folder.length).includes('/')) visible.push(f);
            else if (version < current && !superseded.has(f.key)) (switching ? midSwitch : stragglers).push(f);
          }
        }
        const rows = await this.rows(visible);
        const seen = new Map<string, number>();
        const perRecord = new Map<string, number>();
        const inParts = new Map<string, number>();
        for (const r of rows) {
          lake.rows++;
          seen.set(r.event_id, (seen.get(r.event_id) ?? 0) + 1);
          const name = r.file.split('/').at(-1)!;
          if (name.startsWith('part-')) inParts.set(r.event_id, (inParts.get(r.event_id) ?? 0) + 1);
          else perRecord.set(`${r.p}:${r.o}`, (perRecord.get(`${r.p}:${r.o}`) ?? 0) + 1);
          const rec = recordOf(r.p, r.o);
          if (!rec || !('table' in rec) || rec.id !== r.event_id) { lake.unexpected++; note(`lake ${table}: row ${r.event_id} at ${r.p}:${r.o} (${r.file}) matches no record sent`); }
        }
        for (const [id, n] of inParts) if (n > 1) { lake.duplicated += n - 1; note(`lake ${table}: ${id} ${n} times in compacted files`); }
        for (const [k, n] of perRecord) {
          // Spooling, the materializer takes each Kafka record once, whatever the deliveries.
          const bound = this.spooling ? 1 : c.lakeDelivered.get(k)?.size ?? 0;
          if (n > bound) { lake.duplicated += n - bound; note(`lake ${table}: record ${k} in ${n} ingest files, delivered in ${bound} distinct batches`); }
        }
        for (const [, n] of seen) if (n > 1) lake.crossBatchCopies += n - 1;
        if (c.final) for (const [id, n] of seen) if (n > 1) { lake.duplicated += n - 1; note(`lake ${table}: ${id} ${n} times after the final compaction`); }
        const strandedIds = new Set((await this.rows(stragglers)).map((r) => r.event_id));
        const waitingIds = new Set((await this.rows(midSwitch)).map((r) => r.event_id));
        for (const id of must) {
          if (seen.has(id)) continue;
          if (waitingIds.has(id) && !c.final) {
            // Only a compaction killed between its switch and its copying of stragglers leaves one, in that
            // partition, for its next run: allowed there and nowhere else.
            lake.stranded++;
            continue;
          }
          if (strandedIds.has(id) && !c.final) {
            lake.stranded++;
            note(`lake ${table}: committed ${id} only in a file of a version the catalog left`);
            continue;
          }
          lake.lost++;
          note(`lake ${table}: committed ${id} not readable through the catalog${strandedIds.has(id) ? ' (in a straggler file)' : ''}`);
        }
      }));
    };

    // ---- ClickHouse: raw tables, then the _dedup views
    const chMust = committedEvents(c.chCommitted);
    const rawFigures = { rows: 0, lost: 0, duplicated: 0, unexpected: 0 };
    const dedupFigures = { rows: 0, lost: 0, duplicated: 0, unexpected: 0 };
    const clickhouseSection = async (): Promise<void> => {
      const exists = new Set((await this.query<{ name: string }>(`SELECT name FROM system.tables WHERE database = 'tributary'`)).map((t) => t.name));
      // The distinct batches that carried each event: the most copies its raw table may hold before merges.
      const bound = new Map<string, number>();
      for (const [k, ranges] of c.chDelivered) {
        const [p, off] = k.split(':').map(Number) as [number, number];
        const rec = recordOf(p, off);
        if (rec && 'table' in rec) bound.set(rec.id, (bound.get(rec.id) ?? 0) + ranges.size);
      }
      for (const [table, must] of chMust) {
        const expectedIds = this.traffic.expected.get(table)!;
        for (const [view, f] of [[table, rawFigures], [`${table}_dedup`, dedupFigures]] as const) {
          if (!exists.has(view)) { f.lost += must.size; if (must.size) note(`clickhouse ${view}: missing with ${must.size} committed events`); continue; }
          const got = await this.query<{ event_id: string; n: string }>(`SELECT event_id, count() AS n FROM tributary.${view} GROUP BY event_id`);
          const seen = new Set<string>();
          for (const g of got) {
            const n = Number(g.n);
            f.rows += n;
            seen.add(g.event_id);
            if (!expectedIds.has(g.event_id)) { f.unexpected++; note(`clickhouse ${view}: ${g.event_id} matches no event sent`); continue; }
            const most = view === table && !c.final ? bound.get(g.event_id) ?? 0 : 1;
            if (n > most) { f.duplicated += n - most; note(`clickhouse ${view}: ${g.event_id} ${n} times, at most ${most} allowed`); }
          }
          for (const id of must) if (!seen.has(id)) { f.lost++; note(`clickhouse ${view}: committed ${id} missing`); }
        }
      }
    };

    // ---- the ingest log: one row per file and topic-partition, every committed batch present
    // A file several batches wrote (a poison record's quarantine file, redelivered with other boundaries) has a
    // row from each until a merge folds them: one row per file and batch is what each batch's token allows.
    const ingestLog = { rows: 0, duplicated: 0, missingBatches: 0 };
    const ingestLogSection = async (): Promise<void> => {
      const logRows = await this.query<{ n: string; batches: string; key: string }>(
        `SELECT count() AS n, uniqExact(batch_key) AS batches, any(file_key) AS key FROM tributary_ops._ingest_log GROUP BY event, file_key, _topic, _partition`).catch(() => []);
      for (const r of logRows) {
        ingestLog.rows += Number(r.n);
        const most = c.final ? Number(r.batches) : Number(r.batches);
        if (Number(r.n) > most) { ingestLog.duplicated += Number(r.n) - most; note(`_ingest_log: ${Number(r.n)} rows for ${r.key} from ${r.batches} batches`); }
      }
      const logged = new Set((await this.query<{ b: string }>('SELECT DISTINCT batch_key AS b FROM tributary_ops._ingest_log').catch(() => [])).map((r) => r.b));
      // A merge keeps one row per file: a batch whose files another batch also wrote (the same records of a
      // table, or the same poison record, under other boundaries) may be named by that batch's row instead.
      const spans = [...logged].map((b) => /\+(\d+)\+(\d+)-(\d+)$/.exec(b)).filter((m): m is RegExpExecArray => m !== null).map((m) => [Number(m[1]), Number(m[2]), Number(m[3])] as const);
      for (const b of c.committedBatches) {
        if (logged.has(b)) continue;
        const [, p, first, last] = (/\+(\d+)\+(\d+)-(\d+)$/.exec(b) ?? []).map(Number) as [number, number, number, number];
        if (spans.some(([q, a, z]) => q === p && a <= last && z >= first)) continue;
        ingestLog.missingBatches++; note(`_ingest_log: committed batch ${b} has no row, nor does any batch overlapping it`);
      }
    };

    // ---- quarantine: every committed poison record once (after merges; raw bounded by its deliveries), with its reason
    const quarantine = { records: 0, missing: 0, duplicated: 0, wrongReason: 0 };
    const quarantineSection = async (): Promise<void> => {
      const q = await this.query<{ p: number; o: string; n: string; reasons: string[] }>(
        `SELECT _partition AS p, _offset AS o, count() AS n, groupUniqArray(reason) AS reasons FROM tributary_ops._quarantine WHERE _topic = 'chaos' GROUP BY p, o`).catch(() => []);
      quarantine.records = q.length;
      const inQuarantine = new Set<string>();
      for (const r of q) {
        const k = `${r.p}:${r.o}`;
        inQuarantine.add(k);
        const rec = recordOf(r.p, Number(r.o));
        if (!rec || !('poison' in rec)) { note(`quarantine: ${k} is not a poison record (${r.reasons.join(',')})`); continue; }
        if (r.reasons.length !== 1 || r.reasons[0] !== rec.poison) { quarantine.wrongReason++; note(`quarantine: ${k} reasons ${r.reasons.join(',')}, expected ${rec.poison}`); }
        const most = c.final ? 1 : c.chDelivered.get(k)?.size ?? 0;
        if (Number(r.n) > most) { quarantine.duplicated += Number(r.n) - most; note(`quarantine: ${k} ${r.n} rows, at most ${most}`); }
      }
      c.chCommitted.forEach((upTo, p) => {
        for (let o = 0; o < upTo; o++) {
          const r = this.traffic.partitions[p]![o]!;
          if ('poison' in r && !inQuarantine.has(`${p}:${o}`)) { quarantine.missing++; note(`quarantine: committed poison ${p}:${o} (${r.poison}) missing`); }
        }
      });
    };

    const [spool] = await Promise.all([
      materialized ? this.checkSpool(c, materialized, note) : undefined, lakeSection(), clickhouseSection(), ingestLogSection(), quarantineSection(),
    ]);
    return { stage: { stage, lake, clickhouseRaw: rawFigures, clickhouseDedup: dedupFigures, ingestLog, quarantine, ...(spool ? { spool } : {}) }, violations };
  }
}

/** The figures of every sink at every stage (summed) and at the end, as the chaos runs print them. */
export function formatSinkFigures(stages: readonly StageFigures[], final: StageFigures): string[] {
  const line = (name: string, f: SinkFigures): string => `${name.padEnd(26)} ${String(f.rows).padStart(7)} rows  lost ${f.lost}  duplicated ${f.duplicated}  unexpected ${f.unexpected}`;
  const summed = (f: (s: StageFigures) => SinkFigures): SinkFigures => ({
    rows: 0, lost: stages.reduce((n, s) => n + f(s).lost, 0), duplicated: stages.reduce((n, s) => n + f(s).duplicated, 0), unexpected: stages.reduce((n, s) => n + f(s).unexpected, 0),
  });
  const total = (f: (s: StageFigures) => number): number => stages.reduce((n, s) => n + f(s), 0);
  return [
    `at every stage (summed over ${stages.length}):`,
    `  ${line('lake (through the catalog)', summed((s) => s.lake))}`,
    `  ${line('ClickHouse raw', summed((s) => s.clickhouseRaw))}`,
    `  ${line('ClickHouse _dedup', summed((s) => s.clickhouseDedup))}`,
    `  most cross-batch copies awaiting compaction in the lake: ${Math.max(0, ...stages.map((s) => s.lake.crossBatchCopies))}; most events readable only after the next compaction (stragglers): ${Math.max(0, ...stages.map((s) => s.lake.stranded))}`,
    `  _ingest_log duplicated ${total((s) => s.ingestLog.duplicated)}, committed batches missing ${total((s) => s.ingestLog.missingBatches)} · quarantine missing ${total((s) => s.quarantine.missing)}, duplicated ${total((s) => s.quarantine.duplicated)}, wrong reason ${total((s) => s.quarantine.wrongReason)}`,
    'at the end (compaction past every hour, merges):',
    `  ${line('lake', final.lake)}`,
    `  ${line('ClickHouse raw', final.clickhouseRaw)}`,
    `  ${line('ClickHouse _dedup', final.clickhouseDedup)}`,
    `  quarantine ${final.quarantine.records} records, missing ${final.quarantine.missing}, duplicated ${final.quarantine.duplicated}, wrong reason ${final.quarantine.wrongReason} · _ingest_log ${final.ingestLog.rows} rows`,
  ];
}
