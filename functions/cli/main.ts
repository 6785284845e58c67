// The `tributary` command.
// Start-up time: only parsing loads up front. Each command imports its modules (and with them chDB, DuckDB,
// the AWS SDK, Arrow, kafkajs) inside its case, so --help, --version and usage errors never load them
// (test/integration/cli-usage.test.ts checks). Keep new imports here to node: modules and small CLI files.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { cliClock } from './clock.js';
import { commandStdin } from './command-io.js';
import { discoveryPath, storeHome } from './serve/discovery.js';

const HELP = `tributary — Kafka → Parquet lake + Glue + ClickHouse

Usage:
  tributary dev [--events N] [--batch-size N] [--kafka host:port]
                                                     run the whole pipeline locally (npm start); --kafka goes through a broker
  tributary produce --topic T (--brokers B | --cluster-arn ARN) (<file.ndjson> | --generate N [--rate R])
                                                     produce tracking traffic to Kafka
  tributary ingest <file.ndjson|-> [--topic T] [--batch-size N] [--batch-mb M]
                                                     feed NDJSON envelopes through the ingest handler
  tributary sql "<ClickHouse SQL>" | -f query.sql [--format table|csv|tsv|json|jsonl] [--write]
                                                     query the local warehouse; lake tables are lake.<table>
  tributary compact [--table T] [--date YYYY-MM-DD] [--grace-minutes 15] [--target-mb 256] [--retention-minutes 60]
                                                     compact closed hour partitions: dedupe event_ids, few large files
  tributary jobs list | show <job> | check [job]      the jobs of schemas/jobs/: windows, runs, problems
  tributary jobs run <job> --date YYYY-MM-DD          run one day of a job; a re-run replaces it
  tributary jobs backfill <job> --from D --to D      run a range of days, with progress and a summary
  tributary ab report --experiment E [--date D] [--out report.html]
                                                     A/B results as a table, and an HTML report with charts
  tributary schema list                              registered and declared event schemas
  tributary schema show <event>                      fields, where each came from, and the history
  tributary schema pin <event> [--out F|-] [--force] write the registered schema as schemas/events/<event>.json
  tributary schema push <file> [--event E]           apply a JSON Schema file; ingest picks it up within 30 s
  tributary quarantine list|show <id>|replay [--reason R] [--event E] [--since T] [--until T] [--rename A=B] [--set P=V] [--ts-format F]
                                                     find, read, fix and replay quarantined records (quarantine --help)
  tributary status [--json] [--table T] [--env NAME] | status lineage <table> --hour YYYY-MM-DDTHH
                                                     pipeline health per table (exit 3 when critical); lineage of an hour (status --help)
  tributary serve [--port 8123] [--host 127.0.0.1] [--user U --password-file F] [--write] [--env NAME]
                                                     ClickHouse's HTTP interface on the local store, for BI tools, and the
                                                     console, on the local store or an AWS deployment (serve --help)

  tributary --version                                the version

tributary <command> --help shows a command's options. Local state lives in $TRIBUTARY_HOME (default ./.tributary).`;

