// `tributary sql "<query>" [--format table|json]`: the local ClickHouse, with lake tables as `lake.<table>`.
import type { LocalRuntime } from '../local-runtime.js';
import { formatTable, jsonLine } from '../print.js';

export async function runSql(runtime: LocalRuntime, query: string, format: 'table' | 'json'): Promise<string> {
  await runtime.refreshLakeViews();
  const rows = await runtime.warehouse.query<Record<string, unknown>>(query);
  // Both formats escape what a value could do to a terminal; JSON with \u escapes, so it stays JSON.
  return format === 'json' ? rows.map(jsonLine).join('\n') : formatTable(rows);
}
