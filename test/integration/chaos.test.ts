// A bounded fault-injection run (the full one is `npm run chaos`): every fault kind at least twice, then
// nothing lost, nothing doubled, every poison record in quarantine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAULT_KINDS, formatChaos, runChaos } from '../chaos/harness.js';

describe('effectively-once under faults', () => {
  it('holds with every kind of fault injected', async () => {
    const r = await runChaos({ events: 2_000, partitions: 3, faultsPerKind: 2, seed: 11 });
    const report = formatChaos(r);
    for (const kind of FAULT_KINDS) assert.ok(r.faults[kind] >= 2, `${kind} injected ${r.faults[kind]} times\n${report}`);
    assert.ok(r.failedInvocations > 0);
    assert.deepEqual(r.lake, { rows: r.distinctValid, lost: 0, duplicated: 0, unexpected: 0 }, report);
    assert.deepEqual(r.clickhouse, { rows: r.distinctValid, lost: 0, duplicated: 0, unexpected: 0 }, report);
    assert.equal(r.quarantineMissing, 0, report);
    assert.equal(r.quarantined, r.invalid, report);
  });
});
