// The latency bench's producer, in a process of its own so that the handler's work never delays a send:
// `rate` events a second for `seconds`, one request every 100 ms (like a producer with linger.ms=100),
// keyed by user so they spread over the topic's partitions. Each event_id carries the time its request was
// sent (`<prefix>-<seq>-<epoch ms>`), and so does `ts`. Prints one JSON line: what was sent, and when.
//
// node --import tsx bench/latency/producer.ts <brokers> <topic> <rate> <seconds> <prefix> <event,event,…>
import { CompressionTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import { rng } from '../../functions/cli/traffic.js';

const [brokers, topic, rateArg, secondsArg, prefix, eventsArg] = process.argv.slice(2);
if (!brokers || !topic || !rateArg || !secondsArg || !prefix || !eventsArg) throw new Error('usage: producer.ts <brokers> <topic> <rate> <seconds> <prefix> <events>');
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const events = eventsArg.split(',');
// Zipf(1) over the event types, as bench:scale: a few events carry most of the traffic.
const raw = events.map((_, k) => 1 / (k + 1));
const cumulative = raw.map((_, k) => raw.slice(0, k + 1).reduce((a, b) => a + b, 0) / raw.reduce((a, b) => a + b, 0));
const r = rng(11);
const PAGES = ['/', '/search', '/product/42', '/cart', '/checkout', '/help'];

const kafka = new Kafka({ clientId: 'tributary-latency-bench', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
await producer.connect();
const total = Math.round(rate * seconds);
const started = Date.now();
let seq = 0;
const sendMs: number[] = [];
let first = 0;
let last = 0;
for (let tick = 1; seq < total; tick++) {
  const due = Math.min(total, Math.round((tick * 100 * rate) / 1000));
  const sentAt = Date.now();
  if (first === 0) first = sentAt;
  const messages = [];
  for (; seq < due; seq++) {
    const u = Math.floor(r() * 100_000);
    const x = r();
    const event = events[Math.max(0, cumulative.findIndex((c) => x < c))]!;
    messages.push({
      key: Buffer.from(`u${u}`),
      value: Buffer.from(JSON.stringify({
        event, event_id: `${prefix}-${seq}-${sentAt}`, ts: sentAt, user_id: `u${String(u).padStart(6, '0')}`,
        properties: { page: PAGES[Math.floor(r() * PAGES.length)], position: Math.floor(r() * 1000), is_mobile: r() < 0.6, amount: Math.round(r() * 10_000) / 100 },
      })),
    });
  }
  if (messages.length > 0) {
    await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
    sendMs.push(Date.now() - sentAt);
    last = sentAt;
  }
  const wait = started + tick * 100 - Date.now();
  if (wait > 0) await new Promise((res) => setTimeout(res, wait));
}
await producer.disconnect();
sendMs.sort((a, b) => a - b);
console.log(JSON.stringify({ sent: seq, firstMs: first, lastMs: last, seconds: (last - first) / 1000, sendP99Ms: sendMs[Math.ceil(0.99 * sendMs.length) - 1] ?? 0 }));
