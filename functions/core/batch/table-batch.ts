// One table's share of a batch: its schema evolving as records arrive (new columns, inferred int64
// widened to double) and each record validated and coerced straight into the column buffers of its file.
// Records are handled one at a time, so a parsed JSON object is garbage as soon as its row is stored.
import { coerceProperty, coercionRule, isFailure, isRoundedInteger, type CellValue, type CoercionRule } from './coerce.js';
import { ColumnBuffers } from './column-buffers.js';
import { propertyName, type Envelope } from '../decode/envelope.js';
import { inferType } from '../schema/infer.js';
import { recordRuleViolation } from '../schema/record-rules.js';
import type { DecodedRecord } from '../decode/msk-event.js';
import type { QuarantinedRecord } from '../quarantine/reasons.js';
import { emptySchema, PARTITION_COLUMNS, STANDARD_COLUMNS, tableColumns, type ColumnSpec, type ColumnType, type TableSchema } from '../schema/model.js';
import { epochHourOf, MS_PER_HOUR, utcDate, utcHour } from '../time.js';

/** What a batch needs to know about a table before its first record is planned. */
export interface TableContext {
  /** the schema before this batch (registry or catalog); undefined for a table seen for the first time */
  readonly before: TableSchema | undefined;
  /** new columns the table may still gain from data (the hourly and total guards); unlimited when absent */
  readonly newColumnBudget?: number;
  /** the limit that budget enforces, for the quarantine detail */
  readonly newColumnLimit?: string;
}

/** Files the whole batch may still open, shared by its tables. */
export interface FileBudget {
  opened: number;
  readonly max: number;
}

export interface RowOptions {
  /** ingest clock (epoch ms): the received_at of every row */
  readonly now: number;
  readonly piiSalt: string;
}

/** The records of one Kafka topic-partition in a file, and how many of its rows they are. */
export interface SplitRange {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: number;
  lastOffset: number;
  rows: number;
}

/**
 * Rows for one file: one table, one (dt, hour) partition, every topic-partition of the batch. Files grow
 * with data, not with the partitions an invocation happens to carry.
 */
export interface PendingSplit {
  readonly table: string;
  readonly dt: string;
  readonly hour: number;
  /** by `topic\0partition`, in the order the batch met them (decodeMskEvent sorts by topic-partition) */
  readonly ranges: Map<string, SplitRange>;
  /** the file's rows, one buffer per column of tableColumns(schema) */
  readonly rows: ColumnBuffers;
}

export interface SchemaEvolution {
  readonly schema: TableSchema;
  readonly added: readonly ColumnSpec[];
  /** inferred int64 columns that now hold doubles */
  readonly widened: readonly ColumnSpec[];
  /** new property names past the table's new-column budget: records carrying them were quarantined */
  readonly refused: readonly string[];
  /** where each added column was first seen (`topic[partition]@offset`) */
  readonly firstSeen: ReadonlyMap<string, string>;
}

const isCell = (v: CellValue | QuarantinedRecord): v is CellValue => typeof v !== 'object' || v === null;

/** The normalised names of a record's properties with a value (null counts as absent, as for `required`). */
function presentNames(props: Envelope['properties']): Set<string> {
  const names = new Set<string>();
  for (const raw in props) if (props[raw] !== null && props[raw] !== undefined) names.add(propertyName(raw));
  return names;
}

/** Index of the first property column in a row: the standard and partition columns come first. */
const FIRST_PROPERTY = STANDARD_COLUMNS.length + PARTITION_COLUMNS.length;

export class TableBatch {
  readonly splits = new Map<string, PendingSplit>();
  /**
   * Columns this batch added as timestamps that then met plain text. Their earlier rows already hold epoch
   * milliseconds, not the original text, so the batch is planned again with these columns as strings.
   */
  readonly retyped = new Set<string>();

  private readonly base: TableSchema;
  private readonly properties: ColumnSpec[];
  private readonly index = new Map<string, number>();
  /** property name as sent → column index, for the names records use (camelCase ones included) */
  private readonly rawIndex = new Map<string, number>();
  private readonly required: boolean[];
  /** names a record may carry when the schema forbids undeclared ones */
  private readonly declared: ReadonlySet<string>;
  private readonly widenable = new Set<string>();
  private readonly addedHere = new Set<string>();
  private readonly widened = new Set<string>();
  private readonly refused = new Set<string>();
  private readonly firstSeen = new Map<string, string>();
  private readonly budget: number;
  private readonly row: CellValue[] = [];
  /** per property column, what coercion reads of it, in one shape (see coercionRule) */
  private readonly rules: CoercionRule[];
  /** per property column, the serial of the last record that carried it */
  private readonly present: number[] = [];
  private readonly requiredColumns: number[];
  private serial = 0;
  private last: PendingSplit | undefined;
  private lastEpochHour = NaN;

