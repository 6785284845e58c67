// The process chaos harness (issue 25; traffic.ts, containers.ts and checker.ts hold its parts): the deployed Lambda handlers in child processes ("containers"), one
// per topic-partition and path, plus one compaction container, all reaching S3 (Ceph radosgw), Glue (the
// test endpoint) and ClickHouse over HTTP (chDB) through fault proxies (fault-proxy.ts). Containers are
// SIGKILLed at request boundaries and mid-upload; the replacement starts cold. Between stages (nothing in
// flight) every store is checked against what Kafka delivered and what was committed:
//   lake through the catalog — no committed event missing, no Kafka record more often than the distinct batch
//     boundaries that delivered it, compacted files holding each event once;
//   ClickHouse raw tables — no event more often than the distinct batches (insert tokens) that carried it;
//     `_dedup` views — every committed event exactly once;
//   `_ingest_log` — one row per file and topic-partition, a row for every committed batch;
//   quarantine — every committed poison record, with its reason, raw copies bounded like events.
// At the end (compaction with the clock past every hour, OPTIMIZE … FINAL): everything exactly once.
//
// Spool mode (`lakeWrites: 'spool'`, the production shape): the lake path spools one object per batch and the
// materializer (functions/materialize/handler.ts) runs in containers of its own on a simulated schedule (each
// run an interval later on its clock), killed at its S3 and Glue requests (so between its manifest steps),
// sometimes two runs at once (a retry overlapping a slow run: the lease must hold). Its checks: every
// committed record in the lake (up to the materialized offsets) or in a pending spool; each Kafka record in
// at most one lake file and the lake quarantine; lineage (`lake/_ingest_log/`) one row-count per record up to
// the offsets; at the end, after a clean run: nothing pending, offsets at the produced ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng } from '../../functions/cli/traffic.js';
import { encodeMskEvent } from '../../functions/core/decode/msk-event.js';
import { Checker, formatSinkFigures, type StageFigures } from './checker.js';
import { compactionEnv, containerEnv, isEventInsert, isLakeData, Slot, startChaosStores, startContainerProxies, type PlannedFault } from './containers.js';
import type { Action, FaultProxy, ProxiedRequest, Service } from './fault-proxy.js';
import { CHAOS_EXPERIMENT, generate, type ValidEvent } from './traffic.js';

export const PROCESS_FAULT_KINDS = [
  'kill_at_random_request', 'kill_between_files', 'kill_mid_write', 'kill_after_clickhouse_insert', 'kill_before_offset_commit',
  'compaction_kill', 'materializer_kill', 'materializer_overlap', 'job_kill', 'ab_daily_kill',
  'object_store_5xx', 'object_store_throttling', 'object_store_slow', 'object_store_torn_write',
  'catalog_throttling', 'catalog_concurrent_modification', 'catalog_lost_response',
  'clickhouse_unavailable', 'clickhouse_timeout_after_insert', 'clickhouse_too_many_parts',
  'duplicate_delivery', 'rebalance_new_boundaries',
] as const;
export type ProcessFaultKind = (typeof PROCESS_FAULT_KINDS)[number];
type Path = 'both' | 'lake' | 'clickhouse';
/** whose invocation a fault is planned for */
type Who = Path | 'compact' | 'materialize' | 'job' | 'ab';

export interface ProcessChaosOptions {
  readonly events: number;
  readonly partitions: number;
  /** every fault kind the topology can meet is injected at least this many times */
  readonly faultsPerKind: number;
  readonly seed?: number;
  readonly topology?: 'coupled' | 'split';
  /** ingest invocations per partition and path between two checks */
  readonly stepsPerStage?: number;
  /** keep replaying the topic with faults until this many ms have passed (a soak) */
  readonly soakMs?: number;
  /** inject only these kinds (default: all the topology can meet) */
  readonly only?: readonly ProcessFaultKind[];
  /**
   * compaction runs beside each stage's ingest (default: one, and up to five more while the stage still ingests
   * and one of compaction's kinds is short; a fixed three made compaction the stage's critical path: two thirds
   * of a default run's time)
   */
  readonly compactionsPerStage?: number;
  /** a compaction run's time before it stops picking up partitions, as near its deployed timeout (default 8 s; 0: none) */
  readonly compactionBudgetMs?: number;
  /** how the lake path writes: `direct` (default) or `spool`, with the materializer run on a schedule */
  readonly lakeWrites?: 'direct' | 'spool';
  /**
   * spool mode: the materializer's deferral (TRIBUTARY_MATERIALIZE_DEFER_SECONDS, as the stack sets it per
   * environment): a table whose oldest pending row is younger waits for a later run (default 0)
   */
  readonly materializeDeferSeconds?: number;
  /** materializer runs beside each stage's ingest in spool mode (default: one after another while it ingests) */
  readonly materializationsPerStage?: number;
  /**
   * spool mode: the topic's records become available over this many stages (default 2 × faultsPerKind, at
   * least 3), so the materializer meets fresh spools in each (a replay's are all materialized already)
   */
  readonly freshStages?: number;
  /**
   * run the SQL job test/chaos/jobs/page-views-per-hour.sql (the deployed jobs handler, hourly windows) beside
   * ingest from the second stage on, killed at its requests: one row per window at every stage, never more
   * views than the hour's distinct events; at the end each hour's views equal them
   */
  readonly job?: boolean;
  /** a bug planted in the containers, for showing the harness catches it */
  readonly plant?: 'wall-clock-token';
  readonly log?: (line: string) => void;
  /** end with compaction past every hour and merges, then check exact equality (default true) */
  readonly final?: boolean;
  /** log every invocation */
  readonly trace?: boolean;
}

export type { SinkFigures, StageFigures, SpoolFigures } from './checker.js';

export interface ProcessChaosResult {
  readonly topology: 'coupled' | 'split';
  readonly events: number;
  readonly distinctValid: number;
  readonly producerDuplicates: number;
  readonly poison: Map<string, number>;
  readonly invocations: number;
  readonly failedInvocations: number;
  readonly multiFaultInvocations: number;
  /** faults planned as proxy rules that never fired (the invocation ended first): not counted in `faults` */
  readonly unfiredFaults: number;
  readonly coldStarts: number;
  readonly processesKilled: number;
  readonly compactionRuns: number;
  /** job invocations (a day each), with --job */
  readonly jobRuns: number;
  /** ab-daily invocations (a day each), with --job */
  readonly abRuns: number;
  /** at the end, with --job: the SQL job's windows and ab-daily's rows, each against what the traffic gives */
  readonly jobFinal: { windows: number; expected: number };
  readonly abFinal: { rows: number; expected: number };
  readonly compactionKillsAfter: Map<string, number>;
  readonly lakeWrites: 'direct' | 'spool';
  readonly materializeRuns: number;
  /** materializer runs that found another's manifest (or claim) and did nothing */
  readonly materializeBusy: number;
  /** tables the materializer's runs left for a later run (with deferral) */
  readonly materializeDeferred: number;
  /** where the materializer containers were killed: before or after which request */
  readonly materializeKills: Map<string, number>;
  readonly faults: Map<ProcessFaultKind, number>;
  readonly stages: StageFigures[];
  readonly final: StageFigures;
  readonly problems: string[];
  readonly seconds: number;
}
// ---------------------------------------------------------------- the run

