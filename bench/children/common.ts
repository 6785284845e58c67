// Shared by the benchmark's child processes: input batching and the result line the parent reads.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { encodeMskEvent, type MskEvent } from '../../functions/core/msk-event.js';

export interface Result {
  name: string;
  events: number;
  /** steady state: the second pass over the data */
  seconds: number;
  /** the first pass, in a fresh process */
  coldSeconds?: number;
  peakRssMb: number;
  bytesOut?: number;
  bytesIn?: number;
  filesBefore?: number;
  filesAfter?: number;
  rowsOut?: number;
}

/**
 * The file as MSK events of `size` records (offsets = line numbers), one at a time: while the handler
 * runs, the process holds that event and nothing else of the input, as a Lambda container holds only
 * the event its runtime parsed.
 */
export async function* mskEvents(file: string, size: number, timestamp: number): AsyncGenerator<{ event: MskEvent; records: number }> {
  let lines: string[] = [];
  let offset = 0;
  const event = (): { event: MskEvent; records: number } => {
    const e = encodeMskEvent(lines.map((l, k) => ({ topic: 'bench', partition: 0, offset: offset + k, timestamp, value: Buffer.from(l) })));
    const records = lines.length;
    offset += records;
    lines = [];
    return { event: e, records };
  };
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (line === '') continue;
    lines.push(line);
    if (lines.length >= size) yield event();
  }
  if (lines.length > 0) yield event();
}

/** Prints the result as the last line of stdout, with this process's peak RSS. */
export function report(r: Omit<Result, 'peakRssMb'>): void {
  if (process.env['BENCH_MEMORY_DETAIL']) console.error(JSON.stringify(process.memoryUsage()));
  console.log(JSON.stringify({ ...r, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}

export const args = (): { arg: string; file: string } => ({ arg: process.argv[2] ?? '', file: process.argv[3] ?? '' });
