// Rows of one file, stored column by column as they are validated: numbers go straight into typed
// arrays and strings into UTF-8 bytes laid out as Parquet's PLAIN encoding (a 4-byte length before each
// value), so a batch holds no per-row arrays, no boxed numbers and no string objects between validation
// and encoding, and a string column's values are its page's bytes as they stand.
import type { CellValue } from './coerce.js';
import type { ColumnSpec, ColumnType } from '../schema/model.js';

/**
 * `nullAt[i]` is 1 where row i has no value; `nulls` counts those rows. Marking nulls rather than values
 * leaves the common case, a cell with a value, one store fewer.
 */
interface Nulls { nullAt: Uint8Array; nulls: number }

export type ColumnData =
  /**
   * Row i is bytes[offsets[i], offsets[i + 1]): its UTF-8 length as 4 bytes little-endian, then the text;
   * nothing for a null row. So bytes[0, offsets[length]) are the PLAIN values of the non-null rows.
   */
  | ({ readonly kind: 'string'; bytes: Buffer; offsets: Int32Array } & Nulls)
  /** int64, timestamp and double: exact for |n| ≤ 2^53; larger int64 values sit in `big` by row */
  | ({ readonly kind: 'number'; values: Float64Array; big: Map<number, bigint> | undefined } & Nulls)
  | ({ readonly kind: 'int32'; values: Int32Array } & Nulls)
  | ({ readonly kind: 'boolean'; values: Uint8Array } & Nulls);

/** How a column type is stored. */
function storageOf(type: ColumnType): ColumnData['kind'] {
  switch (type) {
    case 'string':
    case 'json': return 'string';
    case 'int64':
    case 'timestamp':
    case 'double': return 'number';
    case 'int32':
    case 'date': return 'int32';
    case 'boolean': return 'boolean';
  }
}

/** A column of `nulls` rows, all null, with room for `capacity`. */
function emptyColumn(c: ColumnSpec, capacity: number, nulls: number): ColumnData {
  const nullAt = new Uint8Array(capacity).fill(1, 0, nulls);
  switch (storageOf(c.type)) {
    case 'string': return { kind: 'string', bytes: Buffer.allocUnsafe(16 * capacity), offsets: new Int32Array(capacity + 1), nullAt, nulls };
    case 'number': return { kind: 'number', values: new Float64Array(capacity), nullAt, nulls, big: undefined };
    case 'int32': return { kind: 'int32', values: new Int32Array(capacity), nullAt, nulls };
    case 'boolean': return { kind: 'boolean', values: new Uint8Array(capacity), nullAt, nulls };
  }
}

/** Text length prefix of a PLAIN value. */
export const LENGTH_BYTES = 4;

/**
 * Appends `text` as a length and UTF-8 at byte `at` and returns the end. ASCII (nearly all tracking data)
 * is copied by a plain loop, which beats a native call per short string; anything else goes through
 * Buffer's encoder, which writes a lone surrogate as U+FFFD like every other UTF-8 encoder in the pipeline.
 */
function writeUtf8(d: { bytes: Buffer }, text: string, at: number): number {
  const n = text.length;
  if (at + LENGTH_BYTES + 3 * n > d.bytes.length) {
    const next = Buffer.allocUnsafe(Math.max(2 * d.bytes.length, at + LENGTH_BYTES + 3 * n));
    d.bytes.copy(next, 0, 0, at);
    d.bytes = next;
  }
  const bytes = d.bytes;
  const start = at + LENGTH_BYTES;
  let length = n;
  for (let k = 0; k < n; k++) {
    const c = text.charCodeAt(k);
    if (c > 127) {
      length = bytes.write(text, start, 'utf8');
      break;
    }
    bytes[start + k] = c;
  }
  bytes[at] = length & 0xff;
  bytes[at + 1] = (length >>> 8) & 0xff;
  bytes[at + 2] = (length >>> 16) & 0xff;
  bytes[at + 3] = length >>> 24;
  return start + length;
}

function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, capacity: number): T {
  const next = new (a.constructor as new (n: number) => T)(capacity);
  next.set(a);
  return next;
}

