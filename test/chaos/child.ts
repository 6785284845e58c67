// The shim of a process chaos "container" (test/chaos/roles/*.ts put it before a deployed Lambda handler
// and bundles.ts builds each into an esbuild bundle as the stack does): invoked over IPC one event at a time.
// The harness SIGKILLs it at will; its replacement starts cold (no registry, column or catalog cache survives).
//
// CHAOS_CLOCK_OFFSET_MS shifts Date.now (the clock the handlers give the core), so a run's traffic sits in
// the middle of an hour whatever the time of day; request signing uses new Date() and stays on real time.
// A role entry imports this module first, so the clock is shifted before the handler's modules are evaluated.
// An invocation may move the clock (the materializer's schedule runs on simulated time: each run an interval later).
import type { ClickHouseWarehouse } from '../../functions/adapters/warehouse/clickhouse.js';

let offset = Number(process.env['CHAOS_CLOCK_OFFSET_MS'] ?? 0);
const realNow = Date.now.bind(Date);
Date.now = () => realNow() + offset;

interface Invocation { readonly id: number; readonly event: unknown; readonly clockOffsetMs?: number }

/** Serves invocations of `run` over IPC, then says it is ready. */
export function serve(run: (event: unknown) => Promise<unknown>): void {
  process.on('message', (m: Invocation) => {
    if (m.clockOffsetMs !== undefined) offset = m.clockOffsetMs;
    run(m.event).then(
      (result) => process.send!({ id: m.id, ok: true, result }),
      (err: unknown) => process.send!({ id: m.id, ok: false, error: String((err as Error)?.stack ?? err).slice(0, 2000) }),
    );
  });
  process.send!({ ready: true });
}

/**
 * CHAOS_PLANT=wall-clock-token plants a bug for the harness to catch: ClickHouse dedup tokens that include
 * the wall clock, so a retried insert is no longer recognised.
 */
export function plantWallClockToken(warehouse: typeof ClickHouseWarehouse): void {
  if (process.env['CHAOS_PLANT'] !== 'wall-clock-token') return;
  const insert = warehouse.prototype.insertParquet;
  warehouse.prototype.insertParquet = function (table, columns, file, token) {
    return insert.call(this, table, columns, file, `${token}@${Date.now()}`);
  };
}
