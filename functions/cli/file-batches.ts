// How `tributary ingest` cuts a file into batches. A local file is not bound by an MSK invocation's 6 MB
// and 10,000 records, so a batch runs as far as memory allows: files and ClickHouse inserts then follow
// the data (one per table and hour), not the number of batches. The cuts are a pure function of the
// file's bytes and the options, so ingesting the same file again cuts the same batches: an idempotent
// redelivery. docs/cli.md ("How a file is cut into batches") states the rule for users.
import { normaliseName } from '../core/identifiers.js';
import { MS_PER_HOUR, parseTimestamp } from '../core/time.js';

export interface CutOptions {
  /** at most this many records in a batch (`--batch-size`) */
  readonly maxRecords: number;
  /** at most this many bytes of lines in a batch (`--batch-mb`); a longer line is a batch of its own */
  readonly maxBytes: number;
  /** at most this many (event, hour) in a batch: the handler's files per batch, past which it quarantines */
  readonly maxGroups: number;
  /** the Kafka timestamp of every record, which stands in for event time when a record has no ts */
  readonly timestamp: number;
}

export const MIB = 1 << 20;

/**
 * The defaults. A batch of 200,000 records (a two-day backfill of 38 MB) peaks at ~750 MB of RSS with
 * chDB loaded, ~130 MB more than batches of 50,000 (measured 2026-12-06): memory, not files, sets the bound.
 */
export const DEFAULT_CUT = { maxRecords: 200_000, maxBytes: 64 * MIB } as const;

export interface FileRecord {
  /** the line number (1-based): the record's Kafka offset */
  readonly offset: number;
  readonly value: Buffer;
}

/** Only JSON's own whitespace (space, tab, CR, LF): anything else on a line is a record, if a bad one. */
export function isBlank(line: Uint8Array): boolean {
  for (const b of line) if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return false;
  return true;
}

/**
 * The (event, hour) a line would be stored under, as the handler derives them (normalised event name;
 * UTC hour of ts, or of the Kafka timestamp without one), or undefined for a line the handler cannot
 * store as given. Only counts matter: a line counted that the handler then quarantines costs a cut a
 * little early, never a quarantined record.
 */
export function groupOf(line: Buffer, timestamp: number): string | undefined {
  const fields = topLevelFields(line) ?? parsedFields(line);
  if (!fields || typeof fields.event !== 'string') return undefined;
  const time = fields.ts === undefined || fields.ts === null ? timestamp : parseTimestamp(fields.ts);
  if (time === undefined) return undefined;
  return `${Math.floor(time / MS_PER_HOUR)} ${normaliseName(fields.event)}`;
}

interface Fields {
  readonly event: unknown;
  readonly ts: unknown;
}

