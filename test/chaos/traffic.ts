// The process chaos run's traffic: tracking events over two closed hours and an open one, late records, new
// events and fields mid-run, producer duplicates with other bytes, poison of several kinds.

export interface TrafficOptions { readonly events: number; readonly partitions: number; readonly seed?: number }

interface Sent { readonly table: string; readonly id: string; readonly envelope: Record<string, unknown> }
export type Rec = { offset: number; value: Buffer; timestamp: number } & ({ table: string; id: string } | { poison: string });

/** A distinct valid event as its producer sent it (the jobs' independent computations read these). */
export interface ValidEvent { readonly table: string; readonly user: string; readonly ts: number; readonly properties: Readonly<Record<string, unknown>> }

/** The experiment of the exposures (test/chaos/jobs/ab-daily.json); a user's variant never changes. */
export const CHAOS_EXPERIMENT = 'chaos_exp';
export const variantOf = (user: string): string => (Number(user.slice(1)) * 7919) % 5 < 2 ? 'treat' : 'control';

export interface Traffic {
  readonly partitions: Rec[][];
  readonly expected: Map<string, Set<string>>;
  /** every distinct valid event by event_id */
  readonly events: Map<string, ValidEvent>;
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
 * int, later sent as doubles: a widening, of the field ab-daily sums). Experiment exposures for ab-daily. Late records for the closed hours keep arriving, so they land
 * in hours compaction already rewrote. Producers resend events with other bytes (key order, spacing, ISO
 * instead of epoch time) under the same event_id; poison of several kinds sits between them.
 */
export function generate(o: TrafficOptions, random: () => number, hourStart: number, now: number): Traffic {
  const partitions: Rec[][] = Array.from({ length: o.partitions }, () => []);
  const expected = new Map<string, Set<string>>();
  const events = new Map<string, ValidEvent>();
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
    // ab-daily reads purchase, click and the exposures from its first run; signup is the event that appears mid-run.
    const tables = progress < 0.4 ? ['page_view', 'click', 'purchase', 'experiment_exposure'] : ['page_view', 'click', 'purchase', 'experiment_exposure', 'signup'];
    const table = tables[Math.floor(random() * tables.length)]!;
    const id = `${table}-${o.seed ?? 0}-${i}`;
    // 60 % in the open hour, the rest late into the two closed ones.
    const h = random();
    const hour = h < 0.6 ? 2 : h < 0.8 ? 1 : 0;
    const ts = hourStart - (2 - hour) * 3_600_000 + Math.floor(random() * (hour === 2 ? now - 120_000 - hourStart : 3_600_000));
    const properties: Record<string, unknown> = { n: i, label: `x${i % 7}` };
    if (table === 'page_view' && progress >= 0.5) properties['coupon'] = `c${i % 13}`;
    if (table === 'purchase') properties['amount'] = progress < 0.7 ? i % 1000 : (i % 1000) + 0.25;
    const user = `u${i % 300}`;
    if (table === 'experiment_exposure') Object.assign(properties, { experiment_id: CHAOS_EXPERIMENT, variant: variantOf(user) });
    const envelope = { event: table, event_id: id, ts, user_id: user, properties };
    list.push({ offset, value: Buffer.from(JSON.stringify(envelope)), timestamp: ts, table, id });
    (expected.get(table) ?? expected.set(table, new Set()).get(table)!).add(id);
    events.set(id, { table, user, ts, properties });
    sent.push({ table, id, envelope });
  }
  return { partitions, expected, events, producerDuplicates, poison };
}
