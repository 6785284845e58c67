// Plain-text output for the CLI. Values come from event data, so nothing from them reaches the terminal raw:
// control characters (C0, DEL, C1: escape sequences such as OSC 52 clipboard writes, OSC 8 hyperlinks,
// window titles), bidi overrides and isolates, invisible format characters and lone surrogates are shown
// as visible escapes (\x1b, \u202e), never dropped, so two different values never print alike.

export type Cell = string | number | bigint | boolean | null | undefined;

/**
 * What a terminal must not receive raw: C0 and DEL and C1, soft hyphen, Arabic letter mark, Mongolian vowel
 * separator, zero-width and directional marks, line/paragraph separators, bidi embeddings and overrides,
 * invisible operators, bidi isolates, BOM, and a surrogate without its pair.
 */
const UNSAFE = '[\\x00-\\x1f\\x7f-\\x9f\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufeff]' +
  '|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
const UNSAFE_IN_VALUE = new RegExp(`${UNSAFE}|\\\\(?=[nrtxu\\\\])`, 'g');
const UNSAFE_IN_TEXT = new RegExp(UNSAFE, 'g');
const UNSAFE_IN_JSON = /[\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

const NAMED: ReadonlyMap<string, string> = new Map([['\n', '\\n'], ['\r', '\\r'], ['\t', '\\t'], ['\\', '\\\\']]);
const hex = (c: string, width: number): string => c.charCodeAt(0).toString(16).padStart(width, '0');
const visible = (c: string): string => NAMED.get(c) ?? (c.charCodeAt(0) <= 0x9f ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`);

/**
 * A value as one line of text: every unsafe character escaped, line breaks and tabs included, and a
 * backslash doubled where it would otherwise read as one of these escapes (`\x1b` typed vs ESC).
 */
export const escapeValue = (s: string): string => s.replace(UNSAFE_IN_VALUE, visible);

/** Free text (messages, reports) that may quote data: unsafe characters escaped; line breaks and tabs kept. */
export function terminalText(s: string, keep: { carriageReturn?: boolean } = {}): string {
  return s.replace(UNSAFE_IN_TEXT, (c) => (c === '\n' || c === '\t' || (c === '\r' && keep.carriageReturn) ? c : visible(c)));
}

/**
 * A row as one JSON line. JSON.stringify escapes C0 and lone surrogates; DEL, C1, bidi and invisible format
 * characters are left raw by it, so they become \u escapes too (these only ever occur inside strings).
 */
export const jsonLine = (row: unknown): string =>
  JSON.stringify(row).replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c, 4)}`);

/**
 * Escapes unsafe characters in everything written to a stream (the CLI's stdout and stderr), whatever
 * printed it: the backstop behind the escaping of values. Line breaks and tabs pass; carriage returns only
 * where asked (a progress bar on a terminal's stderr).
 */
export function guardTerminalOutput(stream: NodeJS.WriteStream, keep: { carriageReturn?: boolean } = {}): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]): boolean =>
    write(typeof chunk === 'string' ? terminalText(chunk, keep) : chunk instanceof Uint8Array ? terminalText(Buffer.from(chunk).toString('utf8'), keep) : chunk, ...rest)) as typeof stream.write;
}

/** An aligned text table: numbers right-aligned, everything else left-aligned. */
export function formatTable(rows: ReadonlyArray<Record<string, unknown>>, columns?: readonly string[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = columns ?? Object.keys(rows[0]!);
  // Line breaks and tabs inside a value would break the table's rows and columns: shown escaped, like
  // every other control character.
  const text = (v: unknown): string =>
    escapeValue(v === null || v === undefined ? '∅' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const cells = rows.map((r) => cols.map((c) => text(r[c])));
  const heads = cols.map(escapeValue);
  // A loop, not Math.max(...cells): spreading a few hundred thousand rows overflows the call stack.
  const widths = heads.map((c) => c.length);
  for (const r of cells) for (let i = 0; i < r.length; i++) if (r[i]!.length > widths[i]!) widths[i] = r[i]!.length;
  const numeric = cols.map((c) => rows.every((r) => typeof r[c] === 'number' || r[c] === null || /^-?\d+(\.\d+)?$/.test(String(r[c]))));
  const line = (vals: readonly string[]): string =>
    vals.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(heads), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
