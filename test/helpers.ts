// Shared builders for tests: Kafka records and MSK events from envelopes.
import { encodeMskEvent, type DecodedRecord, type MskEvent } from '../functions/core/decode/msk-event.js';
import { inKeyRange, type ObjectStore, type Warehouse } from '../functions/core/ports.js';
import type { LocalRuntime } from '../functions/cli/local-runtime.js';
import type { TableSchema } from '../functions/core/schema/model.js';

export const NOW = Date.UTC(2026, 10, 19, 12, 30, 0);
export const TS = '2026-11-19T10:00:00.123Z';

export function record(value: unknown, overrides: Partial<DecodedRecord> = {}): DecodedRecord {
  const bytes = value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return { topic: 'tracking', partition: 0, offset: 0, timestamp: NOW - 60_000, key: null, value: bytes, headers: [], ...overrides };
}

/** An MSK event whose records carry the given values (objects are JSON-encoded) at consecutive offsets. */
export function mskEvent(values: readonly unknown[], options: { topic?: string; partition?: number; firstOffset?: number; timestamp?: number } = {}): MskEvent {
  return encodeMskEvent(values.map((v, i) => ({
    topic: options.topic ?? 'tracking',
    partition: options.partition ?? 0,
    offset: (options.firstOffset ?? 0) + i,
    timestamp: options.timestamp ?? NOW - 60_000,
    key: Buffer.from(`k${i}`),
    value: v === null ? null : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)),
  })));
}

export const pageView = (id: string, props: Record<string, unknown> = {}, ts: unknown = TS): Record<string, unknown> =>
  ({ event: 'page_view', event_id: id, ts, user_id: 'u1', properties: { page: '/home', ...props } });

/** An object store in memory with S3-style URIs, for tests that compare what adapters receive. */
export function memoryStore(bucket = 'test-bucket'): ObjectStore & { objects: Map<string, Uint8Array> } {
  const objects = new Map<string, Uint8Array>();
  return {
    objects,
    async put(key, body) { objects.set(key, body); },
    async putIfAbsent(key, body) {
      if (objects.has(key)) return false;
      objects.set(key, body);
      return true;
    },
    async get(key) { return objects.get(key); },
    async delete(keys) { for (const k of keys) objects.delete(k); },
    async list(prefix, range) { return [...objects.keys()].filter((k) => k.startsWith(prefix) && inKeyRange(k, range)).sort(); },
    uri: (key) => `s3://${bucket}/${key}`,
  };
}

/** A warehouse that records the schemas and files it is given, for tests about other ports. */
export function recordingWarehouse(): Warehouse & { tables: Map<string, TableSchema>; inserts: string[] } {
  const tables = new Map<string, TableSchema>();
  const inserts: string[] = [];
  return {
    tables, inserts, database: 'tributary',
    async ensureTable(schema) { tables.set(schema.table, schema); },
    async ensureQuarantineTable() {},
    async insertParquet(_table, _columns, file) { inserts.push(file.key); },
    async recordIngest() {},
    async query() { return []; },
    async replacePartition() {},
    async close() {},
  };
}

/** The page_view event_ids of one hour as a reader of the catalog sees them (the lake views refreshed first). */
export async function lakeIdsOfHour(rt: LocalRuntime, hour: number): Promise<string[]> {
  await rt.refreshLakeViews();
  const rows = await rt.warehouse.query<{ event_id: string }>(`SELECT event_id FROM lake.page_view WHERE hour = ${hour} ORDER BY event_id`);
  return rows.map((r) => r.event_id);
}
