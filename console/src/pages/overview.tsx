// Overview: the same verdicts as `tributary status`, per table and overall, with the last day's
// throughput and freshness as charts, the quarantine rate, compaction backlog, consumer lag and job windows.
import type { PlotModule } from '../ui.js';
import { useMemo } from 'preact/hooks';
import { get } from '../api.js';
import { Badge, Chart, DataTable, ErrorBox, Loading, Section, duration, useData, type Health } from '../ui.js';

interface TableStatus {
  table: string; health: Health; reasons: string[]; freshnessSeconds: number | null; ingestLagSeconds: number | null;
  stored: { lastHour: number; lastDay: number }; quarantined: { lastHour: number; lastDay: number };
  quarantineRatePercent?: number; hoursAwaitingCompaction: number;
}
interface OverviewData {
  env: string;
  /** what serve reads: its local store, or an AWS deployment (consumer lag from CloudWatch) */
  mode?: 'local' | 'aws';
  alarms: { freshnessMinutes: number; quarantinePercent: number; offsetLag: number };
  report: {
    now: string; overall: { health: Health; reason: string }; tables: TableStatus[];
    jobs: Array<{ table: string; latestDt: string | null; isFinal: boolean | null }>;
    consumers?: Array<{ group: string; health: Health; lag: number; reason: string | null }>;
    /** against AWS: each ingest function's OffsetLag (the event source mapping's metric its alarm watches) */
    functions?: Array<{ functionName: string; health: Health; lag: number; reason: string | null }>;
  };
  throughput: Array<{ table: string; hour: number; rows: number }>;
  freshness: Array<{ table: string; hour: number; p50: number; max: number }>;
}