/** the materializer's lease as deployed (infra/materialize.ts: its 4-minute timeout + 60 s) and its schedule */
const MATERIALIZE_LEASE_MS = 300_000;
/** the chaos run's SQL job (test/chaos/jobs/), run by the deployed jobs handler, and its output table */
const CHAOS_JOBS_DIR = 'test/chaos/jobs';
const CHAOS_JOB = 'page-views-per-hour';
const CHAOS_JOB_TABLE = 'page_views_per_hour';
const MATERIALIZE_INTERVAL_MS = 120_000;
const S3_ERROR = (code: string, message: string): string => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
const GLUE_ERROR = (type: string): { headers: Record<string, string>; body: string } => ({ headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type }, body: JSON.stringify({ __type: type, Message: `injected ${type}` }) });
/** faults the AWS SDKs retry away (one rule fires once): they can ride beside a fault that ends the invocation */
const ABSORBED: ReadonlySet<ProcessFaultKind> = new Set(['object_store_5xx', 'object_store_throttling', 'object_store_slow', 'catalog_throttling']);
/** what a failed invocation's error may say when one of the injected faults caused it */
const INJECTED_CAUSE = /container exited|injected|ECONNRESET|socket hang up|TOO_MANY_PARTS|Too many parts|ConcurrentModification|Throttling|InternalService|SlowDown|InternalError|ECONNREFUSED|other side closed|aborted|timeout/i;
const GLUE_WRITES = new Set(['CreateTable', 'UpdateTable', 'BatchCreatePartition', 'BatchUpdatePartition', 'UpdatePartition']);

