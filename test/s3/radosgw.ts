// A real S3 API server for integration tests: Ceph radosgw, single node on loopback, data in a temporary
// directory, started by scripts/radosgw/start.sh (which installs the Debian packages when missing).
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';

const run = promisify(execFile);

export interface Radosgw {
  readonly endpoint: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly region: string;
  /** the cluster's directory (ceph.conf, data, logs; pid files under run/) */
  readonly dir: string;
  client(extra?: Record<string, unknown>): S3Client;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

let signalsHandled = false;
/** Ends the process on SIGINT/SIGTERM (exit handlers run) unless another handler took the signal on. */
function exitOnSignals(): void {
  if (signalsHandled) return;
  signalsHandled = true;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const onSignal = (): void => { if (process.listenerCount(signal) === 1) process.exit(code); };
    process.on(signal, onSignal);
  }
}

/**
 * The daemons run in sessions of their own (start.sh's setsid), so they outlive a process that dies without
 * calling stop(): an interrupted `npm run chaos` or test run used to leave a radosgw, a mon and an OSD per
 * cluster behind, using CPU until someone killed them. At exit stop.sh stops them (synchronously: an exit
 * handler cannot wait), and SIGINT/SIGTERM exit through that path.
 */
function stopAtExit(work: string): () => void {
  const stop = (): void => {
    spawnSync('bash', [join(PACKAGE_ROOT, 'scripts/radosgw/stop.sh'), work], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  };
  process.on('exit', stop);
  exitOnSignals();
  return () => process.off('exit', stop);
}

/** Starts radosgw, or returns the reason it cannot run here (the tests then skip with that message). */
export async function startRadosgw(): Promise<Radosgw | { unavailable: string }> {
  const work = mkdtempSync(join(tmpdir(), 'tributary-rgw-'));
  const forget = stopAtExit(work);
  try {
    await run('bash', [join(PACKAGE_ROOT, 'scripts/radosgw/start.sh'), work], { timeout: 300_000, maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    await run('bash', [join(PACKAGE_ROOT, 'scripts/radosgw/stop.sh'), work]).catch(() => undefined);
    forget();
    return { unavailable: `radosgw could not be started: ${(e.stderr ?? e.message).trim().split('\n').slice(-3).join(' | ')}` };
  }
  const env = Object.fromEntries(readFileSync(join(work, 'env'), 'utf8').trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
  const endpoint = env['S3_ENDPOINT']!;
  const credentials = { accessKeyId: env['S3_ACCESS_KEY_ID']!, secretAccessKey: env['S3_SECRET_ACCESS_KEY']! };
  const region = env['S3_REGION'] ?? 'us-east-1';
  const clients: S3Client[] = [];
  const client = (extra: Record<string, unknown> = {}): S3Client => {
    const c = new S3Client({ endpoint, region, credentials, forcePathStyle: true, ...extra });
    clients.push(c);
    return c;
  };
  return {
    endpoint, credentials, region, client, dir: work,
    async createBucket(name) {
      await client().send(new CreateBucketCommand({ Bucket: name }));
    },
    async stop() {
      for (const c of clients) c.destroy();
      await run('bash', [join(PACKAGE_ROOT, 'scripts/radosgw/stop.sh'), work]).catch(() => undefined);
      forget();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
