// Tables: every registered event, its status (inferred / pinned / declared), versions and history, fields
// with type and origin, sample rows, rows per hour in ClickHouse and the lake; and the no-code registration
// flow: edit the pinned schema, check it (diff and compatibility verdict), push it.
import type { PlotModule } from '../ui.js';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { navigate } from '../nav.js';
import { Badge, Chart, DataTable, ErrorBox, Loading, Section, useData } from '../ui.js';

interface TableRow { table: string; status: string; version: number | null; updatedAt: string | null; declared: number; inferred: number; lastChange: string }
interface Field { name: string; type: string; nullable: boolean; origin: string; pii?: string | null; since?: number; source?: string; addedAt?: string; description?: string }
interface Detail {
  entry: { table: string; version: number; status: string; createdAt: string; updatedAt: string; description?: string; required: string[]; orderBy: string[];
    fields: Field[]; history: Array<{ version: number; at: string; status: string; change: string }> };
  standardColumns: string[];
  document: string;
  sample: { columns: Array<{ name: string; type: string }>; rows: unknown[][] };
  hours: Array<{ hour: string; clickhouse: number; lake: number }>;
}
interface Verdict { compatible: boolean; problems: string[]; change: string | null; before: Field[]; after: Field[] }

export function Tables({ params }: { params: URLSearchParams }) {
  const list = useData(() => get<{ tables: TableRow[] }>('tables'), []);
  const selected = params.get('table') ?? list.data?.tables.find((t) => t.version !== null)?.table;
  if (list.loading && !list.data) return <Loading what="tables" />;
  if (list.error) return <ErrorBox message={list.error} />;
  return (
    <div class="split">
      <nav aria-label="Tables">
        <ul class="list">
          {list.data?.tables.map((t) => (
            <li key={t.table}><button aria-pressed={t.table === selected} onClick={() => navigate('tables', { table: t.table })}>
              <span>{t.table}</span><Badge health={t.status} />
            </button></li>
          ))}
        </ul>
      </nav>
      <div>{selected ? <TableDetail key={selected} table={selected} onChanged={list.reload} /> : <p class="muted">No tables yet.</p>}</div>
    </div>
  );
}

function diffRows(v: Verdict): Array<{ name: string; kind: 'added' | 'removed' | 'changed' | 'same'; before: string; after: string }> {
  const describe = (f: Field | undefined): string => (f ? `${f.type}${f.nullable ? '' : ' not null'}${f.pii ? ` pii:${f.pii}` : ''} (${f.origin})` : '–');
  const before = new Map(v.before.map((f) => [f.name, f]));
  const after = new Map(v.after.map((f) => [f.name, f]));
  const names = [...new Set([...before.keys(), ...after.keys()])];
  return names.map((name) => {
    const b = before.get(name);
    const a = after.get(name);
    const kind = !b ? 'added' : !a ? 'removed' : describe(a) === describe(b) ? 'same' : 'changed';
    return { name, kind, before: describe(b), after: describe(a) };
  });
}

