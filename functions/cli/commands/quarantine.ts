// `tributary quarantine list | show <id> | replay`: find, read, fix and replay quarantined records.
// Loaded only when the command runs (main.ts imports it inside its case).
import { parseArgs } from 'node:util';
import type { ClickHouseWarehouse } from '../../adapters/warehouse/clickhouse.js';
import type { AwsServices } from '../../adapters/aws-services.js';
import { parseTimestamp } from '../../core/time.js';
import { QUARANTINE_REASONS } from '../../core/quarantine/reasons.js';
import { formatRecordId, parseRecordId, type RecordId } from '../../core/quarantine/record-id.js';
import {
  listSql, quarantineFilesSql, resolutionSql, rowsSql, toListRow, toQuarantinedRow, type QuarantineSelection, type RawListRow, type RawRow,
} from '../../core/quarantine/queries.js';
import { replayQuarantined, type QuarantinedRow, type ReplayDeps } from '../../core/quarantine/replay.js';
import { describeTransformations, parseRename, parseSet, parseTimestampFormat, type Transformation } from '../../core/quarantine/transform.js';
import { cliClock } from '../clock.js';
import { escapeValue, formatTable, jsonLine } from '../print.js';
import { UsageError } from '../errors.js';

export const QUARANTINE_HELP = `tributary quarantine — find, read, fix and replay quarantined records

Usage:
  tributary quarantine list [--reason R]… [--event E]… [--since T] [--until T] [--all] [--json]
      counts of open records by reason and event, with their first and last Kafka timestamps;
      --all adds the resolved ones (status column)
  tributary quarantine show <topic>:<partition>:<offset> [--json]
      the record decoded (key, headers, value as text, or base64 when not UTF-8), its reason and
      detail, its lineage (Kafka position and timestamp, quarantine files) and its resolution
  tributary quarantine replay [<id>…] [--reason R]… [--event E]… [--since T] [--until T] [--all]
                              [--rename OLD=NEW]… [--set PROP=VALUE]… [--ts-format F] [--batch-size N]
      replays the selected open records (named ids: resolved ones too; --all: every match) through
      ingest under their own Kafka identity: replaying twice stores a record once. Records that land
      are marked resolved; the others stay quarantined with their new reason (exit code 1).

Transformations (applied in order, to the JSON envelope only; a record they do not concern is replayed as it is):
  --rename OLD=NEW    renames property OLD of "properties" to NEW, unless NEW is already there
  --set PROP=VALUE    sets property PROP when it is missing or null; VALUE is JSON when it parses (1, true,
                      "007", {"a":1}), else text
  --ts-format F       reads "ts" in format F and rewrites it as ISO-8601 UTC: epoch-s, epoch-us, epoch-ns, or a
                      pattern of YYYY MM DD HH mm ss SSS and separators, in UTC (e.g. "DD/MM/YYYY HH:mm:ss")

Times (--since included, --until excluded) are Kafka timestamps: YYYY-MM-DD or an ISO-8601 instant.`;

interface Context {
  readonly warehouse: ClickHouseWarehouse;
  /** the ports ingest runs with; opened only for replay */
  replayDeps(): Promise<ReplayDeps>;
  close(): Promise<void>;
}

async function openContext(): Promise<Context> {
  if (process.env['TRIBUTARY_BUCKET']) return openAwsContext();
  const { openLocalRuntime } = await import('../local-runtime.js');
  const rt = await openLocalRuntime();
  const warehouse = rt.warehouse;
  return {
    warehouse,
    replayDeps: async () => ({ ...rt.deps, ensureResolutionTable: () => warehouse.ensureQuarantineResolvedTable() }),
    close: () => rt.close(),
  };
}

/**
 * Against AWS: the same ports as the coupled ingest function (S3, Glue, ClickHouse), from the same
 * environment variables; replay needs the ingest settings too (the PII salt above all, or hashed columns
 * would not match), list and show only the ClickHouse ones.
 */
async function openAwsContext(): Promise<Context> {
  const { readServicesEnvironment } = await import('../../adapters/environment.js');
  const { openAwsServices } = await import('../../adapters/aws-services.js');
  const aws = await openAwsServices(readServicesEnvironment(process.env));
  return {
    warehouse: aws.warehouse,
    replayDeps: async () => awsReplayDeps(aws, process.env, (await import('../local-runtime.js')).defaultSchemasDir()),
    close: () => aws.warehouse.close(),
  };
}

