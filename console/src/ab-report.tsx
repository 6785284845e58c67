// The A/B report for experimenters, from ab_daily's rows: SRM verdict first, users per variant, per metric
// the relative lift (%) with its 95 % CI against the control (control first), and the cumulative lift over
// the days with labelled axes, final days filled and provisional ones hollow, and the peeking caveat.
import type { ChartSpec, PlotModule } from './ui.js';
import { Badge, Chart } from './ui.js';

export interface AbRow {
  dt: string; variant: string; metric: string; units: number; mean: number | null; control_variant: string | null;
  abs_lift: number | null; rel_lift: number | null; ci_low: number | null; ci_high: number | null; p_value: number | null;
  srm_p_value: number | null; crossover_users: number; is_final: boolean;
}

const pct = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(digits)} %`);
const pValue = (p: number | null): string => (p === null ? '–' : p < 0.0001 ? '< 0.0001' : p.toFixed(4));
const num = (v: number | null): string => (v === null ? '–' : Number(v.toPrecision(4)).toString());

/** Control first, then the treatments by name. */
export function variantOrder(rows: readonly AbRow[]): string[] {
  const control = rows.find((r) => r.control_variant !== null)?.control_variant ?? rows.find((r) => r.control_variant === null)?.variant;
  const others = [...new Set(rows.map((r) => r.variant))].filter((v) => v !== control).sort();
  return control === undefined ? others : [control, ...others];
}

/** A row's relative lift and CI in %, against the control's mean of the same day and metric. */
export function relative(rows: readonly AbRow[], r: AbRow): { lift: number | null; low: number | null; high: number | null } {
  const control = rows.find((c) => c.dt === r.dt && c.metric === r.metric && c.control_variant === null);
  const base = control?.mean ?? null;
  if (r.control_variant === null || base === null || base === 0) return { lift: null, low: null, high: null };
  const rel = (v: number | null): number | null => (v === null ? null : (v / base) * 100);
  return { lift: r.rel_lift === null ? rel(r.abs_lift) : r.rel_lift * 100, low: rel(r.ci_low), high: rel(r.ci_high) };
}

export function AbReport({ experiment, rows, srmAlert }: { experiment: string; rows: AbRow[]; srmAlert: number }) {
  const last = rows.reduce((m, r) => (r.dt > m ? r.dt : m), '');
  const day = rows.filter((r) => r.dt === last);
  const variants = variantOrder(day);
  const metrics = [...new Set(rows.map((r) => r.metric))].sort();
  const first = day[0];
  const srm = first?.srm_p_value ?? null;
  const mismatch = srm !== null && srm < srmAlert;
  const final = day.every((r) => r.is_final);
  const users = variants.map((v) => ({ variant: v, users: day.find((r) => r.variant === v)?.units ?? 0 }));
  const totalUsers = users.reduce((n, u) => n + u.users, 0);
  return (
    <article aria-label={`A/B report of ${experiment}`}>
      <h3>{experiment} · {last} <Badge health={final ? 'final' : 'provisional'} /></h3>
      {mismatch
        ? <p class="banner banner-critical" role="alert" data-srm="mismatch"><strong>Sample-ratio mismatch</strong> (SRM p = {pValue(srm)} &lt; {srmAlert}): the variants did not get the expected share of users. The split itself is broken, so do not trust these lifts; find the cause (assignment, logging, bots) first.</p>
        : <p class="banner banner-ok" data-srm="ok"><strong>Split as expected</strong> (SRM p = {pValue(srm)}, alarm below {srmAlert}).</p>}
      {!final && <p class="banner banner-warn"><strong>Provisional</strong>: {last} is still open or within its lateness; its numbers change until the job's final run.</p>}
      <div class="cards">
        {users.map((u) => <div class="card" key={u.variant}>{u.variant}{u.variant === variants[0] ? ' (control)' : ''}<strong>{u.users.toLocaleString('en')}</strong>{totalUsers ? `${((u.users / totalUsers) * 100).toFixed(1)} % of users` : ''}</div>)}
        <div class="card">Crossover users excluded<strong>{(first?.crossover_users ?? 0).toLocaleString('en')}</strong></div>
      </div>
      <div class="table-wrap" tabIndex={0} role="region" aria-label="Lift per metric and variant">
        <table>
          <caption>Cumulative results up to {last}: relative lift of each variant's mean over the control's, 95 % confidence interval (Welch), two-sided p-value</caption>
          <thead><tr>{['metric', 'variant', 'users', 'mean', 'relative lift', '95 % CI', 'p-value', 'verdict'].map((c) => <th scope="col" key={c}>{c}</th>)}</tr></thead>
          <tbody>
            {metrics.flatMap((m) => variants.map((v) => {
              const r = day.find((x) => x.metric === m && x.variant === v);
              if (!r) return null;
              const rel = relative(day, r);
              const control = r.control_variant === null;
              const significant = !control && r.p_value !== null && r.p_value < 0.05;
              return (
                <tr key={`${m}/${v}`}>
                  <th scope="row">{m}</th><td>{v}{control ? ' (control)' : ''}</td><td class="num">{r.units.toLocaleString('en')}</td><td class="num">{num(r.mean)}</td>
                  <td class="num">{control ? '–' : pct(rel.lift)}</td><td class="num">{control ? '' : `${pct(rel.low)} … ${pct(rel.high)}`}</td>
                  <td class="num">{control ? '' : pValue(r.p_value)}</td>
                  <td>{control ? 'baseline' : significant ? (rel.lift !== null && rel.lift > 0 ? 'better (p < 0.05)' : 'worse (p < 0.05)') : 'no significant difference'}</td>
                </tr>
              );
            }))}
          </tbody>
        </table>
      </div>
      <p class="caveat"><strong>On peeking:</strong> these are daily cumulative results. Each day's p-value and interval hold for a test read once, at a size fixed in advance; looking every day and stopping when a result turns significant inflates false positives well past 5 %. Decide on the planned end date, or use a sequential method.</p>
      {metrics.map((m) => <LiftChart key={m} metric={m} rows={rows.filter((r) => r.metric === m)} control={variants[0] ?? ''} />)}
    </article>
  );
}

function LiftChart({ metric, rows, control }: { metric: string; rows: AbRow[]; control: string }) {
  const points = rows.filter((r) => r.control_variant !== null).map((r) => {
    const rel = relative(rows, r);
    return { day: new Date(`${r.dt}T00:00:00Z`), variant: r.variant, lift: rel.lift, low: rel.low, high: rel.high, state: r.is_final ? 'final' : 'provisional', p: r.p_value };
  }).filter((p) => p.lift !== null);
  if (points.length === 0) return <p class="muted">{metric}: no comparison with the control yet.</p>;
  const variants = [...new Set(points.map((p) => p.variant))].sort();
  const tip = (p: (typeof points)[number]): string => `${p.variant} ${p.day.toISOString().slice(0, 10)} (${p.state}): ${pct(p.lift)} [${pct(p.low)}, ${pct(p.high)}], p ${pValue(p.p)}`;
  const options: ChartSpec = {
    width: 760, height: 280, marginLeft: 70, marginRight: 20,
    x: { type: 'utc', label: 'Day (UTC) — cumulative since the first exposure', ticks: 'day', tickFormat: '%b %d' },
    y: { label: `Relative lift vs ${control} (%)`, grid: true, tickFormat: (v: number) => `${v > 0 ? '+' : ''}${v} %` },
    // Channels name the color scale: Plot would draw a variant named like a CSS colour ("green") in that colour.
    color: { type: 'categorical', legend: true, domain: variants, scheme: 'tableau10', label: 'variant' },
    marks: (Plot: PlotModule) => [
      Plot.areaY(points, { x: 'day', y1: 'low', y2: 'high', z: 'variant', fill: { value: 'variant', scale: 'color' }, fillOpacity: 0.15 }),
      Plot.ruleY([0], { stroke: '#59636e' }),
      Plot.lineY(points, { x: 'day', y: 'lift', z: 'variant', stroke: { value: 'variant', scale: 'color' } }),
      Plot.ruleX(points, { x: 'day', y1: 'low', y2: 'high', stroke: { value: 'variant', scale: 'color' }, strokeOpacity: 0.6 }),
      Plot.dot(points.filter((p) => p.state === 'final'), { x: 'day', y: 'lift', stroke: { value: 'variant', scale: 'color' }, fill: { value: 'variant', scale: 'color' }, r: 4, strokeWidth: 2, title: tip }),
      Plot.dot(points.filter((p) => p.state !== 'final'), { x: 'day', y: 'lift', stroke: { value: 'variant', scale: 'color' }, fill: 'white', r: 4, strokeWidth: 2, title: tip }),
    ],
  };
  return (
    <figure class="ab-chart">
      <figcaption><strong>{metric}</strong>: cumulative relative lift per day with its 95 % CI (band and bar); filled dots final, hollow dots provisional.</figcaption>
      <Chart label={`Cumulative relative lift of ${metric} per day and variant`} options={options} />
    </figure>
  );
}
