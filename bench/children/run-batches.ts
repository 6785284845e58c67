import type { IngestReport } from '../../functions/core/ingest.js';
import type { MskEvent } from '../../functions/core/decode/msk-event.js';
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
  const cold = await pass(dir, ingest, 0);
  // The second pass carries the records at later offsets: new batches to a warm consumer, not a
  // redelivery of the first pass (which keeps the files it finds and makes ClickHouse drop its inserts).
  const warm = await pass(dir, ingest, 1_000_000_000);
  return { events: warm.events, seconds: warm.seconds, coldSeconds: cold.seconds, bytesOut: warm.bytesOut };
}

async function pass(dir: string, ingest: Ingest, offsetShift: number): Promise<{ events: number; seconds: number; bytesOut: number }> {
  let events = 0;
  let seconds = 0;
  let bytesOut = 0;
  for (const batch of mskEvents(dir)) {
    events += batch.records;
    if (offsetShift > 0) for (const list of Object.values(batch.event.records)) for (const r of list) r.offset += offsetShift;
    const t = performance.now();
    const r = await ingest(batch.event);
    seconds += (performance.now() - t) / 1000;
    bytesOut += r.files.reduce((n, f) => n + f.bytes, 0);
  }
  return { events, seconds, bytesOut };
}
