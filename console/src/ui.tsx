// Small shared pieces: loading state, errors, health badges, a Plot chart, data tables.
// Values from data are only ever children (text nodes) or attributes set by Preact: never markup.
import type * as PlotNS from '@observablehq/plot';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure } from './api.js';

export type Health = 'ok' | 'warn' | 'critical';

/** Loads `load()` when `deps` change; `reload` runs it again. */
export function useData<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: string | undefined; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: string | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then((data) => live && setState({ data, error: undefined, loading: false }),
      (e: unknown) => live && setState({ data: undefined, error: e instanceof ApiFailure || e instanceof Error ? e.message : String(e), loading: false }));
    return () => { live = false; };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function Loading({ what }: { what: string }) {
  return <p class="loading" role="status">Loading {what}…</p>;
}

export function ErrorBox({ message }: { message: string }) {
  return <p class="error" role="alert">{message}</p>;
}

export function Badge({ health }: { health: Health | string }) {
  return <span class={`badge badge-${health}`}>{health}</span>;
}

export type PlotModule = typeof PlotNS;
/** Plot's options, with the marks made once Plot has loaded (it is a chunk of its own: pages show before it). */
export type ChartSpec = Omit<PlotNS.PlotOptions, 'marks'> & { marks: (P: PlotModule) => PlotNS.Markish[] };

let loading: Promise<PlotModule> | undefined;
const loadPlot = (): Promise<PlotModule> => (loading ??= import('@observablehq/plot'));

/** An Observable Plot figure, redrawn when `options` change. */
export function Chart({ options, label }: { options: ChartSpec; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let live = true;
    let figure: (HTMLElement | SVGSVGElement) | undefined;
    void loadPlot().then((Plot) => {
      const el = ref.current;
      if (!live || !el) return;
      figure = Plot.plot({ style: { fontSize: '12px', background: 'transparent' }, ...options, marks: options.marks(Plot) });
      figure.setAttribute('aria-label', label);
      figure.setAttribute('role', 'img');
      el.replaceChildren(figure);
    });
    return () => {
      live = false;
      figure?.remove();
    };
  }, [options, label]);
  return <div class="chart" ref={ref} />;
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return <section aria-labelledby={id}><h2 id={id}>{title}</h2>{children}</section>;
}

/** A cell as text: null as ∅, objects as JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '∅';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function DataTable({ columns, rows, caption, numeric = [] }: { columns: string[]; rows: unknown[][]; caption?: string; numeric?: string[] }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={caption ?? 'table'}>
      <table>
        {caption && <caption>{caption}</caption>}
        <thead><tr>{columns.map((c) => <th scope="col" key={c}>{c}</th>)}</tr></thead>
        <tbody>
          {rows.map((r, i) => <tr key={i}>{r.map((v, j) => <td key={j} class={numeric.includes(columns[j] ?? '') || typeof v === 'number' ? 'num' : ''}>{cellText(v)}</td>)}</tr>)}
        </tbody>
      </table>
    </div>
  );
}

export function duration(s: number | null): string {
  if (s === null) return '–';
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}
