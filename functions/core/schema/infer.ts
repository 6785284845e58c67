// Type inference for properties that no schema declares yet.
import { isRoundedInteger } from '../util/numbers.js';
import type { ColumnType } from './model.js';
import { isStorableTime, parseTimestamp } from '../time.js';

const TIME_NAME = /(_at|_time)$/;
const ISO_LIKE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

/** The column type a value suggests, or undefined for null (no evidence). */
export function inferType(name: string, value: unknown): ColumnType | undefined {
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case 'boolean': return 'boolean';
    // A rounded integer is an int64 that lost its digits (its record is then quarantined), not a double.
    case 'number': return Number.isSafeInteger(value) || isRoundedInteger(value) ? 'int64' : 'double';
    case 'string':
      return TIME_NAME.test(name) && ISO_LIKE.test(value) && isStorableTime(parseTimestamp(value) ?? NaN) ? 'timestamp' : 'string';
    case 'object': return 'json';
    default: return 'string';
  }
}

/** The narrowest type that holds values of both types, or undefined when they conflict. */
export function widen(a: ColumnType, b: ColumnType): ColumnType | undefined {
  if (a === b) return a;
  const pair = new Set([a, b]);
  if (pair.has('int64') && pair.has('double')) return 'double';
  if (pair.has('timestamp') && pair.has('string')) return 'string';
  return undefined;
}
