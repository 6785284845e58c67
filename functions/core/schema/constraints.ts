// The value keywords of a declared property (minimum, maxLength, pattern, …), checked on each value as it
// is stored. Reading them from a schema document is declared-schema.ts's job.
import { RE2JS } from 're2js';
import { FORMATS } from './formats.js';
import type { CellValue } from '../batch/coerce.js';
import type { ColumnSpec, ValueConstraints } from './model.js';

/**
 * RE2 instructions a pattern may compile to. RE2 simulates every instruction at each character, so an
 * unanchored search costs up to ~28 ns × instructions × characters here (`\w{1,100}\d{4}$`, 206
 * instructions: 5.8 s per MB). A Lambda payload carries at most ~4.5 MB of values, so at 400 a batch of
 * hostile values costs under a minute, not a stalled partition.
 */
export const MAX_PATTERN_INSTRUCTIONS = 400;

// A declaration is read once per container, so each pattern compiles once, not once per value.
const compiled = new Map<string, RE2JS>();

/**
 * The matcher of a `pattern`, on RE2's linear-time engine: a pattern runs on every value of its
 * property, and a backtracking engine takes quadratic time or worse on some pattern and value pairs
 * (`\d+$` over a megabyte of digits: 13 minutes in V8), which would let one record stall its partition.
 * RE2 has no lookaround or backreferences. Throws when the pattern is not RE2 syntax.
 */
export function compilePattern(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (re === undefined) compiled.set(pattern, (re = RE2JS.compile(pattern)));
  return re;
}

/**
 * Why a declared pattern cannot run here, or undefined when it can: the reason a schema file is refused
 * for it, worded once for a property's own `pattern` and for those inside object and array schemas.
 */
export function unrunnablePattern(pattern: string): string | undefined {
  try {
    compilePattern(pattern);
    return undefined;
  } catch (err) {
    return `is not a regular expression Tributary can run: ${(err as Error).message} (patterns run on RE2, a linear-time engine: no lookaround or backreferences)`;
  }
}

/** A finite number as digits × 10^exponent: a fraction from its shortest round-trip text (19.99 → 1999, -2). */
function decimal(x: number | bigint): { digits: bigint; exponent: number } {
  // A whole number is its exact integer (2^70 prints as 1.1805916207174113e+21, short of its digits).
  if (typeof x === 'bigint' || Number.isInteger(x)) return { digits: BigInt(x), exponent: 0 };
  const [mantissa, e = '0'] = String(x).split('e');
  const [whole, fraction = ''] = mantissa!.split('.');
  return { digits: BigInt(whole! + fraction), exponent: Number(e) - fraction.length };
}

/**
 * Whether v is a whole multiple of m, on the numbers as written in decimal: 19.99 is a multiple of 0.01
 * although 19.99 / 0.01 is 1998.9999999999998 in binary, and 6000000000000.123 is not although the
 * quotient rounds to a whole number. Exact on both sides, bigints included.
 */
export function isMultipleOf(v: number | bigint, m: number): boolean {
  const a = decimal(v);
  const b = decimal(m);
  const e = Math.min(a.exponent, b.exponent);
  return (a.digits * 10n ** BigInt(a.exponent - e)) % (b.digits * 10n ** BigInt(b.exponent - e)) === 0n;
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
  // A format this version does not know (a registry entry from a newer one) checks nothing.
  if (c.format !== undefined && Object.hasOwn(FORMATS, c.format) && !FORMATS[c.format]!(s)) return `is not a valid ${c.format} (format)`;
  return undefined;
}

/**
 * What a value breaks (a phrase about it: "is less than the minimum 0"), or undefined. Numeric keywords
 * check the coerced number ("42" sent for an integer is 42); string keywords check the text as sent, or
 * as stored for a number sent to a string column. In a union (`union`), each keyword checks the values of
 * its kind as sent: minimum the numbers, maxLength the strings. Null breaks nothing.
 */
export function constraintViolation(raw: unknown, v: CellValue, c: ValueConstraints, union = false): string | undefined {
  if (v === null) return undefined;
  if (union) return typeof raw === 'string' ? stringViolation(raw, c) : typeof raw === 'number' ? numberViolation(raw, c) : undefined;
  const text = typeof raw === 'string' ? raw : typeof v === 'string' ? v : undefined;
  return (text !== undefined ? stringViolation(text, c) : undefined) ?? (typeof v === 'number' || typeof v === 'bigint' ? numberViolation(v, c) : undefined);
}

