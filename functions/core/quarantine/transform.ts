// Transformations a replay may apply to a quarantined record's envelope: a small, closed set, each
// validated when parsed and each a no-op on a record it does not concern (the record then fails as before
// and stays quarantined). They act on the JSON value only; the Kafka identity is never touched.
import { excerpt, isValidPropertyName, normaliseName } from '../identifiers.js';

/** A JSON value as `JSON.parse` returns it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type TimestampFormat =
  | { readonly kind: 'epoch'; readonly unit: 's' | 'us' | 'ns' }
  | { readonly kind: 'pattern'; readonly pattern: string; readonly regex: RegExp; readonly fields: readonly PatternField[] };

type PatternField = 'YYYY' | 'MM' | 'DD' | 'HH' | 'mm' | 'ss' | 'SSS';

export type Transformation =
  /** `--rename old=new`: a property of `properties` renamed, unless `new` is already there */
  | { readonly kind: 'rename'; readonly from: string; readonly to: string }
  /** `--set prop=value`: a default for a property that is missing or null */
  | { readonly kind: 'set'; readonly property: string; readonly value: JsonValue }
  /** `--ts-format F`: `ts` read in format F and rewritten as ISO-8601 UTC */
  | { readonly kind: 'ts-format'; readonly format: TimestampFormat; readonly text: string };

export class TransformationError extends Error {
  override readonly name = 'UsageError'; // a bad transformation is a usage error: exit code 2
}

function splitPair(text: string, option: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new TransformationError(`--${option} needs NAME=VALUE, got ${excerpt(text)}`);
  return [text.slice(0, at), text.slice(at + 1)];
}

/** The target of a rename or a set must be a property name ingest accepts, or the replay fails again. */
function checkTarget(name: string, option: string): void {
  if (!isValidPropertyName(normaliseName(name))) {
    throw new TransformationError(`--${option}: ${excerpt(name)} is not a valid property name (lower snake_case after normalisation, at most 128 characters)`);
  }
}

export function parseRename(text: string): Transformation {
  const [from, to] = splitPair(text, 'rename');
  checkTarget(to, 'rename');
  if (from === to) throw new TransformationError(`--rename ${excerpt(text)} renames a property to itself`);
  return { kind: 'rename', from, to };
}

/** `prop=value`: the value is JSON when it parses as JSON (`1`, `true`, `"007"`, `{"a":1}`), else the text itself. */
export function parseSet(text: string): Transformation {
  const [property, raw] = splitPair(text, 'set');
  checkTarget(property, 'set');
  let value: JsonValue;
  try {
    value = JSON.parse(raw) as JsonValue;
  } catch {
    value = raw;
  }
  if (value === null) throw new TransformationError(`--set ${excerpt(property)}=null sets nothing: a null property counts as missing`);
  return { kind: 'set', property, value };
}

const PATTERN_FIELDS: ReadonlyMap<PatternField, string> = new Map([
  ['YYYY', '(\\d{4})'], ['MM', '(\\d{2})'], ['DD', '(\\d{2})'], ['HH', '(\\d{2})'], ['mm', '(\\d{2})'], ['ss', '(\\d{2})'], ['SSS', '(\\d{3})'],
]);

/** `epoch-s`, `epoch-us`, `epoch-ns`, or a pattern of YYYY MM DD HH mm ss SSS and literal characters (UTC). */
export function parseTimestampFormat(text: string): Transformation {
  const epoch = /^epoch-(s|us|ns)$/.exec(text);
  if (epoch) return { kind: 'ts-format', format: { kind: 'epoch', unit: epoch[1] as 's' | 'us' | 'ns' }, text };
  const fields: PatternField[] = [];
  let source = '';
  for (let i = 0; i < text.length;) {
    const token = (['YYYY', 'SSS', 'MM', 'DD', 'HH', 'mm', 'ss'] as const).find((t) => text.startsWith(t, i));
    if (token) {
      if (fields.includes(token)) throw new TransformationError(`--ts-format ${excerpt(text)} has ${token} twice`);
      fields.push(token);
      source += PATTERN_FIELDS.get(token)!;
      i += token.length;
    } else {
      const c = text[i]!;
      if (/[A-Za-z0-9]/.test(c)) throw new TransformationError(`--ts-format ${excerpt(text)}: ${JSON.stringify(c)} is neither a field (YYYY MM DD HH mm ss SSS) nor a separator`);
      source += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
      i++;
    }
  }
  for (const needed of ['YYYY', 'MM', 'DD'] as const) {
    if (!fields.includes(needed)) throw new TransformationError(`--ts-format ${excerpt(text)} lacks ${needed}; use epoch-s, epoch-us, epoch-ns or a pattern such as "DD/MM/YYYY HH:mm:ss"`);
  }
  return { kind: 'ts-format', format: { kind: 'pattern', pattern: text, regex: new RegExp(`^${source}$`), fields }, text };
}

