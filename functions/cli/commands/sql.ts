// `tributary sql "<query>" [--format table|json]`: the local ClickHouse, with lake tables as `lake.<table>`.
import type { LocalRuntime } from '../local-runtime.js';
import { formatTable } from '../print.js';

export async function runSql(runtime: LocalRuntime, query: string, format: 'table' | 'json'): Promise<string> {
  await runtime.refreshLakeViews();
  const rows = await runtime.warehouse.query<Record<string, unknown>>(query);
  return format === 'json' ? rows.map((r) => JSON.stringify(r)).join('\n') : formatTable(rows);
}
