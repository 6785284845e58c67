// A windowed job as a file: `schemas/jobs/<name>.sql`, a header of `-- key: value` comment lines and one
// ClickHouse SELECT that reads its window through query parameters. This module reads the file and checks
// what can be checked without an engine; sql-job.ts checks the rest against ClickHouse.
import { isValidTableName, normaliseName } from '../identifiers.js';
import type { WindowKind } from './window.js';

/** A problem in a job file, with the 1-based line it is on (0: the file as a whole). */
export interface JobProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export const formatProblem = (p: JobProblem): string => `${p.file}${p.line > 0 ? `:${p.line}` : ''}: ${p.message}`;

/** What a job file says, once it parses; its problems otherwise. */
export interface SqlJobFile {
  readonly name: string;
  readonly file: string;
  /** the output table: the job's name in snake_case */
  readonly table: string;
  readonly window: WindowKind;
  readonly latenessMs: number;
  readonly description: string;
  readonly orderBy: readonly string[];
  /** refuse a window whose result has more rows (default DEFAULT_MAX_ROWS) */
  readonly maxRows: number;
  /** the widest backfill this job accepts, in days (default: the framework's MAX_BACKFILL_DAYS) */
  readonly maxBackfillDays?: number;
  /** the SELECT, comments and all, as written */
  readonly sql: string;
  /** the file's line on which `sql` starts */
  readonly sqlLine: number;
}

/** Rows a window may produce unless the header says otherwise: results pass through the job's memory. */
export const DEFAULT_MAX_ROWS = 1_000_000;
/** Parameters a job's query may use: the window's bounds, and the database its tables live in. */
export const JOB_PARAMETERS: ReadonlySet<string> = new Set(['window_start', 'window_end', 'db']);
export const JOB_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;
const HEADER_KEYS = ['window', 'lateness', 'description', 'order_by', 'max_rows', 'max_backfill_days'] as const;

/** `30m`, `2h`, `1d`, `0`: a duration in milliseconds, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? (m[1] === '0' ? 'ms' : '')];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

/** The first line (1-based) of `text` on which `pattern` matches, else 0. */
export function lineOf(text: string, pattern: RegExp, from = 1): number {
  const lines = text.split('\n');
  for (let i = from - 1; i < lines.length; i++) if (pattern.test(lines[i]!)) return i + 1;
  return 0;
}

export const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Reads a job file: its header and its query, or every problem found with its line. */
export function parseSqlJobFile(file: string, name: string, text: string): { job?: SqlJobFile; problems: JobProblem[] } {
  const problems: JobProblem[] = [];
  const bad = (line: number, message: string): void => { problems.push({ file, line, message }); };
  if (!JOB_NAME_PATTERN.test(name)) bad(0, `the job's name ${JSON.stringify(name)} (the file's) must match ${JOB_NAME_PATTERN.source}`);
  const table = normaliseName(name);
  if (!isValidTableName(table)) bad(0, `the output table ${JSON.stringify(table)} is not a valid table name`);

  const lines = text.split('\n');
  const header = new Map<string, { value: string; line: number }>();
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (!line.startsWith('--')) break;
    const m = /^--\s*([a-z_]+)\s*:\s*(.*)$/.exec(line);
    if (!m) continue; // a plain comment
    const key = m[1]!;
    if (!(HEADER_KEYS as readonly string[]).includes(key)) { bad(i + 1, `unknown header key ${JSON.stringify(key)} (known: ${HEADER_KEYS.join(', ')})`); continue; }
    if (header.has(key)) { bad(i + 1, `${key} is given twice (first on line ${header.get(key)!.line})`); continue; }
    header.set(key, { value: m[2]!.trim(), line: i + 1 });
  }
  const sqlLine = i + 1;
  const sql = lines.slice(i).join('\n').trim().replace(/;\s*$/, '');
  const lineOfKey = (k: string): number => header.get(k)?.line ?? 1;

  const windowText = header.get('window')?.value;
  if (windowText === undefined) bad(1, 'the header needs "-- window: daily" or "-- window: hourly"');
  else if (windowText !== 'daily' && windowText !== 'hourly') bad(lineOfKey('window'), `window must be daily or hourly, not ${JSON.stringify(windowText)}`);
  const latenessText = header.get('lateness')?.value ?? '0';
  const latenessMs = parseDuration(latenessText);
  if (latenessMs === undefined) bad(lineOfKey('lateness'), `lateness ${JSON.stringify(latenessText)} is not a duration (e.g. 30m, 2h, 0)`);
  else if (latenessMs >= 86_400_000) bad(lineOfKey('lateness'), 'lateness must be under a day: final results run once it has passed');
  const description = header.get('description')?.value ?? '';
  if (description === '') bad(1, 'the header needs "-- description: …" (it becomes the table\'s comment)');
  const orderText = header.get('order_by')?.value ?? '';
  const orderBy = orderText.split(',').map((s) => s.trim()).filter(Boolean);
  if (orderBy.length === 0) bad(header.get('order_by')?.line ?? 1, 'the header needs "-- order_by: col[, col…]", the output\'s ordering key (result columns)');
  const positive = (key: string): number | undefined => {
    const v = header.get(key)?.value;
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) { bad(lineOfKey(key), `${key} must be a whole number ≥ 1, not ${JSON.stringify(v)}`); return undefined; }
    return n;
  };
  const maxRows = positive('max_rows') ?? DEFAULT_MAX_ROWS;
  const maxBackfillDays = positive('max_backfill_days');

  if (sql === '') bad(sqlLine, 'no query after the header');
  // The window reaches the query as bound parameters; a literal date or string formatting would not move with it.
  for (const p of ['window_start', 'window_end']) {
    if (!new RegExp(`\\{\\s*${p}\\s*:`).test(sql)) bad(sqlLine, `the query must read its window through {${p}:DateTime64(3)}`);
  }
  for (const m of sql.matchAll(/\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:/g)) {
    if (!JOB_PARAMETERS.has(m[1]!)) bad(lineOf(text, new RegExp(`\\{\\s*${escapeRegExp(m[1]!)}\\s*:`), sqlLine), `unknown parameter {${m[1]}:…}: a job's query gets window_start, window_end and db only`);
  }
  if (problems.length > 0) return { problems };
  return {
    job: {
      name, file, table, window: windowText as WindowKind, latenessMs: latenessMs!, description, orderBy, maxRows,
      ...(maxBackfillDays !== undefined ? { maxBackfillDays } : {}), sql, sqlLine,
    },
    problems,
  };
}
