import { readFileSync } from 'node:fs';
import { decodeMskEvent, encodeMskEvent } from './functions/core/msk-event.ts';
import { parseBatch, planBatch } from './functions/core/batch-plan.ts';
import { buildArrowTable } from './functions/core/columnar.ts';
import { encodeParquet } from './functions/core/parquet.ts';
import { tableColumns } from './functions/core/schema.ts';
import { DEFAULT_ENVELOPE_LIMITS } from './functions/core/envelope.ts';
const lines = readFileSync('/tmp/prof/ev.ndjson', 'utf8').split('\n').filter(Boolean);
const now = Date.now();
const t: Record<string, number> = {};
const time = <T>(k: string, f: () => T): T => { const s = performance.now(); const r = f(); t[k] = (t[k] ?? 0) + performance.now() - s; return r; };
for (let rep = 0; rep < 3; rep++) {
  for (const k in t) t[k] = 0;
  for (let i = 0; i < lines.length; i += 10000) {
    const ev = encodeMskEvent(lines.slice(i, i + 10000).map((l, k) => ({ topic: 'b', partition: 0, offset: i + k, timestamp: now, value: Buffer.from(l) })));
    const { records, problems } = time('decode', () => decodeMskEvent(ev));
    time('jsonOnly', () => { for (const r of records) try { JSON.parse(r.value!.toString('utf8')); } catch {} });
    const parsed = time('parseBatch', () => parseBatch(records, problems, now, DEFAULT_ENVELOPE_LIMITS));
    const plan = time('plan', () => planBatch(parsed, { now, piiSalt: '', knownSchemas: new Map() }));
    const tbls = time('arrow', () => plan.splits.map((s) => buildArrowTable(tableColumns(plan.tables.get(s.table)!.schema), s.rows)));
    time('parquet', () => { for (const tb of tbls) encodeParquet(tb); });
  }
  console.log(Object.entries(t).map(([k, v]) => `${k}=${v.toFixed(0)}ms`).join(' '));
}
