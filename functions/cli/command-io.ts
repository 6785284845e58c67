// Where a command's input and output go. Normally the process's own; inside `tributary serve`, a command run
// for another process (serve/commands.ts) reads that process's standard input and writes back to it, while
// serve goes on answering BI queries: the routing follows the command's async context, not a global swap.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CommandIo {
  readonly stdin: NodeJS.ReadableStream & AsyncIterable<Buffer>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** what the caller's terminal is (progress bars draw only on a terminal) */
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
}

const current = new AsyncLocalStorage<CommandIo>();

/** The command's standard input: the caller's when serve runs it for another process. */
export const commandStdin = (): NodeJS.ReadableStream & AsyncIterable<Buffer> => current.getStore()?.stdin ?? process.stdin;

export const runWithIo = <T>(io: CommandIo, f: () => Promise<T>): Promise<T> => current.run(io, f);

let routed = false;

/**
 * From now on, what is written to process.stdout / process.stderr (console.log included) inside runWithIo goes
 * to that command's io; everything else to the process's streams as before. Commands keep writing to
 * process.stdout, and ask its isTTY, unchanged.
 */
export function routeProcessOutput(): void {
  if (routed) return;
  routed = true;
  const route = (stream: NodeJS.WriteStream, sink: (io: CommandIo) => (text: string) => void, tty: (io: CommandIo) => boolean): void => {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
      const io = current.getStore();
      if (io === undefined) return write(chunk, ...rest);
      sink(io)(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      const done = rest.find((r): r is () => void => typeof r === 'function');
      if (done) queueMicrotask(done);
      return true;
    }) as typeof stream.write;
    const own = stream.isTTY;
    Object.defineProperty(stream, 'isTTY', { configurable: true, get: () => { const io = current.getStore(); return io === undefined ? own : tty(io); } });
  };
  route(process.stdout, (io) => io.stdout, (io) => io.stdoutIsTTY);
  route(process.stderr, (io) => io.stderr, (io) => io.stderrIsTTY);
}
