// Validation and coercion of a property value into its column type. Only lossless conversions are made:
// "42" → 42 for an integer column is fine, 2.5 → 2 is not.
import { hash } from 'node:crypto';
import { allowedExcerpt, constraintViolation, isAllowed } from '../schema/constraints.js';
import { describeValue, unstorableText } from '../identifiers.js';
import { nestedSchemaFailure } from '../schema/nested-schema.js';
import type { ColumnSpec, ColumnType, PiiHandling } from '../schema/model.js';
import { isStorableTime, parseTimestamp } from '../time.js';
import { isRoundedInteger } from '../util/numbers.js';

/** A value as it is stored in a column: int64 as number when safe, bigint beyond; timestamps as epoch ms. */
export type CellValue = string | number | bigint | boolean | null;

export interface CoercionFailure {
  readonly failure: string;
  /** the value has the column's type but breaks its declared schema (enum, minimum, pattern, …) */
  readonly violation?: true;
  /** no column type could store the value as sent (text UTF-8 cannot hold): never a type conflict */
  readonly unstorable?: true;
}

const INTEGER_TEXT = /^-?\d{1,19}$/;
// One way to match each input: `\d+\.?\d*` could split a run of digits anywhere, and backtracking over
// those splits made a 100 KB almost-number take 30 s (a record that blocks its partition).
const NUMBER_TEXT = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const fail = (failure: string): CoercionFailure => ({ failure });
const violation = (failure: string): CoercionFailure => ({ failure, violation: true });

/**
 * An integer JSON.parse has rounded: beyond 2^53 but within int64, so most likely an id whose digits the
 * text had and the number lost. Such a value is refused rather than stored rounded; beyond int64 an
 * integer-valued number is a double that happens to be whole (1e300).
 */
export { isRoundedInteger };

const ROUNDED = (v: unknown): string => `integer ${describeValue(v)} lost precision in JSON; send it as a string`;

/** Whether a parsed JSON value holds a rounded integer anywhere (its nesting is already bounded). */
function holdsRoundedInteger(v: unknown): boolean {
  if (typeof v === 'number') return isRoundedInteger(v);
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return v.some(holdsRoundedInteger);
  for (const k in v) if (holdsRoundedInteger((v as Record<string, unknown>)[k])) return true;
  return false;
}
export const isFailure = (v: CellValue | CoercionFailure): v is CoercionFailure =>
  typeof v === 'object' && v !== null;

export function coerceValue(value: unknown, type: ColumnType): CellValue | CoercionFailure {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'string':
      if (typeof value === 'string') {
        const unstorable = unstorableText(value);
        return unstorable === undefined ? value : { failure: `the text ${unstorable}`, unstorable: true };
      }
      if (typeof value === 'number' && isRoundedInteger(value)) return fail(ROUNDED(value));
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return fail(`expected a string, got ${describeValue(value)}`);
    case 'json':
      return holdsRoundedInteger(value) ? fail('an integer inside lost precision in JSON (beyond 2^53); send it as a string') : JSON.stringify(value);
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true') return true;
      if (value === 'false') return false;
      return fail(`expected a boolean, got ${describeValue(value)}`);
    case 'int32':
    case 'int64': {
      if (typeof value === 'number') {
        if (Number.isSafeInteger(value)) return type === 'int32' && (value > 2147483647 || value < -2147483648) ? fail(`${value} overflows int32`) : value;
        if (Number.isInteger(value)) return fail(ROUNDED(value));
        return fail(`expected an integer, got ${describeValue(value)}`);
      }
      if (typeof value === 'string' && INTEGER_TEXT.test(value)) {
        const big = BigInt(value);
        if (big < INT64_MIN || big > INT64_MAX) return fail(`${describeValue(value)} overflows int64`);
        const n = Number(big);
        if (type === 'int32') return n > 2147483647 || n < -2147483648 ? fail(`${value} overflows int32`) : n;
        return Number.isSafeInteger(n) ? n : big;
      }
      return fail(`expected an integer, got ${describeValue(value)}`);
    }
    case 'double': {
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && NUMBER_TEXT.test(value)) {
        const n = Number(value);
        if (Number.isFinite(n)) return n;
      }
      return fail(`expected a number, got ${describeValue(value)}`);
    }
    case 'timestamp': {
      const ms = parseTimestamp(value);
      return ms !== undefined && isStorableTime(ms) ? ms : fail(`expected an ISO-8601 time or epoch milliseconds from 1900 to 2299, got ${describeValue(value)}`);
    }
    case 'date': {
      const ms = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? parseTimestamp(`${value}T00:00:00Z`) : undefined;
      return ms !== undefined && isStorableTime(ms) ? Math.floor(ms / 86_400_000) : fail(`expected YYYY-MM-DD from 1900 to 2299, got ${describeValue(value)}`);
    }
  }
}

