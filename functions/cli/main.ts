// The `tributary` command.
import { parseArgs } from 'node:util';
import { runCompact } from './commands/compact.js';
import { produceCommand } from './commands/produce.js';
import { bootstrapBrokers } from '../adapters/kafka/producer.js';
import { runDev } from './commands/dev.js';
import { ingestFile, UsageError } from './commands/ingest.js';
import { abReport, backfill, describeRun } from './commands/jobs.js';
import { schemaList, schemaPin, schemaPush, schemaShow } from './commands/schema.js';
import { loadJob } from '../adapters/job-files.js';
import { runJobDay } from '../core/jobs/run-job.js';
import { runSql } from './commands/sql.js';
import { defaultJobsDir, openJobContext, openLocalRuntime, openSchemaContext } from './local-runtime.js';
import { formatBytes, formatTable } from './print.js';
import { cliClock } from './clock.js';

const HELP = `tributary — Kafka → Parquet lake + Glue + ClickHouse

Usage:
  tributary dev [--events N] [--batch-size N] [--kafka host:port]
                                                     run the whole pipeline locally (npm start); --kafka goes through a broker
  tributary produce --topic T (--brokers B | --cluster-arn ARN) (<file.ndjson> | --generate N [--rate R])
                                                     produce tracking traffic to Kafka
  tributary ingest <file.ndjson|-> [--topic T] [--batch-size N] [--batch-mb M]
                                                     feed NDJSON envelopes through the ingest handler
  tributary sql "<ClickHouse SQL>" [--format table|json]
                                                     query the local warehouse; lake tables are lake.<table>
  tributary compact [--table T] [--date YYYY-MM-DD] [--grace-minutes 15] [--target-mb 256] [--retention-minutes 60]
                                                     compact closed hour partitions: dedupe event_ids, few large files
  tributary jobs run <job> --date YYYY-MM-DD          run one day of a job (ab-daily); a re-run replaces it
  tributary jobs backfill <job> --from D --to D      run a range of days, with progress and a summary
  tributary ab report --experiment E [--date D] [--out report.html]
                                                     A/B results as a table, and an HTML report with charts
  tributary schema list                              registered and declared event schemas
  tributary schema show <event>                      fields, where each came from, and the history
  tributary schema pin <event> [--out F|-] [--force] write the registered schema as schemas/events/<event>.json
  tributary schema push <file> [--event E]           apply a JSON Schema file; ingest picks it up within 30 s
  tributary quarantine list|show <id>|replay [--reason R] [--event E] [--since T] [--until T] [--rename A=B] [--set P=V] [--ts-format F]
                                                     find, read, fix and replay quarantined records (quarantine --help)

Local state lives in $TRIBUTARY_HOME (default ./.tributary).`;

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
  sql: ['format'],
  compact: ['table', 'date', 'grace-minutes', 'target-mb', 'retention-minutes'],
  jobs: ['date', 'from', 'to'],
  ab: ['experiment', 'date', 'out'],
  schema: ['out', 'force', 'event'],
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(HELP);
    return command ? 0 : 1;
  }
  // Its own options and help, loaded only when it runs.
  if (command === 'quarantine') return (await import('./commands/quarantine.js')).quarantineCommand(rest);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      topic: { type: 'string' },
      'batch-size': { type: 'string' },
      'batch-mb': { type: 'string' },
      events: { type: 'string' },
      format: { type: 'string' },
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
      const runtime = await openLocalRuntime();
      try {
        await runDev(runtime, {
          events: intOption(values.events, 'events', 20_000), batchSize: intOption(values['batch-size'], 'batch-size', 2_000),
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
      const query = positionals.join(' ');
      if (!query) throw new UsageError('sql needs a query');
      const format = values.format ?? 'table';
      if (format !== 'table' && format !== 'json') throw new UsageError('--format is table or json');
      const runtime = await openLocalRuntime();
      try {
        console.log(await runSql(runtime, query, format));
      } finally {
        await runtime.close();
      }
      return 0;
    }
    case 'produce': {
      if (!values.topic) throw new UsageError('produce needs --topic');
      const brokers = values['cluster-arn'] ? await bootstrapBrokers(values['cluster-arn']) : values.brokers?.split(',');
      if (!brokers) throw new UsageError('produce needs --brokers host:port[,…] or --cluster-arn');
      console.log(await produceCommand({ brokers, topic: values.topic, ...(positionals[0] ? { file: positionals[0] } : {}),
        ...(values.generate ? { generate: intOption(values.generate, 'generate', 1) } : {}), ...(values.rate ? { rate: intOption(values.rate, 'rate', 1) } : {}), ssl: Boolean(values['cluster-arn']) }));
      return 0;
    }
    case 'compact': {
      const runtime = await openLocalRuntime();
      try {
        const { text } = await runCompact(runtime, {
          ...(values.table ? { table: values.table } : {}), ...(values.date ? { date: values.date } : {}),
          graceMinutes: intOption(values['grace-minutes'], 'grace-minutes', 15, 0),
          targetMb: intOption(values['target-mb'], 'target-mb', 256),
          retentionMinutes: intOption(values['retention-minutes'], 'retention-minutes', 60, 0),
        });
        console.log(text);
      } finally {
        await runtime.close();
      }
      return 0;
    }
    case 'jobs': {
      const [sub, name] = positionals;
      if (sub !== 'run' && sub !== 'backfill') throw new UsageError('jobs needs run <job> --date D or backfill <job> --from D --to D');
      if (!name) throw new UsageError(`jobs ${sub} needs a job name (ab-daily)`);
      const job = loadJob(defaultJobsDir(), name);
      const ctx = await openJobContext();
      try {
        if (sub === 'run') {
          if (!values.date) throw new UsageError('jobs run needs --date YYYY-MM-DD');
          for (const run of await runJobDay(job, values.date, ctx.deps)) console.log(describeRun(run));
        } else {
          if (!values.from || !values.to) throw new UsageError('jobs backfill needs --from and --to (YYYY-MM-DD)');
          const { report, failed } = await backfill(job, values.from, values.to, ctx.deps);
          console.log(report);
          if (failed > 0) return 1; // the days that ran are done; the failed ones can be run again
        }
      } finally {
        await ctx.close();
      }
      return 0;
    }
    case 'ab': {
      if (positionals[0] !== 'report' || !values.experiment) throw new UsageError('ab report --experiment <id> [--date D] [--out report.html]');
      const ctx = await openJobContext();
      try {
        console.log(await abReport(ctx.deps.warehouse, values.experiment, { ...(values.date ? { date: values.date } : {}), ...(values.out ? { out: values.out } : {}) }));
      } finally {
        await ctx.close();
      }
      return 0;
    }
    case 'schema': {
      const [sub, arg] = positionals;
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
