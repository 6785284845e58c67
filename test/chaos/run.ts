// npm run chaos [-- options]: the process chaos run (test/chaos/processes.ts) with its figures; exits 1
// unless nothing was lost and nothing duplicated at any stage. --in-process runs the older in-process
// harness (harness.ts) instead; --kafka the Kafka rebalance run (test/chaos/kafka-rebalance.ts: --events, --partitions, --seed, --trace).
//   --events N (3000) --partitions N (4) --faults-per-kind N (10) --seed N (7)
//   --topology coupled|split|both (both: the two at once, each with its own stores and containers; --one-at-a-time runs them in turn)
//   --steps N (5: invocations per partition between checks)
//   --soak 30m (keep injecting faults, replaying the topic, until that long has passed)
//   --lake-writes direct|spool (direct): spool runs the materializer in containers of its own on a schedule
//   --job on|off (on): the SQL job test/chaos/jobs/page-views-per-hour.sql and ab-daily beside ingest, killed at their requests
//   --defer-seconds N (0): spool mode, the materializer's deferral
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatChaos, runChaos } from './harness.js';
import { formatProcessChaos, runProcessChaos } from './processes.js';
import { formatKafkaChaos, runKafkaChaos } from './kafka-rebalance.js';

const { values } = parseArgs({
  options: {
    kafka: { type: 'boolean' },
    events: { type: 'string' }, partitions: { type: 'string' }, 'faults-per-kind': { type: 'string' }, seed: { type: 'string' },
    topology: { type: 'string' }, steps: { type: 'string' }, soak: { type: 'string' }, 'in-process': { type: 'boolean' }, trace: { type: 'boolean' }, only: { type: 'string' },
    'lake-writes': { type: 'string' }, job: { type: 'string' }, 'defer-seconds': { type: 'string' }, 'one-at-a-time': { type: 'boolean' },
  },
});

if (values.kafka) {
  const r = await runKafkaChaos({
    events: Number(values.events ?? 3_000), partitions: Number(values.partitions ?? 4), seed: Number(values.seed ?? 7), trace: values.trace ?? false, log: (l) => console.error(`[kafka] ${l}`),
  });
  console.log(formatKafkaChaos(r));
  process.exitCode = r.problems.length === 0 ? 0 : 1;
} else if (values['in-process']) {
  const result = await runChaos({
    events: Number(values.events ?? 20_000), partitions: Number(values.partitions ?? 4),
    faultsPerKind: Number(values['faults-per-kind'] ?? 10), seed: Number(values.seed ?? 7), log: (l) => console.error(l),
  });
  console.log(formatChaos(result));
  const ok = result.lake.lost + result.clickhouse.lost + result.quarantineMissing === 0 && result.lake.duplicated + result.clickhouse.duplicated === 0
    && result.lake.unexpected + result.clickhouse.unexpected === 0;
  process.exitCode = ok ? 0 : 1;
} else {
  const soak = values.soak ? /^(\d+)(s|m|h)$/.exec(values.soak) : undefined;
  if (values.soak && !soak) throw new Error('--soak takes a duration such as 90s, 30m or 2h');
  const soakMs = soak ? Number(soak[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[soak[2] as 's' | 'm' | 'h'] : undefined;
  const lakeWrites = values['lake-writes'] ?? 'direct';
  if (lakeWrites !== 'direct' && lakeWrites !== 'spool') throw new Error('--lake-writes takes direct or spool');
  const job = values.job ?? 'on';
  if (job !== 'on' && job !== 'off') throw new Error('--job takes on or off');
  const defer = Number(values['defer-seconds'] ?? 0);
  if (!Number.isInteger(defer) || defer < 0 || defer > 240) throw new Error('--defer-seconds takes whole seconds from 0 to 240 (the stack\'s range)');
  if (defer > 0 && lakeWrites !== 'spool') throw new Error('--defer-seconds needs --lake-writes spool: only the materializer defers');
  const topologies: Array<'coupled' | 'split'> = values.topology === 'coupled' || values.topology === 'split' ? [values.topology] : ['coupled', 'split'];
  const run = (topology: 'coupled' | 'split'): ReturnType<typeof runProcessChaos> => runProcessChaos({
    events: Number(values.events ?? 3_000), partitions: Number(values.partitions ?? 4), faultsPerKind: Number(values['faults-per-kind'] ?? 10),
    seed: Number(values.seed ?? 7), topology, lakeWrites, materializeDeferSeconds: defer, job: job === 'on', stepsPerStage: Number(values.steps ?? 5), ...(soakMs ? { soakMs } : {}), trace: values.trace ?? false,
    ...(values.only !== undefined ? { only: values.only.split(',').filter(Boolean) as never } : {}),
    log: (l) => console.error(`[${topology}${lakeWrites === 'spool' ? ' spool' : ''}] ${l}`),
  });
  if (topologies.length > 1 && !values['one-at-a-time']) {
    // The run is bound by the containers' round trips more than by the CPU, so the two topologies run at once
    // (docs/guarantees.md, "The default run and a soak"), each in a process of its own: chDB opens one data
    // directory per process. The same options, the topology last (the last value of an option wins). Each
    // report is printed whole when its run ends.
    const codes = await Promise.all(topologies.map((t) => new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2), '--topology', t], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.on('close', (code) => { process.stdout.write(out); resolve(code); });
    })));
    process.exitCode = codes.every((c) => c === 0) ? 0 : 1;
  } else {
    let ok = true;
    for (const t of topologies) {
      const r = await run(t);
      console.log(formatProcessChaos(r));
      console.log();
      ok &&= r.problems.length === 0;
    }
    process.exitCode = ok ? 0 : 1;
  }
}