/** Each command's help: what it does and its options (`tributary <command> --help`). */
const COMMAND_HELP: ReadonlyMap<string, string> = new Map([
  ['dev', `tributary dev [--events N] [--batch-size N] [--kafka host:port[,host:port…]]

The whole pipeline locally (npm start): an hour of generated traffic through the ingest handler into the
local lake and ClickHouse, compaction, the ab-daily job and its report.

  --events N        events to generate for the previous full hour (default 20000)
  --batch-size N    records per MSK batch, per partition (default 2000)
  --kafka B         produce the traffic to these brokers, then consume it through the event-source emulator`],
  ['produce', `tributary produce --topic T (--brokers B | --cluster-arn ARN) (<file.ndjson> | - | --generate N [--rate R])

Produces tracking traffic to a Kafka-protocol broker.

  --topic T          the topic (required)
  --brokers B        host:port[,host:port…]
  --cluster-arn ARN  an MSK cluster: its TLS bootstrap brokers; wins over --brokers
  <file.ndjson>, -   one message per non-blank line
  --generate N       N generated events of the previous full hour
  --rate R           messages per second (default: as fast as the broker takes them)`],
  ['ingest', `tributary ingest <file.ndjson | -> [--topic T] [--batch-size N] [--batch-mb M]

Feeds NDJSON envelopes through the ingest handler as MSK batches, into the local lake and ClickHouse.
Ingesting the same file again with the same options is an idempotent redelivery.

  --topic T         the Kafka topic (default: the file name without its extension; required for -)
  --batch-size N    at most N records per batch, 1–1000000 (default 200000)
  --batch-mb M      at most M MiB of lines per batch, 1–1024 (default 64)`],
  ['sql', `tributary sql "<ClickHouse SQL>" [--format table|csv|tsv|json|jsonl] [--write]
tributary sql -f query.sql [--format …] [--write]

One statement on the local ClickHouse (chDB), in the database tributary: event tables are <event>, with
views <event>_dedup and <event>_all; every lake table is lake.<table> over its Parquet files.

  --format F        table (default): aligned columns; csv, tsv: with a header row; json: one array;
                    jsonl: one object per line. A FORMAT clause in the query is honoured instead
  -f, --file F      read the query from a file (- for standard input)
  --write           let the statement write (INSERT, CREATE, DROP, …); without it only reads run`],
  ['compact', `tributary compact [--table T] [--date YYYY-MM-DD] [--grace-minutes 15] [--target-mb 256] [--retention-minutes 60]

Compacts closed hour partitions of the local lake: duplicate event_ids removed, few large files.

  --table T              one table (default: every event table)
  --date D               one day, whatever its age (default: the last 7 days)
  --grace-minutes N      an hour is closed this long after it ends (default 15)
  --target-mb N          size of the output files (default 256)
  --retention-minutes N  how long superseded files stay before a later run deletes them (default 60)`],
  ['jobs', `tributary jobs list
tributary jobs show <job>
tributary jobs check [job]
tributary jobs grants
tributary jobs run <job> --date YYYY-MM-DD
tributary jobs backfill <job> --from YYYY-MM-DD --to YYYY-MM-DD

Windowed jobs: ab-daily and every <name>.sql in schemas/jobs/ (or TRIBUTARY_JOBS), locally, or against
AWS when TRIBUTARY_BUCKET is set. A re-run replaces the window's results. A backfill covers at most 366
days (less with a job's max_backfill_days) and exits 1 when a day failed. check exits 2 on any problem.
grants prints the jobs user's ClickHouse grants on every job output (CLICKHOUSE_DATABASE, default tributary).

  --date D          the day to run (run)
  --from D, --to D  the days to run, both included (backfill)`],
  ['ab', `tributary ab list
tributary ab report --experiment E [--date YYYY-MM-DD] [--out report.html]

An experiment's ab-daily results for its latest day: per metric and variant the users, mean, lift with
its 95 % CI and p-value, and a sample-ratio-mismatch warning.

  --experiment E    the experiment id (required)
  --date D          report the latest day up to D
  --out F           also write a self-contained HTML page charting each treatment's lift per day`],
  ['schema', `tributary schema list
tributary schema show <event>
tributary schema pin <event> [--out F|-] [--force]
tributary schema push <file> [--event E]

Lists, shows, pins and pushes event schemas, locally or in the deployment's registry (TRIBUTARY_BUCKET).

  --out F           pin: where to write (default <schemas dir>/<event>.json; - prints it)
  --force           pin: overwrite an existing file
  --event E         push: the event the schema is for (default: the file's title, else its name)`],
]);

/** A command's help: its own page, else its lines of the synopsis. Undefined for an unknown command. */
function commandHelp(command: string): string | undefined {
  const own = COMMAND_HELP.get(command);
  if (own !== undefined) return own;
  const lines = HELP.split('\n');
  const at = lines.flatMap((l, i) => (l.startsWith(`  tributary ${command} `) || l === `  tributary ${command}` ? [i] : []));
  // A synopsis line's description may sit on the next, indented line.
  return at.length === 0 ? undefined : at.flatMap((i) => [lines[i]!, ...(lines[i + 1]?.startsWith('    ') && !lines[i + 1]!.trimStart().startsWith('tributary') ? [lines[i + 1]!] : [])]).map((l) => l.trim()).join('\n');
}

