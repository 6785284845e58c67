// Sample-data debugging, as the seeds' consoles offer it: a query run against sample events (pasted, or
// generated like npm start's traffic) loaded into a scratch database of their own, dropped afterwards. The
// real tables are never written; unqualified names in the query are the sample's tables.
import { randomBytes } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { isValidEventName, isValidPropertyName, normaliseName, quoteIdentifier, quoteString } from '../../../core/identifiers.js';
import { parseTimestamp } from '../../../core/time.js';
import { generateTraffic } from '../../traffic.js';
import { ApiError, readQuery } from './api.js';
import type { Exclusive } from './sources.js';
import type { WindowKind } from '../../../core/jobs/window.js';

export const MAX_SAMPLE_EVENTS = 10_000;
const HOUR_MS = 3_600_000;

export interface SampleTable { readonly table: string; readonly rows: number; readonly columns: Array<{ name: string; type: string }> }

/** Sample envelopes as rows per table, with the standard columns a real table has. */
export function sampleRows(lines: readonly string[]): { tables: Map<string, Array<Record<string, unknown>>>; skipped: string[] } {
  const tables = new Map<string, Array<Record<string, unknown>>>();
  const skipped: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      skipped.push(`line ${i + 1}: not JSON`);
      return;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) { skipped.push(`line ${i + 1}: not a JSON object`); return; }
    const e = v as Record<string, unknown>;
    const table = typeof e['event'] === 'string' ? normaliseName(e['event']) : '';
    if (!isValidEventName(table)) { skipped.push(`line ${i + 1}: no valid "event"`); return; }
    const ts = parseTimestamp(e['ts']);
    if (ts === undefined) { skipped.push(`line ${i + 1}: no valid "ts"`); return; }
    const at = new Date(ts).toISOString();
    const row: Record<string, unknown> = {
      event_id: typeof e['event_id'] === 'string' ? e['event_id'] : `sample-${i + 1}`,
      event_time: at.replace('T', ' ').replace('Z', ''), user_id: typeof e['user_id'] === 'string' ? e['user_id'] : null,
      dt: at.slice(0, 10), hour: Number(at.slice(11, 13)),
    };
    const props = e['properties'];
    if (typeof props === 'object' && props !== null && !Array.isArray(props)) {
      for (const [k, value] of Object.entries(props as Record<string, unknown>)) {
        const name = normaliseName(k);
        if (!isValidPropertyName(name) || name in row) continue;
        // Nested objects and arrays are JSON strings, as in the real tables.
        row[name] = typeof value === 'object' && value !== null ? JSON.stringify(value) : value;
      }
    }
    const rows = tables.get(table) ?? [];
    rows.push(row);
    tables.set(table, rows);
  });
  return { tables, skipped };
}

/** The hour of traffic npm start generates, ending at `now`'s hour. */
export function generatedSample(now: number, events: number): string[] {
  const end = Math.floor(now / HOUR_MS) * HOUR_MS;
  return generateTraffic({ start: end - HOUR_MS, end, events, malformedRate: 0, seed: 7 }).map((r) => r.value?.toString('utf8') ?? '');
}

/** The window a job's query runs over on a sample: the hour or day of the sample's latest event. */
export interface SampleWindow { readonly kind: WindowKind; readonly start: string; readonly end: string }

export function sampleWindow(tables: ReadonlyMap<string, ReadonlyArray<Record<string, unknown>>>, kind: WindowKind): SampleWindow {
  let latest = -Infinity;
  for (const rows of tables.values()) for (const r of rows) latest = Math.max(latest, Date.parse(`${String(r['event_time']).replace(' ', 'T')}Z`));
  const step = kind === 'hourly' ? HOUR_MS : 24 * HOUR_MS;
  const start = Math.floor(latest / step) * step;
  const text = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  return { kind, start: text(start), end: text(start + step) };
}

/**
 * Runs `sql` on the sample. With `window`, the query is a job's: its parameters are bound as the job runner
 * binds them (window_start, window_end, and db, here the scratch database), over the sample's latest window.
 */
export async function runOnSample(client: ClickHouseClient, sql: string, lines: readonly string[], exclusive: Exclusive = (f) => f(), window?: WindowKind): Promise<{ result: Awaited<ReturnType<typeof readQuery>>; tables: SampleTable[]; skipped: string[]; window?: SampleWindow }> {
  if (lines.length > MAX_SAMPLE_EVENTS) throw new ApiError(400, `at most ${MAX_SAMPLE_EVENTS} sample events`);
  const { tables, skipped } = sampleRows(lines);
  if (tables.size === 0) throw new ApiError(400, `no usable sample events${skipped.length ? `: ${skipped.slice(0, 3).join('; ')}` : ''}`);
  const db = `_console_scratch_${randomBytes(6).toString('hex')}`;
  const bounds = window === undefined ? undefined : sampleWindow(tables, window);
  await client.command({ query: `CREATE DATABASE ${quoteIdentifier(db)}` });
  try {
    const out: SampleTable[] = [];
    for (const [table, rows] of tables) {
      const name = `${quoteIdentifier(db)}.${quoteIdentifier(table)}`;
      // ClickHouse infers each column's type from the sample itself (event_time as DateTime64). Replacing by
      // event_id, as the real tables are, so a job's `FROM <event> FINAL` reads the sample as it reads them.
      const data = rows.map((r) => JSON.stringify(r)).join('\n');
      await client.command({ query: `CREATE TABLE ${name} ENGINE = ReplacingMergeTree ORDER BY ifNull(event_id, '') SETTINGS allow_nullable_key = 1 AS SELECT * FROM format(JSONEachRow, ${quoteString(data)})` });
      const cols = await (await client.query({ query: `SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position`, query_params: { db, t: table }, format: 'JSONEachRow' })).json<{ name: string; type: string }>();
      out.push({ table, rows: rows.length, columns: cols });
    }
    const params = bounds ? { window_start: bounds.start, window_end: bounds.end, db } : undefined;
    const result = await readQuery({ client, database: db, kind: 'session', exclusive }, sql, params);
    return { result, tables: out.sort((a, b) => a.table.localeCompare(b.table)), skipped, ...(bounds ? { window: bounds } : {}) };
  } finally {
    // readQuery put the session back in its database: the scratch one is no one's.
    await client.command({ query: `DROP DATABASE IF EXISTS ${quoteIdentifier(db)}` });
  }
}
