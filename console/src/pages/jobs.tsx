// Jobs and experiments: each job's windows (final or provisional), and an experiment's A/B results rebuilt
// for experimenters: SRM verdict first, users per variant, relative lift with its 95 % CI per metric and
// variant (control first), cumulative lift over days with labelled axes, final vs provisional marked.
import { get } from '../api.js';
import { navigate } from '../nav.js';
import { Badge, DataTable, ErrorBox, Loading, Section, useData } from '../ui.js';
import { AbReport, type AbRow } from '../ab-report.js';

interface JobsData { jobs: Array<{ table: string; windows: Array<{ dt: string; rows: number; isFinal: boolean | null; computedAt: string | null }> }>; experiments: string[] }

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

