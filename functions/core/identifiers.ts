// Names that come from data (event names, property names, topics) reach SQL, Glue and object keys.
// They are normalised once, validated against strict patterns, and quoted where they are used.
import { memoise } from './util/memo.js';

export const EVENT_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
export const PROPERTY_NAME_PATTERN = /^[a-z][a-z0-9_]{0,127}$/;
// Kafka's own rule for topic names; '+' is not allowed, so it can separate fields in object keys.
export const TOPIC_PATTERN = /^[A-Za-z0-9._-]{1,249}$/;

/** Longest raw name we try to normalise; anything longer is rejected without regex work on it. */
const MAX_RAW_NAME_LENGTH = 256;

/**
 * Lower snake_case: `userId`, `UserID`, `user-id` and `User ID` all become `user_id`.
 * Characters outside ASCII letters, digits and the separators ` -._` are kept, so the result fails
 * validation instead of being silently rewritten into another name.
 */
export function normaliseName(raw: string): string {
  return raw.length > MAX_RAW_NAME_LENGTH ? raw : normaliseCached(raw);
}

function normaliseUncached(raw: string): string {
  return raw
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[\s.\-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '')
    // ASCII only: toLowerCase() would turn the Kelvin sign (U+212A) into a plain k, letting a look-alike
    // name pass as valid; other letters stay as they are and fail validation.
    .replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}

// Event and property names repeat across millions of records.
const normaliseCached = memoise(normaliseUncached, 10_000);

/** Suffixes of the views ClickHouse gets per event table (`<event>_dedup`, `<event>_all`). */
export const RESERVED_EVENT_SUFFIXES: readonly string[] = ['_dedup', '_all'];

/** Tables that jobs write (schemas/jobs); no event may land in one. */
export const JOB_OUTPUT_TABLES: ReadonlySet<string> = new Set(['ab_daily']);

/** Any table of the lake, the catalog or the warehouse: event tables and job outputs. */
export function isValidTableName(name: string): boolean {
  return EVENT_NAME_PATTERN.test(name);
}

export function isValidEventName(name: string): boolean {
  return isValidTableName(name) && !RESERVED_EVENT_SUFFIXES.some((s) => name.endsWith(s)) && !JOB_OUTPUT_TABLES.has(name);
}

export function isValidPropertyName(name: string): boolean {
  return PROPERTY_NAME_PATTERN.test(name);
}

export function isValidTopic(topic: string): boolean {
  return TOPIC_PATTERN.test(topic) && topic !== '.' && topic !== '..';
}

/** A short printable excerpt of a hostile name for error messages (never the whole 10,000 characters). */
export function excerpt(value: string, max = 64): string {
  // Only the start is quoted: the JSON of a megabyte value, sliced, would stay alive with every detail.
  const s = JSON.stringify(value.length > max ? value.slice(0, max) : value);
  return s.length <= max ? s : `${s.slice(0, max)}…(${value.length} chars)`;
}

/**
 * A rejected value for a quarantine detail: primitives as JSON, arrays and objects by kind only. They can
 * nest as deep as JSON.parse allows, far deeper than JSON.stringify can recurse, and the raw bytes are
 * kept in quarantine anyway.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return excerpt(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

/**
 * Why a string cannot be stored as text, or undefined when it can. JSON's `\ud800` escapes make strings
 * with a lone UTF-16 surrogate, which UTF-8 cannot hold: encoding turns every one into U+FFFD, so
 * `"order-\ud800"` and `"order-\udc00"` would become one value (one event_id, one user).
 */
export function unstorableText(s: string): string | undefined {
  if (s.isWellFormed()) return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) { i++; continue; }
    }
    return `holds a lone UTF-16 surrogate \\u${c.toString(16)} at character ${i}, which UTF-8 cannot store without merging it with other values`;
  }
  return undefined;
}

/**
 * ClickHouse identifier quoting. Validation already restricts names to [a-z0-9_], so quoting is a
 * second line of defence; it still escapes properly so it is safe on its own.
 */
export function quoteIdentifier(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

/** ClickHouse string literal quoting (for paths and tokens inside SQL text). */
export function quoteString(value: string): string {
  return "'" + value.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}
