// Quarantine: counts by reason and event over time, a record decoded with what its reason names highlighted,
// and replay of a selection (optionally transformed, as `tributary quarantine replay`) with its progress.
import type { PlotModule } from '../ui.js';
import { useMemo, useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { navigate } from '../nav.js';
import { Badge, Chart, DataTable, ErrorBox, Loading, Section, useData } from '../ui.js';
import { highlight } from '../text.js';

interface Data {
  counts: Array<{ reason: string; event: string | null; status: string; records: number; first: string; last: string }>;
  hourly: Array<{ hour: number; reason: string; event: string; records: number }>;
  records: Array<{ id: string; reason: string; event: string | null; detail: string; status: string; kafkaTimestamp: string }>;
}
type Bytes = { encoding: 'utf8' | 'base64'; text: string } | null;
interface RecordView {
  id: string; status: string; reason: string; detail: string; event: string | null;
  lineage: { topic: string; partition: number; offset: number; kafka_timestamp: string; received_at: string; quarantine_files: string[] };
  resolution: { resolved_at: string; how: string } | null;
  key: Bytes; headers: Array<{ key: string; value: Bytes }>; value: Bytes;
}
interface Progress { done: number; total: number; landed: number; failed: number; finished: boolean; error: string | null; summary: string | null }

export function Quarantine({ params }: { params: URLSearchParams }) {
  const reason = params.get('reason') ?? '';
  const showAll = params.get('all') === '1';
  const { data, error, loading, reload } = useData(() => get<Data>('quarantine', { reason: reason || undefined, all: showAll ? '1' : undefined }), [reason, showAll]);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<string | undefined>(params.get('record') ?? undefined);
  const chart = useMemo(() => data && data.hourly.length ? {
    width: 720, height: 260, marginLeft: 50, color: { legend: true, scheme: 'tableau10' as const },
    x: { type: 'utc' as const, label: 'Kafka timestamp, hour (UTC)' }, y: { label: 'Records quarantined', grid: true },
    marks: (Plot: PlotModule) => [Plot.rectY(data.hourly.map((h) => ({ ...h, hour: new Date(h.hour) })), { x: 'hour', interval: 'hour', y: 'records', fill: { value: 'reason', scale: 'color' }, tip: true }), Plot.ruleY([0])],
  } : undefined, [data]);
  if (loading && !data) return <Loading what="the quarantine" />;
  if (error) return <ErrorBox message={error} />;
  if (!data) return null;
  const reasons = [...new Set(data.counts.map((c) => c.reason))].sort();
  const toggle = (id: string): void => setChosen((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });
  const openRecords = data.records.filter((r) => r.status === 'open');
  return (
    <>
      <div class="grid">
        <Section title="Quarantined over time, by reason" id="over-time">
          {chart ? <Chart label="Quarantined records per hour, by reason" options={chart} /> : <p class="muted">Nothing quarantined.</p>}
        </Section>
        <Section title="By reason and event" id="counts">
          <DataTable caption={`${showAll ? 'All' : 'Open'} records by reason and event`} columns={['reason', 'event', 'status', 'records', 'first', 'last']}
            rows={data.counts.map((c) => [c.reason, c.event ?? '∅', c.status, c.records, c.first, c.last])} />
        </Section>
      </div>
      <Section title="Records" id="records">
        <div class="row">
          <label for="reason">Reason</label> <select id="reason" value={reason} onChange={(e) => navigate('quarantine', { ...((e.target as HTMLSelectElement).value ? { reason: (e.target as HTMLSelectElement).value } : {}), ...(showAll ? { all: '1' } : {}) })}>
            <option value="">all reasons</option>{reasons.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
          <label><input type="checkbox" checked={showAll} onChange={() => navigate('quarantine', { ...(reason ? { reason } : {}), ...(showAll ? {} : { all: '1' }) })} /> include resolved</label>
          <button class="secondary" onClick={() => setChosen(new Set(openRecords.map((r) => r.id)))}>Select all open ({openRecords.length})</button>
          <button class="secondary" onClick={() => setChosen(new Set())}>Clear selection</button>
        </div>
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Quarantined records">
          <table>
            <thead><tr><th scope="col">select</th><th scope="col">record</th><th scope="col">reason</th><th scope="col">event</th><th scope="col">status</th><th scope="col">Kafka timestamp</th><th scope="col">detail</th></tr></thead>
            <tbody>
              {data.records.map((r) => (
                <tr key={r.id} class={open === r.id ? 'selected' : ''}>
                  <td><input type="checkbox" aria-label={`select ${r.id}`} checked={chosen.has(r.id)} onChange={() => toggle(r.id)} /></td>
                  <td><button class="secondary" onClick={() => setOpen(r.id)} aria-label={`show ${r.id}`}>{r.id}</button></td>
                  <td>{r.reason}</td><td>{r.event ?? '∅'}</td><td><Badge health={r.status} /></td><td>{r.kafkaTimestamp}</td><td title={r.detail}>{r.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {data.records.length === 500 && <p class="muted">The first 500 records are listed; filter by reason to see others.</p>}
      </Section>
      <Replay ids={[...chosen]} onDone={() => { setChosen(new Set()); reload(); }} />
      {open && <RecordDetail key={open} id={open} />}
    </>
  );
}

function Replay({ ids, onDone }: { ids: string[]; onDone: () => void }) {
  const [rename, setRename] = useState('');
  const [set, setSet] = useState('');
  const [tsFormat, setTsFormat] = useState('');
  const [progress, setProgress] = useState<Progress | undefined>();
  const [error, setError] = useState<string | undefined>();
  const lines = (s: string): string[] => s.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const start = async (): Promise<void> => {
    setError(undefined);
    setProgress(undefined);
    try {
      const { job, total } = await post<{ job: string; total: number }>('quarantine/replay', { ids, rename: lines(rename), set: lines(set), tsFormat });
      setProgress({ done: 0, total, landed: 0, failed: 0, finished: false, error: null, summary: null });
      for (;;) {
        await new Promise((r) => setTimeout(r, 250));
        const p = await get<Progress>('quarantine/replay-progress', { job });
        setProgress(p);
        if (p.finished) break;
      }
      onDone();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <Section title="Replay" id="replay">
      <p class="muted">Replays the selected records through ingest under their own Kafka identity (replaying twice stores a record once); records that land are marked resolved. Transformations apply to the JSON envelope, in this order.</p>
      <div class="grid">
        <div><label for="rename">Rename properties (OLD=NEW, one per line)</label><textarea id="rename" rows={2} value={rename} onInput={(e) => setRename((e.target as HTMLTextAreaElement).value)} /></div>
        <div><label for="set">Set missing properties (PROP=VALUE, one per line; VALUE is JSON when it parses)</label><textarea id="set" rows={2} value={set} onInput={(e) => setSet((e.target as HTMLTextAreaElement).value)} /></div>
        <div><label for="ts-format">Timestamp format of ts (epoch-s, epoch-us, epoch-ns or a pattern such as DD/MM/YYYY HH:mm:ss)</label><input id="ts-format" type="text" value={tsFormat} onInput={(e) => setTsFormat((e.target as HTMLInputElement).value)} /></div>
      </div>
      <div class="row">
        <button class="primary" disabled={ids.length === 0 || (progress !== undefined && !progress.finished)} onClick={() => void start()}>Replay {ids.length} selected</button>
        {progress && (
          <span role="status" aria-live="polite">
            <progress max={progress.total} value={progress.done} aria-label="replay progress" /> {progress.done}/{progress.total}: {progress.landed} stored, {progress.failed} quarantined again
            {progress.finished && <strong data-replay="finished"> · {progress.error ?? `done: ${progress.summary ?? ''}`}</strong>}
          </span>
        )}
      </div>
      {error && <ErrorBox message={error} />}
    </Section>
  );
}

function RecordDetail({ id }: { id: string }) {
  const { data, error, loading } = useData(() => get<RecordView>('quarantine/record', { id }), [id]);
  if (loading && !data) return <Loading what={id} />;
  if (error) return <ErrorBox message={error} />;
  if (!data) return null;
  let pretty = data.value?.text ?? '';
  if (data.value?.encoding === 'utf8') {
    try { pretty = JSON.stringify(JSON.parse(pretty), null, 2); } catch { /* not JSON: shown as it came */ }
  }
  const parts = data.value?.encoding === 'utf8' ? highlight(pretty, data.detail) : [{ text: pretty, mark: false }];
  return (
    <Section title={`Record ${data.id}`} id="record">
      <p class="banner banner-critical"><strong>{data.reason}</strong>: <span data-detail>{data.detail}</span></p>
      <dl class="facts">
        <dt>status</dt><dd><Badge health={data.status} />{data.resolution && ` ${data.resolution.resolved_at} by ${data.resolution.how}`}</dd>
        <dt>event</dt><dd>{data.event ?? '∅ (unknown)'}</dd>
        <dt>Kafka position</dt><dd>{data.lineage.topic} · partition {data.lineage.partition} · offset {data.lineage.offset}</dd>
        <dt>Kafka timestamp</dt><dd>{data.lineage.kafka_timestamp}</dd>
        <dt>quarantined at</dt><dd>{data.lineage.received_at}</dd>
        <dt>quarantine files</dt><dd>{data.lineage.quarantine_files.join(', ') || '– (no ingest log entry)'}</dd>
        <dt>key</dt><dd>{data.key === null ? '∅' : data.key.encoding === 'utf8' ? data.key.text : `base64:${data.key.text}`}</dd>
        <dt>headers</dt><dd>{data.headers.length ? data.headers.map((h) => `${h.key}=${h.value?.text ?? '∅'}`).join(', ') : '–'}</dd>
      </dl>
      <h3>Value{data.value?.encoding === 'base64' ? ' (not UTF-8: base64)' : ''}</h3>
      <pre class="value" aria-label="decoded value">{parts.map((p, i) => (p.mark ? <mark key={i}>{p.text}</mark> : p.text))}</pre>
    </Section>
  );
}
