// Shared by the benchmark's child processes: input batching and the result line the parent reads.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

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

/** The file's lines, `size` at a time, so a child holds one batch like a Lambda does, not the whole file. */
export async function* chunks(file: string, size: number): AsyncGenerator<string[]> {
  let chunk: string[] = [];
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (line === '') continue;
    chunk.push(line);
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** Prints the result as the last line of stdout, with this process's peak RSS. */
export function report(r: Omit<Result, 'peakRssMb'>): void {
  if (process.env['BENCH_MEMORY_DETAIL']) console.error(JSON.stringify(process.memoryUsage()));
  console.log(JSON.stringify({ ...r, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}

export const args = (): { arg: string; file: string } => ({ arg: process.argv[2] ?? '', file: process.argv[3] ?? '' });
