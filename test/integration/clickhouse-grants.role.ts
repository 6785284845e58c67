// One role's work on a local store whose ClickHouse user has only that role's grants, for
// clickhouse-grants.test.ts. chDB always connects as `default` and binds one configuration per process, so
// each role runs in its own process with a users.xml that gives `default` the role's grants. Prints a JSON
// object: label → 'ok', 'denied' (ACCESS_DENIED) or the error.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import chdb from 'chdb';
import { openLocalRuntime, PACKAGE_ROOT } from '../../functions/cli/local-runtime.js';
import { runBatches } from '../../functions/cli/run-batches.js';
import { generateTraffic } from '../../functions/cli/traffic.js';
import { loadJob } from '../../functions/adapters/job-files.js';
import { ingestBatch } from '../../functions/core/ingest.js';
import { runJobDay } from '../../functions/core/jobs/run-job.js';
import { mskEvent } from '../helpers.js';

export interface RoleRun {
  readonly role: 'admin' | 'ingest' | 'jobs' | 'bi';
  readonly home: string;
  /** ClickHouse users of this process: name → grant statements without `TO …`, or null for every right */
  readonly users: Readonly<Record<string, readonly string[] | null>>;
  readonly now: number;
  /** statements the admin checks the syntax of (EXPLAIN AST) */
  readonly statements?: readonly string[];
  /** declared event schemas (default schemas/events) */
  readonly schemasDir?: string;
  /** jobs: also run these SQL jobs of this directory (label `job <name>`) */
  readonly sqlJobs?: { readonly dir: string; readonly names: readonly string[] };
}

const HOUR = 3_600_000;
const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function configure(run: RoleRun): string {
  const users = Object.entries(run.users).map(([name, grants]) => `<${name}><password></password><networks><ip>::/0</ip></networks>` +
    `<profile>default</profile><quota>default</quota>${grants === null ? '<access_management>1</access_management>'
      : `<grants>${grants.map((g) => `<query>${xml(g)}</query>`).join('')}</grants>`}</${name}>`).join('');
  const usersFile = join(run.home, `users-${run.role}.xml`);
  writeFileSync(usersFile, `<clickhouse><profiles><default/></profiles><quotas><default/></quotas><users>${users}</users></clickhouse>`);
  const config = join(run.home, `config-${run.role}.xml`);
  writeFileSync(config, `<clickhouse><users_config>${xml(usersFile)}</users_config></clickhouse>`);
  return config;
}

async function main(run: RoleRun): Promise<Record<string, string>> {
  // The first connection binds the engine's configuration; the runtime's client shares that engine.
  const session = new chdb.Session(join(run.home, 'clickhouse'), { connectionArgs: [`--config-file=${configure(run)}`] });
  const rt = await openLocalRuntime({ home: run.home, schemasDir: run.schemasDir ?? join(PACKAGE_ROOT, 'schemas/events'), clock: () => run.now });
  const results: Record<string, string> = {};
  const attempt = async (label: string, f: () => Promise<unknown>): Promise<void> => {
    try {
      const v = await f();
      results[label] = typeof v === 'string' ? v : 'ok';
    } catch (e) {
      const message = (e as Error).message;
      results[label] = /ACCESS_DENIED|Not enough privileges/.test(message) && !process.env['GRANTS_DEBUG'] ? 'denied' : `error: ${message.slice(0, 400)}`;
    }
  };
  const exec = (sql: string): Promise<unknown> => rt.warehouse.client.command({ query: sql });
  const count = async (sql: string): Promise<string> => String((await rt.warehouse.query<{ n: string }>(sql))[0]!.n);
  const end = Math.floor(run.now / HOUR) * HOUR;
  try {
    switch (run.role) {
      case 'admin':
        for (const [i, s] of (run.statements ?? []).entries()) await attempt(`parse ${i}`, () => rt.warehouse.query(`EXPLAIN AST ${s}`));
        await attempt('quarantine rows in ops', () => count('SELECT count() AS n FROM tributary_ops._quarantine'));
        await attempt('operational tables in the BI database', () => count("SELECT count() AS n FROM system.tables WHERE database = 'tributary' AND name LIKE '\\_%'"));
        // chDB has one user per process: hand the view to the ingest user, as a server would have it.
        await attempt('definer', () => exec('ALTER TABLE tributary.page_view_all MODIFY DEFINER = tributary_ingest SQL SECURITY DEFINER'));
        break;
      case 'ingest': {
        const records = generateTraffic({ start: end - HOUR, end, events: 600, seed: 7, malformedRate: 0 }).map((r) => ({ ...r, topic: 'grants' }));
        await attempt('ingest', () => runBatches(records, rt.deps, 300));
        await attempt('quarantine', () => ingestBatch(mskEvent(['{"event":', 'not json'], { topic: 'grants-bad', timestamp: run.now }), rt.deps));
        await attempt('read quarantine', () => count('SELECT count() AS n FROM tributary_ops._quarantine'));
        await attempt('drop event table', () => exec('DROP TABLE tributary.page_view'));
        break;
      }
      case 'jobs':
        await attempt('ab-daily', async () => {
          const runs = await runJobDay(loadJob(join(PACKAGE_ROOT, 'schemas/jobs'), 'ab-daily'), new Date(end - HOUR).toISOString().slice(0, 10), { ...rt.deps, registry: rt.registry });
          return runs.every((r) => r.rows > 0) ? 'ok' : 'no rows';
        });
        for (const name of run.sqlJobs?.names ?? []) {
          await attempt(`job ${name}`, async () => {
            const runs = await runJobDay(loadJob(run.sqlJobs!.dir, name), new Date(end - HOUR).toISOString().slice(0, 10), { ...rt.deps, registry: rt.registry });
            return runs.every((r) => r.rows > 0) ? 'ok' : 'no rows';
          });
        }
        await attempt('read quarantine', () => count('SELECT count() AS n FROM tributary_ops._quarantine'));
        await attempt('delete from event table', () => exec('ALTER TABLE tributary.page_view DELETE WHERE 1'));
        await attempt('drop event table', () => exec('DROP TABLE tributary.page_view'));
        break;
      case 'bi':
        for (const t of ['tributary.page_view', 'tributary.page_view_dedup', 'tributary.page_view_all', 'tributary.ab_daily', 'tributary_ops._ingest_log']) {
          await attempt(`read ${t}`, async () => ((await count(`SELECT count() AS n FROM ${t}`)) === '0' ? 'empty' : 'ok'));
        }
        await attempt('read quarantine', () => count('SELECT count() AS n FROM tributary_ops._quarantine'));
        await attempt('read lake files', () => count(`SELECT count() AS n FROM file('${join(run.home, 'lake')}/_quarantine/**/*.parquet', 'Parquet')`));
        await attempt('insert', () => exec("INSERT INTO tributary.page_view (event_id) VALUES ('x')"));
        break;
    }
  } finally {
    await rt.close();
    session.close();
  }
  return results;
}

console.log(JSON.stringify(await main(JSON.parse(process.argv[2]!) as RoleRun)));
