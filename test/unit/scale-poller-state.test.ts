// bench:scale's model of one event poller invoking a batch at a time (bench/scale/model.ts pollerState):
// whether a path keeps up, and how long a record waits in the steady state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pollerState } from '../../bench/scale/model.js';

describe('pollerState', () => {
  it('keeps the window\'s batches when an invocation ends before the next batch closes', () => {
    const s = pollerState({ ratePerS: 10_000, closeS: 0.5, records: 5_000, invocationS: 0.4, cpuPerRecordS: 20e-6, maxRecords: 10_000 });
    assert.deepEqual(s, { keepsUp: true, closeS: 0.5, invocationS: 0.4 });
  });

  it('grows the batch until an invocation lasts as long as its batch takes to arrive', () => {
    // 0.5 s window at 10k records/s, an invocation of 0.6 s of which 5,000 × 20 µs = 0.1 s is per record: fixed 0.5 s.
    // B = r·F / (1 − r·c) = 10,000 × 0.5 / (1 − 0.2) = 6,250 records, 0.625 s to arrive and 0.5 + 0.125 s to process.
    const s = pollerState({ ratePerS: 10_000, closeS: 0.5, records: 5_000, invocationS: 0.6, cpuPerRecordS: 20e-6, maxRecords: 10_000 });
    assert.equal(s.keepsUp, true);
    assert.ok(Math.abs(s.closeS - 0.625) < 1e-9 && Math.abs(s.invocationS - 0.625) < 1e-9, JSON.stringify(s));
  });

  it('falls behind for good when even the largest batch takes longer than it takes to arrive', () => {
    // 100k events/s on 4 partitions: 25,000 records/s per poller, a 10,000-record batch arrives in 0.4 s; an
    // invocation waiting 0.5 s for an async flush plus its inserts can never keep up.
    const s = pollerState({ ratePerS: 25_000, closeS: 0.4, records: 10_000, invocationS: 0.87, cpuPerRecordS: 5e-6, maxRecords: 10_000 });
    assert.equal(s.keepsUp, false);
    // CPU alone beyond one record per record's arrival: never
    assert.equal(pollerState({ ratePerS: 100_000, closeS: 0.1, records: 10_000, invocationS: 1.2, cpuPerRecordS: 11e-6, maxRecords: 10_000 }).keepsUp, false);
  });
});
