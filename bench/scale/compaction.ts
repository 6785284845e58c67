// Counts what the real hourly compaction (compactClosedPartitions, functions/core/lake/compact-partition.ts)
// asks of S3 and Glue per partition, as a function of its input files and output files. The engine is a
// stand-in that reads each input through the store and writes the outputs it is told to, as the DuckDB
// engine does in Lambda (it downloads every input with store.get and uploads every part with store.put).
import type { CompactionEngine, CompactionJob, CompactionResult } from '../../functions/core/lake/compact-partition.js';
import { compactClosedPartitions } from '../../functions/core/lake/compact-partition.js';
import { GlueCatalog } from '../../functions/adapters/catalog/glue.js';
import type { FakeGlue } from '../../test/glue-endpoint.js';
import { Counts, HOUR, keepingStore, openContainer, sampleBatch, typeWeights } from './harness.js';
import { rng } from '../../functions/cli/traffic.js';

/** Requests per partition of an hourly run: a + perInput × inputs + perOutput × outputs; visits of compacted ones. */
export interface CompactionCost {
  readonly fixed: Counts;
  readonly perInput: Counts;
  readonly perOutput: Counts;
  /** the run after the retention delay: superseded inputs deleted, manifest marked */
  readonly cleanup: Counts;
  /** every later run within the lookback: the partition visited and skipped */
  readonly visit: Counts;
  /** per table per run: GetTable, GetPartitions, and the run's GetTables */
  readonly perTableRun: Counts;
}

class StandInEngine implements CompactionEngine {
  outputs = 1;
  async compact(job: CompactionJob): Promise<CompactionResult> {
    let bytesIn = 0;
    for (const key of job.inputs) bytesIn += (await job.store.get(key))?.byteLength ?? 0;
    const outputs = [];
    for (let i = 0; i < this.outputs; i++) {
      const key = `${job.outputPrefix}part-${String(i).padStart(5, '0')}.parquet`;
      await job.store.put(key, new Uint8Array(16), { contentType: 'application/vnd.apache.parquet' });
      outputs.push({ key, rows: 1, bytes: 16 });
    }
    return { rowsIn: job.inputs.length, rowsOut: this.outputs, bytesIn, outputs };
  }
}

/**
 * Three tables in one catalog, each with one closed hour of n input files written by the real ingest
 * (one event type per table, one file per batch), compacted to k outputs: (4, 1), (8, 1), (8, 3). The
 * differences give the cost per input and per output; the runs after give cleanup and visits.
 */
export async function measureCompaction(glue: FakeGlue): Promise<CompactionCost> {
  let current = new Counts();
  const store = keepingStore(() => current);
  const hour = Date.UTC(2026, 11, 5, 10);
  const shapes: Array<[string, number, number]> = [['cal_a', 4, 1], ['cal_b', 8, 1], ['cal_c', 8, 3]];
  const container = openContainer({ store, glue, counts: () => current });
  const r = rng(11);
  for (const [table, n] of shapes) {
    const offsets = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const b = sampleBatch({ fullRecords: 20, partitions: 1, weights: typeWeights(1), scale: 1, now: hour + 60_000 * (i + 1), windowMs: 1000, offsets, r, firstPartition: 0, topic: table });
      // the batch's single event type is ev_00: rename it to this table
      for (const list of Object.values(b.event.records)) for (const rec of list) {
        rec.value = Buffer.from(Buffer.from(rec.value!, 'base64').toString().replace('"ev_00"', `"${table}"`)).toString('base64');
      }
      await container.ingest(b.event, hour + 60_000 * (i + 1) + 1000);
    }
  }
  const engine = new StandInEngine();
  let clock = hour + HOUR + 20 * 60_000; // the hourly run at :20 after the hour closed
  const catalog = new GlueCatalog(glue.client, 'tributary');
  const deps = { store, catalog, engine, clock: () => clock, options: { owner: 'bench', retentionMs: 60 * 60_000 } };
  const run = async (table: string, outputs: number): Promise<Counts> => {
    engine.outputs = outputs;
    current = new Counts();
    const before = glue.calls.length;
    await compactClosedPartitions(deps, { tables: [table], lookbackMs: 48 * HOUR });
    current.glue = glue.calls.length - before;
    return current;
  };
  const a = await run('cal_a', 1);
  const b = await run('cal_b', 1);
  const c = await run('cal_c', 3);
  clock += HOUR + 60_000; // past the retention delay
  const cleanup = await run('cal_a', 1);
  clock += HOUR;
  const visit = await run('cal_a', 1);
  // A run over a table none of whose partitions is due: what the run costs per table besides its partitions.
  clock = hour + 30 * 60_000;
  const perTableRun = await run('cal_a', 1);
  const perInput = b.minus(a);
  scale(perInput, 1 / 4);
  const perOutput = c.minus(b);
  scale(perOutput, 1 / 2);
  const fixed = a.minus(perTableRun);
  const four = perInput.copy();
  scale(four, 4);
  return { fixed: fixed.minus(four).minus(perOutput), perInput, perOutput, cleanup: cleanup.minus(perTableRun), visit: visit.minus(perTableRun), perTableRun };
}

export function scale(c: Counts, f: number): void {
  for (const k of ['s3Put', 's3Get', 's3List', 'lakeFiles', 'lakeBytes', 'glue', 'inserts', 'ingestLogInserts', 'spools', 'spoolBytes'] as const) c[k] *= f;
  for (const m of [c.insertsByTable, c.filesByTable]) for (const [t, n] of m) m.set(t, n * f);
}
