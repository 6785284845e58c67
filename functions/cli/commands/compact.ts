// `tributary compact [--table T] [--date D] [--grace-minutes N] [--target-mb N] [--retention-minutes N]`:
// compacts the local lake's closed hour partitions, as the scheduled compaction function does in AWS.
import { compactClosedPartitions, type PartitionCompaction } from '../../core/lake/compact-partition.js';
import { isValidEventName } from '../../core/identifiers.js';
import type { LocalRuntime } from '../local-runtime.js';
import { formatBytes, formatTable } from '../print.js';
import { UsageError } from '../errors.js';

export interface CompactCommandOptions {
  readonly table?: string;
  readonly date?: string;
  readonly graceMinutes: number;
  readonly targetMb: number;
  readonly retentionMinutes: number;
}

export async function runCompact(runtime: LocalRuntime, o: CompactCommandOptions): Promise<{ text: string; results: PartitionCompaction[] }> {
  if (o.table !== undefined && !isValidEventName(o.table)) throw new UsageError(`--table ${JSON.stringify(o.table)} is not a table name`);
  if (o.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(o.date)) throw new UsageError('--date must be YYYY-MM-DD');
  if (o.table !== undefined) {
    // A table that is not there would be "checked 0 partitions" and exit 0: say which tables there are.
    const tables = (await runtime.eventTables()).sort();
    if (!tables.includes(o.table)) {
      throw new UsageError(tables.length > 0 ? `no table ${o.table} in the local lake; its tables: ${tables.join(', ')}`
        : `no table ${o.table}: the local lake has no tables yet (run npm start, or tributary ingest <file.ndjson>)`);
    }
  }
  const started = performance.now();
  const results = await compactClosedPartitions(
    runtime.compaction({ targetFileBytes: o.targetMb * 1024 * 1024, retentionMs: o.retentionMinutes * 60_000 }),
    // A named date is compacted whatever its age: --date overrides the lookback.
    { ...(o.table ? { tables: [o.table] } : {}), ...(o.date ? { dt: o.date, lookbackMs: Infinity } : {}), graceMs: o.graceMinutes * 60_000 },
  );
  const seconds = (performance.now() - started) / 1000;
  const worked = results.filter((r) => r.outcome !== 'skipped' || r.filesDeleted > 0);
  const lines = [`Checked ${results.length} closed partitions in ${seconds.toFixed(1)} s: ` +
    `${results.filter((r) => r.outcome === 'compacted').length} compacted, ${results.filter((r) => r.outcome === 'busy').length} busy, ` +
    `${results.reduce((n, r) => n + r.duplicatesRemoved, 0)} duplicate rows removed, ${results.reduce((n, r) => n + r.filesDeleted, 0)} superseded files deleted` +
    `${results.some((r) => r.outcome === 'updated') ? `, ${results.filter((r) => r.outcome === 'updated').length} partitions' columns brought up to the table's` : ''}`];
  if (worked.length > 0) {
    lines.push(formatTable(worked.map((r) => ({
      partition: `${r.table}/dt=${r.dt}/hour=${String(r.hour).padStart(2, '0')}`, outcome: r.outcome, version: r.version,
      files: `${r.filesBefore} → ${r.filesAfter}`, bytes: `${formatBytes(r.bytesBefore)} → ${formatBytes(r.bytesAfter)}`,
      rows: `${r.rowsIn} → ${r.rowsOut}`, deleted: r.filesDeleted,
    }))));
  }
  return { text: lines.join('\n'), results };
}
