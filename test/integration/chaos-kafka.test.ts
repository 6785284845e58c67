// Kafka rebalances through the event-source emulator on librdkafka's mock cluster (issue 25): several
// emulators in one consumer group feed the deployed ingest handler's containers, the group rebalances mid-run
// (members join, one stalls past its session timeout and is evicted, one crashes with its container) while
// containers are SIGKILLed at their requests; every store is checked at every stage and at the end
// (test/chaos/kafka-rebalance.ts). And the emulator's own behaviour in a rebalancing group.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { EsmEmulator } from '../../functions/adapters/kafka/esm-emulator.js';
import type { MskEvent } from '../../functions/core/decode/msk-event.js';
import { assertExactlyOnce } from '../chaos/assert-exactly-once.js';
import { formatKafkaChaos, runKafkaChaos } from '../chaos/kafka-rebalance.js';
import { startMockKafka, type MockKafka } from '../kafka/mock-cluster.js';

const started = await startMockKafka();
const skip = 'unavailable' in started ? started.unavailable : false;
if (skip) console.log(`# SKIP Kafka tests: ${skip}`);
const kafka = started as MockKafka;
after(() => { if (!skip) kafka.stop(); });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rangeOf = (event: MskEvent): { p: number; first: number; last: number } => {
  const records = Object.values(event.records)[0]!;
  return { p: records[0]!.partition, first: records[0]!.offset, last: records.at(-1)!.offset };
};

async function produceTo(topic: string, perPartition: number): Promise<void> {
  const producer = new Kafka({ clientId: 'test', brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer({ allowAutoTopicCreation: true });
  await producer.connect();
  for (const p of [0, 1, 2, 3]) await producer.send({ topic, acks: -1, messages: Array.from({ length: perPartition }, (_, i) => ({ value: `${p}-${i}`, partition: p })) });
  await producer.disconnect();
}

async function committed(groupId: string, topic: string): Promise<number[]> {
  const admin = new Kafka({ clientId: 'test', brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [got] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return [0, 1, 2, 3].map((p) => Number(got!.partitions.find((x) => x.partition === p)!.offset));
  } finally {
    await admin.disconnect();
  }
}

describe('the event-source emulator in a rebalancing group', () => {
  it('keeps consuming when the group refuses a commit because a member joined mid-batch; the chunk is delivered again', { skip }, async () => {
    await produceTo('refused', 40);
    const failureDirectory = join(mkdtempSync(join(tmpdir(), 'tributary-esm-')), 'failed');
    const seen: Array<{ who: string; p: number; first: number; last: number; at: number }> = [];
    let bStarted: Promise<void> | undefined;
    let b: EsmEmulator | undefined;
    const settings = { brokers: kafka.brokers, topics: ['refused'], groupId: 'tributary-refused', batchingWindowMs: 0, failureDirectory, retryBaseMs: 20, sessionTimeoutMs: 6_000, rebalanceTimeoutMs: 6_000, heartbeatIntervalMs: 500 };
    const a: EsmEmulator = new EsmEmulator({ ...settings, batchSize: 10 }, async (event) => {
      seen.push({ who: 'A', ...rangeOf(event), at: Date.now() });
      if (!b) {
        // A's first invocation: B joins the group meanwhile, so A's commit meets the rebalance.
        b = new EsmEmulator({ ...settings, batchSize: 15 }, async (e) => { seen.push({ who: 'B', ...rangeOf(e), at: Date.now() }); await sleep(50); });
        bStarted = b.start();
        await sleep(1_500);
      }
      await sleep(50);
    });
    await a.start();
    const deadline = Date.now() + 60_000;
    while ((await committed('tributary-refused', 'refused').catch(() => [])).some((c) => c !== 40) || !bStarted) {
      assert.ok(Date.now() < deadline, `not all committed: ${JSON.stringify(seen)}`);
      await sleep(250);
    }
    await bStarted;
    const refusedAt = seen[0]!;
    await a.stop();
    await b!.stop();
    assert.ok(a.refusedCommits >= 1, `A's first commit met the rebalance: ${JSON.stringify(seen)}`);
    assert.ok(a.assignments.length >= 2, `A rejoined the group (before the fix kafkajs stopped it for good): ${JSON.stringify(a.assignments)}`);
    assert.ok(seen.some((s) => s.who === 'A' && s.at > refusedAt.at + 1_500), `A delivered after the refused commit: ${JSON.stringify(seen)}`);
    // The refused chunk was delivered again (by A or by the partition's new owner).
    assert.ok(seen.filter((s) => s.p === refusedAt.p && s.first <= refusedAt.first && s.last >= refusedAt.first).length >= 2, JSON.stringify(seen));
  });

  it('a stopped emulator gives up a failing batch without committing it (its retries would never end)', { skip }, async () => {
    await produceTo('stopping', 5);
    let attempts = 0;
    const em = new EsmEmulator({ brokers: kafka.brokers, topics: ['stopping'], groupId: 'tributary-stopping', batchingWindowMs: 0, failureDirectory: join(tmpdir(), 'unused'), retryBaseMs: 20 },
      async () => { attempts++; throw new Error('always failing'); });
    await em.start();
    while (attempts < 3) await sleep(50);
    const t0 = Date.now();
    await em.stop();
    assert.ok(Date.now() - t0 < 10_000, `stop took ${Date.now() - t0} ms`);
    assert.deepEqual(await committed('tributary-stopping', 'stopping'), [-1, -1, -1, -1]);
  });
});

describe('effectively-once through Kafka rebalances', () => {
  it('several emulators in one group: a member evicted mid-invocation, one crashed with its container, containers killed', { skip }, async () => {
    // Three stages: the group forms (A and B join side by side), a member stalls and is evicted, one crashes.
    const r = await runKafkaChaos({ events: 120, stages: 3, seed: 24, actions: ['stall', 'crash'], faultRate: 0.2 });
    const report = formatKafkaChaos(r);
    assertExactlyOnce(r, report);
    // The rebalances happened: each action was made, members rejoined, partitions changed hands and were
    // delivered again with other boundaries, and the evicted member's invocation ran beside its successor's.
    for (const action of ['stall', 'crash'] as const) assert.equal(r.actions.get(action), 1, report);
    assert.ok(r.rejoins >= 2, report);
    assert.ok(r.consumersPerPartition.some((n) => n >= 2), report);
    assert.ok(r.handovers >= 2, report);
    assert.ok(r.redeliveredOtherBoundaries > 0, report);
    assert.ok(r.overlaps >= 1, report);
    assert.ok(r.processesKilled >= 2, report);
  });
});
