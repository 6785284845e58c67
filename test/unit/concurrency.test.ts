// mapLimit (functions/core/util/concurrency.ts): the bound, the order, and what a failure leaves running.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapLimit } from '../../functions/core/util/concurrency.js';

/** A call the test releases by hand, so nothing depends on timers. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => { open = resolve; });
  return { promise, open };
}

describe('mapLimit', () => {
  it('keeps at most `limit` calls in flight and the results in input order', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 3, async (n) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30, 0]);
    assert.equal(most, 3);
  });

  it('starts nothing after a failure, and waits for the calls in flight before throwing it', async () => {
    const gates = Array.from({ length: 10 }, gate);
    const started: number[] = [];
    const settled: number[] = [];
    const run = mapLimit(gates, 4, async (g, i) => {
      started.push(i);
      await g.promise;
      if (i === 1) throw new Error('insert 1 refused');
      settled.push(i);
      return i;
    });
    let rejected = false;
    run.catch(() => { rejected = true; });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(started, [0, 1, 2, 3]);
    gates[1]!.open(); // fails while 0, 2 and 3 are in flight
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(rejected, false, 'not before the calls in flight have settled');
    gates[0]!.open(); gates[2]!.open(); gates[3]!.open();
    await assert.rejects(run, /insert 1 refused/);
    assert.deepEqual(started, [0, 1, 2, 3], 'no call started after the failure');
    assert.deepEqual(settled.sort(), [0, 2, 3]);
  });
});
