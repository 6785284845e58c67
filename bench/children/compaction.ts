// Compaction of one hour partition (the fixture the parent built) with one engine, orchestration included.
import { LocalJsonCatalog } from '../../functions/adapters/catalog/local-json.js';
import { DuckDbCompactionEngine } from '../../functions/adapters/compaction/duckdb-engine.js';
import { LocalDirectoryStore } from '../../functions/adapters/object-store/local-directory.js';
import { compactPartition } from '../../functions/core/lake/compact-partition.js';
import { ChdbCompactionEngine } from '../chdb-engine.js';
import { args, report } from './common.js';

const { arg: engineName, file: home } = args();
const [table, dt, hour] = process.env['BENCH_PARTITION']!.split('/');
const store = new LocalDirectoryStore(home);
const engine = engineName === 'chdb'
  ? new ChdbCompactionEngine((key) => store.path(key))
  : new DuckDbCompactionEngine({ localPath: (key) => store.path(key), threads: 1 });
const started = performance.now();
const r = await compactPartition(table!, { dt: dt!, hour: Number(hour) }, {
  store, catalog: new LocalJsonCatalog(`${home}/catalog`), engine, clock: Date.now,
});
const seconds = (performance.now() - started) / 1000;
if (r.outcome !== 'compacted') throw new Error(`compaction did not run: ${r.outcome} ${r.detail}`);
report({ name: `compact:${engineName}`, events: r.rowsIn, seconds, bytesOut: r.bytesAfter, bytesIn: r.bytesBefore, filesBefore: r.filesBefore, filesAfter: r.filesAfter, rowsOut: r.rowsOut });
