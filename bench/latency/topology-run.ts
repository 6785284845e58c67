// One topology of the latency bench, in its own process (chDB opens one store per process): the local
// stand-ins (openLocalRuntime: directory lake, JSON catalog, chDB), an ESM emulator per mapping consuming
// the mock cluster with its own consumer group, the real ingestBatch told its sinks, a producer process at
// a steady rate, and pollers that note when each event becomes visible. Prints one JSON line (RunResult).
//
// node --import tsx bench/latency/topology-run.ts '<RunSpec as JSON>'
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { EsmEmulator } from '../../functions/adapters/kafka/esm-emulator.js';
import { openLocalRuntime } from '../../functions/cli/local-runtime.js';
import { encodeMskEvent, type MskEvent } from '../../functions/core/decode/msk-event.js';
import { ingestBatch, type IngestDeps, type Sinks } from '../../functions/core/ingest.js';
import type { Catalog, Warehouse } from '../../functions/core/ports.js';
import { SchemaRegistry } from '../../functions/core/schema/registry.js';
import { percentile } from '../../functions/core/util/stats.js';
import { WindowGatherer } from './gather.js';
import { dedupWatcher, lakeWatcher, type Watcher } from './visibility.js';

export interface PathSpec {
  /** coupled, fresh or lake */
  readonly name: string;
  readonly sinks: Sinks;
  readonly windowMs: number;
  readonly batchSize: number;
}

export interface RunSpec {
  readonly topology: 'coupled' | 'split';
  readonly brokers: string[];
  readonly paths: PathSpec[];
  readonly rate: number;
  readonly seconds: number;
  /** `window`: the mapping's batches gathered over the emulator (gather.ts); `emulator`: the emulator's own */
  readonly batching: 'window' | 'emulator';
  readonly events: string[];
  readonly runId: string;
}

export interface Figures {
  readonly produced: number;
  readonly visible: number;
  readonly late: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
  readonly pollMs: number;
}

export interface PathResult {
  readonly name: string;
  readonly windowMs: number;
  readonly batchSize: number;
  readonly invocations: number;
  readonly failedInvocations: number;
  readonly recordsPerInvocation: number;
  readonly handlerP50Ms: number | null;
  readonly handlerP99Ms: number | null;
  /** `_dedup` visibility when the path writes ClickHouse; lake visibility when it writes the lake */
  readonly dedup?: Figures;
  readonly lake?: Figures;
}

export interface RunResult {
  readonly topology: string;
  readonly batching: string;
  readonly rate: number;
  readonly producedSeconds: number;
  readonly sendP99Ms: number;
  readonly paths: PathResult[];
  readonly wallSeconds: number;
}

const POLL_MS = 100;
/** the emulator's fetch wait when the bench gathers: the mock answers an empty fetch after this */
const GATHER_FETCH_WAIT_MS = 50;

