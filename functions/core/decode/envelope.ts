// The event envelope contract (docs/schemas.md "The event envelope"): parse a record's JSON value and check its envelope fields.
import { describeValue, excerpt, isValidEventName, isValidPropertyName, normaliseName, unstorableText } from '../identifiers.js';
import { memoise } from '../util/memo.js';
import { NOT_BASE64, NOT_UTF8, valueSize, valueText, type DecodedRecord } from './msk-event.js';
import { reject, type Rejection } from '../quarantine/reasons.js';
import { RESERVED_NAMES } from '../schema/model.js';
import { parseTimestamp } from '../time.js';

export interface EnvelopeLimits {
  /** largest record value accepted, in bytes */
  readonly maxRecordBytes: number;
  /** deepest nesting accepted inside a property value */
  readonly maxDepth: number;
  /** how far event time may lie ahead of the ingest clock */
  readonly maxFutureSkewMs: number;
  /** event times before this instant are treated as broken clocks */
  readonly minEventTimeMs: number;
}

export const DEFAULT_ENVELOPE_LIMITS: EnvelopeLimits = {
  maxRecordBytes: 1024 * 1024,
  maxDepth: 32,
  maxFutureSkewMs: 60 * 60 * 1000,
  minEventTimeMs: Date.UTC(2000, 0, 1),
};

export interface Envelope {
  readonly table: string;
  readonly eventId: string;
  readonly eventTime: number;
  readonly userId: string | null;
  /**
   * The record's properties as sent: raw name → raw JSON value. Names are checked (valid, not reserved,
   * no two normalising to the same column); `propertyName` gives each one's column name. The parsed
   * object is not copied, so camelCase senders cost no more than snake_case ones.
   */
  readonly properties: Readonly<Record<string, unknown>>;
}

const MAX_EVENT_ID_LENGTH = 128;

/**
 * Whether a parsed JSON value nests deeper than `limit` levels. Recursion stops at the limit, so it goes
 * no deeper than the limit however deep the value is, and allocates nothing for the shallow values of
 * nearly every record.
 */
export function exceedsDepth(value: unknown, limit: number, depth = 1): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (depth > limit) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (exceedsDepth(value[i], limit, depth + 1)) return true;
    return false;
  }
  for (const k in value) if (exceedsDepth((value as Record<string, unknown>)[k], limit, depth + 1)) return true;
  return false;
}


function userIdOf(value: unknown, raw: string): string | null | Rejection {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    const unstorable = unstorableText(value);
    return unstorable === undefined ? value : reject('uncoercible_value', `user_id ${unstorable}`);
  }
  if (typeof value === 'number' && Number.isInteger(value)) {
    if (Number.isSafeInteger(value)) return String(value);
    // JSON.parse rounded it; user ids are often that large, so recover the digits from the text.
    const digits = topLevelInteger(raw, 'user_id');
    if (digits !== undefined) return digits;
  }
  return reject('uncoercible_value', `user_id must be a string or an integer, got ${describeValue(value)}`);
}

function eventIdOf(value: unknown, record: DecodedRecord): string | Rejection {
  if (value === undefined || value === null) return `${record.topic}-${record.partition}-${record.offset}`;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && value.length > 0 && value.length <= MAX_EVENT_ID_LENGTH) {
    const unstorable = unstorableText(value);
    return unstorable === undefined ? value : reject('invalid_event_id', `event_id ${unstorable}`);
  }
  return reject('invalid_event_id', `event_id ${describeValue(value)} is not a non-empty string/integer of ≤ ${MAX_EVENT_ID_LENGTH} chars`);
}

/** Normalised event name, or why it cannot be a table; memoised per raw name (a batch has a handful). */
const checkEventName = memoise((rawEvent: string): string | Rejection => {
  const table = normaliseName(rawEvent);
  if (isValidEventName(table)) return table;
  return reject('invalid_event_name', `event ${excerpt(rawEvent)} does not match ^[a-z][a-z0-9_]{0,62}$ after normalisation, or is reserved (a *_dedup or *_all view, a job's output table)`);
}, 10_000);

