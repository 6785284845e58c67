// The process chaos harness, bounded (the full run is `npm run chaos`): the deployed handlers in child
// processes, SIGKILLed and faulted at every service, checked at every stage; and a planted bug it must catch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatProcessChaos, runProcessChaos, type ProcessChaosResult, type StageFigures } from '../chaos/processes.js';

const clean = (s: StageFigures): boolean =>
  s.lake.lost + s.lake.duplicated + s.lake.unexpected + s.clickhouseRaw.lost + s.clickhouseRaw.duplicated + s.clickhouseRaw.unexpected
  + s.clickhouseDedup.lost + s.clickhouseDedup.duplicated + s.clickhouseDedup.unexpected + s.ingestLog.duplicated + s.ingestLog.missingBatches
  + s.quarantine.missing + s.quarantine.duplicated + s.quarantine.wrongReason === 0;

function assertExactlyOnce(r: ProcessChaosResult): void {
  const report = formatProcessChaos(r);
  assert.deepEqual(r.problems, [], report);
  for (const s of r.stages) assert.ok(clean(s), `stage ${s.stage}\n${report}`);
  assert.ok(clean(r.final), report);
  for (const f of [r.final.lake, r.final.clickhouseRaw, r.final.clickhouseDedup]) assert.equal(f.rows, r.distinctValid, report);
  assert.equal(r.final.quarantine.records, [...r.poison.values()].reduce((a, b) => a + b, 0), report);
}

describe('effectively-once with the deployed handlers in processes that die', () => {
  it('coupled: containers killed mid-write, between files and after an insert, compaction killed alongside', async () => {
    // Every other kind of fault runs in `npm run chaos`; this bounded run keeps the kills and the lost responses.
    const only = ['kill_between_files', 'kill_mid_write', 'kill_after_clickhouse_insert', 'compaction_kill', 'clickhouse_timeout_after_insert'] as const;
    const r = await runProcessChaos({ events: 160, partitions: 2, faultsPerKind: 1, seed: 25, compactionsPerStage: 1, only });
    const report = formatProcessChaos(r);
    for (const kind of only) assert.ok(r.faults.get(kind)! >= 1, `${kind} never injected\n${report}`);
    assert.ok(r.processesKilled >= 4, report);
    assert.ok(r.stages.length >= 2, report);
    assertExactlyOnce(r);
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
