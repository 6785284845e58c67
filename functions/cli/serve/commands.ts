// `tributary serve`'s command endpoint: runs, in this process, a command another tributary process was given
// (serve/forward.ts sends it), since serve holds the store's chDB lock and nobody else can open it. Listens on
// 127.0.0.1 only and runs a command only for a caller that shows the token of `<home>/serve.json` (0600).
// Commands run one at a time, each in the caller's working directory and with its TRIBUTARY_* variables; BI
// queries go on between their statements (chDB's session is serialized statement by statement).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { routeProcessOutput, runWithIo } from '../command-io.js';
import type { LocalRuntime } from '../local-runtime.js';
import { removeDiscovery, writeDiscovery } from './discovery.js';
import { forwardedEnv, STORE_COMMANDS, type CommandFrame, type CommandHeader } from './forward.js';

export interface CommandEndpoint {
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

export interface CommandEndpointOptions {
  /** runs a command line as `tributary` would, returning its exit code (run.ts runMain) */
  readonly runCommand: (argv: string[]) => Promise<number>;
  /** after each command (serve refreshes its lake views: the command may have added tables) */
  readonly afterCommand?: () => Promise<void>;
  /**
   * serve's store, absolute: a command runs in the caller's directory, where serve's own TRIBUTARY_HOME (relative,
   * or unset: ./.tributary) would name another store
   */
  readonly home?: string;
}

const MAX_HEADER_BYTES = 1024 * 1024;
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The header line, then a stream of the rest of the body (the caller's standard input). */
function splitBody(req: IncomingMessage): Promise<{ header: CommandHeader; stdin: PassThrough }> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const stdin = new PassThrough();
    const onData = (c: Buffer): void => {
      head = Buffer.concat([head, c]);
      const nl = head.indexOf(0x0a);
      if (nl < 0) {
        if (head.length > MAX_HEADER_BYTES) { req.off('data', onData); reject(new Error('command header too large')); }
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      let header: CommandHeader;
      try {
        header = JSON.parse(head.subarray(0, nl).toString('utf8')) as CommandHeader;
      } catch {
        reject(new Error('command header is not JSON'));
        return;
      }
      if (!Array.isArray(header.argv) || !header.argv.every((a) => typeof a === 'string') || typeof header.cwd !== 'string' || typeof header.env !== 'object' || header.env === null) {
        reject(new Error('command header lacks argv, cwd or env'));
        return;
      }
      stdin.write(head.subarray(nl + 1));
      req.pipe(stdin);
      resolve({ header, stdin });
    };
    const onEnd = (): void => reject(new Error('no command header'));
    req.on('data', onData);
    req.on('end', onEnd);
  });
}

export async function startCommandEndpoint(options: CommandEndpointOptions): Promise<CommandEndpoint> {
  routeProcessOutput();
  const token = randomBytes(32).toString('hex');
  const expected = digest(`Bearer ${token}`);
  let queue: Promise<unknown> = Promise.resolve();

  /** One command, in the caller's directory and environment; process-wide, which is why commands queue. */
  const execute = async (header: CommandHeader, stdin: PassThrough, send: (f: CommandFrame) => void): Promise<number> => {
    const [command] = header.argv;
    if (command === undefined || !STORE_COMMANDS.has(command)) {
      send({ e: `tributary: serve runs ${[...STORE_COMMANDS].join(', ')} for other processes, not ${JSON.stringify(command ?? '')}\n` });
      return 2;
    }
    const cwd = process.cwd();
    const saved = new Map(Object.entries(process.env).filter(([k]) => forwardedEnv(k)));
    try {
      process.chdir(header.cwd);
    } catch {
      send({ e: `tributary: ${header.cwd}: the working directory of the command is not there\n` });
      return 1;
    }
    for (const k of saved.keys()) delete process.env[k];
    for (const [k, v] of Object.entries(header.env)) if (forwardedEnv(k) && typeof v === 'string') process.env[k] = v;
    const ownHome = process.env['TRIBUTARY_HOME'];
    if (options.home !== undefined) process.env['TRIBUTARY_HOME'] = options.home;
    try {
      return await runWithIo({
        stdin, stdoutIsTTY: header.stdoutIsTTY === true, stderrIsTTY: header.stderrIsTTY === true,
        stdout: (o) => send({ o }), stderr: (e) => send({ e }),
      }, () => options.runCommand([...header.argv]));
    } finally {
      for (const k of Object.keys(process.env)) if (forwardedEnv(k)) delete process.env[k];
      for (const [k, v] of saved) process.env[k] = v;
      if (ownHome === undefined) delete process.env['TRIBUTARY_HOME'];
      else process.env['TRIBUTARY_HOME'] = ownHome;
      process.chdir(cwd);
      await options.afterCommand?.().catch(() => undefined);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const auth = req.headers.authorization ?? '';
    if (req.method !== 'POST' || req.url !== '/run') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('tributary serve: POST /run\n');
      return;
    }
    if (!timingSafeEqual(digest(auth), expected)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('wrong or missing token (it is in serve.json of the store)\n');
      return;
    }
    let body: Awaited<ReturnType<typeof splitBody>>;
    try {
      body = await splitBody(req);
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const send = (f: CommandFrame): void => { if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(f)}\n`); };
    const run = queue.then(() => execute(body.header, body.stdin, send));
    queue = run.catch(() => undefined);
    let code: number;
    try {
      code = await run;
    } catch (err) {
      send({ e: `tributary: serve could not run the command: ${(err as Error).message}\n` });
      code = 1;
    }
    send({ x: code });
    res.end();
  };

  const server = createServer((req, res) => { void handle(req, res); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    token,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/**
 * Makes this process the store's host for other tributary processes: lends the runtime's store to the commands
 * it runs, listens for them and writes `<home>/serve.json`. close() undoes all three.
 */
export async function hostCommands(runtime: LocalRuntime, url: string): Promise<{ close(): Promise<void> }> {
  const [{ shareLocalRuntime }, { runMain }] = await Promise.all([import('../local-runtime.js'), import('../run.js')]);
  const unshare = shareLocalRuntime(runtime);
  const endpoint = await startCommandEndpoint({ runCommand: runMain, afterCommand: async () => { await runtime.refreshLakeViews(); }, home: runtime.home });
  writeDiscovery(runtime.home, { pid: process.pid, commandPort: endpoint.port, token: endpoint.token, url });
  // Whatever way the process ends, the file does not outlive it (a stale one is ignored anyway: its pid is gone).
  const remove = (): void => removeDiscovery(runtime.home, endpoint.token);
  process.once('exit', remove);
  return {
    async close() {
      remove();
      process.off('exit', remove);
      await endpoint.close();
      unshare();
    },
  };
}