/** Applies a column's PII handling to an already coerced value. */
export function maskPii(value: CellValue, pii: PiiHandling | undefined, salt: string): CellValue {
  if (pii === undefined || value === null) return value;
  if (pii === 'drop') return null;
  return hash('sha256', salt + String(value), 'hex');
}

/** What coerceProperty and the reason for its failure read of a column. */
export type CoercionRule = Pick<ColumnSpec, 'name' | 'type' | 'origin' | 'pii' | 'allowed' | 'accepts' | 'constraints' | 'nested'>;

/**
 * A column's rule in one fixed shape. Column specs differ in which optional keys they carry (a
 * description, x-pii, an enum, constraints), and past four shapes the property reads of coerceProperty
 * go megamorphic for every column: adding constraints to the benchmark's purchase schema made warm
 * passes 4–7 % slower, and 0–4 % (the checks themselves) once the batch read columns through this shape.
 */
export const coercionRule = (c: CoercionRule): CoercionRule =>
  ({ name: c.name, type: c.type, origin: c.origin, pii: c.pii, allowed: c.allowed, accepts: c.accepts, constraints: c.constraints, nested: c.nested });

const withheld = (value: unknown, column: CoercionRule): string =>
  `${Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`} (value withheld: x-pii ${column.pii})`;

/** The value as a detail may show it: quoted, or withheld for an x-pii column. */
const shown = (value: unknown, column: CoercionRule): string => (column.pii ? withheld(value, column) : describeValue(value));

/** Whether a value's JSON type is one of a union's (an integer is a number too). */
function acceptsValue(accepts: readonly string[], value: unknown): boolean {
  const t = typeof value;
  if (t === 'number') return accepts.includes('number') || (accepts.includes('integer') && Number.isInteger(value));
  return (t === 'string' || t === 'boolean') && accepts.includes(t);
}

/** A value against its property's nested schema; out of line, since coerceProperty runs for every cell. */
function nestedFailure(value: unknown, column: CoercionRule): CoercionFailure | undefined {
  const broken = nestedSchemaFailure(value, column.nested!, column.pii !== undefined);
  if (broken === undefined) return undefined;
  const what = column.pii ? withheld(value, column) : undefined;
  return broken.typeMismatch
    ? fail(`${column.name}: ${what ? `${what} is not ${broken.expected}` : broken.detail}`)
    : violation(`${column.name}: ${what ? `${what} ${broken.detail}` : broken.detail}`);
}

/**
 * Coerces a property value for its column, masking PII; the failure text names the column. The failure
 * of an x-pii column does not quote the value: quarantine details are read by people the column's data
 * is masked from.
 */
export function coerceProperty(value: unknown, column: CoercionRule | ColumnSpec, salt: string): CellValue | CoercionFailure {
  // A union column (`["string", "integer"]`) takes values of its types only, each stored as text.
  const union = column.accepts !== undefined;
  if (union && value !== null && value !== undefined && !acceptsValue(column.accepts!, value)) {
    return fail(`${column.name}: expected ${column.accepts!.map((t) => (t === 'integer' ? 'an integer' : `a ${t}`)).join(' or ')}, got ${shown(value, column)}`);
  }
  // Masked columns accept any scalar: the raw value is never stored, only its hash.
  const v = column.pii === 'hash' && typeof value !== 'object' ? coerceValue(value, 'string') : coerceValue(value, column.type);
  if (isFailure(v)) {
    const fits = column.pii === 'hash' ? 'a hashed column (a scalar; an integer beyond 2^53 as a string)' : `a ${column.type} column`;
    const failure = `${column.name}: ${column.pii ? `${withheld(value, column)} does not fit ${fits}` : v.failure}`;
    return v.unstorable ? { failure, unstorable: true } : fail(failure);
  }
  // Compared as text: "42" sent for an integer enum [42] is 42, and a hashed column compares before hashing
  // (a union's by type and value). A set lookup, and a detail that quotes a short copy of the list.
  if (column.allowed && v !== null && !isAllowed(column.allowed, value, v, union)) {
    return violation(`${column.name}: ${shown(value, column)} is not one of ${allowedExcerpt(column.allowed)}`);
  }
  if (column.nested && v !== null) {
    const broken = nestedFailure(value, column);
    if (broken !== undefined) return broken;
  }
  if (column.constraints) {
    const broken = constraintViolation(value, v, column.constraints, union);
    if (broken !== undefined) return violation(`${column.name}: ${shown(value, column)} ${broken}`);
  }
  return maskPii(v, column.pii, salt);
}