/** A port a path must never reach, as the Lambda wiring gives it (functions/adapters/aws-services.ts). */
function absent<T extends object>(what: string): T {
  return new Proxy({} as T, { get: (_t, prop) => (prop === 'then' ? undefined : () => { throw new Error(`${what}.${String(prop)} called on a path without it`); }) });
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as RunSpec;
  const started = performance.now();
  const home = mkdtempSync(join(tmpdir(), `tributary-latency-${spec.topology}-`));
  mkdirSync(join(home, 'no-schemas'));
  const rt = await openLocalRuntime({ home, schemasDir: join(home, 'no-schemas') });
  const prefix = `${spec.topology}${spec.runId}`;
  const topic = `latency-${prefix}`;
  const stoppers: Array<() => Promise<void>> = [];
  try {
    // Each path is its own function: its own registry cache; the fresh path has no catalog, the lake path no warehouse.
    const depsOf = (p: PathSpec): IngestDeps => ({
      store: rt.store,
      catalog: p.sinks.lake ? rt.catalog : absent<Catalog>('catalog'),
      warehouse: p.sinks.warehouse ? rt.warehouse : absent<Warehouse>('warehouse'),
      registry: new SchemaRegistry(rt.store, { clock: rt.deps.clock, declared: rt.schemas, ...(p.sinks.lake ? { adopt: (t: string) => rt.catalog.getTable(t) } : {}) }),
      clock: rt.deps.clock,
      config: { ...rt.deps.config, sinks: p.sinks },
    });
    const deps = new Map(spec.paths.map((p) => [p.name, depsOf(p)]));

    // A warm container: the tables exist in both sinks and the handler has run, so the first measured batch
    // is not a cold start (those are rare: a container serves thousands of batches).
    for (let round = 0; round < 3; round++) {
      const now = Date.now();
      const warm = encodeMskEvent(spec.events.map((event, i) => ({
        topic: 'warmup', partition: 0, offset: round * spec.events.length + i, timestamp: now,
        value: Buffer.from(JSON.stringify({ event, event_id: `warm-${round}-${i}`, ts: now, user_id: 'u0', properties: { page: '/', position: 1, is_mobile: true, amount: 1.5 } })),
      })));
      for (const p of spec.paths) await ingestBatch(warm, deps.get(p.name)!);
    }

    // The mock cluster creates a topic (4 partitions) on first use; kafkajs' admin finds no controller there.
    const producer = new Kafka({ clientId: 'tributary-latency-setup', brokers: spec.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const now = Date.now();
    await producer.send({ topic, messages: [{ key: 'u0', value: JSON.stringify({ event: spec.events[0], event_id: 'warm-topic', ts: now, user_id: 'u0', properties: { page: '/', position: 1, is_mobile: true, amount: 1.5 } }) }] });
    await producer.disconnect();

    const stats = new Map<string, { invocations: number; records: number; ms: number[]; failed: number }>();
    const emulators: EsmEmulator[] = [];
    const gatherers: WindowGatherer[] = [];
    for (const p of spec.paths) {
      const s = { invocations: 0, records: 0, ms: [] as number[], failed: 0 };
      stats.set(p.name, s);
      const d = deps.get(p.name)!;
      const noted = (o: { records: number; ms: number; error?: unknown }): void => {
        s.invocations++; s.records += o.records; s.ms.push(o.ms);
        if (o.error) { s.failed++; console.error(`${p.name}: invocation failed: ${(o.error as Error).message}`); }
      };
      let handler: (event: MskEvent) => Promise<unknown>;
      if (spec.batching === 'window') {
        const g = new WindowGatherer({ windowMs: p.windowMs, batchSize: p.batchSize, invoke: (e) => ingestBatch(e, d), onInvoked: noted });
        gatherers.push(g);
        handler = g.add;
      } else {
        handler = async (e) => {
          const records = Object.values(e.records).reduce((n, l) => n + l.length, 0);
          const t = performance.now();
          try { await ingestBatch(e, d); noted({ records, ms: performance.now() - t }); } catch (error) { noted({ records, ms: performance.now() - t, error }); throw error; }
        };
      }
      const em = new EsmEmulator({
        brokers: spec.brokers, topics: [topic], groupId: `tributary-latency-${p.name}-${prefix}`,
        batchSize: spec.batching === 'window' ? 10_000 : p.batchSize,
        batchingWindowMs: spec.batching === 'window' ? GATHER_FETCH_WAIT_MS : p.windowMs,
        failureDirectory: join(home, 'esm-failures'), maximumRetryAttempts: 0,
      }, handler);
      emulators.push(em);
      await em.start();
    }
    stoppers.push(async () => { for (const g of gatherers) await g.drain(); for (const e of emulators) await e.stop(); });
    for (const e of emulators) await e.waitUntilIdle(100, 60_000); // every group joined

    // What to watch: ClickHouse where a path writes it, the lake where a path writes it.
    const maxWindow = Math.max(...spec.paths.map((p) => p.windowMs));
    const watchers = new Map<string, { dedup?: Watcher; lake?: Watcher }>();
    for (const p of spec.paths) {
      watchers.set(p.name, {
        ...(p.sinks.warehouse ? { dedup: dedupWatcher(rt.warehouse, spec.events, prefix, Math.max(30_000, 3 * p.windowMs)) } : {}),
        ...(p.sinks.lake ? { lake: lakeWatcher(rt.catalog, spec.events, prefix) } : {}),
      });
    }
    const all = [...watchers.values()].flatMap((w) => [w.dedup, w.lake].filter((x): x is Watcher => x !== undefined));
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const t = Date.now();
        for (const w of all) await w.poll();
        await new Promise((r) => setTimeout(r, Math.max(0, POLL_MS - (Date.now() - t))));
      }
    })();

    const produced = await runProducer(spec, topic, prefix);
    // Wait until every event is visible everywhere, or a window and 30 s past the last send.
    const deadline = produced.lastMs + maxWindow + 30_000;
    while (Date.now() < deadline && all.some((w) => w.sightings.latencyMs.size < produced.sent)) await new Promise((r) => setTimeout(r, 200));
    polling = false;
    await poller;
    for (const w of all) await w.sweep();

    const figures = (w: Watcher | undefined): Figures | undefined => {
      if (!w) return undefined;
      const xs = [...w.sightings.latencyMs.values()];
      // An event never seen counts as infinitely late: it is in the percentiles' tail, not left out.
      const padded = [...xs, ...Array.from({ length: Math.max(0, produced.sent - xs.length) }, () => Infinity)];
      const fin = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : Math.round(x));
      return { produced: produced.sent, visible: xs.length, late: w.sightings.late, p50Ms: fin(percentile(padded, 50)), p99Ms: fin(percentile(padded, 99)), maxMs: fin(Math.max(...padded)), pollMs: Math.round(w.sightings.pollMs / Math.max(1, w.sightings.polls)) };
    };
    const paths: PathResult[] = spec.paths.map((p) => {
      const s = stats.get(p.name)!;
      const w = watchers.get(p.name)!;
      const dedup = figures(w.dedup);
      const lake = figures(w.lake);
      return {
        name: p.name, windowMs: p.windowMs, batchSize: p.batchSize, invocations: s.invocations, failedInvocations: s.failed,
        recordsPerInvocation: s.invocations === 0 ? 0 : s.records / s.invocations,
        handlerP50Ms: percentile(s.ms, 50) ?? null, handlerP99Ms: percentile(s.ms, 99) ?? null,
        ...(dedup ? { dedup } : {}), ...(lake ? { lake } : {}),
      };
    });
    const result: RunResult = { topology: spec.topology, batching: spec.batching, rate: spec.rate, producedSeconds: produced.seconds, sendP99Ms: produced.sendP99Ms, paths, wallSeconds: (performance.now() - started) / 1000 };
    console.log(JSON.stringify(result));
  } finally {
    for (const s of stoppers) await s().catch(() => {});
    await rt.close();
    rmSync(home, { recursive: true, force: true });
  }
}

interface Produced { sent: number; firstMs: number; lastMs: number; seconds: number; sendP99Ms: number }

function runProducer(spec: RunSpec, topic: string, prefix: string): Promise<Produced> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/latency/producer.ts', spec.brokers.join(','), topic, String(spec.rate), String(spec.seconds), prefix, spec.events.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) { reject(new Error(`the producer exited with ${code}`)); return; }
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Produced);
    });
  });
}

await main();
process.exit(0); // kafkajs and chDB may keep handles open
