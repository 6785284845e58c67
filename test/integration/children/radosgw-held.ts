// Starts radosgw and waits, never calling stop(), for radosgw-cleanup.test.ts to send a signal: prints the
// cluster's directory and its daemons' pids first.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRadosgw } from '../../s3/radosgw.js';

const started = await startRadosgw();
if ('unavailable' in started) {
  console.log(JSON.stringify({ unavailable: started.unavailable }));
  process.exit(0);
}
const run = join(started.dir, 'run');
const pids = readdirSync(run).filter((f) => f.endsWith('.pid')).map((f) => Number(readFileSync(join(run, f), 'utf8').trim()));
console.log(JSON.stringify({ dir: started.dir, pids }));
setInterval(() => undefined, 60_000);
