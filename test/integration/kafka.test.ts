// Kafka end to end: 100,000 events produced to a real Kafka-protocol broker (librdkafka's mock cluster)
// over 4 partitions, consumed by the event-source emulator into the handler; the lake and ClickHouse then
// hold exactly the distinct valid events, and the poison records are in quarantine.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EsmEmulator, cutBatches } from '../../functions/adapters/kafka/esm-emulator.js';
import { encodeMskEvent } from '../../functions/core/decode/msk-event.js';
import { produce, type ProducedMessage } from '../../functions/adapters/kafka/producer.js';
import { openLocalRuntime } from '../../functions/cli/local-runtime.js';
import { compactClosedPartitions } from '../../functions/core/lake/compact-partition.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { startMockKafka, type MockKafka } from '../kafka/mock-cluster.js';

const started = await startMockKafka();
const skip = 'unavailable' in started ? started.unavailable : false;
if (skip) console.log(`# SKIP Kafka tests: ${skip}`);
const kafka = started as MockKafka;
after(() => { if (!skip) kafka.stop(); });

describe('the event-source emulator', () => {
  it('cuts batches by size and by the 6 MB payload limit, in order', () => {
    const m = (n: number) => ({ key: null, value: Buffer.alloc(n), id: n });
    assert.deepEqual(cutBatches([m(1), m(2), m(3), m(4), m(5)], 2, 6_000_000).map((b) => b.map((x) => x.id)), [[1, 2], [3, 4], [5]]);
    const big = [m(3_000_000), m(1_000_000), m(2_000_000)];
    // base64 grows bytes by 4/3: 3 MB + 1 MB of values make 5.3 MB of event; adding 2 MB more would pass 6 MB.
    assert.deepEqual(cutBatches(big, 100, 6 * 1024 * 1024).map((b) => b.length), [2, 1]);
  });

  it('counts headers and the topic name in the payload: every cut event encodes under 6 MB', () => {
    const records = Array.from({ length: 3_000 }, (_, i) => ({ key: null, value: Buffer.alloc(1_000, 97), headers: { trace: Buffer.alloc(2_000, 200) }, offset: i }));
    const topic = 't'.repeat(200);
    const chunks = cutBatches(records, 10_000, 6 * 1024 * 1024, topic);
    assert.ok(chunks.length > 1);
    for (const c of chunks) {
      const event = encodeMskEvent(c.map((r) => ({ topic, partition: 0, offset: r.offset, timestamp: 0, value: r.value, headers: [{ key: 'trace', value: r.headers.trace }] })));
      assert.ok(Buffer.byteLength(JSON.stringify(event)) <= 6 * 1024 * 1024, `${c.length} records`);
    }
  });
});

describe('Kafka end to end', () => {
  it('retries a failing batch with backoff, then sends it to the failure destination and moves on in order', { skip }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'tributary-esm-'));
    await produce([0, 1, 2, 3].map((i) => ({ key: null, value: Buffer.from(i === 1 ? 'fail' : `ok-${i}`), partition: 0 })), { brokers: kafka.brokers, topic: 'failing' });
    const seen: string[] = [];
    let attempts = 0;
    const emulator = new EsmEmulator({ brokers: kafka.brokers, topics: ['failing'], groupId: 'tributary-failing', batchSize: 1, batchingWindowMs: 0, maximumRetryAttempts: 2, retryBaseMs: 10, failureDirectory: join(home, 'failed') },
      async (event) => {
        const value = Buffer.from(Object.values(event.records)[0]![0]!.value!, 'base64').toString();
        if (value === 'fail') { attempts++; throw new Error('handler failure'); }
        seen.push(value);
      });
    await emulator.start();
    await emulator.waitUntilIdle(1_500);
    await emulator.stop();
    assert.equal(attempts, 3, 'the first try and two retries');
    assert.deepEqual(seen, ['ok-0', 'ok-2', 'ok-3'], 'the partition moved on, in order');
    assert.deepEqual(readdirSync(join(home, 'failed')), ['failing+0+1-1.json']);
    assert.deepEqual(emulator.stats, { invocations: 6, failedInvocations: 3, recordsDelivered: 3, batchesToFailureDestination: 1 });
  });

  it('delivers 100,000 events over 4 partitions exactly once into the lake and ClickHouse', { skip }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'tributary-kafka-'));
    const rt = await openLocalRuntime({ home, schemasDir: join(home, 'no-schemas') });
    try {
      const hourStart = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
      const messages: ProducedMessage[] = [];
      const expected = new Map<string, Set<string>>([['page_view', new Set()], ['click', new Set()]]);
      let poison = 0;
      for (let i = 0; i < 100_000; i++) {
        const key = Buffer.from(`user-${i % 997}`);
        if (i % 250 === 0) { messages.push({ key, value: Buffer.from(`{"event": "click", "broken": `) }); poison++; continue; }
        if (i % 50 === 1 && i > 1) { messages.push({ key, value: messages[i - 1]!.value }); continue; } // producer duplicate (may hit a poison record: then it is poison too)
        const event = i % 3 === 0 ? 'click' : 'page_view';
        const id = `${event}-${i}`;
        expected.get(event)!.add(id);
        messages.push({ key, value: Buffer.from(JSON.stringify({ event, event_id: id, ts: hourStart + (i % 3_600_000), user_id: `user-${i % 997}`, properties: { i, page: `/p/${i % 40}` } })) });
      }
      poison += messages.filter((m, i) => i % 50 === 1 && i > 1 && (i - 1) % 250 === 0).length;
      await produce(messages, { brokers: kafka.brokers, topic: 'tracking' });

      const emulator = new EsmEmulator({
        brokers: kafka.brokers, topics: ['tracking'], groupId: 'tributary-test', batchSize: 5_000, batchingWindowMs: 200,
        failureDirectory: join(home, 'esm-failures'), retryBaseMs: 50,
      }, (event) => ingestBatch(event, rt.deps));
      await emulator.start();
      await emulator.waitUntilIdle(2_000);
      await emulator.stop();
      assert.equal(emulator.stats.recordsDelivered, messages.length);
      assert.equal(emulator.stats.batchesToFailureDestination, 0);

      await compactClosedPartitions(rt.compaction(), { graceMs: 0 });
      await rt.refreshLakeViews();
      for (const [table, ids] of expected) {
        for (const source of [`lake.${table}`, `tributary.${table}_dedup`]) {
          const got = (await rt.warehouse.query<{ event_id: string }>(`SELECT event_id FROM ${source}`)).map((r) => r.event_id);
          assert.equal(got.length, ids.size, `${source}: one row per distinct event`);
          assert.deepEqual(new Set(got), ids, `${source}: exactly the events produced`);
        }
      }
      const [q] = await rt.warehouse.query<{ n: string }>(`SELECT uniqExact(_partition, _offset) AS n FROM tributary_ops._quarantine WHERE reason = 'malformed_json'`);
      assert.equal(Number(q!.n), poison);
      assert.equal(readdirSync(home).includes('esm-failures'), false);
    } finally {
      await rt.close();
    }
  });
});
