// The page `tributary ab report --out` writes: the console's A/B report (the same component and charts),
// its script and styles inlined with the rows, so the file opens anywhere without a network or a server.
// Without a built console (npm ci --omit=dev has no esbuild) it falls back to the core's plain page.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { htmlReport, SRM_ALERT, type ReportRow } from '../core/ab/report.js';
import { PACKAGE_ROOT } from './local-runtime.js';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** Inside a <script> element nothing may close it: `<` never appears as such. */
const scriptSafe = (s: string): string => s.replace(/</g, '\\u003c');

export function abReportPage(experiment: string, history: readonly ReportRow[], day: readonly ReportRow[], consoleDir = join(PACKAGE_ROOT, 'dist/console')): string {
  const script = join(consoleDir, 'ab-report.js');
  const css = existsSync(consoleDir) ? readdirSync(consoleDir).find((f) => /^ab-report\.css$/.test(f)) : undefined;
  if (!existsSync(script)) return htmlReport(experiment, history, day);
  const js = readFileSync(script, 'utf8');
  const style = css ? readFileSync(join(consoleDir, css), 'utf8') : '';
  const data = { experiment, srmAlert: SRM_ALERT, rows: history };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(experiment)} · A/B report</title>
<style>${style.replace(/<\/style/gi, '<\\/style')}</style>
</head><body>
<div id="app"><p>This report draws its tables and charts with JavaScript; the same results as text: <code>tributary ab report --experiment ${escapeHtml(experiment)}</code>.</p></div>
<script type="application/json" id="ab-data">${scriptSafe(JSON.stringify(data))}</script>
<script>${js.replace(/<\/script/gi, '<\\/script')}</script>
</body></html>
`;
}
