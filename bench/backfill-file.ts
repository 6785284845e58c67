// A multi-day backfill file for `tributary ingest`: the traffic generator's events over `days` days, in a
// seeded shuffled order (an export sorted by user or by source, not by time), so every stretch of the
// file touches every hour of every event type. The shape that made `ingest` write thousands of small files.
import { writeFileSync } from 'node:fs';
import { generateTraffic, rng } from '../functions/cli/traffic.js';

export interface BackfillOptions {
  readonly events: number;
  /** the first hour (epoch ms); the events spread over [start, start + days) */
  readonly start: number;
  readonly days?: number;
  readonly seed?: number;
  readonly malformedRate?: number;
}

/** The file's lines, deterministic in the options. */
export function backfillLines(o: BackfillOptions): string[] {
  const end = o.start + (o.days ?? 2) * 86_400_000;
  const lines = generateTraffic({ start: o.start, end, events: o.events, seed: o.seed ?? 7, malformedRate: o.malformedRate ?? 0 }).map((r) => r.value.toString('utf8'));
  const random = rng((o.seed ?? 7) + 1);
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  return lines;
}

export function writeBackfillFile(path: string, o: BackfillOptions): void {
  writeFileSync(path, backfillLines(o).join('\n') + '\n');
}
