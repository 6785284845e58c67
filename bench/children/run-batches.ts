import type { IngestReport } from '../../functions/core/ingest.js';
import { encodeMskEvent, type MskEvent } from '../../functions/core/msk-event.js';
import { chunks } from './common.js';

/** Feeds the file as MSK batches of `size`; only the handler's time is counted. */
export async function runBatches(file: string, size: number, now: number, ingest: (e: MskEvent) => Promise<IngestReport>): Promise<{ events: number; seconds: number; bytesOut: number }> {
  let events = 0;
  let seconds = 0;
  let bytesOut = 0;
  for await (const lines of chunks(file, size)) {
    const first = events;
    events += lines.length;
    const event = encodeMskEvent(lines.map((l, k) => ({ topic: 'bench', partition: 0, offset: first + k, timestamp: now, value: Buffer.from(l) })));
    const t = performance.now();
    const r = await ingest(event);
    seconds += (performance.now() - t) / 1000;
    bytesOut += r.files.reduce((n, f) => n + f.bytes, 0);
  }
  return { events, seconds, bytesOut };
}