/** The coupled ingest function's ports and settings for a replay against AWS (also the console's replay). */
export async function awsReplayDeps(aws: AwsServices, environment: NodeJS.ProcessEnv, schemasDir: string, clock: () => number = cliClock()): Promise<ReplayDeps> {
  const { readIngestEnvironment, ConfigurationError } = await import('../../adapters/environment.js');
  const { secretValue } = await import('../../adapters/aws-services.js');
  const env = readIngestEnvironment(environment);
  if (!env.sinks.lake || !env.sinks.warehouse) {
    throw new ConfigurationError('quarantine replay delivers to the lake and ClickHouse together, as the coupled ingest does: unset TRIBUTARY_SINKS');
  }
  const { SchemaFiles } = await import('../../adapters/schema-files.js');
  return {
    store: aws.store, catalog: aws.catalog, warehouse: aws.warehouse, registry: aws.registry({ declared: SchemaFiles.load(schemasDir) }), clock,
    config: {
      piiSalt: await secretValue(env.piiSalt), maxNewColumnsPerHour: env.maxNewColumnsPerHour, maxColumnsPerTable: env.maxColumnsPerTable,
      maxNewTablesPerBatch: env.maxNewTablesPerBatch, maxFilesPerBatch: env.maxFilesPerBatch,
    },
    ensureResolutionTable: () => aws.warehouse.ensureQuarantineResolvedTable(),
  };
}

