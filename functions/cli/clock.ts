// The command's clock. TRIBUTARY_NOW (an ISO-8601 instant) starts it at that instant and lets it run on
// from there, so a run, a test or a bug report can be replayed for a given hour and day whatever the wall
// clock says (the traffic of `dev`, which windows are final, which hours are closed all follow from it).
import { UsageError } from './errors.js';

export function cliClock(env: NodeJS.ProcessEnv = process.env): () => number {
  const at = env['TRIBUTARY_NOW'];
  if (at === undefined || at === '') return Date.now;
  const start = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z$/.test(at) ? Date.parse(at) : NaN;
  if (!Number.isFinite(start)) throw new UsageError(`TRIBUTARY_NOW must be a UTC instant like 2026-11-21T09:30:00Z, got ${JSON.stringify(at)}`);
  const origin = performance.now();
  return () => Math.floor(start + (performance.now() - origin));
}