/** Normalised name, or why it cannot be a column; memoised per raw name. */
const checkPropertyName = memoise((rawName: string): string | Rejection => {
  const name = normaliseName(rawName);
  if (!isValidPropertyName(name)) return reject('invalid_property_name', `property ${excerpt(rawName)} does not match ^[a-z][a-z0-9_]{0,127}$ after normalisation`);
  if (RESERVED_NAMES.has(name)) return reject('invalid_property_name', `property ${excerpt(rawName)} collides with the standard column ${name}`);
  return name;
}, 10_000);

/**
 * Parses and checks one record's envelope. `now` is the ingest clock, used for the future-skew check.
 * Returns the envelope, or the reason to quarantine the record; it never throws on bad data.
 */
export function parseEnvelope(record: DecodedRecord, now: number, limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS): Envelope | Rejection {
  const size = valueSize(record);
  if (size > limits.maxRecordBytes) return reject('payload_too_large', `value is ${size} bytes, limit ${limits.maxRecordBytes}`);
  const text = valueText(record);
  if (text === NOT_BASE64) return reject('invalid_encoding', 'invalid base64/bytes in value');
  if (text === NOT_UTF8) return reject('malformed_json', 'value is not valid UTF-8');
  if (text === null || text.length === 0) return reject('empty_value', 'record value is null or empty');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    if (err instanceof RangeError) return reject('too_deeply_nested', `JSON nesting too deep to parse`);
    return reject('malformed_json', (err as Error).message.slice(0, 200));
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return reject('not_an_object', `JSON value is ${Array.isArray(doc) ? 'an array' : doc === null ? 'null' : typeof doc}`);
  }
  // JSON.parse keeps the last of duplicate keys silently; which one a producer meant is unknowable.
  const keys = keysInValue(doc);
  if (keyBound(text) !== keys && keysInText(text) !== keys) return reject('malformed_json', 'an object has the same key twice (RFC 8259 names should be unique)');
  const env = doc as Record<string, unknown>;

  const rawEvent = env['event'];
  if (rawEvent === undefined || rawEvent === null || rawEvent === '') return reject('missing_event', 'envelope has no "event"');
  if (typeof rawEvent !== 'string') return reject('invalid_event_name', `"event" must be a string, got ${typeof rawEvent}`);
  const table = checkEventName(rawEvent);
  if (typeof table !== 'string') return table;

  const eventId = eventIdOf(env['event_id'], record);
  if (typeof eventId !== 'string') return { ...eventId, event: table };

  const rawTs = env['ts'];
  const eventTime = rawTs === undefined || rawTs === null ? record.timestamp : parseTimestamp(rawTs);
  if (eventTime === undefined || eventTime < limits.minEventTimeMs) {
    return reject('invalid_timestamp', `ts ${describeValue(rawTs ?? record.timestamp)} is not ISO-8601/epoch ms after ${new Date(limits.minEventTimeMs).toISOString()}`, table);
  }
  if (eventTime > now + limits.maxFutureSkewMs) {
    return reject('future_timestamp', `ts ${new Date(eventTime).toISOString()} is ${Math.round((eventTime - now) / 60000)} min ahead of the ingest clock (limit ${limits.maxFutureSkewMs / 60000} min)`, table);
  }

  const userId = userIdOf(env['user_id'], text);
  if (userId !== null && typeof userId !== 'string') return { ...userId, event: table };

  const rawProps = env['properties'];
  if (rawProps === undefined || rawProps === null) return { table, eventId, eventTime, userId, properties: NO_PROPERTIES };
  if (typeof rawProps !== 'object' || Array.isArray(rawProps)) return reject('not_an_object', '"properties" must be an object', table);
  const props = rawProps as Record<string, unknown>;
  let renamed: string[] | undefined;
  for (const rawName in props) {
    const name = checkPropertyName(rawName);
    if (typeof name !== 'string') return { ...name, event: table };
    if (name !== rawName) (renamed ??= []).push(rawName);
    const value = props[rawName];
    if (typeof value === 'object' && value !== null && exceedsDepth(value, limits.maxDepth)) {
      return reject('too_deeply_nested', `property ${name} nests deeper than ${limits.maxDepth} levels`, table);
    }
  }
  const clash = renamed && collision(props, renamed);
  if (clash) return reject('invalid_property_name', `properties ${excerpt(clash)} and another both normalise to ${propertyName(clash)}`, table);
  return { table, eventId, eventTime, userId, properties: props };
}

