// `tributary status`: a table's health from what was measured and the thresholds the CDK alarms use.
// Pure: the CLI measures (ClickHouse, the catalog, the lake's listing) and prints; this decides.

export type Health = 'ok' | 'warn' | 'critical';

/** What `status` measured for one table; undefined where there is nothing to measure (no rows yet). */
export interface TableMeasurements {
  readonly table: string;
  /** now − newest event_time stored in ClickHouse, ms */
  readonly freshnessMs?: number;
  /** now − newest finished_at in the ingest log for the table, ms */
  readonly ingestLagMs?: number;
  readonly storedLastHour: number;
  readonly storedLastDay: number;
  readonly quarantinedLastHour: number;
  readonly quarantinedLastDay: number;
  /** closed hour partitions (past the grace) that compaction has not yet folded */
  readonly hoursAwaitingCompaction: number;
}

/** The thresholds of one table: the environment's alarm settings (cdk.json), maybe overridden per table. */
export interface Thresholds {
  /** critical above this freshness or ingest lag; warn above half of it */
  readonly freshnessMinutes: number;
  /** critical above this percentage of the last hour's records quarantined; warn above half of it */
  readonly quarantinePercent: number;
  /** warn above this many closed hours waiting for compaction */
  readonly compactionBacklogHours: number;
}

export interface Finding {
  readonly health: Health;
  readonly reason: string;
}

export interface TableVerdict {
  readonly table: string;
  readonly health: Health;
  /** every finding that is not ok, worst first; empty when the table is healthy */
  readonly reasons: readonly string[];
  /** quarantined / (stored + quarantined) over the last hour, percent; undefined when nothing arrived */
  readonly quarantineRatePercent?: number;
}

const RANK: ReadonlyMap<Health, number> = new Map([['ok', 0], ['warn', 1], ['critical', 2]]);
export const worst = (hs: Iterable<Health>): Health => {
  let out: Health = 'ok';
  for (const h of hs) if (RANK.get(h)! > RANK.get(out)!) out = h;
  return out;
};

/** A duration for a reason: minutes below two hours, else hours, else days. */
export function describeDuration(ms: number): string {
  const min = ms / 60_000;
  if (min < 120) return `${Math.round(min)} min`;
  if (min < 48 * 60) return `${(min / 60).toFixed(1)} h`;
  return `${(min / 1440).toFixed(1)} d`;
}

export function quarantineRatePercent(m: Pick<TableMeasurements, 'storedLastHour' | 'quarantinedLastHour'>): number | undefined {
  const total = m.storedLastHour + m.quarantinedLastHour;
  return total === 0 ? undefined : (100 * m.quarantinedLastHour) / total;
}

/** A lag against a limit in minutes: critical past it, warn past half of it (time to look, not to page). */
function lagFinding(what: string, ms: number | undefined, limitMinutes: number): Finding | undefined {
  if (ms === undefined) return undefined;
  const limit = limitMinutes * 60_000;
  if (ms > limit) return { health: 'critical', reason: `${what} ${describeDuration(ms)} > ${limitMinutes} min` };
  if (ms > limit / 2) return { health: 'warn', reason: `${what} ${describeDuration(ms)} > half of ${limitMinutes} min` };
  return undefined;
}

export function tableVerdict(m: TableMeasurements, t: Thresholds): TableVerdict {
  const findings: Finding[] = [];
  if (m.freshnessMs === undefined) findings.push({ health: 'warn', reason: 'no rows stored in ClickHouse yet' });
  const add = (f: Finding | undefined): void => { if (f) findings.push(f); };
  add(lagFinding('freshness', m.freshnessMs, t.freshnessMinutes));
  add(lagFinding('ingest lag', m.ingestLagMs, t.freshnessMinutes));
  const rate = quarantineRatePercent(m);
  if (rate !== undefined && rate > t.quarantinePercent) findings.push({ health: 'critical', reason: `quarantine rate ${rate.toFixed(1)} % > ${t.quarantinePercent} % (last hour)` });
  else if (rate !== undefined && rate > t.quarantinePercent / 2) findings.push({ health: 'warn', reason: `quarantine rate ${rate.toFixed(1)} % > half of ${t.quarantinePercent} % (last hour)` });
  if (m.hoursAwaitingCompaction > t.compactionBacklogHours) {
    findings.push({ health: 'warn', reason: `${m.hoursAwaitingCompaction} closed hours waiting for compaction > ${t.compactionBacklogHours}` });
  }
  findings.sort((a, b) => RANK.get(b.health)! - RANK.get(a.health)!);
  return {
    table: m.table, health: worst(findings.map((f) => f.health)), reasons: findings.map((f) => f.reason),
    ...(rate === undefined ? {} : { quarantineRatePercent: rate }),
  };
}

/** The pipeline's verdict: the worst of the tables' and of other findings (consumer lag), naming what makes it so. */
export function overallVerdict(verdicts: readonly TableVerdict[], others: readonly Finding[] = []): { health: Health; reason: string } {
  if (verdicts.length === 0 && others.length === 0) return { health: 'warn', reason: 'no event tables yet' };
  const health = worst([...verdicts.map((v) => v.health), ...others.map((f) => f.health)]);
  if (health === 'ok') return { health, reason: `${verdicts.length} tables ok` };
  const culprits = [...verdicts.filter((v) => v.health === health).map((v) => `${v.table}: ${v.reasons[0]}`), ...others.filter((f) => f.health === health).map((f) => f.reason)];
  return { health, reason: culprits.join('; ') };
}
