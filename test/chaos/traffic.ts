// The process chaos run's traffic: tracking events over two closed hours and an open one, late records, new
// events and fields mid-run, producer duplicates with other bytes, poison of several kinds.

export interface TrafficOptions { readonly events: number; readonly partitions: number; readonly seed?: number }

interface Sent { readonly table: string; readonly id: string; readonly envelope: Record<string, unknown> }
export type Rec = { offset: number; value: Buffer; timestamp: number } & ({ table: string; id: string } | { poison: string });

export interface Traffic {
  readonly partitions: Rec[][];
  readonly expected: Map<string, Set<string>>;
  /** each page_view's event time (the job's windows) */
  readonly pageViewTimes: Map<string, number>;
  readonly producerDuplicates: number;
  readonly poison: Map<string, number>;
}

const POISON: ReadonlyArray<[string, (i: number, now: number) => Buffer]> = [
  ['malformed_json', (i) => Buffer.from(`{"event": "page_view", "event_id": "poison-${i}", "properties": {`)],
  ['not_an_object', (i) => Buffer.from(`["page_view", "poison-${i}"]`)],
  ['missing_event', (i, now) => Buffer.from(JSON.stringify({ event_id: `poison-${i}`, ts: now - 60_000, properties: {} }))],
  ['invalid_event_name', (i, now) => Buffer.from(JSON.stringify({ event: '9 lives!', event_id: `poison-${i}`, ts: now - 60_000 }))],
  ['invalid_timestamp', (i) => Buffer.from(JSON.stringify({ event: 'page_view', event_id: `poison-${i}`, ts: 'yesterday-ish' }))],
  ['future_timestamp', (i, now) => Buffer.from(JSON.stringify({ event: 'click', event_id: `poison-${i}`, ts: now + 3 * 86_400_000 }))],
  ['invalid_event_id', (i, now) => Buffer.from(JSON.stringify({ event: 'signup', event_id: { nested: i }, ts: now - 60_000 }))],
  ['malformed_json', () => Buffer.from([0x7b, 0x22, 0x65, 0xff, 0xfe, 0x22, 0x7d])], // invalid UTF-8
];

/**
 * Tracking traffic over three hours (two closed, one open) and, mid-run, a new event and new fields (one
 * int, later sent as doubles: a widening). Late records for the closed hours keep arriving, so they land
 * in hours compaction already rewrote. Producers resend events with other bytes (key order, spacing, ISO
 * instead of epoch time) under the same event_id; poison of several kinds sits between them.
 */
export function generate(o: TrafficOptions, random: () => number, hourStart: number, now: number): Traffic {
  const partitions: Rec[][] = Array.from({ length: o.partitions }, () => []);
  const expected = new Map<string, Set<string>>();
  const pageViewTimes = new Map<string, number>();
  const poison = new Map<string, number>();
  const sent: Sent[] = [];
  let producerDuplicates = 0;
  for (let i = 0; i < o.events; i++) {
    const p = Math.floor(random() * o.partitions);
    const list = partitions[p]!;
    const offset = list.length;
    const r = random();
    const progress = i / o.events;
    if (r < 0.015) {
      const [reason, make] = POISON[Math.floor(random() * POISON.length)]!;
      list.push({ offset, value: make(i, now), timestamp: now - 60_000, poison: reason });
      poison.set(reason, (poison.get(reason) ?? 0) + 1);
      continue;
    }
    if (r < 0.05 && sent.length > 0) {
      const s = sent[Math.floor(random() * sent.length)]!;
      // The same event, other bytes: keys reversed, spaced, the time as ISO text.
      const e = { ...s.envelope, ts: new Date(s.envelope['ts'] as number).toISOString() };
      const value = Buffer.from(JSON.stringify(Object.fromEntries(Object.entries(e).reverse()), null, 1));
      list.push({ offset, value, timestamp: now - 30_000, table: s.table, id: s.id });
      producerDuplicates++;
      continue;
    }
    const tables = progress < 0.4 ? ['page_view', 'click', 'signup'] : ['page_view', 'click', 'signup', 'purchase'];
    const table = tables[Math.floor(random() * tables.length)]!;
    const id = `${table}-${o.seed ?? 0}-${i}`;
    // 60 % in the open hour, the rest late into the two closed ones.
    const h = random();
    const hour = h < 0.6 ? 2 : h < 0.8 ? 1 : 0;
    const ts = hourStart - (2 - hour) * 3_600_000 + Math.floor(random() * (hour === 2 ? now - 120_000 - hourStart : 3_600_000));
    const properties: Record<string, unknown> = { n: i, label: `x${i % 7}` };
    if (table === 'page_view' && progress >= 0.5) properties['coupon'] = `c${i % 13}`;
    if (table === 'purchase') properties['amount'] = progress < 0.7 ? i % 1000 : (i % 1000) + 0.25;
    const envelope = { event: table, event_id: id, ts, user_id: `u${i % 300}`, properties };
    list.push({ offset, value: Buffer.from(JSON.stringify(envelope)), timestamp: ts, table, id });
    (expected.get(table) ?? expected.set(table, new Set()).get(table)!).add(id);
    if (table === 'page_view') pageViewTimes.set(id, ts);
    sent.push({ table, id, envelope });
  }
  return { partitions, expected, pageViewTimes, producerDuplicates, poison };
}
