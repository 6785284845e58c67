// One "container" of the process chaos harness: the deployed Lambda handler (ingest, compact, materialize, jobs or ab-daily), configured
// from the environment as in AWS, invoked over IPC one event at a time. The harness SIGKILLs it at will; its
// replacement starts cold (no registry, column or catalog cache survives).
//
// CHAOS_CLOCK_OFFSET_MS shifts Date.now (the clock the handlers give the core), so a run's traffic sits in
// the middle of an hour whatever the time of day; request signing uses new Date() and stays on real time.
// CHAOS_PLANT=wall-clock-token plants a bug for the harness to catch: ClickHouse dedup tokens that include
// the wall clock, so a retried insert is no longer recognised.
// An invocation may move the clock (the materializer's schedule runs on simulated time: each run an interval later).
let offset = Number(process.env['CHAOS_CLOCK_OFFSET_MS'] ?? 0);
const realNow = Date.now.bind(Date);
Date.now = () => realNow() + offset;

if (process.env['CHAOS_PLANT'] === 'wall-clock-token') {
  const { ClickHouseWarehouse } = await import('../../functions/adapters/warehouse/clickhouse.js');
  const insert = ClickHouseWarehouse.prototype.insertParquet;
  ClickHouseWarehouse.prototype.insertParquet = function (table, columns, file, token) {
    return insert.call(this, table, columns, file, `${token}@${Date.now()}`);
  };
}

interface Invocation { readonly id: number; readonly event: unknown; readonly clockOffsetMs?: number }

const role = process.env['CHAOS_ROLE'];
const run: (event: unknown) => Promise<unknown> = role === 'compact'
  ? await import('../../functions/compact/handler.js').then((m) => (e: unknown) => m.handler(e as never, { getRemainingTimeInMillis: () => 900_000 } as never))
  : role === 'materialize'
    // its deployed timeout is 4 minutes (infra/materialize.ts)
    ? await import('../../functions/materialize/handler.js').then((m) => (e: unknown) => m.handler(e, { getRemainingTimeInMillis: () => 240_000 } as never))
    : role === 'jobs'
      ? await import('../../functions/jobs/handler.js').then((m) => (e: unknown) => m.handler(e as never))
      : role === 'ab-daily'
        ? await import('../../functions/ab-daily/handler.js').then((m) => (e: unknown) => m.handler(e as never))
      : await import('../../functions/ingest/handler.js').then((m) => (e: unknown) => m.handler(e as never));

process.on('message', (m: Invocation) => {
  if (m.clockOffsetMs !== undefined) offset = m.clockOffsetMs;
  run(m.event).then(
    (result) => process.send!({ id: m.id, ok: true, result }),
    (err: unknown) => process.send!({ id: m.id, ok: false, error: String((err as Error)?.stack ?? err).slice(0, 2000) }),
  );
});
process.send!({ ready: true });
