// The compaction engine: DuckDB reads a partition's Parquet files, keeps one row per event_id (the latest
// received_at, as ClickHouse's ReplacingMergeTree(received_at) does) and writes zstd Parquet files of
// about the target size. Chosen by measurement (docs/benchmarks.md): it streams and spills to disk under a
// memory limit, and its native module fits a Lambda bundle.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { CompactionEngine, CompactionJob, CompactionResult } from '../../core/lake/compact-partition.js';
import { withSignedZeroStatistics } from '../../core/lake/float-statistics.js';
import { compactionOutputName } from '../../core/lake/layout.js';
import { PARQUET_CONTENT_TYPE } from '../../core/parquet/lake-file.js';
import type { ColumnType } from '../../core/schema/model.js';

export interface DuckDbEngineOptions {
  /** where inputs are downloaded and outputs written before upload (Lambda: /tmp, ≤ 10 GB) */
  readonly scratchDir?: string;
  /** DuckDB memory_limit, e.g. '2GB'; beyond it DuckDB spills to the scratch directory */
  readonly memoryLimit?: string;
  readonly threads?: number;
  /** a local file for a key when the store is a directory, read in place instead of copied */
  readonly localPath?: (key: string) => string | undefined;
}

const DUCK_TYPES: Record<ColumnType, string> = {
  boolean: 'BOOLEAN', int32: 'INTEGER', int64: 'BIGINT', double: 'DOUBLE',
  string: 'VARCHAR', json: 'VARCHAR', timestamp: 'TIMESTAMPTZ', date: 'DATE',
};

// Names are validated upstream ([a-z0-9_]); quoting is the second line of defence.
const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`;

export class DuckDbCompactionEngine implements CompactionEngine {
  constructor(private readonly options: DuckDbEngineOptions = {}) {}

  async compact(job: CompactionJob): Promise<CompactionResult> {
    const scratch = this.options.scratchDir ?? tmpdir();
    await mkdir(scratch, { recursive: true });
    const work = await mkdtemp(join(scratch, 'tributary-compact-'));
    try {
      const { paths, bytesIn } = await this.stage(job, join(work, 'in'));
      const instance = await DuckDBInstance.create(':memory:', {
        threads: String(this.options.threads ?? 1),
        temp_directory: join(work, 'spill'),
        preserve_insertion_order: 'false',
        ...(this.options.memoryLimit ? { memory_limit: this.options.memoryLimit } : {}),
      });
      const db = await instance.connect();
      try {
        const source = `read_parquet([${paths.map(literal).join(', ')}], union_by_name = true)`;
        const present = new Set((await rows(db, `DESCRIBE SELECT * FROM ${source}`)).map((r) => String(r['column_name'])));
        const select = job.columns.map((c) => `${present.has(c.name) ? `CAST(${ident(c.name)} AS ${DUCK_TYPES[c.type]})` : `CAST(NULL AS ${DUCK_TYPES[c.type]})`} AS ${ident(c.name)}`).join(', ');
        // DuckDB's dictionaries fold -0.0 into 0.0 (or the reverse: whichever came first), so a partition whose
        // doubles hold a -0.0 is written without dictionaries (PLAIN keeps every bit); the others keep them.
        const doubles = job.columns.filter((c) => c.type === 'double' && present.has(c.name)).map((c) => `CAST(${ident(c.name)} AS DOUBLE)`);
        const negativeZero = doubles.length > 0 ? `, bool_or(${doubles.map((d) => `(${d} = 0 AND signbit(${d}))`).join(' OR ')}) AS z` : '';
        const [counted] = await rows(db, `SELECT count(*) AS n${negativeZero} FROM ${source}`);
        const rowsIn = Number(counted!['n']);
        const plain = counted!['z'] === true ? ', DICTIONARY_SIZE_LIMIT 0' : '';
        // Bounded pieces: rows split by a hash of event_id, so every duplicate of an event meets its twins.
        const pieces = Math.max(1, Math.ceil(bytesIn / job.maxPieceBytes));
        const outputs: Array<{ key: string; rows: number; bytes: number }> = [];
        await mkdir(join(work, 'out'), { recursive: true });
        for (let piece = 0; piece < pieces; piece++) {
          const dir = join(work, 'out', String(piece));
          // A Kafka record delivered twice keeps its first copy, as ClickHouse does (it drops the repeated
          // insert by its token); of different records of one event_id, the latest received_at wins.
          await db.run(`COPY (
            SELECT ${select} FROM (
              SELECT * FROM ${source}
              ${pieces > 1 ? `WHERE hash(event_id) % ${pieces} = ${piece}` : ''}
              QUALIFY row_number() OVER (PARTITION BY _topic, _partition, _offset ORDER BY received_at) = 1
            )
            QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY received_at DESC, _topic DESC, _partition DESC, _offset DESC) = 1
            ORDER BY event_time, event_id
          ) TO ${literal(dir)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880,
            FILE_SIZE_BYTES ${Math.max(1, Math.floor(job.targetFileBytes))}, FILENAME_PATTERN 'part_{i}'${plain})`);
          for (const name of (await readdir(dir)).sort(byNumber)) {
            const path = join(dir, name);
            const n = Number((await rows(db, `SELECT count(*) AS n FROM read_parquet(${literal(path)})`))[0]!['n']);
            const key = job.outputPrefix + compactionOutputName(outputs.length);
            // Zero extremes per the format's rule, and no bloom filter over doubles (see float-statistics.ts).
            const body = withSignedZeroStatistics(await readFile(path));
            await job.store.put(key, body, { contentType: PARQUET_CONTENT_TYPE });
            outputs.push({ key, rows: n, bytes: body.byteLength });
            await rm(path);
          }
        }
        return { rowsIn, rowsOut: outputs.reduce((s, o) => s + o.rows, 0), bytesIn, outputs };
      } finally {
        db.closeSync();
        instance.closeSync();
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Local paths for the inputs: in place for a directory store, downloaded otherwise. */
  private async stage(job: CompactionJob, dir: string): Promise<{ paths: string[]; bytesIn: number }> {
    await mkdir(dir, { recursive: true });
    const paths: string[] = [];
    let bytesIn = 0;
    for (const [i, key] of job.inputs.entries()) {
      const local = this.options.localPath?.(key);
      if (local) {
        bytesIn += (await stat(local)).size;
        paths.push(local);
        continue;
      }
      const body = await job.store.get(key);
      if (!body) throw new Error(`compaction input ${key} disappeared`);
      const path = join(dir, `${i}.parquet`);
      await writeFile(path, body);
      bytesIn += body.byteLength;
      paths.push(path);
    }
    return { paths, bytesIn };
  }
}

async function rows(db: DuckDBConnection, sql: string): Promise<Array<Record<string, unknown>>> {
  return (await db.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>;
}

const byNumber = (a: string, b: string): number => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]);
