// A "container" of the process chaos run: a child process running a deployed handler (test/chaos/child.ts),
// invoked over IPC one event at a time with the faults its proxies should inject; SIGKILLed at will, the
// next invocation starts it cold.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';
import type { Action, ProxiedRequest, Service } from './fault-proxy.js';
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
  stderr = '';
  private nextId = 0;
  private pending = new Map<number, (r: Reply) => void>();
  constructor(readonly index: number, readonly env: () => NodeJS.ProcessEnv, private readonly onCold: () => void) {}

  private start(): Promise<void> {
    this.onCold();
    const child = fork(join(PACKAGE_ROOT, 'test/chaos/child.ts'), [], {
      execArgv: ['--import', 'tsx'], env: this.env(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'], cwd: PACKAGE_ROOT,
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
