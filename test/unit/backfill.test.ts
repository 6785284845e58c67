// Which days a backfill runs: bounded, and clipped to the days between the sources' first data and today.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_BACKFILL_DAYS, planBackfill } from '../../functions/core/jobs/backfill.js';
import type { JobDefinition } from '../../functions/core/jobs/job.js';
import type { Warehouse } from '../../functions/core/ports.js';

const job = { name: 'j', window: 'daily', sources: ['exposure', 'purchase', 'missing'], latenessMs: 0 } as unknown as JobDefinition;

/** A warehouse whose tables hold data from the given first day (null: empty); other tables do not exist. */
function warehouse(first: ReadonlyMap<string, string | null>): Warehouse & { queries: string[] } {
  const queries: string[] = [];
  return {
    database: 'tributary',
    queries,
    async query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
      queries.push(sql);
      if (sql.includes('system.tables')) return (params!['names'] as string[]).filter((n) => first.has(n)).map((name) => ({ name }) as T);
      const table = /`tributary`\.`(\w+)`/.exec(sql)?.[1] ?? '';
      if (!first.has(table)) throw new Error(`Unknown table expression identifier 'tributary.${table}'`);
      return [{ day: first.get(table) ?? null } as T];
    },
  } as unknown as Warehouse & { queries: string[] };
}

const NOW = Date.UTC(2026, 10, 22, 0, 10);

describe('planBackfill', () => {
  it('runs from the first day any source has data up to today, and counts what it skipped', async () => {
    const plan = await planBackfill(job, '2026-11-15', '2026-11-25', warehouse(new Map([['exposure', '2026-11-19'], ['purchase', '2026-11-18']])), NOW);
    assert.deepEqual(plan.dates, ['2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22']);
    assert.deepEqual([plan.skippedBeforeData, plan.skippedFuture, plan.firstDataDay], [3, 3, '2026-11-18']);
  });

  it('runs nothing when no source has data (empty or missing tables)', async () => {
    const plan = await planBackfill(job, '2026-11-15', '2026-11-16', warehouse(new Map([['exposure', null]])), NOW);
    assert.deepEqual([plan.dates, plan.skippedBeforeData, plan.firstDataDay], [[], 2, undefined]);
  });

  it(`refuses a range of more than ${MAX_BACKFILL_DAYS} days before asking the warehouse`, async () => {
    const w = warehouse(new Map([['exposure', '2026-01-01']]));
    await assert.rejects(planBackfill(job, '1900-01-01', '2299-12-31', w, NOW), /146,097 days; a backfill covers at most 366/);
    assert.deepEqual(w.queries, []);
    assert.equal((await planBackfill(job, '2025-11-22', '2026-11-22', w, NOW)).dates.length, 326);
  });

  it('lets a warehouse error other than a missing table through', async () => {
    const broken = { database: 'tributary', async query() { throw new Error('Code: 241. MEMORY_LIMIT_EXCEEDED'); } } as unknown as Warehouse;
    await assert.rejects(planBackfill(job, '2026-11-15', '2026-11-16', broken, NOW), /MEMORY_LIMIT_EXCEEDED/);
  });
});
