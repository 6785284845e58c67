// Reading ab_daily: a text table for the terminal and a self-contained HTML page with, per metric, the
// lift and its 95 % confidence interval over the experiment's days. Pure: rows in, text out.

import type { AbRow } from './results.js';

/** An ab_daily row as the report reads it back: the result columns it shows, and the day. */
export type ReportRow = Omit<AbRow, 'total' | 'total_sq' | 'variance' | 'computed_at'> & { readonly dt: string };

/** SRM alarm threshold: below this, the traffic split itself is suspect and lifts should not be trusted. */
export const SRM_ALERT = 0.001;

const num = (v: number | null, digits = 4): string => (v === null ? '–' : Number(v.toFixed(digits)).toString());
const pct = (v: number | null): string => (v === null ? '–' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);
const pValue = (p: number | null): string => (p === null ? '–' : p < 0.0001 ? '<0.0001' : p.toFixed(4));

/** The day's rows as aligned text, with an SRM warning when the split is off. */
export function textReport(experiment: string, day: readonly ReportRow[]): string {
  if (day.length === 0) return `No ab_daily rows for ${experiment}.`;
  const { dt, is_final: isFinal, srm_p_value: srm, crossover_users: crossovers } = day[0]!;
  const control = day.find((r) => r.control_variant !== null)?.control_variant ?? day.find((r) => r.control_variant === null)?.variant ?? '?';
  const head = [`${experiment} · ${dt} (${isFinal ? 'final' : 'provisional'}) · control ${control} · crossover users excluded: ${crossovers} · SRM p = ${pValue(srm)}`];
  if (srm !== null && srm < SRM_ALERT) head.push(`WARNING: sample-ratio mismatch (p < ${SRM_ALERT}): the variants did not get the expected share of users; do not trust these lifts.`);
  const rows = [...day].sort((a, b) => (a.metric === b.metric ? (a.variant < b.variant ? -1 : 1) : a.metric < b.metric ? -1 : 1)).map((r) => [
    r.metric, r.variant, String(r.units), num(r.mean),
    r.control_variant === null ? '(control)' : `${num(r.abs_lift)} (${pct(r.rel_lift)})`,
    r.control_variant === null ? '' : `[${num(r.ci_low)}, ${num(r.ci_high)}]`,
    r.control_variant === null ? '' : pValue(r.p_value),
    r.p_value !== null && r.p_value < 0.05 ? '*' : '',
  ]);
  const table = [['metric', 'variant', 'users', 'mean', 'lift', '95% CI', 'p-value', ''], ...rows];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const lines = table.map((r) => r.map((c, i) => (i >= 2 && i <= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '─'.repeat(w)).join('  ').trimEnd());
  return [...head, '', ...lines, '', '* p < 0.05 (two-sided Welch t-test)'].join('\n');
}

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** One SVG chart: a treatment's lift (point) and 95 % CI (bar) per day, zero line, day labels. */
function liftChart(series: readonly ReportRow[]): string {
  const w = 640;
  const h = 220;
  const pad = { l: 70, r: 20, t: 20, b: 40 };
  const points = series.filter((r) => r.abs_lift !== null);
  if (points.length === 0) return '<p>No comparison yet.</p>';
  const lows = points.map((r) => r.ci_low ?? r.abs_lift!);
  const highs = points.map((r) => r.ci_high ?? r.abs_lift!);
  let lo = Math.min(0, ...lows);
  let hi = Math.max(0, ...highs);
  if (hi === lo) { hi += 1; lo -= 1; }
  const y = (v: number): number => pad.t + ((hi - v) / (hi - lo)) * (h - pad.t - pad.b);
  const step = (w - pad.l - pad.r) / Math.max(1, points.length);
  const x = (i: number): number => pad.l + step * (i + 0.5);
  const parts = [
    `<line x1="${pad.l}" x2="${w - pad.r}" y1="${y(0)}" y2="${y(0)}" stroke="#888" stroke-dasharray="4 3"/>`,
    `<text x="${pad.l - 8}" y="${y(hi) + 4}" text-anchor="end" font-size="11">${escape(num(hi))}</text>`,
    `<text x="${pad.l - 8}" y="${y(lo) + 4}" text-anchor="end" font-size="11">${escape(num(lo))}</text>`,
    `<text x="${pad.l - 8}" y="${y(0) + 4}" text-anchor="end" font-size="11">0</text>`,
  ];
  points.forEach((r, i) => {
    const color = r.p_value !== null && r.p_value < 0.05 ? (r.abs_lift! > 0 ? '#1a7f37' : '#cf222e') : '#57606a';
    parts.push(
      `<line x1="${x(i)}" x2="${x(i)}" y1="${y(r.ci_high ?? r.abs_lift!)}" y2="${y(r.ci_low ?? r.abs_lift!)}" stroke="${color}" stroke-width="3"/>`,
      `<circle cx="${x(i)}" cy="${y(r.abs_lift!)}" r="4" fill="${r.is_final ? color : '#fff'}" stroke="${color}" stroke-width="2"><title>${escape(`${r.dt}: ${num(r.abs_lift)} [${num(r.ci_low)}, ${num(r.ci_high)}], p ${pValue(r.p_value)}`)}</title></circle>`,
      `<text x="${x(i)}" y="${h - pad.b + 16}" text-anchor="middle" font-size="10">${escape(r.dt.slice(5))}</text>`,
    );
  });
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

/** A self-contained HTML page (inline CSS and SVG, no scripts, no network). */
export function htmlReport(experiment: string, history: readonly ReportRow[], day: readonly ReportRow[]): string {
  const metrics = [...new Set(history.map((r) => r.metric))].sort();
  const sections = metrics.map((metric) => {
    const treatments = [...new Set(history.filter((r) => r.metric === metric && r.control_variant !== null).map((r) => r.variant))].sort();
    const charts = treatments.map((v) => {
      const series = history.filter((r) => r.metric === metric && r.variant === v).sort((a, b) => (a.dt < b.dt ? -1 : 1));
      return `<h3>${escape(v)} vs ${escape(series[0]?.control_variant ?? '')}</h3>${liftChart(series)}`;
    }).join('');
    return `<section><h2>${escape(metric)}</h2>${charts || '<p>No treatment variants.</p>'}</section>`;
  }).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(experiment)} · A/B report</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1f2328}pre{background:#f6f8fa;padding:1rem;overflow:auto}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}h3{font-size:.95rem;font-weight:600;color:#57606a}.warn{background:#fff1e5;border-left:4px solid #bc4c00;padding:.5rem 1rem}</style>
</head><body>
<h1>${escape(experiment)}</h1>
<p>Cumulative results per day: each point is the lift of the variant's mean over the control's (filled: final; hollow: provisional), the bar its 95 % confidence interval (Welch). Green/red: p &lt; 0.05.</p>
${day[0]?.srm_p_value !== null && day[0] && day[0].srm_p_value! < SRM_ALERT ? `<p class="warn">Sample-ratio mismatch on ${escape(day[0].dt)} (p = ${escape(pValue(day[0].srm_p_value))}): the split of users is off; do not trust these lifts.</p>` : ''}
<pre>${escape(textReport(experiment, day))}</pre>
${sections}
</body></html>
`;
}
