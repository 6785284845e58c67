// SQL: a read query against the local warehouse (ClickHouse SQL; lake tables as lake.<table>), its result
// as a table and a quick chart, a history kept in this browser, and the result as CSV.
import type { PlotModule } from '../ui.js';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { Chart, DataTable, ErrorBox, Section, cellText } from '../ui.js';
import { toCsv } from '../text.js';

interface Result { columns: Array<{ name: string; type: string }>; rows: unknown[][]; truncated: boolean; elapsedMs: number }
interface SampleInfo { tables: Array<{ table: string; rows: number; columns: Array<{ name: string; type: string }> }>; skipped: string[]; window?: { kind: string; start: string; end: string } }
/** A job file of schemas/jobs/ (its SQL reads {window_start}/{window_end}, bound on the sample) */
interface JobFile { file: string; name?: string; window?: 'hourly' | 'daily'; description?: string; sql?: string; problems: string[] }

const HISTORY_KEY = 'tributary.sql.history';
const DEFAULT_SQL = 'SELECT event, count() AS events\nFROM (\n  SELECT \'page_view\' AS event FROM tributary.page_view\n  UNION ALL SELECT \'click\' FROM tributary.click\n  UNION ALL SELECT \'purchase\' FROM tributary.purchase\n)\nGROUP BY event\nORDER BY events DESC';