function TableDetail({ table, onChanged }: { table: string; onChanged: () => void }) {
  const { data, error, loading, reload } = useData(() => get<Detail>('table', { table }), [table]);
  const [doc, setDoc] = useState('');
  const [verdict, setVerdict] = useState<Verdict | undefined>();
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();
  useEffect(() => { if (data) setDoc(data.document); }, [data]);
  const hoursChart = useMemo(() => {
    if (!data?.hours.length) return undefined;
    const long = data.hours.flatMap((h) => [{ hour: h.hour, where: 'ClickHouse', rows: h.clickhouse }, { hour: h.hour, where: 'lake', rows: h.lake }]);
    return {
      width: 720, height: 240, marginLeft: 60, marginBottom: 50, color: { legend: true, domain: ['ClickHouse', 'lake'], range: ['#0550ae', '#bc4c00'] },
      fx: { label: 'Hour (UTC)', tickRotate: -20 }, x: { axis: null }, y: { label: 'Rows', grid: true },
      marks: (Plot: PlotModule) => [Plot.barY(long, { fx: 'hour', x: 'where', y: 'rows', fill: 'where', tip: true }), Plot.ruleY([0])],
    };
  }, [data]);
  if (loading && !data) return <Loading what={table} />;
  if (error) return <ErrorBox message={error} />;
  if (!data) return null;
  const e = data.entry;
  const check = async (): Promise<void> => {
    setMessage(undefined);
    try {
      setVerdict(await post<Verdict>('schema/check', { table, document: doc }));
    } catch (err) {
      setVerdict(undefined);
      setMessage({ ok: false, text: (err as Error).message });
    }
  };
  const push = async (): Promise<void> => {
    try {
      const r = await post<{ changed: boolean; version: number; change: string }>('schema/push', { table, document: doc });
      setMessage({ ok: true, text: r.changed ? `${table}: pinned as version ${r.version} (${r.change}). Ingest applies it to the next batch (within the registry TTL).` : `${table}: this exact schema is already in force (version ${r.version}); nothing changed.` });
      setVerdict(undefined);
      reload();
      onChanged();
    } catch (err) {
      setMessage({ ok: false, text: (err as Error).message });
    }
  };
  return (
    <>
      <h2>{e.table} <Badge health={e.status} /></h2>
      <p>version {e.version} · created {e.createdAt} · updated {e.updatedAt} · order by ({e.orderBy.join(', ')}) · required [{e.required.join(', ')}]</p>
      {e.description && <p>{e.description}</p>}
      <Section title="Fields" id="fields">
        <DataTable caption={`Properties of ${e.table}; standard columns on every table: ${data.standardColumns.join(', ')}`}
          columns={['field', 'type', 'nullable', 'origin', 'since', 'added', 'added by', 'pii']}
          rows={e.fields.map((f) => [f.name, f.type, f.nullable ? 'yes' : 'no', f.origin, `v${f.since}`, f.addedAt ?? '', f.source ?? '', f.pii ?? ''])} />
      </Section>
      <Section title="Versions" id="history">
        <DataTable caption="Change history, oldest first" columns={['version', 'at', 'status', 'change']} rows={e.history.map((h) => [`v${h.version}`, h.at, h.status, h.change])} />
      </Section>
      <Section title="Rows per hour: ClickHouse and lake" id="hours">
        {hoursChart ? <Chart label="Rows per hour in ClickHouse and in the lake" options={hoursChart} /> : <p class="muted">No rows yet.</p>}
        {data.hours.length > 0 && <DataTable caption="Rows per hour" columns={['hour', 'ClickHouse', 'lake']} rows={data.hours.map((h) => [h.hour, h.clickhouse, h.lake])} />}
      </Section>
      <Section title="Sample rows" id="sample">
        {data.sample.rows.length ? <DataTable caption="Newest 20 rows in ClickHouse" columns={data.sample.columns.map((c) => c.name)} rows={data.sample.rows} /> : <p class="muted">No rows in ClickHouse.</p>}
      </Section>
      <Section title="Pin and push the schema" id="push">
        <p class="muted">The registered schema as a JSON Schema document (what <code>tributary schema pin {e.table}</code> writes). Edit it, check the change, then push: ingest applies it to the next batch.</p>
        <label for="schema-doc">Schema of {e.table}</label>
        <textarea id="schema-doc" rows={14} spellcheck={false} value={doc} onInput={(ev) => { setDoc((ev.target as HTMLTextAreaElement).value); setVerdict(undefined); }} />
        <div class="row">
          <button class="secondary" onClick={() => void check()}>Check change</button>
          <button class="primary" onClick={() => void push()} disabled={!verdict?.compatible}>Push schema</button>
          <button class="secondary" onClick={() => { setDoc(data.document); setVerdict(undefined); }}>Reset</button>
        </div>
        {message && (message.ok ? <p class="banner banner-ok" role="status">{message.text}</p> : <ErrorBox message={message.text} />)}
        {verdict && (
          <div aria-live="polite">
            <p class={`banner ${verdict.compatible ? 'banner-ok' : 'banner-critical'}`} data-verdict={verdict.compatible ? 'compatible' : 'incompatible'}>
              <strong>{verdict.compatible ? 'Compatible' : 'Incompatible'}</strong>: {verdict.compatible ? verdict.change : verdict.problems.join('; ')}
            </p>
            <div class="table-wrap"><table>
              <caption>Fields before and after</caption>
              <thead><tr><th scope="col">field</th><th scope="col">change</th><th scope="col">before</th><th scope="col">after</th></tr></thead>
              <tbody>{diffRows(verdict).map((d) => <tr key={d.name} class={`diff-${d.kind}`}><th scope="row">{d.name}</th><td>{d.kind}</td><td>{d.before}</td><td>{d.after}</td></tr>)}</tbody>
            </table></div>
          </div>
        )}
      </Section>
    </>
  );
}
