// The other side of serve/commands.ts: while `tributary serve` holds the local store (its chDB lock keeps every
// other process out), a command that needs the store is sent there and runs in serve's process, its output and
// exit code coming back as if it had run here. Loaded only when `<home>/serve.json` exists.
import { request } from 'node:http';
import { liveServe } from './discovery.js';

/** Commands that open the local store, and so run in serve while it holds it. */
export const STORE_COMMANDS: ReadonlySet<string> = new Set(['ingest', 'sql', 'status', 'quarantine', 'jobs', 'compact', 'schema', 'ab']);

/** Variables that steer a command: the caller's travel with it (serve's own are not seen by it); the home is the same one. */
export const forwardedEnv = (name: string): boolean =>
  name.startsWith('TRIBUTARY_') && name !== 'TRIBUTARY_HOME' && name !== 'TRIBUTARY_SERVE_PASSWORD' && name !== 'TRIBUTARY_CLI_SOURCES';

/** What the caller sends ahead of its standard input. */
export interface CommandHeader {
  readonly argv: readonly string[];
  /** relative paths in argv and the environment are the caller's */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
}

/** One line of serve's answer: output (o, e) as it comes, then the exit code (x). */
export type CommandFrame = { readonly o: string } | { readonly e: string } | { readonly x: number };

/** serve was there but could not run the command (refused it, or stopped midway): exit 1 with one line. */
export class ServeUnavailableError extends Error {
  override readonly name = 'ServeUnavailableError';
}

/** `dev` or a second `serve` while a serve holds `home`: they open the store themselves, so they cannot run. */
export function refuseBesideServe(command: 'dev' | 'serve', home: string): void {
  const serve = liveServe(home);
  if (!serve) return;
  throw new ServeUnavailableError(`tributary serve (pid ${serve.pid}, ${serve.url}) holds ${home}: ` +
    (command === 'dev' ? 'stop it (Ctrl-C in its terminal) before npm start (tributary dev), then start it again' : 'it already serves this store'));
}

/** Whether the command line reads standard input (`ingest -`, `sql -f -`): only then is it sent along. */
const readsStdin = (argv: readonly string[]): boolean => argv.some((a) => a === '-' || a === '--file=-' || a === '-f-');

/**
 * Runs the command in the serve holding `home`, if one is alive; undefined when there is none (no file, a dead
 * pid, nothing listening), and the caller opens the store itself.
 */
export async function forwardToServe(argv: readonly string[], home: string): Promise<number | undefined> {
  const serve = liveServe(home);
  if (!serve) return undefined;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && forwardedEnv(k)) env[k] = v;
  const header: CommandHeader = { argv, cwd: process.cwd(), env, stdoutIsTTY: process.stdout.isTTY === true, stderrIsTTY: process.stderr.isTTY === true };
  const who = `tributary serve (pid ${serve.pid})`;
  return new Promise<number | undefined>((resolve, reject) => {
    let answered = false;
    const req = request({
      host: '127.0.0.1', port: serve.commandPort, method: 'POST', path: '/run',
      headers: { authorization: `Bearer ${serve.token}`, 'content-type': 'application/x-ndjson' },
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (answered) return; // the response's own end says what happened
      // Nothing listens where the file says (a serve killed without cleaning up, its pid reused): open the store here.
      if (err.code === 'ECONNREFUSED') resolve(undefined);
      else reject(new ServeUnavailableError(`${who} holds ${home} but could not be reached: ${err.message}`));
    });
    req.on('response', (res) => {
      answered = true;
      res.setEncoding('utf8');
      if (res.statusCode !== 200) {
        let text = '';
        res.on('data', (c: string) => { text += c; });
        res.on('end', () => reject(new ServeUnavailableError(`${who} refused the command (${res.statusCode}): ${text.trim()}`)));
        return;
      }
      let rest = '';
      let exit: number | undefined;
      res.on('data', (c: string) => {
        rest += c;
        for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
          const frame = JSON.parse(rest.slice(0, nl)) as CommandFrame;
          rest = rest.slice(nl + 1);
          if ('o' in frame) process.stdout.write(frame.o);
          else if ('e' in frame) process.stderr.write(frame.e);
          else exit = frame.x;
        }
      });
      const end = (): void => exit === undefined ? reject(new ServeUnavailableError(`${who} stopped before the command finished: run it again`)) : resolve(exit);
      res.on('end', end);
      res.on('error', end);
    });
    req.write(`${JSON.stringify(header)}\n`);
    if (readsStdin(argv)) process.stdin.pipe(req);
    else req.end();
  });
}
