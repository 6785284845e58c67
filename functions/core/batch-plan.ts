// The pure heart of ingest: from decoded Kafka records to validated rows grouped into files, plus the
// records to quarantine and the schema changes the batch needs. No I/O happens here.
import { coerceProperty, isFailure, type CellValue } from './coerce.js';
import { ColumnBuffers } from './column-buffers.js';
import { isRejection, parseEnvelope, propertyValue, type Envelope, type EnvelopeLimits } from './envelope.js';
import { widen, inferType } from './infer.js';
import { dataKey } from './lake-layout.js';
import type { DecodedRecord, RecordDecodeProblem } from './msk-event.js';
import type { QuarantinedRecord } from './quarantine.js';
import { emptySchema, tableColumns, type ColumnSpec, type ColumnType, type TableSchema } from './schema.js';
import { epochDay, utcDate, utcHour } from './time.js';

export interface PlanOptions {
  /** ingest clock (epoch ms): the received_at of every row */
  readonly now: number;
  readonly piiSalt: string;
  /** the schema each table has before this batch (declared file and/or registered in the catalog) */
  readonly knownSchemas: ReadonlyMap<string, TableSchema>;
  /** new columns each table may still gain (the hourly guard); unlimited when absent */
  readonly newColumnBudget?: ReadonlyMap<string, number>;
}