export function Overview(_: { params: URLSearchParams }) {
  const { data, error, loading, reload } = useData(() => get<OverviewData>('overview'), []);
  const charts = useMemo(() => {
    if (!data) return undefined;
    const throughput = data.throughput.map((r) => ({ ...r, hour: new Date(r.hour) }));
    const freshness = data.freshness.map((r) => ({ ...r, hour: new Date(r.hour), p50min: r.p50 / 60 }));
    return {
      throughput: {
        width: 640, height: 260, marginLeft: 60, color: { legend: true, scheme: 'tableau10' as const },
        x: { type: 'utc' as const, label: 'Hour of ingest (UTC)' }, y: { label: 'Rows stored per hour', grid: true },
        marks: (Plot: PlotModule) => [Plot.rectY(throughput, { x: 'hour', interval: 'hour', y: 'rows', fill: { value: 'table', scale: 'color' }, tip: true }), Plot.ruleY([0])],
      },
      freshness: {
        width: 640, height: 260, marginLeft: 60, color: { legend: true, scheme: 'tableau10' as const },
        x: { type: 'utc' as const, label: 'Hour received (UTC)' }, y: { label: 'Median age at arrival (minutes)', grid: true },
        marks: (Plot: PlotModule) => [
          Plot.ruleY([data.alarms.freshnessMinutes], { stroke: '#a40e26', strokeDasharray: '4 3' }),
          Plot.lineY(freshness, { x: 'hour', y: 'p50min', stroke: { value: 'table', scale: 'color' }, z: 'table', marker: 'circle', tip: true }),
          Plot.ruleY([0]),
        ],
      },
    };
  }, [data]);
  if (loading && !data) return <Loading what="the pipeline's health" />;
  if (error) return <ErrorBox message={error} />;
  if (!data || !charts) return null;
  const r = data.report;
  const q = r.tables.reduce((a, t) => ({ stored: a.stored + t.stored.lastHour, quarantined: a.quarantined + t.quarantined.lastHour }), { stored: 0, quarantined: 0 });
  const rate = q.stored + q.quarantined === 0 ? '–' : `${((q.quarantined / (q.stored + q.quarantined)) * 100).toFixed(2)} %`;
  return (
    <>
      <div class={`banner banner-${r.overall.health}`} role="status">
        <strong>Pipeline: <Badge health={r.overall.health} /></strong> {r.overall.reason}
        <div class="muted">at {r.now}; thresholds of environment {data.env} (cdk.json alarms): freshness {data.alarms.freshnessMinutes} min, quarantine {data.alarms.quarantinePercent} %; warn at half · <button class="secondary" onClick={reload}>Refresh</button></div>
      </div>
      <div class="cards">
        <div class="card">Tables<strong>{r.tables.length}</strong></div>
        <div class="card">Stored, last hour<strong>{q.stored.toLocaleString('en')}</strong></div>
        <div class="card">Quarantine rate, last hour<strong>{rate}</strong></div>
        <div class="card">Hours waiting for compaction<strong>{r.tables.reduce((n, t) => n + t.hoursAwaitingCompaction, 0)}</strong></div>
      </div>
      <Section title="Health per table" id="health">
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Health per table">
          <table>
            <thead><tr>{['table', 'health', 'freshness', 'ingest lag', 'stored 1h', 'stored 1d', 'quarantined 1h', 'quarantined 1d', 'quarantine %', 'hours to compact', 'reasons'].map((c) => <th scope="col" key={c}>{c}</th>)}</tr></thead>
            <tbody>
              {r.tables.map((t) => (
                <tr key={t.table} data-table={t.table}>
                  <th scope="row">{t.table}</th><td><Badge health={t.health} /></td>
                  <td class="num">{duration(t.freshnessSeconds)}</td><td class="num">{duration(t.ingestLagSeconds)}</td>
                  <td class="num">{t.stored.lastHour}</td><td class="num">{t.stored.lastDay}</td>
                  <td class="num">{t.quarantined.lastHour}</td><td class="num">{t.quarantined.lastDay}</td>
                  <td class="num">{t.quarantineRatePercent === undefined ? '–' : t.quarantineRatePercent.toFixed(1)}</td>
                  <td class="num">{t.hoursAwaitingCompaction}</td><td>{t.reasons.join('; ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {r.tables.length === 0 && <p class="muted">No tables yet: run npm start, or tributary ingest &lt;file.ndjson&gt;.</p>}
      </Section>
      <div class="grid">
        <Section title="Throughput, last 24 hours" id="throughput">
          {data.throughput.length ? <Chart label="Rows stored per hour and table" options={charts.throughput} /> : <p class="muted">No batches in the last 24 hours.</p>}
        </Section>
        <Section title="Freshness, last 24 hours" id="freshness">
          {data.freshness.length ? <Chart label="Median age of events when they arrived, per hour and table; dashed: the alarm threshold" options={charts.freshness} /> : <p class="muted">No events received in the last 24 hours.</p>}
        </Section>
      </div>
      <div class="grid">
        <Section title="Consumer lag" id="lag">
          {r.functions && r.functions.length > 0 && <DataTable caption="Records behind, per ingest function (Lambda OffsetLag, CloudWatch)" columns={['function', 'health', 'lag', 'reason']} rows={r.functions.map((f) => [f.functionName, f.health, f.lag, f.reason ?? ''])} />}
          {r.consumers ? <DataTable caption="Records behind, per consumer group" columns={['group', 'health', 'lag', 'reason']} rows={r.consumers.map((c) => [c.group, c.health, c.lag, c.reason ?? ''])} />
            : !r.functions?.length && (data.mode === 'aws'
              ? <p class="muted">No OffsetLag in CloudWatch for this deployment's consumer groups or ingest functions (alarm at {data.alarms.offsetLag.toLocaleString('en')} records).</p>
              : <p class="muted">Not measured here: the local store is fed by the ESM emulator, not a consumer group. Against Kafka: <code>tributary status --brokers host:port</code> (alarm at {data.alarms.offsetLag.toLocaleString('en')} records per group).</p>)}
        </Section>
        <Section title="Job windows" id="jobs">
          {r.jobs.length ? <DataTable caption="Latest window of each job" columns={['table', 'latest day', 'state']} rows={r.jobs.map((j) => [j.table, j.latestDt ?? '–', j.isFinal === null ? '–' : j.isFinal ? 'final' : 'provisional'])} />
            : <p class="muted">No job has run yet.</p>}
        </Section>
      </div>
    </>
  );
}