function loadHistory(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

const NUMERIC = /^(Nullable\()?(U?Int|Float|Decimal)/;
const TIME = /^(Nullable\()?(Date|DateTime)/;

export function Sql(_: { params: URLSearchParams }) {
  const [text, setText] = useState(() => loadHistory()[0] ?? DEFAULT_SQL);
  const [result, setResult] = useState<Result | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [running, setRunning] = useState(false);
  const [history, setHistory] = useState(loadHistory);
  const [source, setSource] = useState<'store' | 'sample'>('store');
  const [sampleText, setSampleText] = useState('');
  const [generate, setGenerate] = useState(500);
  const [sample, setSample] = useState<SampleInfo | undefined>();
  const [jobFiles, setJobFiles] = useState<JobFile[]>([]);
  /** the window of the job whose SQL is in the editor: the sample run binds its parameters */
  const [jobWindow, setJobWindow] = useState<'hourly' | 'daily' | undefined>();
  useEffect(() => {
    if (source === 'sample' && jobFiles.length === 0) get<{ files: JobFile[] }>('jobs/files').then((r) => setJobFiles(r.files), () => setJobFiles([]));
  }, [source]);
  const [x, setX] = useState('');
  const [y, setY] = useState('');

  const run = async (): Promise<void> => {
    setRunning(true);
    setError(undefined);
    try {
      let r: Result;
      if (source === 'sample') {
        const answer = await post<{ result: Result } & SampleInfo>('sql/sample', { sql: text, ...(jobWindow ? { window: jobWindow } : {}), ...(sampleText.trim() ? { events: sampleText } : { generate }) });
        r = answer.result;
        setSample({ tables: answer.tables, skipped: answer.skipped, ...(answer.window ? { window: answer.window } : {}) });
      } else {
        r = await post<Result>('sql', { sql: text });
        setSample(undefined);
      }
      setResult(r);
      const numeric = r.columns.filter((c) => NUMERIC.test(c.type));
      setX(r.columns.find((c) => !NUMERIC.test(c.type))?.name ?? r.columns[0]?.name ?? '');
      setY(numeric.at(-1)?.name ?? '');
      const next = [text, ...history.filter((h) => h !== text)].slice(0, 30);
      setHistory(next);
      localStorage.setItem(HISTORY_KEY, JSON.stringify(next));
    } catch (e) {
      setError((e as Error).message);
      setResult(undefined);
    } finally {
      setRunning(false);
    }
  };

  const chart = useMemo(() => {
    if (!result || !x || !y) return undefined;
    const xi = result.columns.findIndex((c) => c.name === x);
    const yi = result.columns.findIndex((c) => c.name === y);
    if (xi < 0 || yi < 0) return undefined;
    const type = result.columns[xi]!.type;
    const data = result.rows.map((r) => ({ x: TIME.test(type) ? new Date(String(r[xi]).replace(' ', 'T') + (String(r[xi]).length > 10 ? 'Z' : '')) : NUMERIC.test(type) ? Number(r[xi]) : cellText(r[xi]), y: Number(r[yi]) }));
    const ordinal = !TIME.test(type) && !NUMERIC.test(type);
    return {
      width: 720, height: 300, marginLeft: 70, marginBottom: ordinal ? 60 : 40,
      // Ordinal x in the result's order (the query's ORDER BY), not sorted by name.
      x: { label: x, ...(ordinal ? { tickRotate: -30, domain: [...new Set(data.map((d) => String(d.x)))] } : {}) }, y: { label: y, grid: true },
      marks: (Plot: PlotModule) => [ordinal ? Plot.barY(data, { x: 'x', y: 'y', fill: '#0550ae', tip: true }) : Plot.lineY(data, { x: 'x', y: 'y', stroke: '#0550ae', marker: 'circle', tip: true }), Plot.ruleY([0])],
    };
  }, [result, x, y]);

  const download = (): void => {
    if (!result) return;
    const url = URL.createObjectURL(new Blob([toCsv(result)], { type: 'text/csv;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'tributary-query.csv';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return (
    <>
      <p class="muted">Reads only (SELECT, SHOW, DESCRIBE, EXPLAIN), in database <code>tributary</code>; fresh tables as <code>&lt;event&gt;</code> (deduplicated: <code>&lt;event&gt;_dedup</code>, with the lake's history: <code>&lt;event&gt;_all</code>), the lake as <code>lake.&lt;event&gt;</code>. Ctrl+Enter runs.</p>
      <label for="sql-editor">Query</label>
      <textarea id="sql-editor" rows={9} spellcheck={false} value={text}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => { if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') { e.preventDefault(); void run(); } }} />
      <fieldset class="row">
        <legend>Run against</legend>
        <label><input type="radio" name="source" checked={source === 'store'} onChange={() => setSource('store')} /> the store's tables</label>
        <label><input type="radio" name="source" checked={source === 'sample'} onChange={() => setSource('sample')} /> sample events, in a scratch database (debugging)</label>
      </fieldset>
      {source === 'sample' && (
        <div class="sample">
          <p class="muted">The sample is loaded into a scratch database of its own (one table per event, standard columns and one column per property, types inferred from the sample) and dropped after the query: the real tables are never written. Name the sample's tables without a database: <code>SELECT … FROM page_view</code>.</p>
          <label for="sample-events">Sample events (one JSON envelope per line; empty: generated)</label>
          <textarea id="sample-events" rows={5} spellcheck={false} value={sampleText} placeholder={'{"event": "page_view", "event_id": "e1", "ts": "2026-11-20T09:00:00Z", "user_id": "u1", "properties": {"page": "/"}}'}
            onInput={(e) => setSampleText((e.target as HTMLTextAreaElement).value)} />
          <label>Generated events when none are pasted (npm start's traffic) <input type="number" min={1} max={10000} value={generate} onInput={(e) => setGenerate(Number((e.target as HTMLInputElement).value))} /></label>
          <label for="sample-job">A job's SQL (schemas/jobs/): its window is bound to the sample's latest {jobWindow === 'hourly' ? 'hour' : 'day'}</label>
          <select id="sample-job" value={jobFiles.find((j) => j.sql === text)?.name ?? ''} onChange={(e) => {
            const job = jobFiles.find((j) => j.name === (e.target as HTMLSelectElement).value);
            if (job?.sql) { setText(job.sql); setJobWindow(job.window); } else setJobWindow(undefined);
          }}>
            <option value="">(none: the query as written)</option>
            {jobFiles.filter((j) => j.name && j.sql).map((j) => <option key={j.name} value={j.name}>{j.name} ({j.window}) {j.description ? `: ${j.description}` : ''}</option>)}
          </select>
          {jobFiles.some((j) => j.problems.length > 0) && <p class="muted">Job files with problems (tributary jobs check): {jobFiles.filter((j) => j.problems.length > 0).map((j) => j.file).join(', ')}</p>}
        </div>
      )}
      <div class="row">
        <button class="primary" onClick={() => void run()} disabled={running}>{running ? 'Running…' : source === 'sample' ? 'Run on sample' : 'Run'}</button>
        <button class="secondary" onClick={download} disabled={!result}>Download CSV</button>
        {result && <span class="muted" role="status">{result.rows.length.toLocaleString('en')} row{result.rows.length === 1 ? '' : 's'}{result.truncated ? ' (first 5,000 shown)' : ''} in {result.elapsedMs} ms</span>}
      </div>
      {error && <ErrorBox message={error} />}
      {sample && (
        <Section title="Sample tables (scratch database, dropped)" id="sample-tables">
          {sample.window && <p role="status">Job window bound: <code>{sample.window.start}</code> to <code>{sample.window.end}</code> ({sample.window.kind}, the sample's latest)</p>}
          <DataTable caption="The sample's tables" columns={['table', 'rows', 'columns']} rows={sample.tables.map((t) => [t.table, t.rows, t.columns.map((c) => `${c.name} ${c.type}`).join(', ')])} />
          {sample.skipped.length > 0 && <p class="muted">Skipped: {sample.skipped.slice(0, 10).join('; ')}{sample.skipped.length > 10 ? ` and ${sample.skipped.length - 10} more` : ''}</p>}
        </Section>
      )}
      {result && (
        <>
          <Section title="Result" id="result">
            <DataTable caption="Query result" columns={result.columns.map((c) => c.name)} rows={result.rows} />
          </Section>
          <Section title="Quick chart" id="quick-chart">
            <div class="row">
              <label for="chart-x">x</label> <select id="chart-x" value={x} onChange={(e) => setX((e.target as HTMLSelectElement).value)}>{result.columns.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}</select>
              <label for="chart-y">y</label> <select id="chart-y" value={y} onChange={(e) => setY((e.target as HTMLSelectElement).value)}>
                <option value="">(none)</option>
                {result.columns.filter((c) => NUMERIC.test(c.type)).map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
              </select>
            </div>
            {chart ? <Chart label={`${y} by ${x}`} options={chart} /> : <p class="muted">Pick a numeric column for y.</p>}
          </Section>
        </>
      )}
      <Section title="History" id="history">
        {history.length === 0 ? <p class="muted">Queries you run appear here (kept in this browser).</p> : (
          <ul class="list">
            {history.map((h, i) => <li key={i}><button onClick={() => setText(h)} title="Put this query in the editor"><code>{h.length > 160 ? `${h.slice(0, 160)}…` : h}</code></button></li>)}
          </ul>
        )}
      </Section>
    </>
  );
}
