// Shared builders for tests: Kafka records and MSK events from envelopes.
import { encodeMskEvent, type DecodedRecord, type MskEvent } from '../functions/core/msk-event.js';

export const NOW = Date.UTC(2026, 10, 19, 12, 30, 0);
export const TS = '2026-11-19T10:00:00.123Z';

export function record(value: unknown, overrides: Partial<DecodedRecord> = {}): DecodedRecord {
  const bytes = value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return { topic: 'tracking', partition: 0, offset: 0, timestamp: NOW - 60_000, key: null, value: bytes, headers: [], ...overrides };
}

/** An MSK event whose records carry the given values (objects are JSON-encoded) at consecutive offsets. */
export function mskEvent(values: readonly unknown[], options: { topic?: string; partition?: number; firstOffset?: number } = {}): MskEvent {
  return encodeMskEvent(values.map((v, i) => ({
    topic: options.topic ?? 'tracking',
    partition: options.partition ?? 0,
    offset: (options.firstOffset ?? 0) + i,
    timestamp: NOW - 60_000,
    key: Buffer.from(`k${i}`),
    value: v === null ? null : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)),
  })));
}

export const pageView = (id: string, props: Record<string, unknown> = {}, ts: unknown = TS): Record<string, unknown> =>
  ({ event: 'page_view', event_id: id, ts, user_id: 'u1', properties: { page: '/home', ...props } });
