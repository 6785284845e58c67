// Text the console derives from data, without a DOM: unit-tested on its own (test/unit/console-text.test.ts).

/** The value's text split around the JSON keys the detail names (`"price"`), those marked. */
export function highlight(text: string, detail: string): Array<{ text: string; mark: boolean }> {
  const keys = new Set<string>();
  for (const m of text.matchAll(/"([^"\\]{1,64})"\s*:/g)) if (new RegExp(`(^|[^\\w])${m[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^\\w]|$)`).test(detail)) keys.add(m[1]!);
  if (keys.size === 0) return [{ text, mark: false }];
  const pattern = new RegExp(`("(?:${[...keys].map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})"\\s*:\\s*(?:"(?:[^"\\\\]|\\\\.)*"|[^,}\\]\\n]*))`, 'g');
  // split() with one capturing group: odd pieces are the matches.
  return text.split(pattern).map((s, i) => ({ text: s, mark: i % 2 === 1 })).filter((p) => p.text !== '');
}

/** A CSV cell (RFC 4180): quoted when it holds a comma, quote or line break; objects as JSON. */
const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function toCsv(r: { columns: ReadonlyArray<{ name: string }>; rows: readonly unknown[][] }): string {
  return [r.columns.map((c) => csvCell(c.name)).join(','), ...r.rows.map((row) => row.map(csvCell).join(','))].join('\r\n') + '\r\n';
}
