// The process chaos run through Kafka (issue 25, "Kafka rebalances through the event-source emulator"): the
// traffic is produced to librdkafka's mock cluster (test/kafka/mock-cluster.ts), and several event-source
// emulators (functions/adapters/kafka/esm-emulator.ts) in one consumer group cut its batches and invoke the
// deployed ingest handler, each in a container of its own (a Lambda container per poller; containers.ts,
// child.ts), through fault proxies that SIGKILL it at its requests as processes.ts does. Mid-stage the harness
// makes the group rebalance:
//   join  — a consumer joins: the partitions are dealt again (a member whose commit meets the rebalance has
//           it refused, and that chunk is delivered again, by whoever owns the partition next);
//   leave — a consumer is stopped in the middle of an invocation: the chunk is not committed, the member
//           leaves the group, the partition's next owner delivers it again with its own batch size;
//   crash — as leave, and the consumer's container is SIGKILLed at that invocation's first S3 or ClickHouse
//           request;
//   stall — an invocation is held (a slow cold start) past the session timeout: the group evicts the
//           member, another takes its partitions and delivers from the last commit with its own boundaries
//           while the held invocation then runs beside it; its commit is refused and it rejoins.
// Each consumer has a batch size of its own, so a partition that moves is delivered with other boundaries.
// Producers keep producing: each stage adds a slice of every partition. A stage ends when the group has
// committed everything produced and nothing is in flight; the consumers are paused, and the stores are
// checked with checker.ts against what the emulators actually delivered (the MSK events' ranges, recorded
// as the handler is invoked) and what the group committed (its offsets, read with the admin client). At the
// end: compaction past every hour, OPTIMIZE … FINAL, exact equality.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { EsmEmulator } from '../../functions/adapters/kafka/esm-emulator.js';
import { rng } from '../../functions/cli/traffic.js';
import type { MskEvent } from '../../functions/core/decode/msk-event.js';
import { startMockKafka, type MockKafka } from '../kafka/mock-cluster.js';
import { Checker, formatSinkFigures, type SinkFigures, type StageFigures } from './checker.js';
import { compactionEnv, containerEnv, isEventInsert, isLakeData, Slot, startChaosStores, startContainerProxies, type PlannedFault, type Reply } from './containers.js';
import type { Action, FaultProxy, ProxiedRequest, Service } from './fault-proxy.js';
import type { ProcessFaultKind } from './processes.js';
import { generate } from './traffic.js';

export type RebalanceAction = 'join' | 'leave' | 'crash' | 'stall';
/** the container faults of this run (processes.ts's, at the requests of an ingest invocation) */
export const KAFKA_CONTAINER_FAULTS = ['kill_at_random_request', 'kill_between_files', 'kill_mid_write', 'kill_after_clickhouse_insert', 'clickhouse_timeout_after_insert'] as const;
type ContainerFault = (typeof KAFKA_CONTAINER_FAULTS)[number];

export interface KafkaChaosOptions {
  readonly events: number;
  readonly seed?: number;
  /** partitions the traffic spans, at most the mock cluster's 4 (default 4) */
  readonly partitions?: number;
  /** stages, each a slice of the traffic produced and a rebalance made in it (default 6) */
  readonly stages?: number;
  /** the rebalances, one per stage in turn (default join, stall, crash, join, leave, stall) */
  readonly actions?: readonly RebalanceAction[];
  /** consumers at the start (default 2) */
  readonly consumers?: number;
  /** the share of invocations given one container fault (default 0.35) */
  readonly faultRate?: number;
  /** the group's session timeout, ms (default 6,000); a stall holds its invocation until another member takes its partition */
  readonly sessionTimeoutMs?: number;
  /** compaction runs beside each stage's ingest, fault-free (default 1) */
  readonly compactionsPerStage?: number;
  /** give up a stage that has not committed its traffic after this long (default 300 s) */
  readonly stageTimeoutMs?: number;
  readonly log?: (line: string) => void;
  /** log every invocation */
  readonly trace?: boolean;
  /** the broker (default: librdkafka's mock cluster, test/kafka/mock-cluster.ts) */
  readonly startKafka?: () => Promise<MockKafka | { unavailable: string }>;
}

