// Windows, the ab-daily configuration, the statistics against reference values and the report text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { daysToRun } from '../../functions/ab-daily/handler.js';
import { JobConfigError, parseAbConfig } from '../../functions/core/ab/config.js';
import { htmlReport, textReport, type ReportRow } from '../../functions/core/ab/report.js';
import { mean, srmPValue, variance, welch } from '../../functions/core/ab/stats.js';
import { datesBetween, dayWindow, windowStatus, WindowError } from '../../functions/core/jobs/window.js';

const moments = (xs: number[]) => {
  const total = xs.reduce((a, b) => a + b, 0);
  return { units: xs.length, total, totalSq: xs.reduce((a, b) => a + b * b, 0), sumSqDev: xs.reduce((a, b) => a + (b - total / xs.length) ** 2, 0) };
};

describe('windows', () => {
  it('are UTC days; final after the lateness, provisional while open', () => {
    const w = dayWindow('2026-11-19');
    assert.equal(w.end - w.start, 86_400_000);
    assert.equal(windowStatus(w, Date.parse('2026-11-19T12:00:00Z'), 30 * 60_000), 'provisional');
    assert.equal(windowStatus(w, Date.parse('2026-11-20T00:29:59Z'), 30 * 60_000), 'provisional');
    assert.equal(windowStatus(w, Date.parse('2026-11-20T00:30:00Z'), 30 * 60_000), 'final');
    assert.equal(windowStatus(w, Date.parse('2026-11-18T23:00:00Z'), 30 * 60_000), 'future');
    assert.throws(() => dayWindow('2026-02-30'), WindowError);
    assert.deepEqual(datesBetween('2026-02-27', '2026-03-02'), ['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
    assert.throws(() => datesBetween('2026-03-02', '2026-03-01'), /before/);
  });

  it('the scheduled function runs yesterday final after 00:30 and today provisionally', () => {
    const lateness = 30 * 60_000;
    assert.deepEqual(daysToRun(Date.parse('2026-11-20T00:30:00Z'), lateness), ['2026-11-19', '2026-11-20']);
    assert.deepEqual(daysToRun(Date.parse('2026-11-20T00:10:00Z'), lateness), ['2026-11-20']);
    assert.deepEqual(daysToRun(Date.parse('2026-11-20T14:00:00Z'), lateness), ['2026-11-20']);
    assert.deepEqual(daysToRun(Date.parse('2026-11-20T14:00:00Z'), lateness, '2026-11-01'), ['2026-11-01']);
  });
});

describe('ab-daily configuration', () => {
  const base = { exposure_event: 'experiment_exposure', metrics: [{ name: 'revenue', event: 'purchase', type: 'sum', value: 'price' }] };
  it('reads the documented shape with defaults', () => {
    const c = parseAbConfig({ ...base, experiments: { e1: { control: 'base', weights: { base: 2, t: 1 } } } });
    assert.equal(c.control, 'control');
    assert.deepEqual(c.experiments['e1'], { control: 'base', weights: { base: 2, t: 1 } });
  });
  it('refuses what it cannot compute, saying why', () => {
    assert.throws(() => parseAbConfig({ ...base, metrics: [{ name: 'revenue', event: 'purchase', type: 'sum' }] }), /a sum needs "value"/);
    assert.throws(() => parseAbConfig({ ...base, metrics: [{ name: 'x', event: 'purchase', type: 'median' }] }), /type must be conversion, count or sum/);
    assert.throws(() => parseAbConfig({ ...base, metrics: [{ name: 'x; DROP', event: 'purchase', type: 'count' }] }), JobConfigError);
    assert.throws(() => parseAbConfig({ ...base, exposure_event: '../x' }), /exposure_event/);
    assert.throws(() => parseAbConfig({ ...base, experiments: { e1: { weights: { a: -1 } } } }), /positive numbers/);
  });
});

describe('A/B statistics', () => {
  it('match reference values for the Welch test', () => {
    // R: t.test(c(2,4,6,8,10), c(1,2,3,4,5)) → t = 1.8974, df = 5.8824, p = 0.1075
    const w = welch(moments([2, 4, 6, 8, 10]), moments([1, 2, 3, 4, 5]));
    assert.equal(w.absLift, 3);
    assert.equal(w.relLift, 1);
    assert.ok(Math.abs(w.pValue! - 0.1075) < 5e-4, String(w.pValue));
    // 95 percent confidence interval -0.888 6.888 (= 3 ± qt(0.975, 5.8824) · sqrt(2.5), qt ≈ 2.4589)
    assert.ok(Math.abs(w.ciHigh! - 6.888) < 1e-3, String(w.ciHigh));
    assert.ok(Math.abs(w.ciLow! + 0.888) < 1e-3, String(w.ciLow));
    assert.ok(Math.abs((w.ciHigh! + w.ciLow!) / 2 - 3) < 1e-12);
  });
  it('handle degenerate groups without inventing numbers', () => {
    assert.equal(variance(moments([5])), null);
    assert.equal(mean(moments([])), null);
    const constant = welch(moments([1, 1, 1]), moments([0, 0, 0]));
    assert.deepEqual([constant.absLift, constant.ciLow, constant.ciHigh, constant.pValue], [1, 1, 1, null]);
    assert.equal(welch(moments([1, 2]), moments([0, 0])).relLift, null, 'no relative lift over a zero control mean');
  });
  it('compute SRM against equal or configured splits', () => {
    // 1 − pchisq(4, 1) = 0.04550026
    assert.ok(Math.abs(srmPValue(new Map([['a', 60], ['b', 40]]))! - 0.0455003) < 1e-6);
    assert.ok(Math.abs(srmPValue(new Map([['a', 60], ['b', 40]]), { a: 0.6, b: 0.4 })! - 1) < 1e-12);
    assert.equal(srmPValue(new Map([['a', 10]])), null);
  });
  it('count a configured variant that got nobody as zero observed, the worst mismatch', () => {
    // scipy.stats.chisquare([10000, 0], [5000, 5000]).pvalue == 0.0
    assert.ok(srmPValue(new Map([['control', 10_000]]), { control: 0.5, green: 0.5 })! < 1e-12);
    // chisquare([55, 45, 0], [40, 40, 20]).pvalue: 3 variants, 2 degrees of freedom
    assert.ok(Math.abs(srmPValue(new Map([['a', 55], ['b', 45]]), { a: 0.4, b: 0.4, c: 0.2 })! - 1.9947337e-6) < 1e-12);
  });
});

describe('report', () => {
  const row = (variant: string, extra: Partial<ReportRow> = {}): ReportRow => ({
    dt: '2026-11-19', experiment_id: 'e1', variant, metric: 'revenue', units: 100, mean: 1, control_variant: variant === 'control' ? null : 'control',
    abs_lift: variant === 'control' ? null : 0.5, rel_lift: variant === 'control' ? null : 0.5, ci_low: variant === 'control' ? null : 0.1, ci_high: variant === 'control' ? null : 0.9,
    p_value: variant === 'control' ? null : 0.01, srm_p_value: 0.0001, crossover_users: 3, is_final: true, ...extra,
  });
  it('warns on sample-ratio mismatch and marks significant lifts', () => {
    const text = textReport('e1', [row('control'), row('t')]);
    assert.match(text, /WARNING: sample-ratio mismatch/);
    assert.match(text, /revenue\s+t\s+100\s+1\s+0\.5 \(\+50\.0%\)\s+\[0\.1, 0\.9\]\s+0\.0100\s+\*/);
    assert.match(text, /crossover users excluded: 3/);
  });
  it('writes a self-contained page that escapes what it prints', () => {
    const html = htmlReport('<script>', [row('control'), row('t')], [row('control'), row('t')]);
    assert.ok(!html.includes('<script>'));
    assert.match(html, /<svg viewBox/);
    assert.ok(!/https?:\/\//.test(html.replace('http://www.w3.org/2000/svg', '')), 'no external resources');
  });
});
