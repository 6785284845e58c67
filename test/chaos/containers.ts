// A "container" of the process chaos run: a child process running a deployed handler's bundle (bundles.ts),
// invoked over IPC one event at a time with the faults its proxies should inject; SIGKILLed at will, the
// next invocation starts it cold.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';
import { chaosBundles, type ChaosRole } from './bundles.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { startClickHouseHttp, type ClickHouseHttp } from '../clickhouse-http.js';
import { startFakeGlue, type FakeGlue } from '../glue-endpoint.js';
import { startRadosgw, type Radosgw } from '../s3/radosgw.js';
import { startFaultProxy, type Action, type FaultProxy, type ProxiedRequest, type Service } from './fault-proxy.js';
import type { ProcessFaultKind } from './processes.js';

export interface Reply { readonly id: number; readonly ok: boolean; readonly result?: unknown; readonly error?: string }
export interface PlannedFault {
  readonly kind: ProcessFaultKind;
  readonly service: Service;
  readonly match: (r: ProxiedRequest) => boolean;
  readonly nth: number;
  readonly action: Action;
  seen: number;
  fired: boolean;
}

export class Slot {
  child: ChildProcess | undefined;
  ready: Promise<void> | undefined;
  plan: PlannedFault[] = [];
  killedBy: string | undefined;
  lastRequest = '';
  /** the current invocation's requests per service (counted by the harness's proxies) */
  readonly requests = new Map<Service, number>();
  stderr = '';
  private nextId = 0;
  private pending = new Map<number, (r: Reply) => void>();
  constructor(readonly index: number, readonly env: () => NodeJS.ProcessEnv, private readonly onCold: () => void) {}

  private async start(): Promise<void> {
    this.onCold();
    const env = this.env();
    const bundle = (await chaosBundles()).get(env['CHAOS_ROLE'] as ChaosRole);
    if (!bundle) throw new Error(`no chaos container role ${env['CHAOS_ROLE']}`);
    // The deployed bundle, with the NODE_OPTIONS every function has (infra/functions.ts nodeOptions).
    const child = fork(bundle, [], {
      execArgv: ['--enable-source-maps'], env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], cwd: PACKAGE_ROOT,
    });
    this.child = child;
    this.stderr = '';
    child.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    const ready = new Promise<void>((resolve, reject) => {
      child.once('exit', (code, signal) => reject(new Error(`container ${this.index} exited before it was ready (${code ?? signal}): ${this.stderr}`)));
      child.on('message', (m: { ready?: boolean } & Reply) => {
        if (m.ready) { resolve(); return; }
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      });
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) { this.child = undefined; this.ready = undefined; }
      for (const [, done] of this.pending) done({ id: -1, ok: false, error: `container exited (${signal ?? code}) after ${this.lastRequest}` });
      this.pending.clear();
    });
    return ready;
  }

  async invoke(event: unknown, plan: PlannedFault[], clockOffsetMs?: number): Promise<Reply> {
    this.ready ??= this.start();
    await this.ready;
    this.plan = plan;
    this.killedBy = undefined;
    this.requests.clear();
    const id = this.nextId++;
    const reply = await new Promise<Reply>((resolve) => {
      this.pending.set(id, resolve);
      this.child!.send({ id, event, ...(clockOffsetMs !== undefined ? { clockOffsetMs } : {}) });
    });
    this.plan = [];
    return reply;
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }
}

/** What the containers reach, each through fault proxies of its own. */
export interface ContainerServices {
  readonly rgw: Radosgw;
  readonly glueEndpoint: string;
  readonly clickhouseUrl: string;
  readonly bucket: string;
  /** the run's scratch directory */
  readonly work: string;
}

/** The services of a chaos run: S3 (radosgw, its bucket made), Glue's endpoint, ClickHouse over HTTP (chDB). */
export interface ChaosStores {
  readonly rgw: Radosgw;
  readonly s3: S3Client;
  readonly glue: FakeGlue;
  readonly ch: ClickHouseHttp;
  readonly services: ContainerServices;
  close(): Promise<void>;
}

export async function startChaosStores(work: string): Promise<ChaosStores> {
  const started = await startRadosgw();
  if ('unavailable' in started) throw new Error(started.unavailable);
  const rgw: Radosgw = started;
  const bucket = 'tributary-chaos';
  await rgw.createBucket(bucket);
  const s3 = rgw.client();
  const glue = await startFakeGlue();
  const ch = await startClickHouseHttp();
  return {
    rgw, s3, glue, ch, services: { rgw, glueEndpoint: glue.endpoint, clickhouseUrl: ch.url, bucket, work },
    close: async () => { s3.destroy(); await glue.close(); await ch.close(); await rgw.stop(); },
  };
}

/** A container's three fault proxies (S3, Glue, ClickHouse), and the endpoints its environment names. */
export async function startContainerProxies(index: number, s: ContainerServices, decide: (r: ProxiedRequest) => Action, kill: () => void): Promise<{ proxies: FaultProxy[]; endpoints: Map<Service, string> }> {
  const proxies: FaultProxy[] = [];
  const endpoints = new Map<Service, string>();
  for (const [service, upstream] of [['s3', s.rgw.endpoint], ['glue', s.glueEndpoint], ['clickhouse', s.clickhouseUrl]] as const) {
    const proxy = await startFaultProxy({ slot: index, service, upstream, decide, kill });
    proxies.push(proxy);
    endpoints.set(service, proxy.endpoint);
  }
  return { proxies, endpoints };
}

/** The environment every deployed handler reads in AWS, pointed at the container's proxies; `role` picks the handler's bundle (bundles.ts). */
export function containerEnv(s: ContainerServices, endpoints: ReadonlyMap<Service, string>, role: ChaosRole, clockOffsetMs: number): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? s.work, LAMBDA_TASK_ROOT: PACKAGE_ROOT,
    AWS_REGION: s.rgw.region, AWS_ACCESS_KEY_ID: s.rgw.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s.rgw.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoints.get('s3'), AWS_ENDPOINT_URL_GLUE: endpoints.get('glue'),
    TRIBUTARY_BUCKET: s.bucket, POWERTOOLS_METRICS_NAMESPACE: 'Tributary', POWERTOOLS_LOG_LEVEL: 'SILENT',
    CHAOS_ROLE: role, CHAOS_CLOCK_OFFSET_MS: String(clockOffsetMs),
  };
}

/** Compaction as the chaos runs configure it: no grace or retention (hours are compacted as soon as closed), a scratch directory of its own. */
export const compactionEnv = (work: string, index: number): NodeJS.ProcessEnv => ({
  TRIBUTARY_GLUE_DATABASE: 'chaos', TRIBUTARY_COMPACT_GRACE_MINUTES: '0', TRIBUTARY_COMPACT_RETENTION_MINUTES: '0',
  TRIBUTARY_COMPACT_SCRATCH_DIR: join(work, `scratch-${index}`), TRIBUTARY_COMPACT_MEMORY_LIMIT: '256MB',
});

/** A lake data write (a spool object is the batch's lake data in spool mode). */
export const isLakeData = (r: ProxiedRequest): boolean => r.method === 'PUT' && (/^PUT lake\/(?!_quarantine)[^ ]+\.parquet$/.test(r.what) || /^PUT _spool\/pending\/[^ ]+\.spool$/.test(r.what));
/** An insert into an event table (not the `_`-prefixed logs). */
export const isEventInsert = (r: ProxiedRequest): boolean => /^INSERT INTO `?tributary`?\.`?(?!_)/.test(r.what);
