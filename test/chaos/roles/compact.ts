// A chaos container of the compaction function (bundled by ../bundles.ts); its deployed timeout is 15 minutes (infra/jobs.ts).
// CHAOS_COMPACT_BUDGET_MS, when set, gives each run that much time before the handler's safety margin: the run
// stops picking up partitions after it, as a deployed run does near its timeout, and the next run goes on
// from there (so a stage does not wait on a run over every partition the replays touched).
import { serve } from '../child.js';
import { handler, SAFETY_MARGIN_MS } from '../../../functions/compact/handler.js';

const budget = Number(process.env['CHAOS_COMPACT_BUDGET_MS'] ?? 0);
const TIMEOUT_MS = 900_000;

serve((e) => {
  const start = performance.now();
  const elapsed = (): number => performance.now() - start;
  return handler(e as never, { getRemainingTimeInMillis: () => (budget > 0 ? SAFETY_MARGIN_MS + budget : TIMEOUT_MS) - elapsed() } as never);
});