/**
 * The column name of a property name that parseEnvelope accepted (its normalised form). Memoised: a
 * table has a few dozen names.
 */
export const propertyName = (rawName: string): string => checkPropertyName(rawName) as string;

/** A renamed property whose column another property of the record also names, if any. */
function collision(props: Readonly<Record<string, unknown>>, renamed: readonly string[]): string | undefined {
  // Normalisation is idempotent, so a property sent under the column name itself is a clash; so are two
  // renamed ones that meet. Records rename a name or two: pairs are cheaper than a Set until many.
  const seen = renamed.length > 8 ? new Set<string>() : undefined;
  for (let i = 0; i < renamed.length; i++) {
    const name = propertyName(renamed[i]!);
    if (Object.hasOwn(props, name)) return renamed[i];
    if (seen) {
      if (seen.has(name)) return renamed[i];
      seen.add(name);
    } else {
      for (let j = 0; j < i; j++) if (propertyName(renamed[j]!) === name) return renamed[i];
    }
  }
  return undefined;
}

const NO_PROPERTIES: Readonly<Record<string, unknown>> = Object.freeze(Object.create(null));

const BACKSLASH = 92;
const COLON = 58;
const QUOTE = 34;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const INTEGER_MEMBER_REST = /^\s*:\s*(-?\d+)\s*[,}]/;

/**
 * The digits of the integer that the top-level member `key` holds in a JSON object's text. Nested objects
 * may have a member of the same name, so the scan follows depth and skips strings. Only the rare record
 * with an integer beyond 2^53 gets here; a key spelt with escapes is not found, and the record is then
 * quarantined rather than given a rounded id.
 */
function topLevelInteger(text: string, key: string): string | undefined {
  const quoted = `"${key}"`;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      if (depth === 1 && text.startsWith(quoted, i)) {
        const digits = INTEGER_MEMBER_REST.exec(text.slice(i + quoted.length, i + quoted.length + 64))?.[1];
        if (digits !== undefined) return digits;
      }
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return undefined;
}

/**
 * An upper bound on the keys of valid JSON text, in a third of keysInText's time: colons whose previous
 * non-blank character is an unescaped quote. Every key's colon is one; a colon in a string counts only
 * when the string opens with blanks and that colon. When the bound equals the parsed keys, no key repeats.
 */
export function keyBound(text: string): number {
  let keys = 0;
  for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) {
    let j = i - 1;
    let c = text.charCodeAt(j);
    while (c <= 32) c = text.charCodeAt(--j);
    if (c !== QUOTE) continue;
    let b = j - 1;
    while (text.charCodeAt(b) === BACKSLASH) b--;
    if ((j - 1 - b) % 2 === 0) keys++;
  }
  return keys;
}

/** Keys in JSON text: strings followed by a colon. indexOf does the scanning, so this stays cheap. */
export function keysInText(text: string): number {
  let keys = 0;
  let i = text.indexOf('"');
  while (i !== -1) {
    let end = text.indexOf('"', i + 1);
    // skip escaped quotes: an odd number of backslashes before the quote
    for (;;) {
      if (end === -1) return keys;
      let b = end - 1;
      while (text.charCodeAt(b) === BACKSLASH) b--;
      if ((end - 1 - b) % 2 === 0) break;
      end = text.indexOf('"', end + 1);
    }
    let j = end + 1;
    while (j < text.length && text.charCodeAt(j) <= 32) j++;
    if (text.charCodeAt(j) === COLON) keys++;
    i = text.indexOf('"', j);
  }
  return keys;
}

/** Keys of every object in a parsed JSON value; iterative, so any nesting depth is safe. */
export function keysInValue(value: unknown): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === 'object' && x !== null) stack.push(x);
      continue;
    }
    for (const k in v) {
      n++;
      const x = (v as Record<string, unknown>)[k];
      if (typeof x === 'object' && x !== null) stack.push(x);
    }
  }
  return n;
}

export const isRejection = (v: Envelope | Rejection): v is Rejection => 'reason' in v;
