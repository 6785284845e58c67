// The standalone A/B report (`tributary ab report --out report.html`): the console's own AbReport component
// and charts, on the rows the page carries in a JSON script element. Inlined into one file: no network.
import { render } from 'preact';
import { AbReport, type AbRow } from './ab-report.js';
import './style.css';

interface Data { experiment: string; srmAlert: number; rows: AbRow[] }

const source = document.getElementById('ab-data');
const root = document.getElementById('app');
if (source && root) {
  const data = JSON.parse(source.textContent ?? '{}') as Data;
  root.replaceChildren();
  render(<main><AbReport experiment={data.experiment} rows={data.rows} srmAlert={data.srmAlert} /></main>, root);
}
