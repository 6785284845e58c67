// Statistics of an A/B comparison from per-variant sufficient statistics (units, Σx, Σ(x − x̄)²): what
// ClickHouse aggregates, so no per-user data leaves the warehouse. Distribution functions come from stdlib.
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

export interface Moments {
  /** users (units of analysis) */
  readonly units: number;
  /** Σ of per-user values */
  readonly total: number;
  /** Σ of squared per-user values (reported; the variance comes from sumSqDev) */
  readonly totalSq: number;
  /**
   * Σ(x − x̄)², computed stably (two passes over the sorted per-user values, in ClickHouse). Σx² − (Σx)²/n cancels
   * catastrophically when the values are large and their spread small: per-user values near 10⁹ that
   * differ by tenths have a variance of a hundredth, which that difference loses to rounding entirely.
   */
  readonly sumSqDev: number;
}

export const mean = (m: Moments): number | null => (m.units > 0 ? m.total / m.units : null);

/** Sample variance (n − 1) of the per-user values; null below two units. */
export function variance(m: Moments): number | null {
  if (m.units < 2) return null;
  return Math.max(0, m.sumSqDev) / (m.units - 1);
}

export interface WelchComparison {
  readonly absLift: number | null;
  readonly relLift: number | null;
  readonly ciLow: number | null;
  readonly ciHigh: number | null;
  readonly pValue: number | null;
}

const NONE: WelchComparison = { absLift: null, relLift: null, ciLow: null, ciHigh: null, pValue: null };

/**
 * Treatment against control: lift of the means, a 95 % confidence interval (Student t quantile at the
 * Welch–Satterthwaite degrees of freedom × Welch standard error) and the two-sided Welch t-test p-value.
 * When both variances are zero the standard error is zero: the lift is exact, p-value undefined (null).
 */
export function welch(treatment: Moments, control: Moments, confidence = 0.95): WelchComparison {
  const m1 = mean(treatment);
  const m0 = mean(control);
  if (m1 === null || m0 === null) return NONE;
  const absLift = m1 - m0;
  const relLift = m0 !== 0 ? absLift / m0 : null;
  const v1 = variance(treatment);
  const v0 = variance(control);
  if (v1 === null || v0 === null) return { ...NONE, absLift, relLift };
  const a = v1 / treatment.units;
  const b = v0 / control.units;
  const se = Math.sqrt(a + b);
  if (se === 0) return { absLift, relLift, ciLow: absLift, ciHigh: absLift, pValue: null };
  const df = (a + b) ** 2 / (a ** 2 / (treatment.units - 1) + b ** 2 / (control.units - 1));
  const t = absLift / se;
  const q = tQuantile(1 - (1 - confidence) / 2, df);
  return { absLift, relLift, ciLow: absLift - q * se, ciHigh: absLift + q * se, pValue: Math.min(1, 2 * (1 - tCdf(Math.abs(t), df))) };
}

/**
 * Sample-ratio mismatch: Pearson chi-square of the units per variant against the expected split (equal
 * unless weights are given), k − 1 degrees of freedom. The variants are the configured ones as well as
 * the observed ones: a configured variant that got nobody is the worst mismatch, not a missing one.
 * Null with fewer than two variants or no units.
 */
export function srmPValue(units: ReadonlyMap<string, number>, weights?: Readonly<Record<string, number>>): number | null {
  const variants = [...new Set([...Object.keys(weights ?? {}), ...units.keys()])];
  const n = [...units.values()].reduce((s, x) => s + x, 0);
  if (variants.length < 2 || n === 0) return null;
  const w = variants.map((v) => (weights ? weights[v] ?? 0 : 1));
  const wSum = w.reduce((s, x) => s + x, 0);
  if (wSum <= 0) return null;
  let chi = 0;
  variants.forEach((v, i) => {
    const expected = (n * w[i]!) / wSum;
    const observed = units.get(v) ?? 0;
    chi += expected > 0 ? (observed - expected) ** 2 / expected : observed > 0 ? Infinity : 0;
  });
  return 1 - chisquareCdf(chi, variants.length - 1);
}
