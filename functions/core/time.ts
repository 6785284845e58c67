// Event-time parsing and the UTC partition values derived from it.

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|z|[+-]\d{2}:?\d{2})?$/;
const DIGITS = /^-?\d{1,16}$/;
const MS_PER_DAY = 86_400_000;
const MS_PER_HOUR = 3_600_000;

/**
 * Epoch milliseconds from an ISO-8601 string (a missing zone means UTC; fractions beyond milliseconds
 * are truncated) or from epoch milliseconds as a number or digit string. Returns undefined when the value
 * is neither, including impossible calendar dates such as 2026-02-30.
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && Number.isInteger(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  if (DIGITS.test(value)) return Number(value);
  const m = ISO_8601.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '00', frac = '', zone = 'Z'] = m;
  const ms = frac ? Math.floor(Number(frac) * 1000) : 0;
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const check = new Date(utc);
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  if (zone === 'Z' || zone === 'z') return utc;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return utc - sign * offsetMin * 60_000;
}

/** `YYYY-MM-DD` of an epoch-ms instant in UTC. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function utcHour(ms: number): number {
  return Math.floor((((ms % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY) / MS_PER_HOUR);
}

/** Days since the Unix epoch (Arrow/Parquet DATE). */
export function epochDay(ms: number): number {
  return Math.floor(ms / MS_PER_DAY);
}

export const pad2 = (n: number): string => String(n).padStart(2, '0');
