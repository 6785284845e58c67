// Event-time parsing and the UTC partition values derived from it.
import { memoise } from './util/memo.js';

// RFC 3339 allows a lower-case t and z
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|z|[+-]\d{2}:?\d{2})?$/;
const DIGITS = /^-?\d{1,16}$/;
const MS_PER_DAY = 86_400_000;
export const MS_PER_HOUR = 3_600_000;

/**
 * Epoch milliseconds from an ISO-8601 string (a missing zone means UTC; fractions beyond milliseconds
 * are truncated) or from epoch milliseconds as a number or digit string. Returns undefined when the value
 * is neither, including impossible calendar dates such as 2026-02-30.
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  if (value.length === 24) {
    const fast = parseCanonicalIso(value);
    if (fast !== undefined) return fast;
  }
  if (DIGITS.test(value)) {
    const ms = Number(value);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  const m = ISO_8601.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '00', frac = '', zone = 'Z'] = m;
  const ms = frac ? Math.floor(Number(frac) * 1000) : 0;
  const utc = utcMs(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const check = new Date(utc);
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  if (zone === 'Z' || zone === 'z') return utc;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetH = Number(digits.slice(0, 2)), offsetM = Number(digits.slice(2));
  if (offsetH > 23 || offsetM > 59) return undefined; // RFC 3339 offsets stop at ±23:59
  return utc - sign * (offsetH * 60 + offsetM) * 60_000;
}

/**
 * Times and dates a column can hold: ClickHouse's DateTime64 and Date32 span 1900-01-01 to 2299-12-31,
 * and the lake must hold the same value as the warehouse, so a property outside is refused rather than
 * stored in one and clamped or wrapped in the other.
 */
const STORABLE_TIME = { from: Date.UTC(1900, 0, 1), until: Date.UTC(2300, 0, 1) } as const;

export const isStorableTime = (ms: number): boolean => ms >= STORABLE_TIME.from && ms < STORABLE_TIME.until;

/** 400 Gregorian years, in milliseconds: the calendar repeats exactly. */
const MS_PER_400_YEARS = 146_097 * 86_400_000;

/** Date.UTC, except that years 0–99 are those years, not 1900–1999. */
function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  return y >= 100 ? Date.UTC(y, mo, d, h, mi, s, ms) : Date.UTC(y + 400, mo, d, h, mi, s, ms) - MS_PER_400_YEARS;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

function digits(v: string, from: number, to: number): number {
  let x = 0;
  for (let i = from; i < to; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    x = x * 10 + d;
  }
  return x;
}

/** The layout almost every tracker sends (`toISOString()`: YYYY-MM-DDTHH:MM:SS.sssZ), parsed without a regex. */
function parseCanonicalIso(v: string): number | undefined {
  if (v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45 || v.charCodeAt(10) !== 84 || v.charCodeAt(13) !== 58 ||
    v.charCodeAt(16) !== 58 || v.charCodeAt(19) !== 46 || v.charCodeAt(23) !== 90) return undefined;
  const y = digits(v, 0, 4), mo = digits(v, 5, 7), d = digits(v, 8, 10), h = digits(v, 11, 13);
  const mi = digits(v, 14, 16), s = digits(v, 17, 19), ms = digits(v, 20, 23);
  if (Number.isNaN(y + mo + d + h + mi + s + ms)) return undefined;
  if (!(mo >= 1 && mo <= 12 && h <= 23 && mi <= 59 && s <= 59 && d >= 1)) return undefined;
  if (d > (mo === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[mo - 1]!)) return undefined;
  return utcMs(y, mo - 1, d, h, mi, s, ms);
}

// A batch spans a handful of days: format each once.
const dayString = memoise((day: number): string => new Date(day * MS_PER_DAY).toISOString().slice(0, 10), 4096);

/** `YYYY-MM-DD` of an epoch-ms instant in UTC. */
export function utcDate(ms: number): string {
  return dayString(Math.floor(ms / MS_PER_DAY));
}

export function utcHour(ms: number): number {
  return Math.floor((((ms % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY) / MS_PER_HOUR);
}

/** Hours since the Unix epoch: one number names an event's (dt, hour) partition. */
export function epochHourOf(ms: number): number {
  return Math.floor(ms / MS_PER_HOUR);
}

/** Days since the Unix epoch (Arrow/Parquet DATE). */
export function epochDay(ms: number): number {
  return Math.floor(ms / MS_PER_DAY);
}

export const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Epoch ms at which the UTC hour `hour` of day `dt` (YYYY-MM-DD) ends. */
export const hourEnd = (dt: string, hour: number): number => Date.parse(`${dt}T00:00:00Z`) + (hour + 1) * MS_PER_HOUR;
