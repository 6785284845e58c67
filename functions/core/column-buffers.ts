// Rows of one file, stored column by column as they are validated: numbers go straight into typed
// arrays, so a batch holds no per-row arrays and no boxed numbers between validation and encoding.
import type { CellValue } from './coerce.js';
import type { ColumnSpec } from './schema.js';

export type ColumnData =
  | { readonly kind: 'string'; values: string[]; valid: Uint8Array }
  /** int64, timestamp and double: exact for |n| ≤ 2^53; larger int64 values sit in `big` by row */
  | { readonly kind: 'number'; values: Float64Array; valid: Uint8Array; big: Map<number, bigint> | undefined }
  | { readonly kind: 'int32'; values: Int32Array; valid: Uint8Array }
  | { readonly kind: 'boolean'; values: Uint8Array; valid: Uint8Array };

function emptyColumn(c: ColumnSpec, capacity: number): ColumnData {
  const valid = new Uint8Array(capacity);
  switch (c.type) {
    case 'string':
    case 'json': return { kind: 'string', values: [], valid };
    case 'int64':
    case 'timestamp':
    case 'double': return { kind: 'number', values: new Float64Array(capacity), valid, big: undefined };
    case 'int32':
    case 'date': return { kind: 'int32', values: new Int32Array(capacity), valid };
    case 'boolean': return { kind: 'boolean', values: new Uint8Array(capacity), valid };
  }
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

  constructor(columns: readonly ColumnSpec[], initialCapacity = 64) {
    this.capacity = Math.max(1, initialCapacity);
    this.specs = [...columns];
    this.data = columns.map((c) => emptyColumn(c, this.capacity));
  }

  get columns(): readonly ColumnSpec[] {
    return this.specs;
  }

  /** Appends a column, null in every row so far (a table that gained a property mid-batch). */
  addColumn(spec: ColumnSpec): void {
    const d = emptyColumn(spec, this.capacity);
    if (d.kind === 'string') d.values = new Array<string>(this.length).fill('');
    this.specs.push(spec);
    this.data.push(d);
  }

  /** Gives column k a new spec of the same storage kind (int64 widened to double keeps its numbers). */
  retype(k: number, spec: ColumnSpec): void {
    const d = this.data[k]!;
    const next = emptyColumn(spec, 1);
    if (next.kind !== d.kind) throw new Error(`column ${spec.name}: ${this.specs[k]!.type} cannot become ${spec.type} in place`);
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
        if (d.kind === 'string') d.values.push('');
        continue; // valid[i] stays 0
      }
      d.valid[i] = 1;
      switch (d.kind) {
        case 'string': d.values.push(v as string); break;
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
      if (!d.valid[i]) return null;
      switch (d.kind) {
        case 'string': return d.values[i]!;
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

  private grow(): void {
    this.capacity *= 2;
    for (const d of this.data) {
      d.valid = grown(d.valid, this.capacity);
      if (d.kind !== 'string') (d as { values: Float64Array | Int32Array | Uint8Array }).values = grown(d.values, this.capacity);
    }
  }
}
