// Jobs and experiments: each job's windows (final or provisional), and an experiment's A/B results rebuilt
// for experimenters: SRM verdict first, users per variant, relative lift with its 95 % CI per metric and
// variant (control first), cumulative lift over days with labelled axes, final vs provisional marked.
import { get } from '../api.js';
import { navigate } from '../nav.js';
import { Badge, DataTable, ErrorBox, Loading, Section, useData } from '../ui.js';
import { AbReport, type AbRow } from '../ab-report.js';

interface JobRun { job: string; window: string; outcome: 'final' | 'provisional' | 'failed'; rows: number; startedAt: number; ms: number; error: string }
interface JobsData { jobs: Array<{ table: string; windows: Array<{ dt: string; rows: number; isFinal: boolean | null; computedAt: string | null }> }>; experiments: string[]; runs?: JobRun[] }

export function Jobs({ params }: { params: URLSearchParams }) {
  const { data, error, loading } = useData(() => get<JobsData>('jobs'), []);
  const experiment = params.get('experiment') ?? data?.experiments[0];
  if (loading && !data) return <Loading what="jobs" />;
  if (error) return <ErrorBox message={error} />;
  if (!data) return null;
  return (
    <>
      <Section title="Experiments" id="experiments">
        {data.experiments.length === 0 ? <p class="muted">No A/B results yet: tributary jobs run ab-daily --date YYYY-MM-DD.</p> : (
          <div class="row">
            <label for="experiment">Experiment</label> <select id="experiment" value={experiment} onChange={(e) => navigate('jobs', { experiment: (e.target as HTMLSelectElement).value })}>
              {data.experiments.map((x) => <option key={x} value={x}>{x}</option>)}
            </select>
          </div>
        )}
        {experiment && <Experiment key={experiment} id={experiment} />}
      </Section>
      <Section title="Job runs" id="runs">
        {!data.runs?.length ? <p class="muted">No run recorded yet: each window a job computes (scheduled, tributary jobs run or backfill) is listed here, failed ones with their message.</p> : (
          <DataTable caption="The latest runs, newest first" columns={['job', 'window', 'outcome', 'rows', 'started (UTC)', 'took', 'error']} numeric={['rows', 'took']}
            rows={data.runs.map((r) => [r.job, r.window, r.outcome, r.rows, new Date(r.startedAt).toISOString().replace('T', ' ').slice(0, 19), `${(r.ms / 1000).toFixed(1)} s`, r.error])} />
        )}
        {data.runs?.some((r) => r.outcome === 'failed') && <p class="error" role="alert">{data.runs.filter((r) => r.outcome === 'failed').length} failed run(s) among the latest: see the error column.</p>}
      </Section>
      <Section title="Job windows" id="windows">
        {data.jobs.length === 0 && <p class="muted">No job has run yet.</p>}
        {data.jobs.map((j) => (
          <div key={j.table}>
            <h3>{j.table}</h3>
            <div class="table-wrap" tabIndex={0} role="region" aria-label={`Windows of ${j.table}`}>
              <table>
                <thead><tr><th scope="col">day (UTC)</th><th scope="col">state</th><th scope="col" class="num">rows</th><th scope="col">computed at</th></tr></thead>
                <tbody>{j.windows.map((w) => <tr key={w.dt}><th scope="row">{w.dt}</th><td>{w.isFinal === null ? '–' : <Badge health={w.isFinal ? 'final' : 'provisional'} />}</td><td class="num">{w.rows}</td><td>{w.computedAt ?? '–'}</td></tr>)}</tbody>
              </table>
            </div>
          </div>
        ))}
      </Section>
    </>
  );
}

function Experiment({ id }: { id: string }) {
  const { data, error, loading } = useData(() => get<{ experiment: string; srmAlert: number; rows: AbRow[] }>('experiment', { id }), [id]);
  if (loading && !data) return <Loading what={id} />;
  if (error) return <ErrorBox message={error} />;
  if (!data) return null;
  return <AbReport experiment={data.experiment} rows={data.rows} srmAlert={data.srmAlert} />;
}

