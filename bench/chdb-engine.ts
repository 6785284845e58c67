// The alternative compaction engine the benchmark measures against DuckDB: embedded ClickHouse (chDB).
// Not used by the product: chDB's 570 MB library does not fit a Lambda bundle.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Session } from 'chdb';
import { clickhouseType } from '../functions/core/warehouse/clickhouse-ddl.js';
import type { CompactionEngine, CompactionJob, CompactionResult } from '../functions/core/lake/compact-partition.js';
import { quoteIdentifier, quoteString } from '../functions/core/identifiers.js';

function commonDir(paths: readonly string[]): string {
  let dir = dirname(paths[0]!);
  while (!paths.every((p) => p.startsWith(`${dir}/`))) dir = dirname(dir);
  return dir;
}

export class ChdbCompactionEngine implements CompactionEngine {
  constructor(private readonly localPath: (key: string) => string) {}

  async compact(job: CompactionJob): Promise<CompactionResult> {
    const work = mkdtempSync(join(tmpdir(), 'bench-chdb-compact-'));
    const session = new Session(join(work, 'db'));
    try {
      const paths = job.inputs.map(this.localPath);
      const bytesIn = paths.reduce((n, p) => n + statSync(p).size, 0);
      const structure = job.columns.map((c) => `${quoteIdentifier(c.name)} ${clickhouseType(c)}`).join(', ');
      // ClickHouse globs take {a,b} alternatives inside a path, not whole absolute paths.
      const root = commonDir(paths);
      const source = `file(${quoteString(`${root}/{${paths.map((p) => p.slice(root.length + 1)).join(',')}}`)}, 'Parquet', ${quoteString(structure)})`;
      const rowsIn = Number(session.query(`SELECT count() FROM ${source}`, 'CSV').trim());
      const out = join(work, 'part-00000.parquet');
      session.query(`INSERT INTO FUNCTION file(${quoteString(out)}, 'Parquet')
        SELECT * FROM (
          SELECT * FROM (SELECT * FROM ${source} ORDER BY _topic, _partition, _offset, received_at LIMIT 1 BY _topic, _partition, _offset)
          ORDER BY event_id, received_at DESC, _topic DESC, _partition DESC, _offset DESC LIMIT 1 BY event_id)
        ORDER BY event_time, event_id
        SETTINGS output_format_parquet_compression_method = 'zstd', max_threads = 1`);
      const rowsOut = Number(session.query(`SELECT count() FROM file(${quoteString(out)}, 'Parquet')`, 'CSV').trim());
      const body = readFileSync(out);
      const key = `${job.outputPrefix}part-00000.parquet`;
      await job.store.put(key, body, { contentType: 'application/vnd.apache.parquet' });
      return { rowsIn, rowsOut, bytesIn, outputs: [{ key, rows: rowsOut, bytes: body.byteLength }] };
    } finally {
      session.cleanup();
      rmSync(work, { recursive: true, force: true });
    }
  }
}
