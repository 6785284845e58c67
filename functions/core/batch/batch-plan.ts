// The pure heart of ingest: from decoded Kafka records to validated rows grouped into files, plus the
// records to quarantine and the schema changes the batch needs. No I/O happens here: what the batch needs
// to know about a table comes through `tableContext`.
import { isRejection, parseEnvelope, type EnvelopeLimits } from '../decode/envelope.js';
import { dataKey } from '../lake/layout.js';
import type { DecodedRecord, RecordDecodeProblem } from '../decode/msk-event.js';
import { reject, type QuarantinedRecord, type Rejection } from '../quarantine/reasons.js';
import type { ColumnType, TableSchema } from '../schema/model.js';
import { TableBatch, type FileBudget, type PendingSplit, type SchemaEvolution, type TableContext } from './table-batch.js';

export type { SchemaEvolution, TableContext } from './table-batch.js';

export interface PlanOptions {
  /** ingest clock (epoch ms): the received_at of every row and the reference for clock-skew checks */
  readonly now: number;
  readonly piiSalt: string;
  readonly limits: EnvelopeLimits;
  /** asked once per table, the first time a record of the batch names it */
  readonly tableContext: (table: string) => TableContext | Promise<TableContext>;
  /** tables the batch may create from data (a table with a schema is not new); unlimited when absent */
  readonly maxNewTables?: number;
  /** files (table, hour) the batch may write; unlimited when absent */
  readonly maxFiles?: number;
  /** job output tables, by table: the job. An event of that name is quarantined, never mixed into its rows. */
  readonly jobOutputs?: ReadonlyMap<string, string>;
}

/** Rows for one file: one table, one (dt, hour) partition, the batch's topic-partitions in it. */
export interface Split extends Readonly<PendingSplit> {
  readonly key: string;
}

export interface TablePlan extends SchemaEvolution {
  /** the schema before this batch; undefined for a table seen for the first time */
  readonly before: TableSchema | undefined;
}

export interface BatchPlan {
  readonly tables: ReadonlyMap<string, TablePlan>;
  readonly splits: readonly Split[];
  readonly quarantined: readonly QuarantinedRecord[];
  readonly recordsIn: number;
}

/**
 * Parses, validates and coerces every record straight into its file's column buffers, evolving each
 * table's schema as new properties appear. One record is in flight at a time, so the batch never holds
 * its parsed JSON: memory follows the column buffers, not the object trees.
 */
export async function planBatch(records: readonly DecodedRecord[], problems: readonly RecordDecodeProblem[], options: PlanOptions): Promise<BatchPlan> {
  const contexts = new Map<string, TableContext>();
  const typeOverrides = new Map<string, Map<string, ColumnType>>();
  // A column this batch added as a timestamp that later meets plain text becomes a string column; the
  // rows before that point hold parsed times, so the batch is planned again. Each extra pass fixes at
  // least one column for good, so this ends; in practice it never runs twice.
  for (;;) {
    const { plan, tables } = await planPass(records, problems, options, contexts, typeOverrides);
    let again = false;
    for (const t of tables) {
      for (const name of t.retyped) {
        const fixed = typeOverrides.get(t.table) ?? typeOverrides.set(t.table, new Map()).get(t.table)!;
        if (!fixed.has(name)) { fixed.set(name, 'string'); again = true; }
      }
    }
    if (!again) return plan;
  }
}

/**
 * Runs a check of one record. Nothing in a record should make the checks throw, but if a bug lets one,
 * the record goes to quarantine with the error instead of failing the batch: a failed batch is retried
 * as it is, so one poison record would block its partition. TableBatch.add changes the table only after
 * its checks, so an error in them leaves the batch as it was.
 */
function guarded<T>(check: () => T): T | Rejection {
  try {
    return check();
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    return reject('internal_error', `${e.name}: ${e.message}`.slice(0, 300));
  }
}

const isQuarantined = (v: QuarantinedRecord | Rejection): v is QuarantinedRecord => 'record' in v;

async function planPass(
  records: readonly DecodedRecord[], problems: readonly RecordDecodeProblem[], options: PlanOptions,
  contexts: Map<string, TableContext>, typeOverrides: ReadonlyMap<string, ReadonlyMap<string, ColumnType>>,
): Promise<{ plan: BatchPlan; tables: TableBatch[] }> {
  const quarantined: QuarantinedRecord[] = [];
  const broken = new Set<DecodedRecord>();
  for (const p of problems) {
    broken.add(p.record);
    quarantined.push({ record: p.record, reason: 'invalid_encoding', detail: p.detail });
  }
  const tables = new Map<string, TableBatch>();
  const files: FileBudget = { opened: 0, max: options.maxFiles ?? Infinity };
  /** tables past the batch's new-table limit: their records are quarantined */
  const refusedTables = new Set<string>();
  let newTables = 0;
  let t: TableBatch | undefined;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    if (broken.size > 0 && broken.has(record)) continue;
    const env = guarded(() => parseEnvelope(record, options.now, options.limits));
    if (isRejection(env)) {
      quarantined.push({ record, ...env });
      continue;
    }
    if (t?.table !== env.table) t = tables.get(env.table);
    if (!t) {
      const refuse = (): void => {
        refusedTables.add(env.table);
        quarantined.push({ record, reason: 'table_limit', detail: `the batch already creates ${options.maxNewTables} new tables`, event: env.table });
      };
      if (refusedTables.has(env.table)) { refuse(); continue; }
      const job = options.jobOutputs?.get(env.table);
      if (job !== undefined) {
        quarantined.push({ record, reason: 'invalid_event_name', detail: `event ${env.table} is the output table of job ${job} (schemas/jobs): rename the event, or the job`, event: env.table });
        continue;
      }
      // Outside the guard: a registry or catalog that cannot be read fails the batch, which is retried.
      let context = contexts.get(env.table);
      if (!context) contexts.set(env.table, (context = await options.tableContext(env.table)));
      if (!context.before && ++newTables > (options.maxNewTables ?? Infinity)) { refuse(); continue; }
      tables.set(env.table, (t = new TableBatch(env.table, context, typeOverrides.get(env.table), files)));
    }
    const table = t;
    const rejected = guarded(() => table.add(env, record, options));
    if (rejected) quarantined.push(isQuarantined(rejected) ? rejected : { record, ...rejected, event: env.table });
  }

  const plans = new Map<string, TablePlan>();
  const splits: Split[] = [];
  for (const [table, t] of tables) {
    plans.set(table, { ...t.evolution(), before: t.context.before });
    for (const s of t.splits.values()) splits.push({ ...s, key: dataKey(s.table, s.dt, s.hour, [...s.ranges.values()]) });
  }
  // Deterministic order: tables, partitions and files are written the same way on every retry.
  splits.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { plan: { tables: plans, splits, quarantined, recordsIn: records.length }, tables: [...tables.values()] };
}