  constructor(
    readonly table: string,
    readonly context: TableContext,
    /** column types fixed by an earlier pass over the same batch */
    private readonly typeOverrides: ReadonlyMap<string, ColumnType> = new Map(),
    private readonly files: FileBudget = { opened: 0, max: Infinity },
  ) {
    this.base = context.before ?? emptySchema(table, 'inferred');
    this.properties = [...this.base.properties];
    this.rules = this.properties.map(coercionRule);
    this.properties.forEach((c, k) => this.index.set(c.name, k));
    this.required = this.properties.map((c) => this.base.required.includes(c.name));
    this.requiredColumns = this.required.flatMap((r, k) => (r ? [k] : []));
    // Columns kept from before a pin stay in the table, but a closed schema accepts only what it declares.
    this.declared = new Set(this.properties.filter((c) => c.origin === 'declared').map((c) => c.name));
    for (const c of this.properties) if (c.origin === 'inferred' && c.type === 'int64') this.widenable.add(c.name);
    this.budget = context.newColumnBudget ?? Infinity;
  }

  /** Stores the record's row, or says why the record is quarantined. */
  add(env: Envelope, record: DecodedRecord, options: RowOptions): QuarantinedRecord | undefined {
    const table = this.table;
    const props = env.properties;
    if (!this.base.allowNewProperties) {
      for (const raw in props) {
        const name = propertyName(raw);
        if (!this.declared.has(name)) {
          return { record, reason: 'unknown_property', detail: `property ${name} is not declared in the ${table} schema`, event: table };
        }
      }
    }
    const row = this.row;
    const present = this.present;
    const serial = ++this.serial;
    // One pass over the record's own properties fills the row; columns it lacks are filled after. When
    // several columns are wrong, the first in column order names the reason, whatever the JSON order.
    // Values are checked against the columns as this record would leave them (an int64 widened, a new
    // column inferred), and the table changes only once the record is known to be stored: a quarantined
    // record leaves the schema as it found it.
    let failure: QuarantinedRecord | undefined;
    let failedAt = Infinity;
    let widen: number[] | undefined;
    let fresh: Array<{ name: string; type: ColumnType; value: unknown }> | undefined;
    /** inferred-timestamp columns of this batch that met plain text, and whether only they failed */
    let retype: string[] | undefined;
    let otherFailure = false;
    for (const raw in props) {
      const value = props[raw];
      let k = this.rawIndex.get(raw);
      if (k === undefined) {
        const name = propertyName(raw);
        k = this.index.get(name);
        if (k === undefined) {
          const type = inferType(name, value);
          if (type !== undefined) (fresh ??= []).push({ name, type, value });
          continue;
        }
        this.rawIndex.set(raw, k);
      }
      let column = this.rules[k]!;
      const name = column.name;
      let retyping = false;
      // A fraction widens; an integer JSON.parse rounded does not (it is refused, not stored rounded).
      if (typeof value === 'number' && !Number.isSafeInteger(value) && !isRoundedInteger(value) && this.widenable.has(name)) {
        column = coercionRule({ ...column, type: 'double' });
        (widen ??= []).push(k);
      } else if (typeof value === 'string' && column.type === 'timestamp' && this.addedHere.has(name) && inferType(name, value) === 'string') {
        (retype ??= []).push(name);
        retyping = true;
      }
      present[k] = serial;
      const v = this.cell(value, k, column, options.piiSalt, record);
      if (isCell(v)) row[FIRST_PROPERTY + k] = v;
      else {
        if (!retyping) otherFailure = true;
        if (k < failedAt) { failure = v; failedAt = k; }
      }
    }
    if (fresh) {
      // The guard admits a record's new names only all together: a record that would overflow the budget
      // (10,000 keyed-by-id properties, say) is refused whole and adds no column on its way to quarantine.
      if (this.addedHere.size + fresh.length > this.budget) {
        for (const f of fresh) this.refused.add(f.name);
        return { record, reason: 'column_limit', detail: `new property ${fresh[0]!.name} would exceed the limit of ${this.context.newColumnLimit ?? 'new columns'}`, event: table };
      }
      for (let j = 0; j < fresh.length; j++) {
        const f = fresh[j]!;
        const k = this.properties.length + j;
        present[k] = serial;
        const v = this.cell(f.value, k, coercionRule(this.freshSpec(f.name, f.type)), options.piiSalt, record);
        if (isCell(v)) row[FIRST_PROPERTY + k] = v;
        else {
          otherFailure = true;
          if (k < failedAt) { failure = v; failedAt = k; }
        }
      }
    }
    let missing: QuarantinedRecord | undefined;
    for (const k of this.requiredColumns) {
      if (k >= failedAt) break;
      if (present[k] !== serial) { missing = this.missing(k, record); break; }
    }
    // Text in a column this batch inferred as a timestamp proves the inference wrong, whether or not that
    // text could also be read as a time: the batch is planned again with the column as a string, where
    // this record is stored, unless something else is wrong with it.
    if (retype && !missing && !otherFailure) for (const name of retype) this.retyped.add(name);
    if (missing) return missing;
    if (failure) return failure;
    if (this.base.recordRules) {
      const broken = recordRuleViolation(presentNames(props), this.base.recordRules);
      if (broken !== undefined) return { record, reason: 'schema_violation', detail: broken, event: table };
    }
    const epochHour = epochHourOf(env.eventTime);
    if (this.files.opened >= this.files.max && !this.hasSplit(epochHour)) {
      return { record, reason: 'file_limit', detail: `the batch already writes ${this.files.max} files (table, hour)`, event: table };
    }
    if (widen) for (const k of widen) this.widenToDouble(k);
    if (fresh) for (const f of fresh) this.addColumn(this.freshSpec(f.name, f.type), record);

    const columns = this.properties.length;
    for (let k = 0; k < columns; k++) if (present[k] !== serial) row[FIRST_PROPERTY + k] = null;

    const day = Math.floor(epochHour / 24);
    row[0] = env.eventId; row[1] = env.eventTime; row[2] = env.userId; row[3] = options.now;
    row[4] = record.topic; row[5] = record.partition; row[6] = record.offset;
    row[7] = day; row[8] = epochHour - 24 * day;
    this.splitFor(epochHour, record).rows.append(row);
    return undefined;
  }