function version(): string {
  // functions/cli/main.ts and its build dist/cli/*.js both sit two levels below the package root.
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The arguments before a `--` (after it everything is a positional, `--help` included). */
const optionArgs = (args: readonly string[]): readonly string[] => (args.includes('--') ? args.slice(0, args.indexOf('--')) : args);

function intOption(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}`);
  return n;
}

/** The options each command reads; any other is refused rather than silently ignored. */
const COMMAND_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  dev: ['events', 'batch-size', 'kafka'],
  produce: ['topic', 'brokers', 'cluster-arn', 'generate', 'rate'],
  ingest: ['topic', 'batch-size', 'batch-mb'],
  sql: ['format', 'file', 'write'],
  compact: ['table', 'date', 'grace-minutes', 'target-mb', 'retention-minutes'],
  jobs: ['date', 'from', 'to'],
  ab: ['experiment', 'date', 'out'],
  schema: ['out', 'force', 'event'],
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command) {
    // No command is a usage error: the synopsis goes to stderr, so a script's stdout stays empty.
    console.error(HELP);
    return 2;
  }
  if (command === '--version' || command === '-v') {
    console.log(`tributary ${version()}`);
    return 0;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    const help = rest[0] === undefined ? HELP : commandHelp(rest[0]);
    if (help === undefined) throw new UsageError(`unknown command ${JSON.stringify(rest[0])}\n\n${HELP}`);
    console.log(help);
    return 0;
  }
  // While `tributary serve` holds the store (its serve.json is there), a command that needs the store runs in
  // serve's process instead of failing on its lock; help, and commands against AWS, stay here.
  const wantsHelp = optionArgs(rest).includes('--help') || optionArgs(rest).includes('-h');
  if (!wantsHelp && !process.env['TRIBUTARY_BUCKET'] && existsSync(discoveryPath(storeHome()))) {
    const { STORE_COMMANDS, forwardToServe } = await import('./serve/forward.js');
    const code = STORE_COMMANDS.has(command) ? await forwardToServe(argv, storeHome()) : undefined;
    if (code !== undefined) return code;
  }
  // Its own options and help (a light module: the store opens only when it runs).
  if (command === 'serve') return (await import('./commands/serve.js')).serveCommand(rest);
  if (command !== 'quarantine' && command !== 'status' && wantsHelp) {
    const help = commandHelp(command);
    if (help === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)}\n\n${HELP}`);
    console.log(help);
    return 0;
  }
  // Its own options and help, loaded only when it runs.
  if (command === 'quarantine') return (await import('./commands/quarantine.js')).quarantineCommand(rest);
  if (command === 'status') return (await import('./commands/status.js')).statusCommand(rest);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      topic: { type: 'string' },
      'batch-size': { type: 'string' },
      'batch-mb': { type: 'string' },
      events: { type: 'string' },
      format: { type: 'string' },
      file: { type: 'string', short: 'f' },
      write: { type: 'boolean' },
      out: { type: 'string' },
      force: { type: 'boolean' },
      event: { type: 'string' },
      table: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      experiment: { type: 'string' },
      kafka: { type: 'string' },
      brokers: { type: 'string' },
      generate: { type: 'string' },
      rate: { type: 'string' },
      'cluster-arn': { type: 'string' },
      date: { type: 'string' },
      'grace-minutes': { type: 'string' },
      'target-mb': { type: 'string' },
      'retention-minutes': { type: 'string' },
    },
  });
  const allowed = COMMAND_OPTIONS[command];
  for (const name of Object.keys(values)) {
    if (allowed && !allowed.includes(name)) throw new UsageError(`--${name} does not apply to ${command}`);
  }
  cliClock(); // a TRIBUTARY_NOW that cannot be read is refused by every command, not only by those that read the clock
  switch (command) {
    case 'dev': {
      const events = intOption(values.events, 'events', 20_000);
      const batchSize = intOption(values['batch-size'], 'batch-size', 2_000);
      // A serve holding the store: say who and what to do, not chDB's lock error.
      if (existsSync(discoveryPath(storeHome()))) (await import('./serve/forward.js')).refuseBesideServe('dev', storeHome());
      const [{ openLocalRuntime }, { runDev }] = await Promise.all([import('./local-runtime.js'), import('./commands/dev.js')]);
      const runtime = await openLocalRuntime();
      try {
        await runDev(runtime, {
          events, batchSize,
          ...(values.kafka ? { kafka: values.kafka.split(',') } : {}),
        });
      } finally {
        await runtime.close();
      }
      return 0;
    }
    case 'ingest': {
      const file = positionals[0];
      if (!file) throw new UsageError('ingest needs a file (or - for stdin)');
      const [{ openLocalRuntime }, { ingestFile }, { formatBytes, formatTable }] =
        await Promise.all([import('./local-runtime.js'), import('./commands/ingest.js'), import('./print.js')]);
      const runtime = await openLocalRuntime();
      try {
        const s = await ingestFile({
          file, ...(values.topic ? { topic: values.topic } : {}),
          ...(values['batch-size'] !== undefined ? { batchSize: intOption(values['batch-size'], 'batch-size', 0) } : {}),
          ...(values['batch-mb'] !== undefined ? { batchMb: intOption(values['batch-mb'], 'batch-mb', 0) } : {}),
        }, runtime.deps);
        console.log(`${s.recordsIn} records in ${s.batches} batches: ${s.stored} stored, ${s.quarantined} quarantined; ${s.files} data files, ${formatBytes(s.bytes)}`);
        if (s.rowsByTable.size > 0) console.log(formatTable([...s.rowsByTable].map(([table, rows]) => ({ table, rows }))));
        if (s.tablesCreated.size > 0) console.log(`Tables registered: ${[...s.tablesCreated].sort().join(', ')}`);
        if (s.columnsAdded.length > 0) console.log(`Columns added: ${s.columnsAdded.map((c) => `${c.table}.${c.column} ${c.type}`).join(', ')}`);
        if (s.columnsWidened.length > 0) console.log(`Columns widened: ${s.columnsWidened.map((c) => `${c.table}.${c.column} → ${c.type}`).join(', ')}`);
        for (const p of s.schemaProblems) console.warn(`warning: ${p}`);
        if (s.quarantined > 0) console.log(formatTable(Object.entries(s.quarantinedByReason).map(([reason, records]) => ({ reason, records }))));
      } finally {
        await runtime.close();
      }
      return 0;
    }
    case 'sql': {
      const { SQL_FORMATS, isSqlFormat, runSql } = await import('./commands/sql.js');
      const format = values.format;
      if (format !== undefined && !isSqlFormat(format)) throw new UsageError(`--format is one of ${SQL_FORMATS.join(', ')}`);
      if (values.file !== undefined && positionals.length > 0) throw new UsageError('sql takes a query or -f FILE, not both');
      if (values.file === undefined && positionals.length === 0) throw new UsageError('sql needs a query: tributary sql "SELECT …" or tributary sql -f query.sql');
      const query = values.file === undefined ? positionals.join(' ')
        : values.file === '-' ? await new Response(commandStdin() as unknown as ReadableStream).text() : readFileSync(values.file, 'utf8');
      const { openLocalStore } = await import('./local-runtime.js');
      const runtime = await openLocalStore();
      try {
        process.stdout.write(await runSql(runtime, query, { ...(format !== undefined ? { format } : {}), ...(values.write ? { write: true } : {}) }));
      } finally {
        await runtime.close();
      }
      return 0;
    }
    case 'produce': {
      if (!values.topic) throw new UsageError('produce needs --topic');
      if (!values['cluster-arn'] && !values.brokers) throw new UsageError('produce needs --brokers host:port[,…] or --cluster-arn');
      const [{ bootstrapBrokers }, { produceCommand }] = await Promise.all([import('../adapters/kafka/producer.js'), import('./commands/produce.js')]);
      const brokers = values['cluster-arn'] ? await bootstrapBrokers(values['cluster-arn']) : values.brokers!.split(',');
      console.log(await produceCommand({ brokers, topic: values.topic, ...(positionals[0] ? { file: positionals[0] } : {}),
        ...(values.generate ? { generate: intOption(values.generate, 'generate', 1) } : {}), ...(values.rate ? { rate: intOption(values.rate, 'rate', 1) } : {}), ssl: Boolean(values['cluster-arn']) }));
      return 0;
    }
    case 'compact': {
      const options = {
        ...(values.table ? { table: values.table } : {}), ...(values.date ? { date: values.date } : {}),
        graceMinutes: intOption(values['grace-minutes'], 'grace-minutes', 15, 0),
        targetMb: intOption(values['target-mb'], 'target-mb', 256),
        retentionMinutes: intOption(values['retention-minutes'], 'retention-minutes', 60, 0),
      };
      const [{ openLocalRuntime }, { runCompact }] = await Promise.all([import('./local-runtime.js'), import('./commands/compact.js')]);
      const runtime = await openLocalRuntime();
      try {
        const { text } = await runCompact(runtime, options);
        console.log(text);
      } finally {
        await runtime.close();
      }
      return 0;
    }
    case 'jobs': {
      const [sub, name] = positionals;
      const subs = ['list', 'show', 'run', 'backfill', 'check', 'grants'];
      if (!sub || !subs.includes(sub)) throw new UsageError('jobs needs one of: list, show <job>, run <job> --date D, backfill <job> --from D --to D, check [job], grants');
      if (sub === 'grants') {
        // The jobs user's grants on the job outputs, for an administrator to apply (grants.sql; docs/jobs.md). No store opened.
        const [{ jobGrants }, { defaultJobsDir }] = await Promise.all([import('../adapters/job-files.js'), import('./local-runtime.js')]);
        for (const g of jobGrants(defaultJobsDir(), process.env['CLICKHOUSE_DATABASE'] || 'tributary')) console.log(`${g};`);
        return 0;
      }
      if ((sub === 'show' || sub === 'run' || sub === 'backfill') && !name) throw new UsageError(`jobs ${sub} needs a job name (tributary jobs list shows them)`);
      const [{ loadJob, loadJobs }, { defaultJobsDir, defaultSchemasDir, openJobContext }, { runJobDay }, { backfill, describeRun }, catalogCommands] = await Promise.all([
        import('../adapters/job-files.js'), import('./local-runtime.js'), import('../core/jobs/run-job.js'), import('./commands/jobs.js'), import('./commands/jobs-catalog.js'),
      ]);
      // A job file's problems are the user's to fix (exit 2) before anything opens the store.
      const job = sub === 'run' || sub === 'backfill' ? loadJob(defaultJobsDir(), name!, defaultSchemasDir()) : undefined;
      const catalog = job ? undefined : loadJobs(defaultJobsDir(), defaultSchemasDir());
      const ctx = await openJobContext();
      try {
        if (sub === 'list') console.log(await catalogCommands.jobsList(catalog!, ctx.deps));
        else if (sub === 'show') console.log(await catalogCommands.jobsShow(catalog!, name!, ctx.deps));
        else if (sub === 'check') {
          const { text, problems } = await catalogCommands.jobsCheck(catalog!, ctx.deps, name);
          console.log(text);
          if (problems > 0) return 2;
        } else if (sub === 'run') {
          if (!values.date) throw new UsageError('jobs run needs --date YYYY-MM-DD');
          for (const run of await runJobDay(job!, values.date, ctx.deps)) console.log(describeRun(run));
        } else {
          if (!values.from || !values.to) throw new UsageError('jobs backfill needs --from and --to (YYYY-MM-DD)');
          const { report, failed } = await backfill(job!, values.from, values.to, ctx.deps);
          console.log(report);
          if (failed > 0) return 1; // the days that ran are done; the failed ones can be run again
        }
      } finally {
        await ctx.close();
      }
      return 0;
    }
    case 'ab': {
      if (positionals[0] === 'list') {
        const [{ openJobContext, defaultJobsDir }, { abList }, { loadAbConfig }] = await Promise.all([import('./local-runtime.js'), import('./commands/ab.js'), import('../adapters/job-files.js')]);
        const config = loadAbConfig(defaultJobsDir());
        const ctx = await openJobContext();
        try {
          console.log(await abList(ctx.deps.warehouse, config));
        } finally {
          await ctx.close();
        }
        return 0;
      }
      if (positionals[0] !== 'report' || !values.experiment) throw new UsageError('ab needs list, or report --experiment <id> [--date D] [--out report.html]');
      const [{ openJobContext }, { abReport }] = await Promise.all([import('./local-runtime.js'), import('./commands/jobs.js')]);
      const ctx = await openJobContext();
      try {
        console.log(await abReport(ctx.deps.warehouse, values.experiment, { ...(values.date ? { date: values.date } : {}), ...(values.out ? { out: values.out } : {}), requireResults: true }));
      } finally {
        await ctx.close();
      }
      return 0;
    }
    case 'schema': {
      const [sub, arg] = positionals;
      if (sub !== 'list' && sub !== 'show' && sub !== 'pin' && sub !== 'push') throw new UsageError('schema needs one of: list, show <event>, pin <event>, push <file>');
      const [{ openSchemaContext }, { schemaList, schemaPin, schemaPush, schemaShow }] = await Promise.all([import('./local-runtime.js'), import('./commands/schema.js')]);
      const ctx = await openSchemaContext();
      switch (sub) {
        case 'list': console.log(await schemaList(ctx)); break;
        case 'show': console.log(await schemaShow(ctx, arg)); break;
        case 'pin': console.log(await schemaPin(ctx, arg, { ...(values.out ? { out: values.out } : {}), ...(values.force ? { force: true } : {}) })); break;
        case 'push': console.log(await schemaPush(ctx, arg, values.event)); break;
        default: throw new UsageError('schema needs one of: list, show <event>, pin <event>, push <file>');
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}\n\n${HELP}`);
  }
}