export async function runProcessChaos(o: ProcessChaosOptions): Promise<ProcessChaosResult> {
  const started = performance.now();
  const log = o.log ?? (() => {});
  const topology = o.topology ?? 'coupled';
  const random = rng(o.seed ?? 7);
  // The containers' clock reads 01:25 UTC of the next day whatever the time of day: two closed hours behind it,
  // 23:00 and 00:00, so the traffic always spans two days (ab-daily's incremental state across a midnight) and
  // every object's store time is earlier than the clock, as in production.
  const realStart = Date.now();
  const hourStart = Math.floor(realStart / 86_400_000) * 86_400_000 + 86_400_000 + 3_600_000;
  const virtualStart = hourStart + 25 * 60_000;
  const offset = virtualStart - realStart;
  const traffic = generate(o, random, hourStart, virtualStart);
  const work = mkdtempSync(join(tmpdir(), 'tributary-chaos-proc-'));
  const problems: string[] = [];

  const stores = await startChaosStores(work);
  const { s3, glue, ch, services } = stores;
  const bucket = services.bucket;
  const proxies: FaultProxy[] = [];
  const slots: Slot[] = [];
  const faults = new Map<ProcessFaultKind, number>(PROCESS_FAULT_KINDS.map((k) => [k, 0]));
  const fire = (k: ProcessFaultKind): void => { faults.set(k, faults.get(k)! + 1); };
  let coldStarts = 0;
  let processesKilled = 0;
  const compactionKillsAfter = new Map<string, number>();

  const paths: Path[] = topology === 'coupled' ? ['both'] : ['lake', 'clickhouse'];
  const lakePath: Path = topology === 'coupled' ? 'both' : 'lake';
  const chPath: Path = topology === 'coupled' ? 'both' : 'clickhouse';
  const spooling = o.lakeWrites === 'spool';
  const deferring = spooling && (o.materializeDeferSeconds ?? 0) > 0;
  const kinds = (path: Path | 'compact' | 'materialize' | 'job' | 'ab'): ProcessFaultKind[] => PROCESS_FAULT_KINDS.filter((k) => {
    if (o.only && !o.only.includes(k)) return false;
    if (path === 'job') return o.job === true && k === 'job_kill';
    if (path === 'ab') return o.job === true && k === 'ab_daily_kill';
    if (k === 'job_kill' || k === 'ab_daily_kill') return false;
    // Compaction is the lake's busiest Glue writer (an UpdatePartition per switch, in replays too): it meets the
    // catalog's faults and S3's besides its kills.
    if (path === 'compact') return k === 'compaction_kill' || k.startsWith('catalog_') || ['object_store_5xx', 'object_store_throttling', 'object_store_slow'].includes(k);
    // The materializer is the lake's Glue writer in spool mode: it meets the catalog's faults and S3's too.
    if (path === 'materialize') return spooling && (k.startsWith('materializer_') || k.startsWith('catalog_') || ['object_store_5xx', 'object_store_throttling', 'object_store_slow'].includes(k));
    if (k === 'compaction_kill' || k.startsWith('materializer_')) return false;
    const lake = path !== 'clickhouse';
    const warehouse = path !== 'lake';
    if (k.startsWith('catalog_') || k === 'kill_between_files' || k === 'kill_mid_write' || k === 'object_store_torn_write') return lake;
    if (k.startsWith('clickhouse_') || k === 'kill_after_clickhouse_insert') return warehouse;
    return true;
  });
  const relevant = new Set<ProcessFaultKind>([...paths.flatMap((p) => kinds(p)), ...kinds('compact'), ...kinds('materialize'), ...kinds('job'), ...kinds('ab')]);

  async function slotFor(role: 'ingest' | 'compact' | 'materialize' | 'jobs' | 'ab-daily', path: Path, clockOffset: () => number): Promise<Slot> {
    const index = slots.length;
    const started = await startContainerProxies(index, services, (r) => decide(slots[index]!, r), () => { processesKilled++; slots[index]!.kill(); });
    proxies.push(...started.proxies);
    const endpoints = started.endpoints;
    const env = (): NodeJS.ProcessEnv => ({
      ...containerEnv(services, endpoints, role, clockOffset()), ...(o.plant ? { CHAOS_PLANT: o.plant } : {}),
      ...(role === 'compact'
        ? { ...compactionEnv(work, index), ...(compactBudgetMs > 0 ? { CHAOS_COMPACT_BUDGET_MS: String(compactBudgetMs) } : {}) }
        : role === 'jobs' || role === 'ab-daily'
          ? { TRIBUTARY_GLUE_DATABASE: 'chaos', TRIBUTARY_JOBS_DIR: CHAOS_JOBS_DIR, CLICKHOUSE_URL: endpoints.get('clickhouse'), CLICKHOUSE_PASSWORD: '' }
          : role === 'materialize'
          // As deployed (infra/materialize.ts: lease = timeout + 60 s), but few spools per manifest, so a run
          // takes several manifests and the Kafka-order prefix of the pending spools is exercised.
          ? { TRIBUTARY_GLUE_DATABASE: 'chaos', TRIBUTARY_MATERIALIZE_LEASE_SECONDS: String(MATERIALIZE_LEASE_MS / 1000), TRIBUTARY_SPOOLS_PER_MANIFEST: '3', AWS_LAMBDA_LOG_STREAM_NAME: `chaos-materialize-${index}`, TRIBUTARY_MATERIALIZE_DEFER_SECONDS: String(o.materializeDeferSeconds ?? 0) }
          : {
          TRIBUTARY_PII_SALT: 'chaos-salt', TRIBUTARY_SCHEMAS_DIR: 'test/chaos/no-schemas',
          TRIBUTARY_SINKS: path === 'both' ? 'lake,clickhouse' : path,
          ...(path !== 'clickhouse' ? { TRIBUTARY_GLUE_DATABASE: 'chaos', TRIBUTARY_LAKE_WRITES: spooling ? 'spool' : 'direct' } : {}),
          ...(path !== 'lake' ? { CLICKHOUSE_URL: endpoints.get('clickhouse'), CLICKHOUSE_PASSWORD: '' } : {}),
        }),
    });
    const slot = new Slot(index, env, () => { coldStarts++; });
    slots.push(slot);
    return slot;
  }

  const requests = new Map<Service, number>();
  /** where compaction's last planned kill fired (for the trace) */
  let lastCompactionKill = '';
  let compactionSwitched = false;
  let compactEnv: (() => NodeJS.ProcessEnv) | undefined;
  const materializeKills = new Map<string, number>();
  function decide(slot: Slot, r: ProxiedRequest): Action {
    slot.lastRequest = `${r.service} ${r.what}`;
    requests.set(r.service, (requests.get(r.service) ?? 0) + 1);
    slot.requests.set(r.service, (slot.requests.get(r.service) ?? 0) + 1);
    const action = injected(slot, r);
    // A switch happened once an UpdatePartition reached Glue, whatever the reply (a lost response included).
    if (slot.env === compactEnv && /UpdatePartition/.test(r.what) && !['respond', 'refuse', 'kill_before'].includes(action.kind)) compactionSwitched = true;
    return action;
  }
  function injected(slot: Slot, r: ProxiedRequest): Action {
    for (const f of slot.plan) {
      if (f.fired || f.service !== r.service || !f.match(r)) continue;
      if (++f.seen < f.nth) continue;
      f.fired = true;
      fire(f.kind);
      if (f.kind === 'materializer_kill') {
        const at = `${f.action.kind === 'kill_before' ? 'before' : 'after'} ${materializeStepOf(r)}`;
        materializeKills.set(at, (materializeKills.get(at) ?? 0) + 1);
      }
      if (f.kind === 'compaction_kill') {
        compactionKillsAfter.set(stepOf(r), (compactionKillsAfter.get(stepOf(r)) ?? 0) + 1);
        lastCompactionKill = `${f.action.kind === 'kill_before' ? 'before' : 'after'} ${stepOf(r)}`;
      }
      return f.action;
    }
    return { kind: 'pass' };
  }

  // What a container's invocations usually request, per service (the last few that ran to their end), so a
  // fault "at the nth request" names a request the invocation makes: one past its last never fires, and an
  // invocation planned with it ran for nothing.
  const usual = new Map<Who, Array<ReadonlyMap<Service, number>>>();
  const ranToEnd = (who: Who, slot: Slot): void => {
    const list = usual.get(who) ?? usual.set(who, []).get(who)!;
    list.push(new Map(slot.requests));
    if (list.length > 8) list.shift();
  };
  /**
   * The median of `who`'s recent requests to `service`, or undefined before its first complete invocation.
   * (Compaction's kill is planned at one of its steps instead: how many requests a run makes depends on the
   * partitions the replays touched since the last, so a median of earlier runs says little.)
   */
  const usually = (who: Who, service: Service): number | undefined => {
    const xs = usual.get(who)?.map((m) => m.get(service) ?? 0).sort((a, b) => a - b);
    return xs?.length ? xs[Math.floor(xs.length / 2)] : undefined;
  };
  /** A request of an invocation of `who`, uniformly among those it usually makes to `services` (else as `fallback` draws one). */
  function anyRequest(who: Who, services: readonly Service[], fallback: () => { service: Service; nth: number }): { service: Service; nth: number } {
    const counts = services.map((sv) => [sv, usually(who, sv) ?? 0] as const);
    const total = counts.reduce((n, [, c]) => n + c, 0);
    if (total === 0) return fallback();
    let i = Math.floor(random() * total);
    for (const [service, c] of counts) { if (i < c) return { service, nth: i + 1 }; i -= c; }
    return fallback();
  }
  /** planned proxy rules that never fired (the invocation ended before its nth matching request) */
  let unfired = 0;
  const countUnfired = (rules: readonly PlannedFault[]): void => { unfired += rules.filter((f) => !f.fired).length; };
  /** The proxy rules of an invocation of `who` meeting the kinds planned for it. */
  const rulesFor = (kinds: readonly ProcessFaultKind[], who: Who): PlannedFault[] => kinds.map((k) => fault(k, who)).filter((f): f is PlannedFault => f !== undefined);

  /** One fault of a kind, as a proxy rule for an invocation of `who`. */
  function fault(kind: ProcessFaultKind, who: Who): PlannedFault | undefined {
    const n = (k: number): number => 1 + Math.floor(random() * k);
    /** the nth of the first `k` requests to `service`, within those an invocation usually makes */
    const early = (service: Service, k: number): number => n(Math.max(1, Math.min(k, usually(who, service) ?? k)));
    const any = (): boolean => true;
    const make = (service: Service, match: (r: ProxiedRequest) => boolean, nth: number, action: Action): PlannedFault => ({ kind, service, match, nth, action, seen: 0, fired: false });
    const killAt = (services: readonly Service[], fallback: () => { service: Service; nth: number }): PlannedFault => {
      const at = anyRequest(who, services, fallback);
      return make(at.service, any, at.nth, random() < 0.5 ? { kind: 'kill_before' } : { kind: 'kill_after' });
    };
    switch (kind) {
      case 'kill_at_random_request': return killAt(['s3', 'glue', 'clickhouse'], () => ({ service: (['s3', 'glue', 'clickhouse'] as const)[Math.floor(random() * 3)]!, nth: n(6) }));
      case 'kill_between_files': return make('s3', isLakeData, 1, { kind: 'kill_after' });
      case 'kill_mid_write': return make('s3', isLakeData, 1, { kind: 'kill_mid_body' });
      case 'kill_after_clickhouse_insert': return make('clickhouse', isEventInsert, n(2), { kind: 'kill_after' });
      // At one of its steps' requests (before or after it), as the materializer's: a run reaches each step that
      // has a partition to compact, however much it has to do.
      case 'compaction_kill': {
        const step = COMPACT_KILL_AT[Math.floor(random() * COMPACT_KILL_AT.length)]!;
        return make(step.startsWith('catalog') ? 'glue' : 's3', (r) => stepOf(r) === step, 1, random() < 0.5 ? { kind: 'kill_before' } : { kind: 'kill_after' });
      }
      // The job: reading the window, staging, replacing the partition, the lake file, the catalog.
      case 'ab_daily_kill':
      case 'job_kill': return killAt(['s3', 'glue', 'clickhouse'], () => ({ service: (['s3', 'glue', 'clickhouse'] as const)[Math.floor(random() * 3)]!, nth: n(6) }));
      // At one of its manifest steps' requests (before or after it: between two steps), in one of its first manifests.
      case 'materializer_kill': {
        const step = MATERIALIZE_KILL_AT[Math.floor(random() * MATERIALIZE_KILL_AT.length)]!;
        return make(step === 'catalog read' ? 'glue' : 's3', (r) => materializeStepOf(r) === step, 1, random() < 0.5 ? { kind: 'kill_before' } : { kind: 'kill_after' });
      }
      case 'object_store_5xx': return make('s3', any, early('s3', 6), { kind: 'respond', status: 500, body: S3_ERROR('InternalError', 'injected') });
      case 'object_store_throttling': return make('s3', any, early('s3', 6), { kind: 'respond', status: 503, body: S3_ERROR('SlowDown', 'Please reduce your request rate.') });
      case 'object_store_slow': return make('s3', any, early('s3', 6), { kind: 'delay', ms: 200 + Math.floor(random() * 1300) });
      case 'object_store_torn_write': return make('s3', isLakeData, 1, { kind: 'torn' });
      case 'catalog_throttling': return make('glue', any, early('glue', 3), { kind: 'respond', status: 400, ...GLUE_ERROR('ThrottlingException') });
      case 'catalog_concurrent_modification': return make('glue', (r) => GLUE_WRITES.has(r.what), 1, { kind: 'respond', status: 400, ...GLUE_ERROR('ConcurrentModificationException') });
      case 'catalog_lost_response': return make('glue', (r) => GLUE_WRITES.has(r.what), 1, { kind: 'lost_response', status: 500, ...GLUE_ERROR('InternalServiceException') });
      case 'clickhouse_unavailable': return make('clickhouse', any, early('clickhouse', 4), { kind: 'refuse' });
      case 'clickhouse_timeout_after_insert': return make('clickhouse', isEventInsert, n(2), { kind: 'drop_after' });
      case 'clickhouse_too_many_parts': return make('clickhouse', isEventInsert, 1, {
        kind: 'respond', status: 500, headers: { 'x-clickhouse-exception-code': '252' },
        body: 'Code: 252. DB::Exception: Too many parts (3001 with average size of 1.00 KiB) in table. Merges are processing significantly slower than inserts. (TOO_MANY_PARTS)',
      });
      default: return undefined; // orchestration faults: planned by the loop
    }
  }

  // Spooling, the lake's Glue writes are the materializer's partition registrations and ingest's table changes:
  // a few per new hour or field, none in a replay (its records are materialized already). The two kinds that
  // need a write are owed once.
  const owed = (k: ProcessFaultKind): number => spooling && (k === 'catalog_concurrent_modification' || k === 'catalog_lost_response') ? Math.min(1, o.faultsPerKind) : o.faultsPerKind;
  const quotaMet = (): boolean => [...relevant].every((k) => faults.get(k)! >= owed(k));
  const soakUntil = o.soakMs ? performance.now() + o.soakMs : 0;
  const injecting = (): boolean => !quotaMet() || performance.now() < soakUntil;
  let multiFaultInvocations = 0;

  /**
   * The faults of the next invocation, preferring kinds still short of their count: at most one that ends it
   * (a kill, a refused or lost request, a torn write, a redelivery) and up to two that the SDKs' retries absorb
   * beside it, so one invocation meets several and the quota fills in few invocations.
   */
  function plan(path: Who): ProcessFaultKind[] {
    const eligible = kinds(path);
    if (path === 'materialize') return planMaterialize(eligible);
    const isShort = (k: ProcessFaultKind): boolean => faults.get(k)! < owed(k);
    // Compaction also rides out a lost response (the SDK retries the 500 and the switch is applied again); a
    // run makes a catalog write per partition it switches, so one run can meet several. A concurrent
    // modification of a switch ends the run, as its kill does.
    const absorbs = (k: ProcessFaultKind): boolean => ABSORBED.has(k) || (path === 'compact' && k === 'catalog_lost_response');
    const ending = eligible.filter((k) => !absorbs(k));
    const absorbed = eligible.filter(absorbs);
    // Ingest runs clean a quarter of the time (the topic must move on); a faulted invocation meets one of the
    // faults that end it nine times in ten while one of them is short (else three in four). Compaction and the
    // jobs, a container each, meet a fault in nine runs of ten while a kind that ends their runs is short (their
    // clean runs: the rest, and the fault-free runs at the end), or they would set the number of stages.
    const single = path === 'compact' || path === 'job' || path === 'ab';
    if (!injecting() || eligible.length === 0 || random() < (single && ending.some(isShort) ? 0.1 : 0.25)) return [];
    // Among the kinds still short, those that owe the most first (weighted by the square of what they owe), so
    // the quotas fill together and the run does not wait on one kind drawn less often by chance.
    const weight = (k: ProcessFaultKind): number => (owed(k) - faults.get(k)!) ** 2;
    const pick = (list: readonly ProcessFaultKind[]): ProcessFaultKind => {
      const short = list.filter(isShort);
      if (short.length === 0 || random() >= 0.85) return list[Math.floor(random() * list.length)]!;
      let i = random() * short.reduce((n, k) => n + weight(k), 0);
      for (const k of short) { i -= weight(k); if (i < 0) return k; }
      return short.at(-1)!;
    };
    const out = new Set<ProcessFaultKind>();
    // (Compaction whose run-ending kinds are all in while a fault it rides out is short ends a run rarely: an
    // early end would cut the run before the switches those faults need.)
    const endingOdds = ending.some(isShort) ? 0.9 : path === 'compact' ? (absorbed.some(isShort) ? 0.2 : 0.9) : single ? 0.9 : 0.75;
    if (ending.length > 0 && (path === 'job' || path === 'ab' || random() < endingOdds)) out.add(pick(ending));
    if (path !== 'job' && path !== 'ab') for (let i = 0; i < (path === 'compact' ? 4 : 2) && absorbed.length > 0; i++) if (random() < (absorbed.some(isShort) ? 0.6 : 0.3)) out.add(pick(absorbed));
    if (out.size === 0) out.add(pick(eligible));
    return [...out];
  }

  /** A materializer run: killed at one of its steps about half the time, overlapped by a second at times, a service fault beside. */
  function planMaterialize(eligible: readonly ProcessFaultKind[]): ProcessFaultKind[] {
    if (!injecting()) return [];
    const short = (k: ProcessFaultKind): boolean => faults.get(k)! < owed(k);
    const out: ProcessFaultKind[] = [];
    if (eligible.includes('materializer_kill') && random() < (short('materializer_kill') ? 0.9 : 0.35)) out.push('materializer_kill');
    if (eligible.includes('materializer_overlap') && random() < (short('materializer_overlap') ? 0.3 : 0.15)) out.push('materializer_overlap');
    const others = eligible.filter((k) => !k.startsWith('materializer_'));
    const from = others.some(short) && random() < 0.8 ? others.filter(short) : others;
    if (from.length > 0 && random() < (others.some(short) ? 0.7 : 0.4)) out.push(from[Math.floor(random() * from.length)]!);
    return out;
  }

  // Positions per path and partition, and what each delivered (for the bounds of the checks).
  /** `replayed`: the partition was reset to its earliest offset after every record had been committed */
  interface Position { committed: number; size: number; slot: Slot; replayed: boolean }
  const positions = new Map<Path, Position[]>();
  for (const path of paths) {
    const list: Position[] = [];
    for (let p = 0; p < o.partitions; p++) list.push({ committed: 0, size: 40 + Math.floor(random() * 160), slot: await slotFor('ingest', path, () => offset), replayed: false });
    positions.set(path, list);
  }
  /** distinct batch ranges per Kafka record (`p:offset`), per path */
  const deliveredIn = new Map<Path, Map<string, Set<string>>>(paths.map((p) => [p, new Map()]));
  const committedRanges = new Map<Path, Set<string>>(paths.map((p) => [p, new Set()]));
  let compactOffset = offset;
  /**
   * A compaction run's time before it stops picking up partitions (roles/compact.ts), while faults are injected;
   * the final runs have none. Runs over every partition the replays touched took 20–80 s on two shared cores
   * and held each stage's checks back.
   */
  let compactBudgetMs = o.compactionBudgetMs ?? 8_000;
  const compactSlot = await slotFor('compact', 'both', () => compactOffset);
  compactEnv = compactSlot.env;
  const jobSlot = o.job ? await slotFor('jobs', 'both', () => offset) : undefined;
  const abSlot = o.job ? await slotFor('ab-daily', 'both', () => offset) : undefined;
  // the job's days: those of the traffic's three hours
  const jobDates = [...new Set([0, 1, 2].map((h) => new Date(hourStart - (2 - h) * 3_600_000).toISOString().slice(0, 10)))];
  let jobRuns = 0;
  let abRuns = 0;
  let abFinal = { rows: 0, expected: 0 };
  let jobFinal = { windows: 0, expected: 0 };
  // Two materializer containers: the scheduled run and, at times, a second one overlapping it.
  const materializeSlots = spooling ? [await slotFor('materialize', 'lake', () => offset), await slotFor('materialize', 'lake', () => offset)] : [];
  let materializeTick = 0;
  let materializeRuns = 0;
  let materializeBusy = 0;
  /** tables a materializer run left for a later one (its deferral), summed over runs */
  let materializeDeferred = 0;
  /** lake-path invocations so far: the materializer's schedule waits for one (an interval with batches in it) */
  let lakeInvocations = 0;
  let invocations = 0;
  let failedInvocations = 0;
  let compactionRuns = 0;
  const timing = { ingest: 0, compact: 0, materialize: 0, check: 0 };

  // Spooling, the records arrive over several stages (producers keep producing), so the materializer has fresh
  // work at each; the direct mode has the whole topic from the start.
  const freshStages = spooling ? o.freshStages ?? Math.max(3, 2 * o.faultsPerKind) : 1;
  const produced = (p: number): number => Math.ceil(traffic.partitions[p]!.length * Math.min(1, (stages.length + 1) / freshStages));

  async function ingestStep(path: Path, p: number): Promise<void> {
    const pos = positions.get(path)![p]!;
    const records = traffic.partitions[p]!;
    const end = produced(p);
    if (pos.committed >= end) return;
    const batch = records.slice(pos.committed, Math.min(end, pos.committed + pos.size));
    const range = `chaos+${p}+${batch[0]!.offset}-${batch.at(-1)!.offset}`;
    const delivered = deliveredIn.get(path)!;
    for (const r of batch) {
      const k = `${p}:${r.offset}`;
      (delivered.get(k) ?? delivered.set(k, new Set()).get(k)!).add(range);
    }
    const event = encodeMskEvent(batch.map((r) => ({ topic: 'chaos', partition: p, offset: r.offset, timestamp: r.timestamp, key: null, value: r.value })));
    const planned = plan(path);
    if (planned.length > 1) multiFaultInvocations++;
    const rules = rulesFor(planned, path);
    invocations++;
    const t0 = performance.now();
    // With deferral the spools' write times must follow the materializer's simulated schedule, or every spool
    // would look a run older than it is and no table would ever wait.
    const reply = await pos.slot.invoke(event, rules, deferring ? offset + materializeTick * MATERIALIZE_INTERVAL_MS : undefined);
    if (path !== 'clickhouse') lakeInvocations++;
    timing.ingest += performance.now() - t0;
    countUnfired(rules);
    if (reply.ok) ranToEnd(path, pos.slot);
    if (o.trace) log(`  p${p} ${range} ${planned.map((k) => (rules.some((f) => f.kind === k && !f.fired) ? `${k} (not reached)` : k)).join('+') || 'no fault'}: ${reply.ok ? 'ok' : 'failed'} in ${((performance.now() - t0) / 1000).toFixed(1)} s; requests so far ${[...requests].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    if (!reply.ok) {
      failedInvocations++;
      if (!INJECTED_CAUSE.test(reply.error ?? '')) {
        problems.push(`partition ${p} (${path}) batch ${range} failed without an injected cause: ${reply.error}`);
        log(`PROBLEM ${problems.at(-1)}`);
      }
      return;
    }
    if (planned.includes('kill_before_offset_commit')) { fire('kill_before_offset_commit'); processesKilled++; await pos.slot.stop(); return; }
    if (planned.includes('duplicate_delivery')) {
      fire('duplicate_delivery');
      invocations++;
      const again = await pos.slot.invoke(event, []);
      if (!again.ok) { failedInvocations++; return; }
    }
    if (planned.includes('rebalance_new_boundaries')) {
      // The partition moves: its new owner redelivers from an earlier offset, with other boundaries.
      fire('rebalance_new_boundaries');
      committedRanges.get(path)!.add(range);
      pos.committed += batch.length - Math.floor(batch.length / 2);
      pos.size = 30 + Math.floor(random() * 200);
      return;
    }
    committedRanges.get(path)!.add(range);
    pos.committed += batch.length;
  }

  async function compactOnce(): Promise<void> {
    const planned = plan('compact');
    compactionSwitched = false;
    compactionRuns++;
    invocations++;
    const t0 = performance.now();
    const rules = rulesFor(planned, 'compact');
    // (Compaction's clock stays ingest's: moved past the claim lease after a failed run, it closed the hour
    // ingest still took for open, whose late files skip the version check a closed hour's get, a skew no
    // deployment has: the checks then flagged events stranded in a version the catalog had left.)
    const reply = await compactSlot.invoke({}, rules);
    countUnfired(rules);
    if (o.trace) log(`  compaction ${planned.map((k) => (rules.some((f) => f.kind === k && !f.fired) ? `${k} (not reached)` : k === 'compaction_kill' ? `${k} ${lastCompactionKill}` : k)).join('+') || 'no fault'}: ${reply.ok ? JSON.stringify(reply.result) : `failed${compactionSwitched ? ' after a switch' : ''}`} in ${((performance.now() - t0) / 1000).toFixed(1)} s; its requests ${[...compactSlot.requests].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    if (reply.ok) ranToEnd('compact', compactSlot);
    if (!reply.ok) {
      failedInvocations++;
      if (!INJECTED_CAUSE.test(reply.error ?? '')) problems.push(`compaction failed without an injected cause: ${reply.error}`);
    }
    timing.compact += performance.now() - t0;
  }

  /**
   * A job's container over each of the traffic's days (the day's started windows), killed at times at one of
   * the first day's requests; `cause`: what a failure under faults may say. Returns the invocations.
   */
  async function runDays(slot: Slot, path: 'job' | 'ab', name: string, event: (date: string) => unknown, cause: RegExp, faulty: boolean): Promise<number> {
    const rules = rulesFor(faulty ? plan(path) : [], path);
    for (const [i, date] of jobDates.entries()) {
      invocations++;
      const reply = await slot.invoke(event(date), i === 0 ? rules : []);
      // (the plan is the first day's: what it usually requests is that day's)
      if (i === 0) { countUnfired(rules); if (reply.ok) ranToEnd(path, slot); }
      if (!reply.ok) {
        failedInvocations++;
        if (!faulty || !cause.test(reply.error ?? '')) problems.push(`${name} ${date} failed without an injected cause: ${reply.error}`);
      }
    }
    return jobDates.length;
  }
  /** The SQL job (it meets only kills). */
  async function jobOnce(faulty = true): Promise<void> {
    if (jobSlot) jobRuns += await runDays(jobSlot, 'job', `job ${CHAOS_JOB}`, (date) => ({ job: CHAOS_JOB, date }), /container exited|injected/, faulty);
  }

  /** One window row per hour at every stage, never more views than the hour's distinct events; at the end, exactly them. */
  async function checkJob(final: boolean): Promise<void> {
    if (!jobSlot) return;
    const expected = new Map<string, number>();
    for (const { table, ts } of traffic.events.values()) {
      if (table !== 'page_view') continue;
      const k = `${new Date(ts).toISOString().slice(0, 10)} ${new Date(ts).getUTCHours()}`;
      expected.set(k, (expected.get(k) ?? 0) + 1);
    }
    let rows: Array<{ w: string; v: string[] }>;
    try {
      const text = (await ch.session.queryAsync(`SELECT concat(toString(dt), ' ', toString(hour)) AS w, groupArray(toString(views)) AS v FROM tributary.${CHAOS_JOB_TABLE} GROUP BY w`, { format: 'JSONEachRow' })).text().trim();
      rows = text ? text.split('\n').map((l) => JSON.parse(l) as { w: string; v: string[] }) : [];
    } catch (err) {
      if (final || !/UNKNOWN_TABLE|Unknown table|doesn't exist|does not exist/i.test(String(err))) problems.push(`job output unreadable: ${String(err).slice(0, 300)}`);
      return;
    }
    const stage = `stage ${stages.length + 1}`;
    for (const r of rows) {
      if (r.v.length !== 1) problems.push(`${stage}: job window ${r.w} has ${r.v.length} rows (${r.v.join(', ')}): a replace that was not atomic`);
      if (Number(r.v[0]) > (expected.get(r.w) ?? 0)) problems.push(`${stage}: job window ${r.w} counts ${r.v[0]} views, more than its ${expected.get(r.w) ?? 0} distinct events`);
    }
    if (final) {
      const got = new Map(rows.map((r) => [r.w, Number(r.v[0])]));
      // (the job also writes a zero for each hour of those days without traffic)
      jobFinal = { windows: [...expected].filter(([w, n]) => got.get(w) === n).length, expected: expected.size };
      for (const [w, n] of expected) if (got.get(w) !== n) problems.push(`end: job window ${w} counts ${got.get(w) ?? 'nothing'}, expected ${n}`);
    }
  }

  /** ab-daily (the deployed handler). */
  async function abOnce(faulty = true): Promise<void> {
    if (abSlot) abRuns += await runDays(abSlot, 'ab', 'ab-daily', (date) => ({ date }), INJECTED_CAUSE, faulty);
  }

  /**
   * ab-daily's rows: one per (day, variant, metric) at every stage (a replace that was not atomic would leave
   * two), never more units or a larger total than all the traffic gives (each only grows with more events);
   * at the end, units, total and total_sq equal an independent computation over the distinct events.
   */
  async function checkAb(final: boolean): Promise<void> {
    if (!abSlot) return;
    const want = new Map(jobDates.map((d) => [d, expectedAb(traffic.events, Date.parse(`${d}T00:00:00Z`) + 86_400_000)]));
    let rows: Array<{ dt: string; experiment_id: string; variant: string; metric: string; units: string; total: number; total_sq: number }>;
    try {
      const text = (await ch.session.queryAsync(`SELECT toString(dt) AS dt, experiment_id, variant, metric, toString(units) AS units, toFloat64(total) AS total, toFloat64(total_sq) AS total_sq FROM tributary.ab_daily`, { format: 'JSONEachRow' })).text().trim();
      rows = text ? text.split('\n').map((l) => JSON.parse(l) as (typeof rows)[number]) : [];
    } catch (err) {
      if (final || !/UNKNOWN_TABLE|Unknown table|doesn't exist|does not exist/i.test(String(err))) problems.push(`ab-daily output unreadable: ${String(err).slice(0, 300)}`);
      return;
    }
    const stage = final ? 'end' : `stage ${stages.length + 1}`;
    const seen = new Map<string, number>();
    const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
    for (const r of rows) {
      const key = `${r.dt} ${r.experiment_id}/${r.variant}/${r.metric}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      const w = want.get(r.dt)?.get(`${r.experiment_id}/${r.variant}/${r.metric}`);
      if (!w) { problems.push(`${stage}: ab-daily row ${key} that the traffic does not give`); continue; }
      if (Number(r.units) > w.units || r.total > w.total + 1e-6) problems.push(`${stage}: ab-daily ${key} has ${r.units} units, total ${r.total}: more than the traffic's ${w.units}, ${w.total}`);
      if (final && (Number(r.units) !== w.units || !close(r.total, w.total) || !close(r.total_sq, w.totalSq))) problems.push(`end: ab-daily ${key} has units ${r.units}, total ${r.total}, total_sq ${r.total_sq}; expected ${w.units}, ${w.total}, ${w.totalSq}`);
    }
    for (const [key, n] of seen) if (n !== 1) problems.push(`${stage}: ab-daily ${key} has ${n} rows: a replace that was not atomic`);
    if (final) for (const [d, m] of want) for (const key of m.keys()) if (!seen.has(`${d} ${key}`)) problems.push(`end: ab-daily ${d} ${key} missing`);
    if (final) abFinal = { rows: rows.length, expected: [...want.values()].reduce((n, m) => n + m.size, 0) };
  }

  /** One scheduled materializer run (an interval after the last on its clock), at times with a second beside it. */
  async function materializeOnce(faulty = true): Promise<void> {
    const planned = faulty ? plan('materialize') : [];
    const clock = offset + ++materializeTick * MATERIALIZE_INTERVAL_MS;
    const overlap = planned.includes('materializer_overlap');
    if (overlap) fire('materializer_overlap');
    const rules = rulesFor(planned, 'materialize');
    // The kill goes to either run of an overlapping pair; the second starts a moment later, on the same schedule tick.
    const killed = overlap && random() < 0.5 ? 1 : 0;
    const runs = (overlap ? [0, 1] : [0]).map(async (i) => {
      if (i === 1) await new Promise((r) => setTimeout(r, Math.floor(random() * 400)));
      materializeRuns++;
      invocations++;
      const reply = await materializeSlots[i]!.invoke({}, i === killed ? rules : [], clock + i * 1000);
      if (i === killed) countUnfired(rules);
      if (reply.ok && !overlap) ranToEnd('materialize', materializeSlots[i]!);
      if (o.trace) log(`  materialize ${i} at +${materializeTick * 2} min ${planned.join('+') || 'no fault'}: ${reply.ok ? JSON.stringify(reply.result) : `failed: ${(reply.error ?? '').slice(0, 200)}`}`);
      if (!reply.ok) {
        failedInvocations++;
        if (!INJECTED_CAUSE.test(reply.error ?? '')) problems.push(`materializer failed without an injected cause: ${reply.error}`);
        return;
      }
      const result = reply.result as { manifests: number; pending: number; deferred: number };
      if (result.manifests === 0 && result.pending > 0) materializeBusy++;
      materializeDeferred += result.deferred;
    });
    const t0 = performance.now();
    await Promise.all(runs);
    timing.materialize += performance.now() - t0;
  }

  const checker = new Checker(s3, bucket, glue, ch, traffic, join(work, 'files'), spooling);
  const stages: StageFigures[] = [];
  const committedRecords = (path: Path): number[] => positions.get(path)!.map((x) => x.committed);
  const check = async (final: boolean): Promise<StageFigures> => {
    const figures = await checker.check(stages.length + 1, {
      lakeCommitted: committedRecords(lakePath), chCommitted: committedRecords(chPath),
      lakeDelivered: deliveredIn.get(lakePath)!, chDelivered: deliveredIn.get(chPath)!,
      committedBatches: committedRanges.get(chPath)!, final,
    });
    if (figures.stage.spool && o.trace) log(`  spool: ${JSON.stringify(figures.stage.spool)}`);
    for (const line of figures.violations) { problems.push(`stage ${figures.stage.stage}: ${line}`); log(`PROBLEM stage ${figures.stage.stage}: ${line}`); }
    return figures.stage;
  };

  const steps = o.stepsPerStage ?? 3;
  let replays = 0;
  try {
    for (;;) {
      const ended = (path: Path, p: number): boolean => positions.get(path)![p]!.committed >= traffic.partitions[p]!.length;
      if (!injecting()) {
        // Every fault owed is in: a partition in the middle of a replay has its offset set forward to the end
        // again (every record there was committed before the reset), so the run ends without clean stages that
        // only finish replays. The checks then require every record of it, as before the reset.
        for (const list of positions.values()) for (const [p, x] of list.entries()) if (x.replayed) x.committed = traffic.partitions[p]!.length;
        if (paths.every((path) => traffic.partitions.every((_, p) => ended(path, p)))) break;
      }
      if (injecting()) {
        // A partition whose every record is committed while faults are still owed is reset to its earliest offset
        // (a consumer-group offset reset) and delivered again with new boundaries, so every stage keeps all
        // partitions in flight instead of waiting on the last one.
        const reset = paths.flatMap((path) => traffic.partitions.flatMap((_, p) => (ended(path, p) ? [[path, p] as const] : [])));
        if (reset.length > 0) {
          replays += reset.length;
          if (replays > 30 * paths.length * o.partitions) { problems.push(`faults short after ${replays} partition replays: ${[...relevant].filter((k) => faults.get(k)! < owed(k)).join(', ')}`); break; }
          log(`replaying ${reset.map(([path, p]) => (paths.length > 1 ? `${path} ${p}` : `partition ${p}`)).join(', ')} from the earliest offset (${replays} partition replays; owed: ${[...relevant].filter((k) => faults.get(k)! < owed(k)).map((k) => `${k} ${faults.get(k)}/${owed(k)}`).join(', ')})`);
          for (const [path, p] of reset) { const x = positions.get(path)![p]!; x.committed = 0; x.size = 30 + Math.floor(random() * 200); x.replayed = true; }
        }
      }
      let ingesting = true;
      let compacting = true;
      // (Lanes that went on while another still owed steps, and partitions replayed at once when through, were
      // tried: a third more invocations a stage on two cores already busy, and the run took longer, not less.)
      let laneBusyMs = 0;
      const stageStart = performance.now();
      const loops = paths.flatMap((path) => traffic.partitions.map(async (_, p) => {
        for (let i = 0; i < steps; i++) {
          const t0 = performance.now();
          await ingestStep(path, p);
          laneBusyMs += performance.now() - t0;
        }
      }));
      // Compaction beside ingest, as its schedule would meet it: a run, a pause, another, while this stage ingests.
      const compactions = (async () => {
        // By default one run, and up to five more while ingest still runs and its kill or a catalog kind that
        // needs a Glue write is short (S3's and throttling fill from ingest too): a killed run ends early, and
        // after the topic's first pass compaction's switches are the only Glue writes.
        const more = (i: number): boolean => o.compactionsPerStage !== undefined ? i < o.compactionsPerStage : i === 0 || (i < 6 && injecting() && kinds('compact').some((k) => !ABSORBED.has(k) && faults.get(k)! < owed(k)));
        for (let i = 0; ingesting && more(i); i++) {
          await compactOnce();
          await new Promise((r) => setTimeout(r, 200 + Math.floor(random() * 800)));
        }
        compacting = false;
      })();
      // The materializer on its schedule, beside both.
      const materializing = (async () => {
        if (!spooling) return;
        let seen = lakeInvocations;
        for (let i = 0; ingesting && i < (o.materializationsPerStage ?? Infinity); i++) {
          while (ingesting && lakeInvocations === seen) await new Promise((r) => setTimeout(r, 100));
          if (!ingesting) break;
          seen = lakeInvocations;
          await materializeOnce();
        }
        await materializeOnce(); // the schedule's next tick, after the stage's last batch
      })();
      // The jobs beside both, once a stage from the second on (their tables exist by then); each is a function
      // of its own on a schedule of its own, so they run at once. While its kills are short, a job runs again
      // as long as the stage's ingest or compaction still does (a run is two invocations, compaction's one).
      const again = (k: ProcessFaultKind): boolean => (ingesting || compacting) && injecting() && faults.get(k)! < owed(k);
      const jobbing = jobSlot && stages.length > 0 ? Promise.all([
        (async () => { do await jobOnce(); while (again('job_kill')); })(),
        (async () => { do await abOnce(); while (again('ab_daily_kill')); })(),
      ]) : undefined;
      await Promise.all(loops);
      ingesting = false;
      const laneBusy = laneBusyMs / (paths.length * o.partitions * Math.max(1, performance.now() - stageStart));
      await compactions;
      await materializing;
      await jobbing;
      const t0 = performance.now();
      const [s] = await Promise.all([check(false), checkJob(false), checkAb(false)]);
      timing.check += performance.now() - t0;
      stages.push(s);
      log(`stage ${s.stage}: ${committedRecords(lakePath).reduce((a, b) => a + b, 0)}/${o.events} committed · ${invocations} invocations (${failedInvocations} failed, ${unfired} planned faults not reached) · ${processesKilled} killed · lake ${s.lake.rows} rows (${s.lake.crossBatchCopies} cross-batch copies, ${s.lake.stranded} stranded)${s.spool ? ` · spool ${s.spool.materialized} materialized, ${s.spool.pending} pending, ${s.spool.openManifests} open manifests` : ''} · problems ${problems.length} · seconds in ingest ${(timing.ingest / 1000).toFixed(0)}, compaction ${(timing.compact / 1000).toFixed(0)}, materializer ${(timing.materialize / 1000).toFixed(0)}, checks ${(timing.check / 1000).toFixed(0)} · lanes busy ${(100 * laneBusy).toFixed(0)} % of the stage's ingest`);
    }
    if (o.final === false) {
      const last = stages.at(-1)!;
      return {
        topology, events: o.events, distinctValid: [...traffic.expected.values()].reduce((n, s) => n + s.size, 0),
        producerDuplicates: traffic.producerDuplicates, poison: traffic.poison, invocations, failedInvocations, multiFaultInvocations, unfiredFaults: unfired,
        coldStarts, processesKilled, compactionRuns, compactionKillsAfter, lakeWrites: spooling ? 'spool' : 'direct', materializeRuns, materializeBusy, materializeDeferred, materializeKills, jobRuns, abRuns, abFinal, jobFinal,
        faults, stages: stages.slice(0, -1), final: last, problems,
        seconds: (performance.now() - started) / 1000,
      };
    }
    // The end. Spooling: a clean materializer run once any killed run's lease has passed takes every spool.
    const cleanMaterialize = async (): Promise<void> => {
      materializeTick += Math.ceil(MATERIALIZE_LEASE_MS / MATERIALIZE_INTERVAL_MS);
      const reply = await materializeSlots[0]!.invoke({}, [], offset + ++materializeTick * MATERIALIZE_INTERVAL_MS);
      materializeRuns++;
      if (!reply.ok) problems.push(`final materializer run failed: ${reply.error}`);
      else if ((reply.result as { pending: number }).pending !== 0) problems.push(`final materializer run left spools pending: ${JSON.stringify(reply.result)}`);
    };
    if (spooling) await cleanMaterialize();
    // The clock past every hour, compaction twice (the second finds stragglers and nothing else), merges.
    compactOffset = offset + 3_600_000;
    compactBudgetMs = 0;
    await compactSlot.stop();
    for (let i = 0; i < 2; i++) {
      const reply = await compactSlot.invoke({}, []);
      if (!reply.ok) problems.push(`final compaction failed: ${reply.error}`);
    }
    // A run after compaction finds nothing to do (and must not disturb the compacted hours).
    if (spooling) await cleanMaterialize();
    for (const table of traffic.expected.keys()) await ch.session.queryAsync(`OPTIMIZE TABLE tributary.${table} FINAL`);
    await ch.session.queryAsync('OPTIMIZE TABLE tributary_ops._quarantine FINAL').catch(() => undefined);
    // The job once more, fault-free, over everything: each hour's views are its distinct page views.
    if (jobSlot) { await jobSlot.stop(); await jobOnce(false); }
    if (abSlot) { await abSlot.stop(); await abOnce(false); }
    const [final] = await Promise.all([check(true), checkJob(true), checkAb(true)]);
    return {
      topology, events: o.events, distinctValid: [...traffic.expected.values()].reduce((n, s) => n + s.size, 0),
      producerDuplicates: traffic.producerDuplicates, poison: traffic.poison, invocations, failedInvocations, multiFaultInvocations, unfiredFaults: unfired,
      coldStarts, processesKilled, compactionRuns, compactionKillsAfter, lakeWrites: spooling ? 'spool' : 'direct', materializeRuns, materializeBusy, materializeDeferred, materializeKills, jobRuns, abRuns, abFinal, jobFinal,
      faults, stages, final, problems,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const s of slots) await s.stop();
    for (const p of proxies) await p.close();
    await stores.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The steps of a compaction run a kill lands at (stepOf's names; 'reading a claim' only when another run holds one). */
const COMPACT_KILL_AT = ['listing', 'catalog read', 'reading manifests', 'claiming', 'reading inputs', 'writing compacted files', 'writing or marking the manifest', 'catalog switch', 'deleting superseded files or the claim'];

/** What a compaction container last did before it was killed: its step, from the request. */
function stepOf(r: ProxiedRequest): string {
  if (r.service === 'glue') return /Update|Create/.test(r.what) ? 'catalog switch' : 'catalog read';
  if (r.what.endsWith('(list)')) return 'listing';
  if (r.what.endsWith('(delete)')) return 'deleting superseded files or the claim';
  if (r.what.includes('_claim.json')) return r.method === 'PUT' ? 'claiming' : 'reading a claim';
  if (r.what.includes('_manifest.json')) return r.method === 'PUT' ? 'writing or marking the manifest' : 'reading manifests';
  if (r.method === 'PUT') return 'writing compacted files';
  return 'reading inputs';
}

/** The requests of the materializer's manifest steps (claim, planned, written, registered, logged, offsets, consumed, deleted). */
// (its Glue calls: the tables' columns and partitions while planning, writing and registering; a Glue write only for a new partition)
const MATERIALIZE_KILL_AT = ['claim', 'manifest planned', 'writing files', 'catalog read', 'lineage', 'offsets', 'manifest consumed', 'deleting the spools', 'deleting the manifest'];

/** Where a materializer run was when killed: its manifest steps, from the request. */
function materializeStepOf(r: ProxiedRequest): string {
  if (r.service === 'glue') return /Create|Update/.test(r.what) ? 'registering partitions' : 'catalog read';
  if (r.what.endsWith('(delete)')) return r.body.includes('_spool/manifests/') ? 'deleting the manifest' : 'deleting the spools';
  if (r.what.endsWith('(list)')) return r.url.includes('manifests') ? 'listing manifests' : 'listing spools';
  if (r.what.includes('_spool/manifests/')) {
    if (r.method !== 'PUT') return 'reading a manifest';
    const state = /"state":\s*"(\w+)"/.exec(r.body.toString('utf8'))?.[1] ?? 'unknown';
    return state === 'claimed' ? 'claim' : `manifest ${state}`;
  }
  if (r.what.includes('_spool/offsets.json')) return r.method === 'PUT' ? 'offsets' : 'reading offsets';
  if (r.what.includes('_spool/pending/')) return 'reading spools';
  if (r.what.includes('lake/_ingest_log/')) return 'lineage';
  if (r.method === 'PUT') return 'writing files';
  return 'reading';
}


export function formatProcessChaos(r: ProcessChaosResult): string {
  const sum = (f: (s: StageFigures) => number): number => r.stages.reduce((n, s) => n + f(s), 0) + f(r.final);
  const spoolLost = (s: StageFigures): number => s.spool ? s.spool.unaccounted + s.spool.lineage.lost + s.spool.lakeQuarantine.missing + s.spool.offsetsWrong : 0;
  const spoolDuplicated = (s: StageFigures): number => s.spool ? s.spool.lineage.duplicated + s.spool.lakeQuarantine.duplicated : 0;
  const lost = sum((s) => s.lake.lost + s.clickhouseRaw.lost + s.clickhouseDedup.lost + s.quarantine.missing + s.ingestLog.missingBatches + spoolLost(s));
  const duplicated = sum((s) => s.lake.duplicated + s.clickhouseRaw.duplicated + s.clickhouseDedup.duplicated + s.quarantine.duplicated + s.ingestLog.duplicated + spoolDuplicated(s));
  const stagesSpool = r.stages.filter((s) => s.spool).map((s) => s.spool!);
  const spoolLines = r.lakeWrites === 'spool' && r.final.spool ? [
    `spool: ${r.materializeRuns} materializer runs (${r.materializeBusy} found another's manifest and backed off, ${r.faults.get('materializer_overlap')} overlapping pairs, ${r.materializeDeferred} tables deferred to a later run) · killed ${[...r.materializeKills].map(([k, n]) => `${k} ${n}`).join(', ') || 'never'}`,
    `  at every stage: committed records neither materialized nor pending ${stagesSpool.reduce((n, s) => n + s.unaccounted, 0)} · lineage lost ${stagesSpool.reduce((n, s) => n + s.lineage.lost, 0)}, duplicated ${stagesSpool.reduce((n, s) => n + s.lineage.duplicated, 0)} · lake quarantine missing ${stagesSpool.reduce((n, s) => n + s.lakeQuarantine.missing, 0)}, duplicated ${stagesSpool.reduce((n, s) => n + s.lakeQuarantine.duplicated, 0)} · most pending ${Math.max(0, ...stagesSpool.map((s) => s.pending))} spools`,
    `  at the end: ${r.final.spool.materialized} records materialized, lineage ${r.final.spool.lineage.rows} rows, lake quarantine ${r.final.spool.lakeQuarantine.records} records, ${r.final.spool.pending} spools pending, ${r.final.spool.openManifests} manifests open, offsets short in ${r.final.spool.offsetsWrong} partitions (floor behind in ${r.final.spool.floorBehind}: every table's offset at its end)`,
  ] : [];
  return [
    `topology ${r.topology}${r.lakeWrites === 'spool' ? ' · lake writes spool' : ''} · events ${r.events} (${r.distinctValid} distinct valid, ${r.producerDuplicates} producer duplicates, ${[...r.poison.values()].reduce((a, b) => a + b, 0)} poison: ${[...r.poison].map(([k, n]) => `${k} ${n}`).join(', ')})`,
    `${r.invocations} invocations (${r.failedInvocations} failed and retried, ${r.multiFaultInvocations} with several faults, ${r.unfiredFaults} planned faults never reached) · ${r.coldStarts} cold starts · ${r.processesKilled} processes killed · ${r.compactionRuns} compaction runs${r.jobRuns > 0 ? ` · ${r.jobRuns} job runs, ${r.abRuns} ab-daily runs` : ''} · ${r.stages.length} stages checked · ${r.seconds.toFixed(1)} s`,
    'faults injected:',
    ...PROCESS_FAULT_KINDS.map((k) => `  ${k.padEnd(34)} ${r.faults.get(k)}`),
    `compaction killed after: ${[...r.compactionKillsAfter].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    ...spoolLines,
    ...(r.jobRuns > 0 ? [`jobs beside ingest: ${r.jobRuns} runs of page-views-per-hour, ${r.abRuns} of ab-daily; at every stage one row per window and key, none above what the traffic gives; at the end ${r.jobFinal.windows} of ${r.jobFinal.expected} hourly windows with page views equal to their distinct events and ${r.abFinal.rows} of ${r.abFinal.expected} ab-daily rows (day × variant × metric), checked against an independent computation`] : []),
    ...formatSinkFigures(r.stages, r.final),
    `lost ${lost} · duplicated ${duplicated}${r.problems.length ? ` · ${r.problems.length} problems:\n  ${r.problems.slice(0, 30).join('\n  ')}` : ''}`,
  ].join('\n');
}

interface AbExpected { units: number; total: number; totalSq: number }

/**
 * ab-daily's units, total and total_sq per `experiment/variant/metric` up to a day's end, computed from the
 * distinct events as test/chaos/jobs/ab-daily.json defines them: a user's first exposure assigns them; a
 * metric counts their events at or after it and before the day's end (conversion: any; count; sum of amount).
 */
function expectedAb(events: ReadonlyMap<string, ValidEvent>, dayEnd: number): Map<string, AbExpected> {
  const first = new Map<string, { variant: string; ts: number }>();
  for (const e of events.values()) {
    if (e.table !== 'experiment_exposure' || e.ts >= dayEnd) continue;
    const f = first.get(e.user);
    if (!f || e.ts < f.ts) first.set(e.user, { variant: String(e.properties['variant']), ts: e.ts });
  }
  const metrics: ReadonlyArray<[string, string, (mine: ValidEvent[]) => number]> = [
    ['purchase_conversion', 'purchase', (mine) => (mine.length > 0 ? 1 : 0)],
    ['revenue', 'purchase', (mine) => mine.reduce((n, e) => n + Number(e.properties['amount']), 0)],
    ['clicks', 'click', (mine) => mine.length],
  ];
  const byUser = new Map<string, ValidEvent[]>();
  for (const e of events.values()) if (e.ts < dayEnd) (byUser.get(e.user) ?? byUser.set(e.user, []).get(e.user)!).push(e);
  const out = new Map<string, AbExpected>();
  for (const [name, event, value] of metrics) {
    for (const [user, a] of first) {
      const v = value((byUser.get(user) ?? []).filter((e) => e.table === event && e.ts >= a.ts));
      const key = `${CHAOS_EXPERIMENT}/${a.variant}/${name}`;
      const x = out.get(key) ?? out.set(key, { units: 0, total: 0, totalSq: 0 }).get(key)!;
      x.units++;
      x.total += v;
      x.totalSq += v * v;
    }
  }
  return out;
}
