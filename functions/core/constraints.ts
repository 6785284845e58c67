// The value keywords of a declared property (minimum, maxLength, pattern, …), checked on values already
// coerced to their column's type. Reading them from a schema document is declared-schema.ts's job.
import { RE2JS } from 're2js';
import type { CellValue } from './coerce.js';
import type { ValueConstraints } from './schema.js';

// A declaration is read once per container, so each pattern compiles once, not once per value.
const compiled = new Map<string, RE2JS>();

/**
 * The matcher of a `pattern`, on RE2's linear-time engine: a pattern runs on every value of its
 * property, and a backtracking engine takes quadratic time or worse on some pattern and value pairs
 * (`\d+$` over a megabyte of digits: 13 minutes in V8), which would let one record stall its partition.
 * RE2 has no lookaround or backreferences, which JSON Schema's interoperable subset leaves out too.
 * Throws when the pattern is not RE2 syntax.
 */
export function compilePattern(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (re === undefined) compiled.set(pattern, (re = RE2JS.compile(pattern)));
  return re;
}

/**
 * Whether v / m is a whole number. Decimal steps are not exact in binary (19.99 / 0.01 is
 * 1998.9999999999998), so a quotient within a few units in the last place of a whole number counts.
 */
function isMultipleOf(v: number | bigint, m: number): boolean {
  if (typeof v === 'bigint') return Number.isInteger(m) ? v % BigInt(m) === 0n : isMultipleOf(Number(v), m);
  const q = v / m;
  return Number.isFinite(q) && Math.abs(q - Math.round(q)) <= 4 * Number.EPSILON * Math.max(1, Math.abs(q));
}

/** Unicode code points in s: what JSON Schema's lengths count (an emoji is one, not two UTF-16 units). */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { n--; i++; }
    }
  }
  return n;
}

// Mixed number/bigint comparisons are exact in JavaScript, so an int64 beyond 2^53 compares correctly.
function numberViolation(v: number | bigint, c: ValueConstraints): string | undefined {
  if (c.minimum !== undefined && v < c.minimum) return `is less than the minimum ${c.minimum}`;
  if (c.exclusiveMinimum !== undefined && v <= c.exclusiveMinimum) return `is not greater than the exclusive minimum ${c.exclusiveMinimum}`;
  if (c.maximum !== undefined && v > c.maximum) return `is greater than the maximum ${c.maximum}`;
  if (c.exclusiveMaximum !== undefined && v >= c.exclusiveMaximum) return `is not less than the exclusive maximum ${c.exclusiveMaximum}`;
  if (c.multipleOf !== undefined && !isMultipleOf(v, c.multipleOf)) return `is not a multiple of ${c.multipleOf}`;
  return undefined;
}

function stringViolation(s: string, c: ValueConstraints): string | undefined {
  // s.length (UTF-16 units) bounds the code points from above: most values are decided without counting.
  if (c.maxLength !== undefined && s.length > c.maxLength && codePoints(s) > c.maxLength) return `is longer than maxLength ${c.maxLength}`;
  if (c.minLength !== undefined && (s.length < c.minLength || codePoints(s) < c.minLength)) return `is shorter than minLength ${c.minLength}`;
  if (c.pattern !== undefined && !compilePattern(c.pattern).matcher(s).find()) return `does not match the pattern ${JSON.stringify(c.pattern)}`;
  return undefined;
}

/** What a coerced value breaks (a phrase about it: "is less than the minimum 0"), or undefined; null breaks nothing. */
export function constraintViolation(v: CellValue, c: ValueConstraints): string | undefined {
  if (typeof v === 'number' || typeof v === 'bigint') return numberViolation(v, c);
  if (typeof v === 'string') return stringViolation(v, c);
  return undefined;
}
