// Tumbling daily and hourly windows in UTC, and whether a window's results are final yet.
import { pad2 } from '../time.js';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

export type WindowKind = 'daily' | 'hourly';

export interface JobWindow {
  /** YYYY-MM-DD */
  readonly date: string;
  /** 0–23 for an hourly window */
  readonly hour?: number;
  readonly start: number;
  readonly end: number;
}

/** @deprecated name kept for readability where only days exist */
export type DayWindow = JobWindow;

export class WindowError extends Error {
  override readonly name = 'WindowError';
}

export function dayWindow(date: string): DayWindow {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const start = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || !Number.isFinite(start) || new Date(start).toISOString().slice(0, 10) !== date) throw new WindowError(`${JSON.stringify(date)} is not a date (YYYY-MM-DD)`);
  return { date, start, end: start + DAY_MS };
}

/**
 * final: the window closed and its allowed lateness passed (results will not change);
 * provisional: the window is open or within its lateness (results marked is_final = false);
 * future: nothing to compute yet.
 */
export function windowStatus(w: DayWindow, now: number, latenessMs: number): 'final' | 'provisional' | 'future' {
  if (now >= w.end + latenessMs) return 'final';
  if (now >= w.start) return 'provisional';
  return 'future';
}

/** Every date from `from` to `to` inclusive. */
export function datesBetween(from: string, to: string): string[] {
  const a = dayWindow(from).start;
  const b = dayWindow(to).start;
  if (b < a) throw new WindowError(`--to ${to} is before --from ${from}`);
  const out: string[] = [];
  for (let t = a; t <= b; t += DAY_MS) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

export const epochDayOf = (w: JobWindow): number => Math.floor(w.start / DAY_MS);

/** The windows of a day: the day itself, or its 24 hours. */
export function windowsOfDay(kind: WindowKind, date: string): JobWindow[] {
  const day = dayWindow(date);
  if (kind === 'daily') return [day];
  return Array.from({ length: 24 }, (_, hour) => ({ date, hour, start: day.start + hour * HOUR_MS, end: day.start + (hour + 1) * HOUR_MS }));
}

export const windowLabel = (w: JobWindow): string => (w.hour === undefined ? w.date : `${w.date}T${pad2(w.hour)}`);
