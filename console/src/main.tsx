// The Tributary console: one page per concern, chosen by the URL's hash (#/overview, #/sql, …).
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Overview } from './pages/overview.js';
import { Sql } from './pages/sql.js';
import { Tables } from './pages/tables.js';
import { Quarantine } from './pages/quarantine.js';
import { Lineage } from './pages/lineage.js';
import { Jobs } from './pages/jobs.js';
import { prefetch } from './api.js';
import './style.css';

const PAGES = [
  { path: 'overview', title: 'Overview', Page: Overview },
  { path: 'sql', title: 'SQL', Page: Sql },
  { path: 'tables', title: 'Tables', Page: Tables },
  { path: 'quarantine', title: 'Quarantine', Page: Quarantine },
  { path: 'lineage', title: 'Lineage', Page: Lineage },
  { path: 'jobs', title: 'Jobs & experiments', Page: Jobs },
] as const;

export interface Route { page: string; params: URLSearchParams }

function parse(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  return { page: PAGES.some((p) => p.path === path) ? path : 'overview', params: new URLSearchParams(query) };
}

// The overview's data is asked for as the script starts, not after the first render (bench:console).
if (parse(location.hash).page === 'overview') prefetch('overview');

function App() {
  const [route, setRoute] = useState(parse(location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parse(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const current = PAGES.find((p) => p.path === route.page) ?? PAGES[0];
  const first = useRef(true);
  useEffect(() => {
    document.title = `${current.title} · Tributary console`;
    // After a page change, focus goes to the new page (a screen reader reads its heading); not on first load.
    if (!first.current) document.getElementById('main')?.focus();
    first.current = false;
  }, [current.path]);
  const { Page } = current;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header>
        <span class="brand">Tributary</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => <li key={p.path}><a href={`#/${p.path}`} aria-current={p.path === current.path ? 'page' : undefined}>{p.title}</a></li>)}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{current.title}</h1>
        <Page params={route.params} />
      </main>
    </>
  );
}

const root = document.getElementById('app')!;
root.replaceChildren();
render(<App />, root);
