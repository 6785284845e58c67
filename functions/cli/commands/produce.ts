// `tributary produce --brokers … --topic … (<file.ndjson> | --generate N [--rate R])`: tracking traffic to Kafka.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { produce, type ProducedMessage } from '../../adapters/kafka/producer.js';
import { generateTraffic } from '../traffic.js';
import { UsageError } from '../errors.js';
import { cliClock } from '../clock.js';

export interface ProduceCommandOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly file?: string;
  readonly generate?: number;
  readonly rate?: number;
  readonly ssl?: boolean;
}

export async function produceCommand(o: ProduceCommandOptions): Promise<string> {
  if ((o.file === undefined) === (o.generate === undefined)) throw new UsageError('produce needs a file (or -) or --generate N, not both');
  const messages: ProducedMessage[] = [];
  if (o.generate !== undefined) {
    const end = Math.floor(cliClock()() / 3_600_000) * 3_600_000;
    for (const r of generateTraffic({ start: end - 3_600_000, end, events: o.generate })) messages.push({ key: r.key, value: r.value });
  } else {
    const input = o.file === '-' ? process.stdin : createReadStream(o.file!);
    for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line.trim() !== '') messages.push({ key: null, value: Buffer.from(line, 'utf8') });
  }
  const r = await produce(messages, { brokers: o.brokers, topic: o.topic, ...(o.rate ? { rate: o.rate } : {}), ...(o.ssl ? { ssl: true } : {}) });
  return `Produced ${r.sent.toLocaleString('en')} messages to ${o.topic} in ${r.seconds.toFixed(1)} s (${Math.round(r.sent / Math.max(r.seconds, 0.001)).toLocaleString('en')}/s)`;
}