/**
 * A column's checks in a few words, for `schema show`: `one of "EUR", "USD"`, `≥ 0`, `length ≤ 3`, `pattern ^x`,
 * and the start of an object or array property's schema.
 */
export function describeChecks(c: Pick<ColumnSpec, 'allowed' | 'constraints' | 'nested'> & { readonly accepts?: ColumnSpec['accepts'] }): string {
  const k = c.constraints ?? {};
  const length = k.minLength !== undefined && k.maxLength !== undefined
    ? (k.minLength === k.maxLength ? `length ${k.minLength}` : `length ${k.minLength}–${k.maxLength}`)
    : k.minLength !== undefined ? `length ≥ ${k.minLength}` : k.maxLength !== undefined ? `length ≤ ${k.maxLength}` : undefined;
  return [
    c.accepts ? `${c.accepts.join(' or ')} (as text)` : undefined,
    c.allowed ? `one of ${allowedText(c.allowed, 40)}` : undefined,
    k.minimum !== undefined ? `≥ ${k.minimum}` : undefined,
    k.exclusiveMinimum !== undefined ? `> ${k.exclusiveMinimum}` : undefined,
    k.maximum !== undefined ? `≤ ${k.maximum}` : undefined,
    k.exclusiveMaximum !== undefined ? `< ${k.exclusiveMaximum}` : undefined,
    k.multipleOf !== undefined ? `multiple of ${k.multipleOf}` : undefined,
    length,
    k.pattern !== undefined ? `pattern ${k.pattern}` : undefined,
    k.format !== undefined ? `format ${k.format}` : undefined,
    c.nested ? `schema ${cut(JSON.stringify(c.nested), 60)}` : undefined,
  ].filter((t) => t !== undefined).join(', ');
}

type Allowed = string | number | boolean;

/**
 * An enum's membership tests: its values as text (a single-type column compares coerced values as text,
 * so "42" sent for an integer enum [42] is 42) and by JSON type and value (a union's "1" is not its 1).
 * Built once per list, so a check is a set lookup however long the enum.
 */
interface AllowedLookup {
  readonly text: ReadonlySet<string>;
  readonly typed: ReadonlySet<string>;
  /** the start of the list, for a violation's detail */
  readonly excerpt: string;
}
const lookups = new WeakMap<readonly Allowed[], AllowedLookup>();
const typedKey = (v: unknown): string => `${typeof v}:${String(v)}`;

function lookupOf(allowed: readonly Allowed[]): AllowedLookup {
  let l = lookups.get(allowed);
  if (l === undefined) {
    l = { text: new Set(allowed.map(String)), typed: new Set(allowed.map(typedKey)), excerpt: allowedText(allowed, 120) };
    lookups.set(allowed, l);
  }
  return l;
}

/**
 * Whether a (non-null) value is one of an enum's: its coerced value `v` as text, or in a union column the
 * value as sent, by type and value.
 */
export const isAllowed = (allowed: readonly Allowed[], raw: unknown, v: CellValue, union: boolean): boolean =>
  union ? lookupOf(allowed).typed.has(typedKey(raw)) : lookupOf(allowed).text.has(String(v));

/** The start of an enum's list for a violation's detail: built once per list, about 120 characters. */
export const allowedExcerpt = (allowed: readonly Allowed[]): string => lookupOf(allowed).excerpt;

/**
 * An enum's values as JSON, cut after `max` characters. Only the values that fit are written out, and the
 * result is a copy: a slice of one long text would keep all of it alive with every detail that quotes it.
 */
export function allowedText(allowed: readonly Allowed[], max: number): string {
  let text = '';
  for (const a of allowed) {
    text += `${text === '' ? '' : ', '}${typeof a === 'string' && a.length > max ? JSON.stringify(a.slice(0, max)) : JSON.stringify(a)}`;
    if (text.length > max) return detached(`${text.slice(0, max)}…`);
  }
  return detached(text);
}

const cut = (text: string, max: number): string => (text.length > max ? detached(`${text.slice(0, max)}…`) : text);

/**
 * A flat copy of a short string. V8 represents a slice of a long string, and text built by `+`, as views
 * onto their parents; a detail kept for every quarantined record must not keep its parent alive.
 */
export const detached = (s: string): string => Buffer.from(s, 'utf16le').toString('utf16le');
