// librdkafka's mock cluster (Debian's kcat) as a real Kafka-protocol broker for tests: kcat starts it, and
// its log names the bootstrap address. Topics are auto-created with 4 partitions.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface MockKafka {
  readonly brokers: string[];
  stop(): void;
}

export async function startMockKafka(): Promise<MockKafka | { unavailable: string }> {
  if (spawnSync('kcat', ['-V']).error) return { unavailable: 'kcat is not installed (apt-get install kcat)' };
  const child: ChildProcess = spawn('kcat', ['-X', 'test.mock.num.brokers=1', '-b', 'unused:9092', '-C', '-t', '__keepalive', '-o', 'end', '-u', '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const address = await new Promise<string>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`kcat mock cluster did not start: ${log}`)), 10_000);
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /replaced with ([\d.]+:\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(m[1]!); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`kcat exited with ${code}: ${log}`)); });
  });
  return { brokers: [address], stop: () => { child.kill('SIGTERM'); } };
}