/** How a set of transformations reads on the command line, for the resolution's `how`. */
export function describeTransformations(ts: readonly Transformation[]): string {
  return ts.map((t) => t.kind === 'rename' ? `--rename ${t.from}=${t.to}` : t.kind === 'set' ? `--set ${t.property}=${JSON.stringify(t.value)}` : `--ts-format ${t.text}`).join(' ');
}

/** Epoch milliseconds of `ts` in the given format, or undefined when it does not match. */
export function readTimestamp(ts: unknown, format: TimestampFormat): number | undefined {
  if (format.kind === 'epoch') {
    const digits = typeof ts === 'number' && Number.isSafeInteger(ts) ? String(ts) : typeof ts === 'string' && /^-?\d{1,22}$/.test(ts) ? ts : undefined;
    if (digits === undefined) return undefined;
    // BigInt: nanoseconds since the epoch are beyond 2^53.
    const n = BigInt(digits);
    const ms = format.unit === 's' ? n * 1000n : format.unit === 'us' ? n / 1000n : n / 1_000_000n;
    const out = Number(ms);
    return Number.isSafeInteger(out) ? out : undefined;
  }
  if (typeof ts !== 'string') return undefined;
  const m = format.regex.exec(ts);
  if (!m) return undefined;
  const value = new Map(format.fields.map((f, i) => [f, Number(m[i + 1])]));
  const [y, mo, d, h = 0, mi = 0, s = 0, ms = 0] = (['YYYY', 'MM', 'DD', 'HH', 'mm', 'ss', 'SSS'] as const).map((f) => value.get(f));
  const t = Date.UTC(y!, mo! - 1, d!, h, mi, s, ms);
  const check = new Date(t);
  // An impossible date (31/02) or time (25:00) is no timestamp: Date.UTC would roll it over.
  if (y! < 100 || check.getUTCMonth() !== mo! - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return t;
}

export interface Transformed {
  /** the value to replay: the original bytes when nothing applied */
  readonly value: Buffer | null;
  /** which transformations changed the record */
  readonly applied: readonly Transformation['kind'][];
  /** why the record was left as it was, when no transformation could apply to it */
  readonly skipped?: string;
}

const isObject = (v: unknown): v is Record<string, JsonValue> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a JSON round trip would change a number: an integer beyond 2^53 that JSON.parse already rounded. */
function holdsUnsafeInteger(v: JsonValue): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (Array.isArray(v)) return v.some(holdsUnsafeInteger);
  if (isObject(v)) return Object.values(v).some(holdsUnsafeInteger);
  return false;
}

/** Renames a key in place (its position kept), so the rest of the envelope reads as it did. */
const renamed = (o: Record<string, JsonValue>, from: string, to: string): Record<string, JsonValue> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k === from ? to : k, v]));

/**
 * Applies the transformations in the order given to a record's value. A value that is not a UTF-8 JSON
 * object, or holds an integer a JSON round trip would round, is left untouched (`skipped` says why).
 */
export function applyTransformations(value: Buffer | null, ts: readonly Transformation[]): Transformed {
  if (ts.length === 0) return { value, applied: [] };
  if (value === null) return { value, applied: [], skipped: 'no value' };
  let envelope: unknown;
  try {
    envelope = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(value));
  } catch {
    return { value, applied: [], skipped: 'the value is not UTF-8 JSON' };
  }
  if (!isObject(envelope)) return { value, applied: [], skipped: 'the value is not a JSON object' };
  if (holdsUnsafeInteger(envelope)) return { value, applied: [], skipped: 'the value holds an integer beyond 2^53, which rewriting the JSON would round' };
  let env: Record<string, JsonValue> = envelope;
  const applied: Transformation['kind'][] = [];
  for (const t of ts) {
    if (t.kind === 'ts-format') {
      const ms = readTimestamp(env['ts'], t.format);
      if (ms === undefined) continue;
      env = { ...env, ts: new Date(ms).toISOString() };
      applied.push(t.kind);
      continue;
    }
    const props = env['properties'];
    if (props !== undefined && props !== null && !isObject(props)) continue;
    const p = props ?? {};
    if (t.kind === 'rename') {
      if (!Object.hasOwn(p, t.from) || Object.hasOwn(p, t.to)) continue;
      env = { ...env, properties: renamed(p, t.from, t.to) };
    } else {
      if (p[t.property] !== undefined && p[t.property] !== null) continue;
      env = { ...env, properties: { ...p, [t.property]: t.value } };
    }
    applied.push(t.kind);
  }
  return applied.length === 0 ? { value, applied } : { value: Buffer.from(JSON.stringify(env), 'utf8'), applied };
}
