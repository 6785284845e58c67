// When each produced event becomes visible to a reader, found by polling: in ClickHouse through the tables'
// `_dedup` views (what BI tools query), in the lake as a Parquet file under a partition the catalog has
// registered (what Athena reads). An event_id carries its produce time (`<prefix>-<seq>-<epoch ms>`);
// an event's latency is the end of the first poll that saw it minus that time, so it errs high by at most
// one poll interval plus the poll itself.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetReadObjects } from 'hyparquet';
import type { LocalJsonCatalog } from '../../functions/adapters/catalog/local-json.js';
import type { ClickHouseWarehouse } from '../../functions/adapters/warehouse/clickhouse.js';
import { quoteIdentifier } from '../../functions/core/identifiers.js';
import { dedupViewName } from '../../functions/core/warehouse/clickhouse-ddl.js';
import { zstdWasm } from '../../functions/core/parquet/zstd.js';

/** First-seen time per event of this run, and the poll's own cost. */
export class Sightings {
  /** event_id → latency in ms */
  readonly latencyMs = new Map<string, number>();
  polls = 0;
  pollMs = 0;
  /** events first seen by the last sweep, not by a poll (older than the poll's lookback) */
  late = 0;

  constructor(private readonly prefix: string) {}

  saw(eventId: string, at: number, late = false): void {
    if (!eventId.startsWith(`${this.prefix}-`) || this.latencyMs.has(eventId)) return;
    const producedAt = Number(eventId.slice(eventId.lastIndexOf('-') + 1));
    this.latencyMs.set(eventId, at - producedAt);
    if (late) this.late++;
  }
}

export interface Watcher {
  readonly sightings: Sightings;
  poll(): Promise<void>;
  /** one last look without the poll's bounds */
  sweep(): Promise<void>;
}

/** `_dedup` views: one UNION ALL query per poll over the events produced in the last `lookbackMs`. */
export function dedupWatcher(warehouse: ClickHouseWarehouse, tables: readonly string[], prefix: string, lookbackMs: number): Watcher {
  const sightings = new Sightings(prefix);
  const query = (sinceMs: number | undefined): string => tables
    .map((t) => `SELECT event_id FROM ${quoteIdentifier(warehouse.database)}.${quoteIdentifier(dedupViewName(t))}${sinceMs === undefined ? '' : ` WHERE event_time >= fromUnixTimestamp64Milli(toInt64(${Math.floor(sinceMs)}))`}`)
    .join(' UNION ALL ');
  const run = async (sinceMs: number | undefined, late: boolean): Promise<void> => {
    const t = performance.now();
    const rows = await warehouse.query<{ event_id: string }>(query(sinceMs));
    const at = Date.now();
    for (const r of rows) sightings.saw(r.event_id, at, late);
    sightings.polls++;
    sightings.pollMs += performance.now() - t;
  };
  return { sightings, poll: () => run(Date.now() - lookbackMs, false), sweep: () => run(undefined, true) };
}

/** Lake files under the partitions the catalog lists (a file in an unregistered partition is not readable yet). */
export function lakeWatcher(catalog: LocalJsonCatalog, tables: readonly string[], prefix: string): Watcher {
  const sightings = new Sightings(prefix);
  const seenFiles = new Set<string>();
  const decompress = zstdWasm();
  const look = async (): Promise<void> => {
    const t = performance.now();
    const wasm = await decompress;
    for (const table of tables) {
      const stored = await catalog.read(table);
      for (const p of stored?.Partitions ?? []) {
        const dir = fileURLToPath(p.StorageDescriptor.Location);
        let names: string[];
        try { names = await readdir(dir); } catch { continue; }
        for (const name of names) {
          const path = join(dir, name);
          if (!name.endsWith('.parquet') || seenFiles.has(path)) continue;
          seenFiles.add(path);
          const bytes = await readFile(path);
          const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
          const rows = await parquetReadObjects({ file, columns: ['event_id'], compressors: { ZSTD: (input: Uint8Array) => wasm.decompress(input) } });
          const at = Date.now();
          for (const r of rows) sightings.saw(String(r['event_id']), at);
        }
      }
    }
    sightings.polls++;
    sightings.pollMs += performance.now() - t;
  };
  return { sightings, poll: look, sweep: look };
}
