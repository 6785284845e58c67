// librdkafka's mock cluster (Debian's kcat) as a real Kafka-protocol broker for tests: kcat starts it, and
// its log names the bootstrap address. Topics are auto-created with 4 partitions.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface MockKafka {
  readonly brokers: string[];
  stop(): void;
  /**
   * Once kcat has exited without stop(): how, and the last lines of its stderr (the mock cluster aborts at
   * times, e.g. `rdkafka_mock_cgrp.c: … Assertion '!member->resp'`, and says so only there).
   */
  readonly died?: () => string | undefined;
}

/** how much of kcat's stderr is kept for died() */
const STDERR_TAIL = 4000;

export async function startMockKafka(): Promise<MockKafka | { unavailable: string }> {
  if (spawnSync('kcat', ['-V']).error) return { unavailable: 'kcat is not installed (apt-get install kcat)' };
  const child: ChildProcess = spawn('kcat', ['-X', 'test.mock.num.brokers=1', '-b', 'unused:9092', '-C', '-t', '__keepalive', '-o', 'end', '-u', '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  let exit: string | undefined;
  let stopped = false;
  child.stderr!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-STDERR_TAIL); });
  child.on('exit', (code, signal) => { exit = signal ?? `code ${code}`; });
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kcat mock cluster did not start: ${log}`)), 10_000);
    const started = (): void => {
      const m = /replaced with ([\d.]+:\d+)/.exec(log);
      if (m) { clearTimeout(timer); child.stderr!.off('data', started); resolve(m[1]!); }
    };
    child.stderr!.on('data', started);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`kcat exited with ${code}: ${log}`)); });
  });
  return {
    brokers: [address],
    stop: () => { stopped = true; child.kill('SIGTERM'); },
    died: () => (exit === undefined || stopped ? undefined : `kcat (the mock cluster) exited (${exit}); the end of its stderr:\n${log.trimEnd().split('\n').slice(-12).join('\n')}`),
  };
}
