// The process chaos harness, bounded (the full run is `npm run chaos`): the deployed handlers in child
// processes, SIGKILLed and faulted at every service, checked at every stage; and a planted bug it must catch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertExactlyOnce } from '../chaos/assert-exactly-once.js';
import { formatProcessChaos, runProcessChaos } from '../chaos/processes.js';

describe('effectively-once with the deployed handlers in processes that die', () => {
  it('coupled: containers killed mid-write, between files and after an insert, compaction, a SQL job and ab-daily killed alongside', async () => {
    // Every other kind of fault runs in `npm run chaos`; this bounded run keeps the kills and the lost responses.
    const only = ['kill_between_files', 'kill_mid_write', 'kill_after_clickhouse_insert', 'compaction_kill', 'clickhouse_timeout_after_insert', 'job_kill', 'ab_daily_kill'] as const;
    const r = await runProcessChaos({ events: 160, partitions: 2, faultsPerKind: 1, seed: 25, compactionsPerStage: 1, only, job: true });
    const report = formatProcessChaos(r);
    // The jobs ran beside ingest and were killed; their rows were checked at each stage (problems) and, at the
    // end, every window and every ab-daily row (two days × two variants × three metrics) equals an independent count.
    assert.ok(r.jobRuns >= 2 && r.abRuns >= 2, report);
    assert.ok(r.jobFinal.windows > 0 && r.jobFinal.windows === r.jobFinal.expected, report);
    assert.equal(r.abFinal.expected, 12, report);
    assert.equal(r.abFinal.rows, r.abFinal.expected, report);
    for (const kind of only) assert.ok(r.faults.get(kind)! >= 1, `${kind} never injected\n${report}`);
    assert.ok(r.processesKilled >= 4, report);
    assert.ok(r.stages.length >= 2, report);
    assertExactlyOnce(r, report);
  });

  it('split with spool writes and deferral: the materializer killed between its manifest steps, two runs at once at times', async () => {
    // The production shape (staging and prod: split, lakeWrites spool). Kills land in the materializer's
    // containers at its manifest steps' requests and in the lake path after its spool was stored. Seed 28's
    // traffic has 2 poison records, so the lake's quarantine (written by the materializer) is checked too.
    const only = ['materializer_kill', 'materializer_overlap', 'kill_between_files'] as const;
    const r = await runProcessChaos({
      events: 120, partitions: 1, faultsPerKind: 2, seed: 28, topology: 'split', lakeWrites: 'spool', freshStages: 4, stepsPerStage: 2, compactionsPerStage: 1, only,
      materializeDeferSeconds: 150,
    });
    const report = formatProcessChaos(r);
    // With deferral (as the stack sets it per environment), some runs left tables for a later one.
    assert.ok(r.materializeDeferred > 0, report);
    for (const kind of only) assert.ok(r.faults.get(kind)! >= 2, `${kind} injected fewer than 2 times\n${report}`);
    const materializerKills = [...r.materializeKills.values()].reduce((a, b) => a + b, 0);
    assert.equal(materializerKills, r.faults.get('materializer_kill'), report);
    assertExactlyOnce(r, report);
    const spool = r.final.spool!;
    assert.equal(spool.pending + spool.openManifests + spool.offsetsWrong, 0, report);
    assert.equal(spool.materialized, r.events, report);
    assert.equal(spool.lineage.rows, r.events, report);
    assert.equal(spool.lakeQuarantine.records, [...r.poison.values()].reduce((a, b) => a + b, 0), report);
    assert.ok(r.stages.every((s) => s.spool !== undefined), report);
  });

  it('catches a planted bug: ClickHouse dedup tokens that include the wall clock double rows in the raw tables', async () => {
    const r = await runProcessChaos({
      events: 50, partitions: 1, faultsPerKind: 1, seed: 4, only: ['clickhouse_timeout_after_insert'], plant: 'wall-clock-token', compactionsPerStage: 0, final: false,
    });
    const report = formatProcessChaos(r);
    assert.ok([...r.stages, r.final].some((s) => s.clickhouseRaw.duplicated > 0), report);
    assert.ok(r.problems.some((p) => /clickhouse \w+: \S+ \d+ times, at most 1 allowed/.test(p)), report);
    // The _dedup views hide it, which is why the raw tables are checked.
    assert.ok([...r.stages, r.final].every((s) => s.clickhouseDedup.duplicated === 0), report);
  });
});
