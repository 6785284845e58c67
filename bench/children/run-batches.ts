import type { IngestReport } from '../../functions/core/ingest.js';
import type { MskEvent } from '../../functions/core/msk-event.js';
import { mskEvents } from './common.js';

/** The handler under measurement; only the files it reports are read. */
type Ingest = (e: MskEvent) => Promise<Pick<IngestReport, 'files'>>;

export interface BatchRun {
  events: number;
  /** the second pass: a warm consumer's steady state */
  seconds: number;
  /** the first pass: a new container (JIT and WebAssembly tiers warming up, tables being created) */
  coldSeconds: number;
  bytesOut: number;
}

/**
 * Feeds the events in `dir` (written by writeMskEvents) to the handler, twice, counting only the
 * handler's time. A Lambda container lives for thousands of batches, so the second pass is the
 * throughput that matters; the first is reported next to it.
 */
export async function runBatches(dir: string, ingest: Ingest): Promise<BatchRun> {
  const cold = await pass(dir, ingest);
  const warm = await pass(dir, ingest);
  return { events: warm.events, seconds: warm.seconds, coldSeconds: cold.seconds, bytesOut: warm.bytesOut };
}

async function pass(dir: string, ingest: Ingest): Promise<{ events: number; seconds: number; bytesOut: number }> {
  let events = 0;
  let seconds = 0;
  let bytesOut = 0;
  for (const batch of mskEvents(dir)) {
    events += batch.records;
    const t = performance.now();
    const r = await ingest(batch.event);
    seconds += (performance.now() - t) / 1000;
    bytesOut += r.files.reduce((n, f) => n + f.bytes, 0);
  }
  return { events, seconds, bytesOut };
}