  /** One property value coerced for column k, or why the record is quarantined. */
  private cell(value: unknown, k: number, column: CoercionRule, piiSalt: string, record: DecodedRecord): CellValue | QuarantinedRecord {
    if ((value === undefined || value === null) && this.required[k]) return this.missing(k, record);
    const v = coerceProperty(value, column, piiSalt);
    if (!isFailure(v)) return v;
    const reason = v.violation ? 'schema_violation' : column.origin === 'inferred' && !v.unstorable ? 'type_conflict' : 'uncoercible_value';
    return { record, reason, detail: `${v.failure} (column type ${column.type})`, event: this.table };
  }

  private missing(k: number, record: DecodedRecord): QuarantinedRecord {
    return { record, reason: 'missing_required', detail: `required property ${this.properties[k]!.name} is missing`, event: this.table };
  }

  /** The table's schema after the batch and how it got there. */
  evolution(): SchemaEvolution {
    const properties = [...this.properties];
    const changed = this.addedHere.size > 0 || this.widened.size > 0;
    return {
      schema: changed ? { ...this.base, properties } : this.base,
      added: properties.filter((c) => this.addedHere.has(c.name)),
      widened: properties.filter((c) => this.widened.has(c.name)),
      refused: [...this.refused].filter((name) => !this.addedHere.has(name)),
      firstSeen: this.firstSeen,
    };
  }

  /** The file a record of this hour goes to, if the batch has opened it. */
  private findSplit(epochHour: number): PendingSplit | undefined {
    // Consecutive records usually share a file: check the previous one before looking the hour up.
    return this.last && this.lastEpochHour === epochHour ? this.last : this.splits.get(String(epochHour));
  }

  private hasSplit(epochHour: number): boolean {
    return this.findSplit(epochHour) !== undefined;
  }

  private splitFor(epochHour: number, record: DecodedRecord): PendingSplit {
    let split = this.findSplit(epochHour);
    if (!split) {
      const start = epochHour * MS_PER_HOUR;
      const columns = tableColumns({ ...this.base, properties: this.properties });
      split = { table: this.table, dt: utcDate(start), hour: utcHour(start), ranges: new Map(), rows: new ColumnBuffers(columns) };
      this.splits.set(String(epochHour), split);
      this.files.opened++;
    }
    const id = `${record.topic}\u0000${record.partition}`;
    const range = split.ranges.get(id);
    // Records arrive sorted by offset within a topic-partition (decodeMskEvent), so this is the range end.
    if (range) { range.lastOffset = record.offset; range.rows++; }
    else split.ranges.set(id, { topic: record.topic, partition: record.partition, firstOffset: record.offset, lastOffset: record.offset, rows: 1 });
    this.last = split;
    this.lastEpochHour = epochHour;
    return split;
  }

  /** The column a new property gets: its inferred type, unless an earlier pass fixed a timestamp as text. */
  private freshSpec(name: string, type: ColumnType): ColumnSpec {
    return { name, type: type === 'timestamp' ? (this.typeOverrides.get(name) ?? type) : type, nullable: true, origin: 'inferred' };
  }

  private addColumn(spec: ColumnSpec, record: DecodedRecord): number {
    const { name, type } = spec;
    const k = this.properties.length;
    this.index.set(name, k);
    this.properties.push(spec);
    this.rules.push(coercionRule(spec));
    this.required.push(false);
    this.addedHere.add(name);
    if (type === 'int64') this.widenable.add(name);
    this.firstSeen.set(name, `${record.topic}[${record.partition}]@${record.offset}`);
    for (const s of this.splits.values()) s.rows.addColumn(spec);
    return k;
  }

  private widenToDouble(k: number): ColumnSpec {
    const spec: ColumnSpec = { ...this.properties[k]!, type: 'double' };
    this.properties[k] = spec;
    this.rules[k] = coercionRule(spec);
    this.widenable.delete(spec.name);
    if (!this.addedHere.has(spec.name)) this.widened.add(spec.name);
    for (const s of this.splits.values()) s.rows.retype(FIRST_PROPERTY + k, spec);
    return spec;
  }
}
