// Realistic, deterministic tracking traffic for the local run and the benchmark: page views, clicks,
// purchases, A/B exposures, a brand-new event nobody declared, and a few broken records.
import { createHash } from 'node:crypto';

export interface GeneratedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer;
  readonly value: Buffer;
}

export interface TrafficOptions {
  /** events are spread over [start, end) */
  readonly start: number;
  readonly end: number;
  readonly events: number;
  readonly users?: number;
  readonly partitions?: number;
  /** first offset of every partition; distinct windows must use distinct bases */
  readonly baseOffset?: number;
  readonly seed?: number;
  /** share of deliberately broken records (0 disables them) */
  readonly malformedRate?: number;
}

export const EXPERIMENTS = {
  checkout_button_color: { variants: ['control', 'green'], lift: 1.25 },
  search_ranking_v2: { variants: ['control', 'treatment'], lift: 1.1 },
} as const;

/** mulberry32: small, fast, seedable (also the tests' and the chaos harness's generator). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hash = (s: string): number => createHash('sha1').update(s).digest().readUInt32BE(0);

const PAGES = ['/', '/search', '/product/42', '/product/7', '/cart', '/checkout', '/help'];
const ELEMENTS = ['buy_button', 'search_box', 'nav_home', 'banner', 'add_to_cart'];
const SKUS = ['SKU-001', 'SKU-002', 'SKU-003', 'SKU-004'];
// Where a user is and on what, from the user's id (no draw from the generator's random sequence, so the
// rest of the traffic is the same as before these fields existed): what the example jobs group by.
const PLATFORMS = ['web', 'ios', 'android'];
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'JP'];
const CURRENCIES = ['EUR', 'USD', 'GBP'];
const placeOf = (user: string): { platform: string; country: string } =>
  ({ platform: PLATFORMS[hash(`platform:${user}`) % PLATFORMS.length]!, country: COUNTRIES[hash(`country:${user}`) % COUNTRIES.length]! });

/** The broken records a real stream carries; each should end in quarantine with its own reason. */
function malformed(pick: number, ts: number, id: string): string {
  switch (pick % 7) {
    case 0: return `{"event": "page_view", "event_id": "${id}", "ts": ${ts}, "properties": {`; // truncated JSON
    case 1: return JSON.stringify({ event_id: id, ts, properties: { page: '/' } }); // no event name
    case 2: return JSON.stringify({ event: 'page_view', event_id: id, ts: ts + 6 * 3_600_000, properties: {} }); // clock 6 h ahead
    case 3: return JSON.stringify({ event: 'purchase', event_id: id, ts, properties: { order_id: id, price: 'twelve' } });
    case 4: return JSON.stringify({ event: "drop table users; --", event_id: id, ts });
    case 5: return JSON.stringify({ event: 'purchase', event_id: id, ts, properties: { order_id: id, price: -9.99 } }); // a refund sent as a purchase: below minimum 0
    default: return JSON.stringify({ event: 'purchase', event_id: id, ts, properties: { price: 9.99 } }); // missing required order_id
  }
}

export function generateTraffic(o: TrafficOptions): GeneratedRecord[] {
  const random = rng(o.seed ?? 42);
  const users = o.users ?? 500;
  const partitions = o.partitions ?? 4;
  const base = o.baseOffset ?? 0;
  const malformedRate = o.malformedRate ?? 0.002;
  const nextOffset = new Array<number>(partitions).fill(base);
  const exposed = new Set<string>();
  const span = o.end - o.start;
  const out: GeneratedRecord[] = [];

  for (let i = 0; i < o.events; i++) {
    const ts = o.start + Math.floor((i / o.events) * span);
    const user = `u${String(Math.floor(random() * users)).padStart(5, '0')}`;
    // The seed and the count are part of the id: two generations of the same hour (dev, produce
    // --generate) are different events and must not share ids, or deduplication would drop them.
    const id = `${o.start.toString(36)}-${(o.seed ?? 42).toString(36)}-${o.events.toString(36)}-${i}`;
    const r = random();
    let value: string;
    if (malformedRate > 0 && r < malformedRate) {
      value = malformed(i, ts, id);
    } else {
      const expName = (hash(user) & 1) === 0 ? 'checkout_button_color' : 'search_ranking_v2';
      const exp = EXPERIMENTS[expName];
      const variant = exp.variants[hash(`${expName}:${user}`) % exp.variants.length]!;
      const envelope = { event_id: id, ts: new Date(ts).toISOString(), user_id: user };
      const pick = random();
      // A user meets the experiment again now and then (another page that carries it), so exposures keep
      // arriving all hour as in production, not only at each user's first event (a table silent since :05
      // would read as stale to `status`). Decided by the id's hash: the random sequence stays as it was.
      if (!exposed.has(user) || hash(`exposed-again:${id}`) % 40 === 0) {
        exposed.add(user);
        value = JSON.stringify({ event: 'experiment_exposure', ...envelope, properties: { experiment_id: expName, variant } });
      } else if (pick < 0.55) {
        value = JSON.stringify({ event: 'page_view', ...envelope, properties: { page: PAGES[Math.floor(random() * PAGES.length)], referrer: random() < 0.3 ? 'https://search.example/' : null, durationMs: Math.floor(random() * 30_000), isMobile: random() < 0.6, ...placeOf(user) } });
      } else if (pick < 0.85) {
        value = JSON.stringify({ event: 'click', ...envelope, properties: { element: ELEMENTS[Math.floor(random() * ELEMENTS.length)], page: PAGES[Math.floor(random() * PAGES.length)], position: { x: Math.floor(random() * 1280), y: Math.floor(random() * 800) } } });
      } else if (pick < 0.85 + 0.04 * (variant === 'control' ? 1 : exp.lift)) {
        value = JSON.stringify({ event: 'purchase', ...envelope, properties: { order_id: `o-${id}`, sku: SKUS[Math.floor(random() * SKUS.length)], price: Math.round((5 + random() * 95) * 100) / 100, currency: CURRENCIES[hash(`currency:${user}`) % CURRENCIES.length], quantity: 1 + Math.floor(random() * 3), email: `${user}@example.com` } });
      } else if (pick < 0.97) {
        value = JSON.stringify({ event: 'search', ...envelope, properties: { query: ['shoes', 'red shoes', 'socks', 'hat'][Math.floor(random() * 4)], results: Math.floor(random() * 200) } });
      } else {
        // A tracking point nobody declared: its table appears on its own.
        value = JSON.stringify({ event: 'Newsletter Signup', ...envelope, properties: { source: 'footer', consentGiven: true, signed_up_at: new Date(ts).toISOString() } });
      }
    }
    const partition = hash(user) % partitions;
    const offset = nextOffset[partition]!++;
    out.push({ partition, offset, timestamp: ts, key: Buffer.from(user), value: Buffer.from(value) });
  }
  return out;
}