/** A Kafka timestamp bound: a date (midnight UTC) or an ISO-8601 instant. */
function timeOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(value) ? parseTimestamp(`${value}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}[Tt ]/.test(value) ? parseTimestamp(value) : undefined;
  if (ms === undefined) throw new UsageError(`--${name} must be a date (YYYY-MM-DD) or an ISO-8601 instant, got ${JSON.stringify(value)}`);
  return ms;
}

interface Options {
  reason?: string[]; event?: string[]; since?: string; until?: string; all?: boolean; json?: boolean;
  rename?: string[]; set?: string[]; 'ts-format'?: string; 'batch-size'?: string; help?: boolean;
}

function selection(values: Options, ids: readonly RecordId[]): QuarantineSelection {
  for (const r of values.reason ?? []) {
    if (!Object.hasOwn(QUARANTINE_REASONS, r)) throw new UsageError(`--reason ${JSON.stringify(r)} is not a quarantine reason; the reasons are ${Object.keys(QUARANTINE_REASONS).join(', ')}`);
  }
  const since = timeOption(values.since, 'since');
  const until = timeOption(values.until, 'until');
  return {
    ...(values.reason?.length ? { reasons: values.reason } : {}), ...(values.event?.length ? { events: values.event } : {}),
    ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), ...(ids.length ? { ids } : {}),
    includeResolved: Boolean(values.all),
  };
}

/** The options each subcommand reads; any other is refused rather than ignored. */
const SUBCOMMAND_OPTIONS: ReadonlyMap<string, readonly string[]> = new Map([
  ['list', ['reason', 'event', 'since', 'until', 'all', 'json']],
  ['show', ['json']],
  ['replay', ['reason', 'event', 'since', 'until', 'all', 'rename', 'set', 'ts-format', 'batch-size']],
]);

export async function quarantineCommand(args: readonly string[], out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args], allowPositionals: true,
    options: {
      reason: { type: 'string', multiple: true }, event: { type: 'string', multiple: true }, since: { type: 'string' }, until: { type: 'string' },
      all: { type: 'boolean' }, json: { type: 'boolean' }, rename: { type: 'string', multiple: true }, set: { type: 'string', multiple: true },
      'ts-format': { type: 'string' }, 'batch-size': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  }) as { values: Options; positionals: string[] };
  const [sub, ...rest] = positionals;
  if (values.help || sub === 'help') { out.write(`${QUARANTINE_HELP}\n`); return 0; }
  const allowed = sub === undefined ? undefined : SUBCOMMAND_OPTIONS.get(sub);
  if (!allowed) throw new UsageError(`quarantine needs one of: list, show <id>, replay\n\n${QUARANTINE_HELP}`);
  for (const name of Object.keys(values)) if (!allowed.includes(name)) throw new UsageError(`--${name} does not apply to quarantine ${sub}`);
  cliClock(); // a TRIBUTARY_NOW that cannot be read is refused before the store is opened
  if (sub === 'list' && rest.length > 0) throw new UsageError('quarantine list takes no ids: filter with --reason, --event, --since, --until');
  if (sub === 'show' && rest.length !== 1) throw new UsageError('quarantine show needs one record id: <topic>:<partition>:<offset>');
  const ids = rest.map(parseRecordId);
  const transformations: Transformation[] = [
    ...(values.rename ?? []).map(parseRename), ...(values.set ?? []).map(parseSet), ...(values['ts-format'] ? [parseTimestampFormat(values['ts-format'])] : []),
  ];
  const batchSize = values['batch-size'] === undefined ? 1000 : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new UsageError('--batch-size must be an integer from 1 to 10000');
  const chosen = selection(values, ids);

  const ctx = await openContext();
  try {
    const w = ctx.warehouse;
    await w.ensureQuarantineTable();
    await w.ensureQuarantineResolvedTable();
    const ops = w.opsDatabase;
    if (sub === 'list') {
      const q = listSql(ops, chosen);
      const rows = (await w.query<RawListRow>(q.query, q.params)).map(toListRow);
      if (values.json) { out.write(`${jsonLine(rows)}\n`); return 0; }
      if (rows.length === 0) { out.write(`No ${chosen.includeResolved ? '' : 'open '}quarantined records${filtered(chosen) ? ' match' : ''}.\n`); return 0; }
      const total = rows.reduce((n, r) => n + r.records, 0);
      out.write(`${formatTable(rows.map((r) => ({ reason: r.reason, event: r.event, ...(chosen.includeResolved ? { status: r.status } : {}), records: r.records, first: r.first, last: r.last })))}\n`);
      out.write(`${total} ${chosen.includeResolved ? '' : 'open '}record${total === 1 ? '' : 's'}\n`);
      return 0;
    }
    const found = (await rawRows(w, rowsSql(ops, chosen))).map(toQuarantinedRow);
    const missing = ids.filter((id) => !found.some((r) => formatRecordId(r) === formatRecordId(id)));
    if (missing.length > 0) {
      err.write(`tributary: not in the quarantine: ${missing.map((id) => escapeValue(formatRecordId(id))).join(', ')} (tributary quarantine list shows what is)\n`);
      return 1;
    }
    if (sub === 'show') {
      const row = found[0]!;
      const r = (await query(w, resolutionSql(ops, row)))[0];
      const resolution = r ? { resolved_at: new Date(Number(r['resolved_ms'])).toISOString(), how: String(r['how']) } : undefined;
      const files = await query(w, quarantineFilesSql(ops, row)).catch(() => [] as Array<Record<string, unknown>>);
      const view = describeRecord(row, resolution, files.map((f) => String(f['file_key'])));
      out.write(values.json ? `${jsonLine(view)}\n` : `${showText(view)}\n`);
      return 0;
    }
    // replay
    if (found.length === 0) {
      out.write(`Nothing to replay: no ${chosen.includeResolved ? '' : 'open '}quarantined record${filtered(chosen) ? ' matches' : ''}.\n`);
      return 0;
    }
    const how = `quarantine replay${transformations.length ? ` ${describeTransformations(transformations)}` : ''}`;
    const started = performance.now();
    const report = await replayQuarantined(found, await ctx.replayDeps(), {
      transformations, batchSize, how, onBatch: (p) => progress(err, p),
    });
    const seconds = (performance.now() - started) / 1000;
    const lines = [`Replayed ${report.selected} record${report.selected === 1 ? '' : 's'} in ${report.batches} batch${report.batches === 1 ? '' : 'es'} (${seconds.toFixed(1)} s): ` +
      `${report.landed} stored and marked resolved, ${report.failed.length} quarantined again`];
    if (transformations.length > 0) lines.push(`Transformed ${report.transformed} with ${describeTransformations(transformations)}`);
    for (const [why, n] of report.untransformed) lines.push(`Replayed as it was: ${n} (${why})`);
    if (report.failed.length > 0) {
      const again = (await rawRows(w, rowsSql(ops, { ids: report.failed, includeResolved: true }))).map(toQuarantinedRow);
      lines.push('Still quarantined:', formatTable(again.map((r) => ({ id: formatRecordId(r), reason: r.reason, detail: r.detail }))));
    }
    out.write(`${lines.join('\n')}\n`);
    return report.failed.length > 0 ? 1 : 0;
  } finally {
    await ctx.close();
  }
}

const filtered = (s: QuarantineSelection): boolean => Boolean(s.reasons || s.events || s.since !== undefined || s.until !== undefined || s.ids);

const query = (w: ClickHouseWarehouse, q: { query: string; params: Record<string, unknown> }): Promise<Array<Record<string, unknown>>> =>
  w.query<Record<string, unknown>>(q.query, q.params);

const rawRows = (w: ClickHouseWarehouse, q: { query: string; params: Record<string, unknown> }): Promise<RawRow[]> => w.query<RawRow>(q.query, q.params);

function progress(err: NodeJS.WriteStream, p: { done: number; total: number; landed: number; failed: number }): void {
  if (err.isTTY) {
    const width = 30;
    const filled = Math.round((p.done / p.total) * width);
    err.write(`\rreplay [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${p.done}/${p.total} (${p.landed} stored, ${p.failed} quarantined again)`);
    if (p.done === p.total) err.write('\n');
  } else {
    err.write(`replay ${p.done}/${p.total}: ${p.landed} stored, ${p.failed} quarantined again\n`);
  }
}

/** Bytes as a user reads them: the text when they are UTF-8, else base64. */
export function bytesView(base64: string | null): { encoding: 'utf8' | 'base64'; text: string } | null {
  if (base64 === null) return null;
  const bytes = Buffer.from(base64, 'base64');
  try {
    return { encoding: 'utf8', text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes) };
  } catch {
    return { encoding: 'base64', text: base64 };
  }
}

export interface RecordView {
  readonly id: string;
  readonly status: 'open' | 'resolved';
  readonly reason: string;
  readonly detail: string;
  readonly event: string | null;
  readonly lineage: { topic: string; partition: number; offset: number; kafka_timestamp: string; received_at: string; quarantine_files: string[] };
  readonly resolution: { resolved_at: string; how: string } | null;
  readonly key: ReturnType<typeof bytesView>;
  readonly headers: Array<{ key: string; value: ReturnType<typeof bytesView> }>;
  readonly value: ReturnType<typeof bytesView>;
}

export function describeRecord(row: QuarantinedRow & { resolved: boolean }, resolution: { resolved_at: string; how: string } | undefined, files: string[]): RecordView {
  const headers = (JSON.parse(row.headersJson) as Array<{ key: string; value_base64: string }>).map((h) => ({ key: h.key, value: bytesView(h.value_base64) }));
  return {
    id: formatRecordId(row), status: row.resolved ? 'resolved' : 'open', reason: row.reason, detail: row.detail, event: row.event,
    lineage: {
      topic: row.topic, partition: row.partition, offset: row.offset, kafka_timestamp: new Date(row.kafkaTimestamp).toISOString(),
      received_at: new Date(row.receivedAt).toISOString(), quarantine_files: files,
    },
    resolution: resolution ? { resolved_at: resolution.resolved_at, how: resolution.how } : null,
    key: bytesView(row.keyBase64), headers, value: bytesView(row.valueBase64),
  };
}

/** The record for a terminal: every value from data escaped (one line each), base64 said as such. */
export function showText(v: RecordView): string {
  const bytes = (b: ReturnType<typeof bytesView>): string => (b === null ? '∅ (null)' : b.encoding === 'utf8' ? escapeValue(b.text) : `base64:${b.text}`);
  const lines = [
    `${escapeValue(v.id)}  ${v.status}`,
    `reason:           ${escapeValue(v.reason)}`,
    `detail:           ${escapeValue(v.detail)}`,
    `event:            ${v.event === null ? '∅ (unknown)' : escapeValue(v.event)}`,
    `topic:            ${escapeValue(v.lineage.topic)}`,
    `partition:        ${v.lineage.partition}`,
    `offset:           ${v.lineage.offset}`,
    `kafka timestamp:  ${v.lineage.kafka_timestamp}`,
    `quarantined at:   ${v.lineage.received_at}`,
    `quarantine files: ${v.lineage.quarantine_files.length ? v.lineage.quarantine_files.map(escapeValue).join(', ') : '– (no ingest log entry)'}`,
    ...(v.resolution ? [`resolved:         ${v.resolution.resolved_at} by ${escapeValue(v.resolution.how)}`] : []),
    `key:              ${bytes(v.key)}`,
    `headers:          ${v.headers.length ? v.headers.map((h) => `${escapeValue(h.key)}=${bytes(h.value)}`).join(', ') : '–'}`,
    `value:            ${bytes(v.value)}`,
  ];
  return lines.join('\n');
}
