// Shared by the benchmark's child processes: input batching and the result line the parent reads.
import { createReadStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encodeMskEvent, type MskEvent } from '../../functions/core/decode/msk-event.js';

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
  /** data files written, batches and ClickHouse inserts made (`tributary ingest` and its baseline) */
  files?: number;
  batches?: number;
  inserts?: number;
  /** opening the local store (chDB), apart from `seconds` */
  openSeconds?: number;
}

/**
 * Writes the NDJSON file as MSK events of `size` records (offsets = line numbers), one JSON file per
 * event, the payload a Lambda runtime receives. Returns the directory.
 */
export async function writeMskEvents(file: string, size: number, timestamp: number, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  let lines: string[] = [];
  let offset = 0;
  let n = 0;
  const flush = (): void => {
    const event = encodeMskEvent(lines.map((l, k) => ({ topic: 'bench', partition: 0, offset: offset + k, timestamp, value: Buffer.from(l) })));
    writeFileSync(join(dir, `${String(n++).padStart(6, '0')}.json`), JSON.stringify(event));
    offset += lines.length;
    lines = [];
  };
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (line === '') continue;
    lines.push(line);
    if (lines.length >= size) flush();
  }
  if (lines.length > 0) flush();
  return dir;
}

/**
 * The events of a directory written by writeMskEvents, parsed one at a time from their JSON text as a
 * Lambda runtime parses its invocation payload: while the handler runs, the process holds that event and
 * nothing else of the input.
 */
export function* mskEvents(dir: string): Generator<{ event: MskEvent; records: number }> {
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const event = JSON.parse(readFileSync(join(dir, name), 'utf8')) as MskEvent;
    yield { event, records: Object.values(event.records).reduce((n, r) => n + r.length, 0) };
  }
}

/** Prints the result as the last line of stdout, with this process's peak RSS. */
export function report(r: Omit<Result, 'peakRssMb'>): void {
  if (process.env['BENCH_MEMORY_DETAIL']) console.error(JSON.stringify(process.memoryUsage()));
  console.log(JSON.stringify({ ...r, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}

export const args = (): { arg: string; file: string } => ({ arg: process.argv[2] ?? '', file: process.argv[3] ?? '' });