function parsedFields(line: Buffer): Fields | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const env = value as Record<string, unknown>;
  return { event: env['event'], ts: env['ts'] };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * `event` and `ts` of a JSON object without parsing the rest: a scan of its top level that skips nested
 * values by their brackets (a full parse costs a tenth of the handler's time). Undefined when the line is
 * not plainly an object (an escaped key, anything odd): the caller parses it then. Values are decoded as
 * JSON.parse would, the last of a repeated key winning.
 */
function topLevelFields(b: Buffer): Fields | undefined {
  const n = b.length;
  let i = 0;
  while (isSpace(b[i])) i++;
  if (b[i++] !== 0x7b) return undefined; // {
  let event: unknown;
  let ts: unknown;
  for (let first = true; ; first = false) {
    while (isSpace(b[i])) i++;
    if (first && b[i] === 0x7d) { i++; break; } // {}
    if (b[i] !== QUOTE) return undefined;
    const keyStart = i + 1;
    i = stringEnd(b, i);
    if (i < 0) return undefined;
    if (escaped) return undefined;
    // which key: `event`, `ts` or another (compared in place, no slice)
    const keyLength = i - 1 - keyStart;
    const which = keyLength === 5 && b[keyStart] === 0x65 && b[keyStart + 1] === 0x76 && b[keyStart + 2] === 0x65 && b[keyStart + 3] === 0x6e && b[keyStart + 4] === 0x74 ? 1
      : keyLength === 2 && b[keyStart] === 0x74 && b[keyStart + 1] === 0x73 ? 2 : 0;
    while (isSpace(b[i])) i++;
    if (b[i++] !== 0x3a) return undefined; // :
    while (isSpace(b[i])) i++;
    const valueStart = i;
    i = valueEnd(b, i);
    if (i < 0) return undefined;
    if (which === 1) event = scalar(b, valueStart, i);
    else if (which === 2) ts = scalar(b, valueStart, i);
    while (isSpace(b[i])) i++;
    if (b[i] === 0x2c) { i++; continue; } // ,
    if (b[i] === 0x7d) { i++; break; } // }
    return undefined;
  }
  while (isSpace(b[i])) i++;
  return i === n ? { event, ts } : undefined;
}

/** Whether the string stringEnd last scanned held an escape. */
let escaped = false;

/** The index after the string that opens at `i`, or -1; sets `escaped`. */
function stringEnd(b: Buffer, i: number): number {
  escaped = false;
  const n = b.length;
  for (i++; i < n; i++) {
    const c = b[i];
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) { escaped = true; i++; }
  }
  return -1;
}

/** The index after the value that starts at `i` (strings and brackets matched, scalars up to a delimiter), or -1. */
function valueEnd(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) return stringEnd(b, i);
  const n = b.length;
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (; i < n; i++) {
      const d = b[i];
      if (d === QUOTE) {
        i = stringEnd(b, i) - 1;
        if (i < 0) return -1;
      } else if (d === 0x7b || d === 0x5b) depth++;
      else if ((d === 0x7d || d === 0x5d) && --depth === 0) return i + 1;
    }
    return -1;
  }
  const start = i;
  while (i < n && b[i] !== 0x2c && b[i] !== 0x7d && !isSpace(b[i])) i++;
  return i > start ? i : -1;
}

const NOT_SCALAR = Symbol('not a scalar');

/** A scalar value as JSON.parse reads it; an object or array comes back as NOT_SCALAR. */
function scalar(b: Buffer, from: number, to: number): unknown {
  const c = b[from];
  if (c === QUOTE) {
    // stringEnd just scanned this value: `escaped` is its
    return escaped ? (JSON.parse(b.toString('utf8', from, to)) as string) : b.toString('utf8', from + 1, to - 1);
  }
  if (c === 0x7b || c === 0x5b) return NOT_SCALAR;
  const text = b.toString('latin1', from, to);
  if (text === 'null') return null;
  const n = Number(text);
  return Number.isFinite(n) && (c === 0x2d || (c! >= 0x30 && c! <= 0x39)) ? n : NOT_SCALAR;
}

/**
 * Batches of consecutive non-blank lines. A batch ends before the line that would take it past
 * `maxRecords` records, `maxBytes` bytes or `maxGroups` distinct (event, hour); blank lines carry no
 * record but keep their line number.
 */
export async function* fileBatches(lines: AsyncIterable<Buffer>, o: CutOptions): AsyncGenerator<FileRecord[]> {
  let batch: FileRecord[] = [];
  let bytes = 0;
  let groups = new Set<string>();
  let line = 0;
  for await (const value of lines) {
    line++;
    if (isBlank(value)) continue;
    const group = groupOf(value, o.timestamp);
    const newGroup = group !== undefined && !groups.has(group);
    if (batch.length > 0 && (batch.length + 1 > o.maxRecords || bytes + value.length > o.maxBytes || (newGroup && groups.size + 1 > o.maxGroups))) {
      yield batch;
      batch = [];
      bytes = 0;
      groups = new Set();
    }
    batch.push({ offset: line, value });
    bytes += value.length;
    if (group !== undefined) groups.add(group);
  }
  if (batch.length > 0) yield batch;
}
