// Plain-text output for the CLI.

export type Cell = string | number | bigint | boolean | null | undefined;

const ESCAPED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** An aligned text table: numbers right-aligned, everything else left-aligned. */
export function formatTable(rows: ReadonlyArray<Record<string, unknown>>, columns?: readonly string[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = columns ?? Object.keys(rows[0]!);
  // Line breaks and tabs inside a value would break the table's rows and columns: shown escaped.
  const text = (v: unknown): string =>
    (v === null || v === undefined ? '∅' : typeof v === 'object' ? JSON.stringify(v) : String(v)).replace(/[\n\r\t]/g, (c) => ESCAPED[c]!);
  const cells = rows.map((r) => cols.map((c) => text(r[c])));
  // A loop, not Math.max(...cells): spreading a few hundred thousand rows overflows the call stack.
  const widths = cols.map((c) => c.length);
  for (const r of cells) for (let i = 0; i < r.length; i++) if (r[i]!.length > widths[i]!) widths[i] = r[i]!.length;
  const numeric = cols.map((c) => rows.every((r) => typeof r[c] === 'number' || r[c] === null || /^-?\d+(\.\d+)?$/.test(String(r[c]))));
  const line = (vals: readonly string[]): string =>
    vals.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(cols), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
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
