// Lineage: for a table and hour, the Kafka offset ranges → the lake files they went into → the batches
// (one ClickHouse insert per table per batch) that inserted them, from the ingest log.
import { useEffect } from 'preact/hooks';
import { get } from '../api.js';
import { navigate } from '../nav.js';
import { DataTable, ErrorBox, Loading, Section, useData } from '../ui.js';

interface Row { topic: string; partition: number; first_offset: number; last_offset: number; rows: number; outcome: string; file_key: string; batch_key: string; finished_at: string }
interface Data { table: string; hour: string; rows: Row[]; hours: string[] }

export function Lineage({ params }: { params: URLSearchParams }) {
  const tables = useData(() => get<{ tables: string[] }>('lineage/tables'), []);
  const table = params.get('table') ?? tables.data?.tables[0] ?? '';
  const hour = params.get('hour') ?? '';
  const probe = useData(() => (table ? get<Data>('lineage', { table, hour: hour || '1970-01-01T00' }) : Promise.resolve(undefined)), [table, hour]);
  const hours = probe.data?.hours ?? [];
  const chosen = hour || hours[0] || '';
  // No hour asked for: the newest one the ingest log has for the table.
  useEffect(() => { if (!hour && chosen && table) navigate('lineage', { table, hour: chosen }); }, [hour, chosen, table]);
  if (tables.loading && !tables.data) return <Loading what="tables" />;
  if (tables.error) return <ErrorBox message={tables.error} />;
  const rows = probe.data?.rows ?? [];
  const files = new Set(rows.map((r) => r.file_key));
  const batches = new Set(rows.map((r) => r.batch_key));
  return (
    <>
      <div class="row">
        <label for="lineage-table">Table</label> <select id="lineage-table" value={table} onChange={(e) => navigate('lineage', { table: (e.target as HTMLSelectElement).value })}>
          {tables.data?.tables.map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
        <label for="lineage-hour">Hour (UTC)</label> <select id="lineage-hour" value={chosen} onChange={(e) => navigate('lineage', { table, hour: (e.target as HTMLSelectElement).value })}>
          {hours.map((h) => <option key={h} value={h}>{h}</option>)}
        </select>
      </div>
      {probe.error && <ErrorBox message={probe.error} />}
      {probe.loading && !probe.data && <Loading what="lineage" />}
      {probe.data && hour && (
        <Section title={`${table} ${hour}Z`} id="lineage">
          <p>{rows.length} topic-partition range{rows.length === 1 ? '' : 's'} → {files.size} file{files.size === 1 ? '' : 's'} → {batches.size} batch{batches.size === 1 ? '' : 'es'} (one ClickHouse insert per table per batch)</p>
          <DataTable caption="Kafka offsets → lake file → ClickHouse insert"
            columns={['topic', 'partition', 'offsets', 'rows', 'outcome', 'lake file', 'batch (insert)', 'finished']}
            rows={rows.map((r) => [r.topic, r.partition, `${r.first_offset}–${r.last_offset}`, r.rows, r.outcome, r.file_key, r.batch_key, r.finished_at])} />
        </Section>
      )}
    </>
  );
}