export interface KafkaChaosResult {
  readonly events: number;
  readonly partitions: number;
  readonly distinctValid: number;
  readonly producerDuplicates: number;
  readonly poison: Map<string, number>;
  readonly invocations: number;
  readonly failedInvocations: number;
  readonly coldStarts: number;
  readonly processesKilled: number;
  readonly faults: Map<ContainerFault, number>;
  readonly compactionRuns: number;
  /** consumers that ran, and the rebalances the harness made, by kind */
  readonly consumers: number;
  readonly actions: Map<RebalanceAction, number>;
  /** group joins after each member's first (each is a rebalance the member took part in) */
  readonly rejoins: number;
  /** commits the group refused because a rebalance was under way (the chunk was delivered again) */
  readonly refusedCommits: number;
  /** kafkajs consumer crashes (restarted by kafkajs, or the member gone) */
  readonly consumerCrashes: string[];
  /** a partition's invocation by another consumer than its previous one */
  readonly handovers: number;
  /** an invocation of a partition begun while another consumer's invocation of it was in flight */
  readonly overlaps: number;
  /** records delivered in more than one distinct batch range (other boundaries), and again in the same range */
  readonly redeliveredOtherBoundaries: number;
  readonly redeliveredSameBoundaries: number;
  /** per partition, the consumers that delivered it */
  readonly consumersPerPartition: number[];
  readonly stages: ReadonlyArray<StageFigures & { readonly action: RebalanceAction | 'none'; readonly members: number }>;
  readonly final: StageFigures;
  readonly problems: string[];
  readonly seconds: number;
}

const TOPIC = 'chaos';
const GROUP = 'tributary-chaos';
/**
 * each member's batch size, as a share of a stage's slice of a partition: a fetch holds at most the slice,
 * so sizes above it would cut every member's batches alike
 */
const BATCH_SHARES = [0.7, 0.45, 0.55, 0.85, 0.4, 0.65, 0.3, 0.75];
const INJECTED = /container exited|exited before it was ready|injected|ECONNRESET|socket hang up|ECONNREFUSED|other side closed|aborted|timeout/i;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Member {
  readonly name: string;
  readonly emulator: EsmEmulator;
  readonly slot: Slot;
  /** started and not stopped */
  active: boolean;
  /** its start (join) or stop, while under way */
  pending: Promise<void> | undefined;
}