export class ColumnBuffers {
  length = 0;
  readonly data: ColumnData[];
  private readonly specs: ColumnSpec[];
  private capacity: number;

  constructor(columns: readonly ColumnSpec[], initialCapacity = 8) {
    this.capacity = Math.max(1, initialCapacity);
    this.specs = [...columns];
    this.data = columns.map((c) => emptyColumn(c, this.capacity, 0));
  }

  get columns(): readonly ColumnSpec[] {
    return this.specs;
  }

  /** Appends a column, null in every row so far (a table that gained a property mid-batch). */
  addColumn(spec: ColumnSpec): void {
    const d = emptyColumn(spec, this.capacity, this.length); // string offsets start all zero: empty, and null
    this.specs.push(spec);
    this.data.push(d);
  }

  /** Gives column k a new spec of the same storage kind (int64 widened to double keeps its numbers). */
  retype(k: number, spec: ColumnSpec): void {
    const d = this.data[k]!;
    if (storageOf(spec.type) !== d.kind) throw new Error(`column ${spec.name}: ${this.specs[k]!.type} cannot become ${spec.type} in place`);
    if (d.kind === 'number' && d.big) {
      for (const [i, v] of d.big) d.values[i] = Number(v);
      d.big = undefined;
    }
    this.specs[k] = spec;
  }

  static fromRows(columns: readonly ColumnSpec[], rows: readonly (readonly CellValue[])[]): ColumnBuffers {
    const b = new ColumnBuffers(columns, rows.length);
    for (const r of rows) b.append(r);
    return b;
  }

  /** Appends one row; `values[k]` must already be coerced to column k's type. */
  append(values: readonly CellValue[]): void {
    const i = this.length;
    if (i === this.capacity) this.grow();
    for (let k = 0; k < this.data.length; k++) {
      const d = this.data[k]!;
      const v = values[k];
      if (v === null || v === undefined) {
        if (d.kind === 'string') d.offsets[i + 1] = d.offsets[i]!;
        d.nullAt[i] = 1;
        d.nulls++;
        continue;
      }
      switch (d.kind) {
        case 'string': d.offsets[i + 1] = writeUtf8(d, v as string, d.offsets[i]!); break;
        case 'number':
          if (typeof v === 'bigint') (d.big ??= new Map()).set(i, v);
          else d.values[i] = v as number;
          break;
        case 'int32': d.values[i] = v as number; break;
        case 'boolean': d.values[i] = v ? 1 : 0; break;
      }
    }
    this.length = i + 1;
  }

  /** Row `i` as values (for tests and small consumers; the hot path reads columns). */
  row(i: number): CellValue[] {
    return this.data.map((d) => {
      if (d.nullAt[i]) return null;
      switch (d.kind) {
        case 'string': return d.bytes.toString('utf8', d.offsets[i]! + LENGTH_BYTES, d.offsets[i + 1]);
        case 'number': return d.big?.get(i) ?? d.values[i]!;
        case 'int32': return d.values[i]!;
        case 'boolean': return d.values[i] === 1;
      }
    });
  }

  rows(): CellValue[][] {
    return Array.from({ length: this.length }, (_, i) => this.row(i));
  }

  /** Numeric values of a number column (e.g. event_time), without copying. */
  numbers(k: number): Float64Array {
    const d = this.data[k]!;
    if (d.kind !== 'number') throw new Error(`column ${this.columns[k]?.name} is not numeric`);
    return d.values.subarray(0, this.length);
  }

  /** Values of an int32 column (e.g. _partition), without copying. */
  int32s(k: number): Int32Array {
    const d = this.data[k]!;
    if (d.kind !== 'int32') throw new Error(`column ${this.columns[k]?.name} is not int32`);
    return d.values.subarray(0, this.length);
  }

  private grow(): void {
    this.capacity *= 2;
    for (const d of this.data) {
      d.nullAt = grown(d.nullAt, this.capacity);
      if (d.kind === 'string') d.offsets = grown(d.offsets, this.capacity + 1);
      else (d as { values: Float64Array | Int32Array | Uint8Array }).values = grown(d.values, this.capacity);
    }
  }
}