/** Rows for one file: one table, one (dt, hour) partition, one Kafka topic-partition. */
export interface Split {
  readonly table: string;
  readonly dt: string;
  readonly hour: number;
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly key: string;
  /** the file's rows, one buffer per column of tableColumns(schema) */
  readonly rows: ColumnBuffers;
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

export interface SchemaEvolution {
  readonly schema: TableSchema;
  readonly added: readonly ColumnSpec[];
  /** inferred int64 columns that now hold doubles */
  readonly widened: readonly ColumnSpec[];
  /** new property names past the table's new-column budget: records carrying them are quarantined */
  readonly refused: readonly string[];
  /** where each added column was first seen (`topic[partition]@offset`) */
  readonly firstSeen: ReadonlyMap<string, string>;
}

/**
 * Adds columns for properties the schema does not know yet, typed from the batch's own values, at most
 * `budget` of them; widens inferred int64 columns that receive doubles. Declared columns never change.
 */
export function evolveSchema(schema: TableSchema, items: ReadonlyArray<{ env: Envelope; record: DecodedRecord }>, budget = Infinity): SchemaEvolution {
  const known = new Map(schema.properties.map((c) => [c.name, c]));
  const widenable = new Set(schema.properties.filter((c) => c.origin === 'inferred' && c.type === 'int64').map((c) => c.name));
  const widen64 = new Set<string>();
  const seen = new Map<string, ColumnType>();
  const firstSeen = new Map<string, string>();
  // The guard admits a record's new names only all together: a record that would overflow the budget
  // (10,000 keyed-by-id properties, say) is refused whole and adds no column on its way to quarantine.
  const accepted = new Set<string>();
  const fresh: string[] = [];
  for (const { env, record } of items) {
    fresh.length = 0;
    for (const name in env.properties) {
      if (known.has(name)) {
        if (widenable.has(name) && inferType(name, env.properties[name]) === 'double') widen64.add(name);
        continue;
      }
      if (!schema.allowNewProperties) continue;
      const t = inferType(name, env.properties[name]);
      if (t === undefined) continue;
      if (!accepted.has(name)) fresh.push(name);
      const prev = seen.get(name);
      if (prev === undefined) {
        seen.set(name, t);
        firstSeen.set(name, `${record.topic}[${record.partition}]@${record.offset}`);
      } else {
        // On a conflict the first type wins; the conflicting records are quarantined as type_conflict.
        seen.set(name, widen(prev, t) ?? prev);
      }
    }
    if (fresh.length > 0 && accepted.size + fresh.length <= budget) for (const name of fresh) accepted.add(name);
  }
  const refused = [...seen.keys()].filter((name) => !accepted.has(name));
  const added: ColumnSpec[] = [...accepted].map((name) => ({ name, type: seen.get(name)!, nullable: true, origin: 'inferred' }));
  const widened: ColumnSpec[] = [];
  const properties = schema.properties.map((c) => {
    if (!widen64.has(c.name)) return c;
    const w: ColumnSpec = { ...c, type: 'double' };
    widened.push(w);
    return w;
  });
  if (added.length === 0 && widened.length === 0) return { schema, added, widened, refused, firstSeen };
  return { schema: { ...schema, properties: [...properties, ...added] }, added, widened, refused, firstSeen };
}

/** Per-table facts rowFor needs for every record, computed once per batch. */
interface RowPlan {
  readonly schema: TableSchema;
  readonly required: readonly boolean[];
  /** names a record may carry when the schema forbids undeclared ones */
  readonly declared: ReadonlySet<string>;
  readonly refused: readonly string[];
}

const rowPlanOf = (schema: TableSchema, refused: readonly string[]): RowPlan => ({
  schema,
  required: schema.properties.map((c) => schema.required.includes(c.name)),
  // Columns kept from before a pin stay in the table, but a closed schema accepts only what it declares.
  declared: new Set(schema.properties.filter((c) => c.origin === 'declared').map((c) => c.name)),
  refused,
});

/** Fills `row` (reused across records) with the record's values, or says why the record is quarantined. */
function rowFor(env: Envelope, record: DecodedRecord, rp: RowPlan, options: PlanOptions, row: CellValue[]): QuarantinedRecord | undefined {
  const { schema } = rp;
  const table = env.table;
  if (!schema.allowNewProperties) {
    for (const name in env.properties) {
      if (!rp.declared.has(name)) {
        return { record, reason: 'unknown_property', detail: `property ${name} is not declared in the ${table} schema`, event: table };
      }
    }
  }
  for (const name of rp.refused) {
    const v = propertyValue(env, name);
    if (v !== undefined && v !== null) {
      return { record, reason: 'column_limit', detail: `new property ${name} would exceed the table's limit of new columns per hour`, event: table };
    }
  }
  const columns = schema.properties;
  row[0] = env.eventId; row[1] = env.eventTime; row[2] = env.userId; row[3] = options.now;
  row[4] = record.topic; row[5] = record.partition; row[6] = record.offset;
  row[7] = epochDay(env.eventTime); row[8] = utcHour(env.eventTime);
  for (let k = 0; k < columns.length; k++) {
    const column = columns[k]!;
    const raw = propertyValue(env, column.name);
    if ((raw === undefined || raw === null) && rp.required[k]) {
      return { record, reason: 'missing_required', detail: `required property ${column.name} is missing`, event: table };
    }
    const v = coerceProperty(raw, column, options.piiSalt);
    if (isFailure(v)) {
      const reason = column.origin === 'inferred' ? 'type_conflict' : 'uncoercible_value';
      return { record, reason, detail: `${v.failure} (column type ${column.type})`, event: table };
    }
    row[9 + k] = v;
  }
  return undefined;
}

type PendingSplit = { -readonly [K in keyof Omit<Split, 'key'>]: Split[K] };

/** Records parsed into envelopes and grouped by table; rejected ones already set aside. */
export interface ParsedBatch {
  readonly byTable: ReadonlyMap<string, ReadonlyArray<{ env: Envelope; record: DecodedRecord }>>;
  readonly rejected: readonly QuarantinedRecord[];
  readonly recordsIn: number;
}

export function parseBatch(records: readonly DecodedRecord[], problems: readonly RecordDecodeProblem[], now: number, limits: EnvelopeLimits): ParsedBatch {
  const rejected: QuarantinedRecord[] = [];
  const broken = new Set<DecodedRecord>();
  for (const p of problems) {
    broken.add(p.record);
    rejected.push({ record: p.record, reason: 'invalid_encoding', detail: p.detail });
  }
  const byTable = new Map<string, Array<{ env: Envelope; record: DecodedRecord }>>();
  for (const record of records) {
    if (broken.has(record)) continue;
    const env = parseEnvelope(record, now, limits);
    if (isRejection(env)) {
      rejected.push({ record, ...env });
      continue;
    }
    let list = byTable.get(env.table);
    if (!list) byTable.set(env.table, (list = []));
    list.push({ env, record });
  }
  return { byTable, rejected, recordsIn: records.length };
}

/** Evolves each table's schema for the batch, coerces every envelope into a row and groups rows into files. */
export function planBatch(parsed: ParsedBatch, options: PlanOptions): BatchPlan {
  const quarantined: QuarantinedRecord[] = [...parsed.rejected];
  const tables = new Map<string, TablePlan>();
  const splits = new Map<string, PendingSplit>();
  for (const [table, items] of parsed.byTable) {
    const before = options.knownSchemas.get(table);
    const evolution = evolveSchema(before ?? emptySchema(table, 'inferred'), items, options.newColumnBudget?.get(table));
    const { schema } = evolution;
    tables.set(table, { ...evolution, before });
    const rp = rowPlanOf(schema, evolution.refused);
    const columns = tableColumns(schema);
    const row = new Array<CellValue>(columns.length);
    let last: PendingSplit | undefined;
    for (const { env, record } of items) {
      const rejected = rowFor(env, record, rp, options, row);
      if (rejected) {
        quarantined.push(rejected);
        continue;
      }
      const dt = utcDate(env.eventTime);
      const hour = utcHour(env.eventTime);
      // Consecutive records usually share a file: check the previous one before hashing a key.
      let s = last;
      if (!s || s.dt !== dt || s.hour !== hour || s.topic !== record.topic || s.partition !== record.partition) {
        const id = `${table}\u0000${dt}\u0000${hour}\u0000${record.topic}\u0000${record.partition}`;
        s = splits.get(id);
        if (!s) {
          s = { table, dt, hour, topic: record.topic, partition: record.partition, firstOffset: record.offset, lastOffset: record.offset, rows: new ColumnBuffers(columns) };
          splits.set(id, s);
        }
        last = s;
      }
      s.rows.append(row);
      // Records arrive sorted by offset within a topic-partition (decodeMskEvent), so this is the range end.
      s.lastOffset = record.offset;
    }
  }

  const out: Split[] = [...splits.values()].map((s) => ({ ...s, key: dataKey(s.table, s.dt, s.hour, s) }));
  // Deterministic order: tables, partitions and files are written the same way on every retry.
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { tables, splits: out, quarantined, recordsIn: parsed.recordsIn };
}
