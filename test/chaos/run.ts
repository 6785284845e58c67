// npm run chaos [-- --events N --partitions N --faults-per-kind N]: the fault-injection run with its figures.
// Exits 1 unless nothing was lost and nothing duplicated.
import { parseArgs } from 'node:util';
import { formatChaos, runChaos } from './harness.js';

const { values } = parseArgs({ options: { events: { type: 'string' }, partitions: { type: 'string' }, 'faults-per-kind': { type: 'string' }, seed: { type: 'string' } } });
const result = await runChaos({
  events: Number(values.events ?? 20_000),
  partitions: Number(values.partitions ?? 4),
  faultsPerKind: Number(values['faults-per-kind'] ?? 10),
  seed: Number(values.seed ?? 7),
  log: (l) => console.error(l),
});
console.log(formatChaos(result));
const ok = result.lake.lost + result.clickhouse.lost + result.quarantineMissing === 0 && result.lake.duplicated + result.clickhouse.duplicated === 0
  && result.lake.unexpected + result.clickhouse.unexpected === 0;
process.exitCode = ok ? 0 : 1;
