// `tributary serve`: one long-running process holding the local store, answering ClickHouse's HTTP interface so
// BI tools (Grafana, Metabase, Superset, @clickhouse/client) query local data as they query ClickHouse in AWS.
// Loaded only when the command runs (main.ts imports it inside its case).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { quoteIdentifier } from '../../core/identifiers.js';
import { UsageError } from '../errors.js';

export const SERVE_HELP = `tributary serve [--port 8123] [--host 127.0.0.1] [--user U] [--password-file F] [--write] [--env NAME]

Serves the local store over ClickHouse's HTTP interface until stopped (Ctrl-C): point Grafana's ClickHouse
plugin (HTTP), Metabase, Superset (clickhouse-connect) or @clickhouse/client at http://127.0.0.1:8123.
Queries run in the database tributary unless the client names another; lake tables are lake.<table>.
While it runs it holds the store, and ingest, sql, status, quarantine, jobs, compact and schema run in it
(started anywhere on this machine with the same TRIBUTARY_HOME); npm start (dev) needs it stopped.
The console (health, SQL, tables and schemas, quarantine, lineage, jobs and experiments) is at
http://127.0.0.1:8123/console/ (docs/console.md); bound beyond loopback, it needs the password.

With TRIBUTARY_BUCKET set (and the variables of status and quarantine against AWS: docs/cli.md#against-aws)
the console reads that AWS deployment with your credentials and ClickHouse login: S3, Glue, its ClickHouse,
CloudWatch. The ClickHouse interface stays the local store's, and the SQL page's sample data runs locally.

  --port N            the port (default 8123; 0 picks a free one, printed at start)
  --host H            the address to listen on (default 127.0.0.1, this machine only)
  --user U            the user clients log in as (default "default")
  --password-file F   the password, from the first line of F; or set TRIBUTARY_SERVE_PASSWORD.
                      Without either the user has no password, as ClickHouse's default user
  --write             let statements write (INSERT, CREATE, DROP, …); without it only reads run
  --env NAME          the cdk.json environment whose alarm thresholds the console's overview applies, and
                      against AWS whose MSK cluster's consumer lag it reads (default dev)`;

export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: {
      port: { type: 'string' }, host: { type: 'string' }, user: { type: 'string' }, 'password-file': { type: 'string' },
      write: { type: 'boolean' }, env: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments (got ${JSON.stringify(positionals[0])}): tributary serve --help`);
  const port = values.port === undefined ? 8123 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be an integer from 0 to 65535');
  const host = values.host ?? '127.0.0.1';
  const user = values.user ?? 'default';
  if (user === '') throw new UsageError('--user must not be empty');
  let password: string | undefined;
  if (values['password-file'] !== undefined) password = readFileSync(values['password-file'], 'utf8').split(/\r?\n/)[0] ?? '';
  else if (process.env['TRIBUTARY_SERVE_PASSWORD'] !== undefined) password = process.env['TRIBUTARY_SERVE_PASSWORD'];
  if (password === '') password = undefined;
  (await import('../serve/forward.js')).refuseBesideServe('serve', (await import('../serve/discovery.js')).storeHome());
  const env = values.env ?? 'dev';
  // The console's thresholds: a name cdk.json lacks is refused now, not on the first page.
  const { environmentThresholds, cdkJsonPath } = await import('./status.js');
  environmentThresholds(env, await cdkJsonPath());
  // Read now: commands serve runs for other terminals swap TRIBUTARY_* in process.env while they run.
  const environment = { ...process.env };
  const aws = Boolean(environment['TRIBUTARY_BUCKET']);

  const [{ openLocalRuntime }, { startServe }] = await Promise.all([import('../local-runtime.js'), import('../serve/server.js')]);
  // Serialized: BI queries and the commands serve runs for other processes take turns on chDB's one session.
  const runtime = await openLocalRuntime({ serialize: true });
  let sources: import('../serve/console/sources.js').ConsoleSources | undefined;
  try {
    const client = runtime.warehouse.client;
    const database = runtime.warehouse.database;
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)}` });
    const lake = await runtime.refreshLakeViews();
    const { consoleRoutes, CONSOLE_PATH } = await import('../serve/console/routes.js');
    const { cliClock } = await import('../clock.js');
    const { join } = await import('node:path');
    const { PACKAGE_ROOT } = await import('../local-runtime.js');
    const clock = cliClock();
    const { localConsoleSources } = await import('../serve/console/sources.js');
    sources = aws
      ? await (await import('../serve/console/sources-aws.js')).openAwsConsoleSources({
        environment, env, clock, schemasDir: runtime.schemasDir,
        // Sample data goes into a scratch database of the local chDB: the deployment is never written.
        scratch: { client, exclusive: runtime.exclusive },
      })
      : localConsoleSources(runtime, env);
    const routes = consoleRoutes({ sources, clock, host, user, password, assets: join(PACKAGE_ROOT, 'dist/console') });
    const server = await startServe({ client, database, host, port, user, password, write: values.write === true, routes, exclusive: runtime.exclusive });
    const commands = await (await import('../serve/commands.js')).hostCommands(runtime, server.url);
    console.log(`tributary serve: ClickHouse HTTP interface on ${server.url} (${values.write ? 'read-write' : 'read-only'}, user ${user}${password === undefined ? ' without a password' : ''}; ` +
      `database ${database}, ${lake.length} lake table${lake.length === 1 ? '' : 's'}${aws ? `; the local store ${runtime.home}, not the deployment` : ''}). Ctrl-C stops it.`);
    console.log(`Console: ${server.url}${CONSOLE_PATH}`);
    if (aws) console.log(`The console reads ${sources.description}. Sample-data queries run in the local chDB.`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await commands.close();
    await server.close();
  } finally {
    await sources?.close();
    await runtime.close();
  }
  return 0;
}
