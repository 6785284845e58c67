// When scheduled jobs run: one schedule per cadence (hourly, daily), each run computing every window of
// its jobs that is due. The CDK stack and `jobs list` read the same plan.
import type { JobDefinition } from './job.js';
import { runJobWindow, type JobDeps, type WindowRun } from './run-job.js';
import { DAY_MS, HOUR_MS, windowLabel, windowsOfDay, windowStatus, type JobWindow, type WindowKind } from './window.js';

/** A cron time in UTC: every hour at `minute`, or every day at `hour`:`minute`. */
export interface CadenceSchedule {
  readonly cadence: WindowKind;
  readonly minute: number;
  readonly hour?: number;
}

/** Hourly jobs run at :05; daily ones once the longest lateness of a daily job has passed, plus 5 minutes. */
export function cadenceSchedule(cadence: WindowKind, latenessesMs: readonly number[]): CadenceSchedule {
  if (cadence === 'hourly') return { cadence, minute: 5 };
  const after = Math.ceil((Math.max(0, ...latenessesMs) + 5 * 60_000) / 60_000);
  return { cadence, hour: Math.floor(after / 60) % 24, minute: after % 60 };
}

/** The first time at or after `now` the schedule fires. */
export function nextRunAt(s: CadenceSchedule, now: number): number {
  if (s.hour === undefined) {
    const t = Math.floor(now / HOUR_MS) * HOUR_MS + s.minute * 60_000;
    return t >= now ? t : t + HOUR_MS;
  }
  const t = Math.floor(now / DAY_MS) * DAY_MS + s.hour * HOUR_MS + s.minute * 60_000;
  return t >= now ? t : t + DAY_MS;
}

export const periodOf = (cadence: WindowKind): number => (cadence === 'hourly' ? HOUR_MS : DAY_MS);

/**
 * The windows a scheduled run computes: those that have started and were not final yet at the previous
 * run (one period ago). Each window is run provisionally while it is open or within its lateness, then
 * once more when final; a missed run is caught up by the next one only within that period.
 */
export function dueWindows(job: JobDefinition, now: number, periodMs = periodOf(job.window)): JobWindow[] {
  const out: JobWindow[] = [];
  const days = new Set<string>();
  // The windows that may be due lie within lateness + period before now.
  for (let t = now - job.latenessMs - periodMs - DAY_MS; t <= now + DAY_MS; t += DAY_MS) days.add(new Date(t).toISOString().slice(0, 10));
  for (const date of [...days].sort()) {
    for (const w of windowsOfDay(job.window, date)) {
      if (windowStatus(w, now, job.latenessMs) === 'future') continue;
      if (w.end + job.latenessMs > now - periodMs) out.push(w);
    }
  }
  return out;
}

export interface ScheduledRun {
  readonly runs: WindowRun[];
  /** jobs (or windows) that failed, with the reason: the others ran */
  readonly failures: Array<{ readonly job: string; readonly window?: string; readonly error: string }>;
}

/** A scheduled run: every due window of every job, in order; one job's failure does not stop the others. */
export async function runDueWindows(jobs: readonly JobDefinition[], deps: JobDeps): Promise<ScheduledRun> {
  const runs: WindowRun[] = [];
  const failures: ScheduledRun['failures'][number][] = [];
  for (const job of jobs) {
    for (const w of dueWindows(job, deps.clock())) {
      try {
        runs.push(await runJobWindow(job, w, deps));
      } catch (e) {
        failures.push({ job: job.name, window: windowLabel(w), error: (e as Error).message });
        break; // the job's later windows would fail alike; the next run retries them
      }
    }
  }
  return { runs, failures };
}