export async function runKafkaChaos(o: KafkaChaosOptions): Promise<KafkaChaosResult> {
  const started = performance.now();
  const log = o.log ?? (() => {});
  const random = rng(o.seed ?? 7);
  const partitionCount = Math.min(4, o.partitions ?? 4);
  const stageCount = o.stages ?? 6;
  const actionCycle = o.actions ?? ['join', 'stall', 'crash', 'join', 'leave', 'stall'];
  const sessionTimeoutMs = o.sessionTimeoutMs ?? 6_000;
  const faultRate = o.faultRate ?? 0.35;
  // The containers' clock sits at 01:25 UTC the next day whatever the time of day (as processes.ts): the
  // traffic's two closed hours and the open one span a midnight.
  const realStart = Date.now();
  const hourStart = Math.floor(realStart / 86_400_000) * 86_400_000 + 86_400_000 + 3_600_000;
  const virtualStart = hourStart + 25 * 60_000;
  const offset = virtualStart - realStart;
  const traffic = generate({ events: o.events, partitions: partitionCount, seed: o.seed ?? 7 }, random, hourStart, virtualStart);
  const work = mkdtempSync(join(tmpdir(), 'tributary-chaos-kafka-'));
  const problems: string[] = [];
  const problem = (line: string): void => { problems.push(line); log(`PROBLEM ${line}`); };

  const stores = await startChaosStores(work);
  const kafkaStarted = await (o.startKafka ?? startMockKafka)().catch((err: Error) => ({ unavailable: err.message }));
  if ('unavailable' in kafkaStarted) { await stores.close(); throw new Error(kafkaStarted.unavailable); }
  const mock: MockKafka = kafkaStarted;
  const { s3, glue, ch, services } = stores;
  const bucket = services.bucket;
  const kafka = new Kafka({ clientId: 'tributary-chaos-harness', brokers: mock.brokers, logLevel: logLevel.NOTHING });
  const admin: Admin = kafka.admin();
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: true });
  const proxies: FaultProxy[] = [];
  const slots: Slot[] = [];
  const members: Member[] = [];
  const faults = new Map<ContainerFault, number>(KAFKA_CONTAINER_FAULTS.map((k) => [k, 0]));
  const actions = new Map<RebalanceAction, number>([['join', 0], ['leave', 0], ['crash', 0], ['stall', 0]]);
  let coldStarts = 0;
  let processesKilled = 0;
  let invocations = 0;
  let failedInvocations = 0;
  let compactionRuns = 0;

  /** the kills of the crash action (not counted as container faults) */
  const crashRules = new WeakSet<PlannedFault>();
  function decide(slot: Slot, r: ProxiedRequest): Action {
    slot.lastRequest = `${r.service} ${r.what}`;
    for (const f of slot.plan) {
      if (f.fired || f.service !== r.service || !f.match(r)) continue;
      if (++f.seen < f.nth) continue;
      f.fired = true;
      if (!crashRules.has(f)) faults.set(f.kind as ContainerFault, faults.get(f.kind as ContainerFault)! + 1);
      return f.action;
    }
    return { kind: 'pass' };
  }

  /** A container as processes.ts's slotFor builds it (coupled: one ingest path to both sinks). */
  let slotCount = 0;
  async function slotFor(role: 'ingest' | 'compact', clockOffset: () => number): Promise<Slot> {
    const index = slotCount++; // reserved before the awaits: members join side by side
    const started = await startContainerProxies(index, services, (r) => decide(slots[index]!, r), () => { processesKilled++; slots[index]!.kill(); });
    proxies.push(...started.proxies);
    const endpoints = started.endpoints;
    const env = (): NodeJS.ProcessEnv => ({
      ...containerEnv(services, endpoints, role, clockOffset()),
      ...(role === 'compact'
        ? compactionEnv(work, index)
        : {
          TRIBUTARY_GLUE_DATABASE: 'chaos', TRIBUTARY_PII_SALT: 'chaos-salt', TRIBUTARY_SCHEMAS_DIR: 'test/chaos/no-schemas', TRIBUTARY_SINKS: 'lake,clickhouse', TRIBUTARY_LAKE_WRITES: 'direct',
          CLICKHOUSE_URL: endpoints.get('clickhouse'), CLICKHOUSE_PASSWORD: '',
        }),
    });
    const slot = new Slot(index, env, () => { coldStarts++; });
    slots[index] = slot;
    return slot;
  }

  /** One container fault, as a proxy rule (processes.ts's rules for these kinds). */
  function fault(kind: ContainerFault): PlannedFault {
    const n = (k: number): number => 1 + Math.floor(random() * k);
    const make = (service: Service, match: (r: ProxiedRequest) => boolean, nth: number, action: Action): PlannedFault => ({ kind: kind as ProcessFaultKind, service, match, nth, action, seen: 0, fired: false });
    switch (kind) {
      case 'kill_at_random_request': return make((['s3', 'glue', 'clickhouse'] as const)[Math.floor(random() * 3)]!, () => true, n(6), random() < 0.5 ? { kind: 'kill_before' } : { kind: 'kill_after' });
      case 'kill_between_files': return make('s3', isLakeData, 1, { kind: 'kill_after' });
      case 'kill_mid_write': return make('s3', isLakeData, 1, { kind: 'kill_mid_body' });
      case 'kill_after_clickhouse_insert': return make('clickhouse', isEventInsert, n(2), { kind: 'kill_after' });
      case 'clickhouse_timeout_after_insert': return make('clickhouse', isEventInsert, n(2), { kind: 'drop_after' });
    }
  }

  // What the emulators delivered and the group committed, for the checks.
  const delivered = new Map<string, Set<string>>();
  /** each record's deliveries (ranges with repeats), for the redelivery figures */
  const deliveries = new Map<string, number>();
  const committedBatches = new Set<string>();
  const deliverers = traffic.partitions.map(() => new Set<string>());
  const lastDeliverer = new Map<number, string>();
  const inFlight = new Map<number, Set<string>>();
  let invocationsInFlight = 0;
  let handovers = 0;
  let overlaps = 0;

  // The stage's rebalance: made at the stage's second invocation, by or on the member invoking it.
  let armed: { action: RebalanceAction; at: number; seen: number; done?: Promise<void> } | undefined;
  /**
   * a stalled member's invocation waits for another member to deliver one of its partitions: to begin its
   * invocation (the two then run side by side) or, other times, to finish it (the old one writes after the new)
   */
  const takeovers = new Map<number, Array<{ readonly when: 'begun' | 'done'; readonly release: () => void }>>();
  const release = (p: number, when: 'begun' | 'done'): void => {
    const waiting = takeovers.get(p) ?? [];
    for (const w of waiting.filter((x) => x.when === when)) w.release();
    takeovers.set(p, waiting.filter((x) => x.when !== when));
  };

  function handlerFor(name: string, slot: Slot): (event: MskEvent) => Promise<void> {
    return async (event) => {
      const parts: Array<{ p: number; range: string }> = [];
      for (const records of Object.values(event.records)) {
        const p = records[0]!.partition;
        const range = `${TOPIC}+${p}+${records[0]!.offset}-${records.at(-1)!.offset}`;
        parts.push({ p, range });
        for (const r of records) {
          const sent = traffic.partitions[p]?.[r.offset];
          if (r.topic !== TOPIC || !sent || !Buffer.from(r.value ?? '', 'base64').equals(sent.value)) problem(`${name} was handed ${r.topic} ${p}:${r.offset}, not the record produced there`);
          const k = `${p}:${r.offset}`;
          (delivered.get(k) ?? delivered.set(k, new Set()).get(k)!).add(range);
          deliveries.set(k, (deliveries.get(k) ?? 0) + 1);
        }
      }
      for (const { p } of parts) {
        deliverers[p]!.add(name);
        if (lastDeliverer.has(p) && lastDeliverer.get(p) !== name) handovers++;
        lastDeliverer.set(p, name);
      }
      let rules: PlannedFault[] = [];
      let crashing = false;
      const self = members.find((m) => m.name === name);
      if (armed && !armed.done && ++armed.seen >= armed.at && self?.active) {
        const action = armed.action;
        actions.set(action, actions.get(action)! + 1);
        log(`  ${action}: ${action === 'join' ? 'a consumer joins' : `${name}`} at ${parts.map((x) => x.range).join(' ')}`);
        if (action === 'join') armed.done = addMember().catch((err: Error) => problem(`join: ${err.message}`));
        else if (action === 'leave' || action === 'crash') {
          self.active = false;
          armed.done = self.pending = self.emulator.stop().catch((err: Error) => problem(`${action}: ${name} did not stop: ${err.message}`)).finally(() => { self.pending = undefined; });
          // The container dies with its poller, at the invocation's first S3 or ClickHouse request (before or
          // after it reached the service).
          if (action === 'crash') {
            crashing = true;
            const rule = fault('kill_at_random_request');
            const crash: PlannedFault = { ...rule, service: random() < 0.5 ? 's3' : 'clickhouse', nth: 1 };
            crashRules.add(crash);
            rules = [crash];
          }
        } else {
          // The invocation is held (a slow cold start) until another member takes one of its partitions,
          // which it can only after the group evicted this one (no heartbeat for the session timeout).
          const when = actions.get('stall')! % 2 === 1 ? 'begun' : 'done'; // the first side by side, the next after
          const taken = new Promise<void>((resolve) => { for (const { p } of parts) (takeovers.get(p) ?? takeovers.set(p, []).get(p)!).push({ when, release: resolve }); });
          const t0 = performance.now();
          armed.done = Promise.resolve();
          const outcome = await Promise.race([taken.then(() => 'taken'), sleep(sessionTimeoutMs + 30_000).then(() => 'not taken')]);
          log(`  stall: ${name} held ${((performance.now() - t0) / 1000).toFixed(1)} s, partition ${outcome === 'taken' ? `taken (its new owner's invocation ${when})` : outcome}`);
          if (outcome !== 'taken') problem(`stall: no other member took ${parts.map((x) => x.range).join(' ')} from ${name} within ${(sessionTimeoutMs + 30_000) / 1000} s`);
        }
      }
      if (!crashing && rules.length === 0 && random() < faultRate) {
        const kind = KAFKA_CONTAINER_FAULTS[Math.floor(random() * KAFKA_CONTAINER_FAULTS.length)]!;
        rules = [fault(kind)];
      }
      invocations++;
      invocationsInFlight++;
      for (const { p } of parts) {
        const others = [...(inFlight.get(p) ?? [])].filter((m) => m !== name);
        if (others.length > 0) { overlaps++; log(`  ${name} invokes ${parts.map((x) => x.range).join(' ')} while ${others.join(', ')} has an invocation of partition ${p} in flight`); }
        (inFlight.get(p) ?? inFlight.set(p, new Set()).get(p)!).add(name);
        release(p, 'begun');
      }
      const t0 = performance.now();
      let reply: Reply;
      try {
        reply = await slot.invoke(event, rules);
      } catch (err) {
        reply = { id: -1, ok: false, error: String((err as Error).message ?? err) }; // it died starting
      } finally {
        for (const { p } of parts) inFlight.get(p)!.delete(name);
        invocationsInFlight--;
      }
      if (o.trace) log(`  ${name} ${parts.map((x) => x.range).join(' ')} ${rules.map((r) => `${r.kind}${r.fired ? '' : ' (not met)'}`).join('+') || 'no fault'}: ${reply.ok ? 'ok' : 'failed'} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      if (!reply.ok) {
        failedInvocations++;
        if (!crashing && !INJECTED.test(reply.error ?? '')) problem(`${name}: ${parts.map((x) => x.range).join(' ')} failed without an injected cause: ${reply.error}`);
        throw new Error(reply.error);
      }
      for (const { p, range } of parts) { committedBatches.add(range); release(p, 'done'); }
    };
  }

  let memberCount = 0;
  async function addMember(): Promise<void> {
    const index = memberCount++;
    const name = String.fromCharCode(65 + index);
    const slot = await slotFor('ingest', () => offset);
    const slice = Math.max(...traffic.partitions.map((records) => records.length)) / stageCount;
    const batchSize = Math.max(2, Math.round(slice * BATCH_SHARES[index % BATCH_SHARES.length]!));
    const emulator = new EsmEmulator({
      brokers: mock.brokers, topics: [TOPIC], groupId: GROUP, clientId: `esm-${name}`, batchSize, batchingWindowMs: 200,
      failureDirectory: join(work, 'esm-failures'), retryBaseMs: 100,
      // kafkajs waits for a JoinGroup answer the rebalance timeout + 5 s, then sends it again; the mock cluster
      // aborts on a second JoinGroup from a member whose first it still holds (rdkafka_mock_cgrp.c:
      // `!member->resp`), so the wait is long. It still aborts at times when a member joins mid-stage.
      sessionTimeoutMs, rebalanceTimeoutMs: 5 * sessionTimeoutMs, heartbeatIntervalMs: Math.max(200, Math.floor(sessionTimeoutMs / 6)),
    }, handlerFor(name, slot));
    const m: Member = { name, emulator, slot, active: true, pending: undefined };
    members.push(m);
    log(`  consumer ${name} (batch size ${batchSize}) joins the group`);
    m.pending = emulator.start();
    await m.pending;
    m.pending = undefined;
  }

  async function committedOffsets(): Promise<number[]> {
    const [got] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    return traffic.partitions.map((_, p) => Math.max(0, Number(got?.partitions.find((x) => x.partition === p)?.offset ?? -1)));
  }

  const waitFor = async (what: string, ok: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> => {
    const t0 = performance.now();
    while (!(await ok())) {
      if (performance.now() - t0 > timeoutMs) { problem(`${what}: not within ${Math.round(timeoutMs / 1000)} s${mock.died?.() ? ` (${mock.died()})` : ''}`); return false; }
      await sleep(250);
    }
    return true;
  };
  /** nothing in flight, for `quietMs` together */
  const quiet = async (quietMs: number, timeoutMs: number): Promise<boolean> => {
    let since = performance.now();
    return waitFor('the consumers going quiet', () => {
      const busy = invocationsInFlight > 0 || members.some((m) => !m.emulator.idle || m.pending !== undefined);
      if (busy) since = performance.now();
      return performance.now() - since >= quietMs;
    }, timeoutMs);
  };

  let compactOffset = offset;
  const compactSlot = await slotFor('compact', () => compactOffset);
  async function compactOnce(): Promise<void> {
    compactionRuns++;
    invocations++;
    const reply = await compactSlot.invoke({}, []);
    if (!reply.ok) { failedInvocations++; problem(`compaction failed without an injected cause: ${reply.error}`); }
  }

  const checker = new Checker(s3, bucket, glue, ch, traffic, join(work, 'files'));
  const stages: Array<StageFigures & { action: RebalanceAction | 'none'; members: number }> = [];
  const check = async (final: boolean): Promise<StageFigures> => {
    const committed = await committedOffsets();
    const figures = await checker.check(stages.length + 1, {
      lakeCommitted: committed, chCommitted: committed, lakeDelivered: delivered, chDelivered: delivered,
      committedBatches, final,
    });
    for (const line of figures.violations) problem(`stage ${figures.stage.stage}: ${line}`);
    return figures.stage;
  };

  try {
    await admin.connect();
    await producer.connect();
    let produced = traffic.partitions.map(() => 0);
    const stageTimeout = o.stageTimeoutMs ?? 300_000;
    for (let stage = 1; stage <= stageCount; stage++) {
      // Producers keep producing: the stage's slice of every partition, in offset order.
      const ends = traffic.partitions.map((records) => Math.ceil(records.length * stage / stageCount));
      for (const [p, records] of traffic.partitions.entries()) {
        const slice = records.slice(produced[p], ends[p]);
        if (slice.length === 0) continue;
        await producer.send({ topic: TOPIC, acks: -1, messages: slice.map((r) => ({ value: r.value, partition: p, timestamp: String(r.timestamp) })) });
      }
      produced = ends;
      const active = members.filter((m) => m.active);
      const live = active.length;
      let action = actionCycle[(stage - 2 + actionCycle.length) % actionCycle.length]!; // the first stage only starts the group
      if ((action === 'leave' || action === 'crash') && live < 2) action = 'join';
      armed = stage === 1 ? undefined : { action, at: 2, seen: 0 };
      if (stage === 1) await Promise.all(Array.from({ length: o.consumers ?? 2 }, () => addMember()));
      else for (const m of active) m.emulator.resume();
      const compacting = (async () => { for (let i = 0; i < (o.compactionsPerStage ?? 1); i++) { await sleep(500 + Math.floor(random() * 1500)); await compactOnce(); } })();
      // The stage ends when the group has committed everything produced and nothing is in flight.
      const ok = await waitFor(`stage ${stage} committing ${ends.reduce((a, b) => a + b, 0)} records`, async () =>
        (armed?.done !== undefined || armed === undefined) && (await committedOffsets()).every((c, p) => c >= ends[p]!), stageTimeout);
      await armed?.done;
      for (const m of members) await m.pending;
      await compacting;
      for (const m of members.filter((x) => x.active)) m.emulator.pause();
      await quiet(1_000, 60_000);
      const s = await check(false);
      stages.push({ ...s, action: stage === 1 ? 'none' : action, members: members.filter((m) => m.active).length });
      log(`stage ${s.stage} (${stage === 1 ? 'start' : action}): ${(await committedOffsets()).reduce((a, b) => a + b, 0)}/${o.events} committed · ${members.filter((m) => m.active).length} consumers · ${invocations} invocations (${failedInvocations} failed) · ${processesKilled} killed · ${handovers} handovers, ${overlaps} overlaps · lake ${s.lake.rows} rows · kafkajs crashes ${members.reduce((n, m) => n + m.emulator.crashes.length, 0)} · problems ${problems.length}`);
      if (!ok) break;
    }
    for (const m of members.filter((x) => x.active)) { m.active = false; await m.emulator.stop(); }
    // The clock past every hour, compaction twice (the second finds stragglers and nothing else), merges.
    compactOffset = offset + 3_600_000;
    await compactSlot.stop();
    for (let i = 0; i < 2; i++) await compactOnce();
    for (const table of traffic.expected.keys()) await ch.session.queryAsync(`OPTIMIZE TABLE tributary.${table} FINAL`);
    await ch.session.queryAsync('OPTIMIZE TABLE tributary_ops._quarantine FINAL').catch(() => undefined);
    const final = await check(true);
    const committed = await committedOffsets();
    committed.forEach((c, p) => { if (c !== traffic.partitions[p]!.length) problem(`end: partition ${p} committed to ${c}, ${traffic.partitions[p]!.length} produced`); });
    let redeliveredOtherBoundaries = 0;
    let redeliveredSameBoundaries = 0;
    for (const [k, ranges] of delivered) {
      if (ranges.size > 1) redeliveredOtherBoundaries++;
      else if ((deliveries.get(k) ?? 0) > 1) redeliveredSameBoundaries++;
    }
    return {
      events: o.events, partitions: partitionCount, distinctValid: [...traffic.expected.values()].reduce((n, s) => n + s.size, 0),
      producerDuplicates: traffic.producerDuplicates, poison: traffic.poison, invocations, failedInvocations, coldStarts, processesKilled, faults, compactionRuns,
      consumers: members.length, actions, rejoins: members.reduce((n, m) => n + Math.max(0, m.emulator.assignments.length - 1), 0),
      refusedCommits: members.reduce((n, m) => n + m.emulator.refusedCommits, 0), consumerCrashes: members.flatMap((m) => m.emulator.crashes.map((c) => `${m.name}: ${c}`)), handovers, overlaps, redeliveredOtherBoundaries, redeliveredSameBoundaries,
      consumersPerPartition: deliverers.map((s) => s.size), stages, final, problems, seconds: (performance.now() - started) / 1000,
    };
  } catch (err) {
    // The mock cluster aborts at times (see the rebalance timeout above): say so rather than only ECONNREFUSED.
    if (/ECONNREFUSED/.test(`${(err as Error).message} ${String((err as { cause?: unknown }).cause)}`)) throw new Error(`the broker (librdkafka's mock cluster) went away: ${(err as Error).message}${mock.died?.() ? `\n${mock.died()}` : ''}`, { cause: err });
    throw err;
  } finally {
    for (const m of members) if (m.active) { m.active = false; await m.emulator.stop().catch(() => undefined); }
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    for (const s of slots) await s.stop();
    for (const p of proxies) await p.close();
    await stores.close();
    mock.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

export function formatKafkaChaos(r: KafkaChaosResult): string {
  const all = [...r.stages, r.final];
  const lost = all.reduce((n, s) => n + s.lake.lost + s.clickhouseRaw.lost + s.clickhouseDedup.lost + s.quarantine.missing + s.ingestLog.missingBatches, 0);
  const duplicated = all.reduce((n, s) => n + s.lake.duplicated + s.clickhouseRaw.duplicated + s.clickhouseDedup.duplicated + s.quarantine.duplicated + s.ingestLog.duplicated, 0);
  return [
    `Kafka (librdkafka's mock cluster), ${r.partitions} partitions · events ${r.events} (${r.distinctValid} distinct valid, ${r.producerDuplicates} producer duplicates, ${[...r.poison.values()].reduce((a, b) => a + b, 0)} poison)`,
    `${r.consumers} consumers in one group · rebalances made: ${[...r.actions].map(([k, n]) => `${k} ${n}`).join(', ')} · ${r.rejoins} rejoins · ${r.refusedCommits} commits refused mid-rebalance`,
    `  ${r.handovers} partition handovers · ${r.overlaps} invocations of a partition begun while another consumer's was in flight · consumers per partition ${r.consumersPerPartition.join(', ')}`,
    `  records redelivered with other boundaries ${r.redeliveredOtherBoundaries}, with the same ${r.redeliveredSameBoundaries}`,
    ...(r.consumerCrashes.length ? [`  kafkajs consumer crashes: ${r.consumerCrashes.join('; ')}`] : []),
    `${r.invocations} invocations (${r.failedInvocations} failed and retried) · ${r.coldStarts} cold starts · ${r.processesKilled} processes killed · ${r.compactionRuns} compaction runs · ${r.stages.length} stages checked · ${r.seconds.toFixed(1)} s`,
    `container faults: ${[...r.faults].map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `per stage: ${r.stages.map((s) => `${s.stage} ${s.action} (${s.members} consumers) lost ${s.lake.lost + s.clickhouseRaw.lost + s.clickhouseDedup.lost} dup ${s.lake.duplicated + s.clickhouseRaw.duplicated + s.clickhouseDedup.duplicated}`).join(' · ')}`,
    ...formatSinkFigures(r.stages, r.final),
    `lost ${lost} · duplicated ${duplicated}${r.problems.length ? ` · ${r.problems.length} problems:\n  ${r.problems.slice(0, 30).join('\n  ')}` : ''}`,
  ].join('\n');
}
