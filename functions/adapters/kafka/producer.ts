// Producing tracking traffic to a Kafka-protocol broker (kafkajs), and resolving an MSK cluster's
// bootstrap brokers from its ARN.
import { GetBootstrapBrokersCommand, KafkaClient } from '@aws-sdk/client-kafka';
import { CompressionTypes, Kafka, logLevel, Partitioners } from 'kafkajs';

export interface ProducedMessage {
  readonly key: Buffer | null;
  readonly value: Buffer;
  readonly partition?: number;
}

export interface ProduceOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  /** messages per second; unlimited when absent */
  readonly rate?: number;
  readonly ssl?: boolean;
  readonly onProgress?: (sent: number) => void;
}

/** Sends messages in batches of 1,000 (acks from all in-sync replicas), paced to `rate` when given. */
export async function produce(messages: readonly ProducedMessage[], o: ProduceOptions): Promise<{ sent: number; seconds: number }> {
  const kafka = new Kafka({ clientId: 'tributary-produce', brokers: [...o.brokers], ssl: o.ssl ?? false, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
  await producer.connect();
  const started = performance.now();
  const chunk = o.rate ? Math.max(1, Math.min(1000, Math.floor(o.rate / 10))) : 1000;
  try {
    for (let i = 0; i < messages.length; i += chunk) {
      const batch = messages.slice(i, i + chunk);
      await producer.send({
        topic: o.topic,
        acks: -1,
        compression: CompressionTypes.None,
        messages: batch.map((m) => ({ key: m.key, value: m.value, ...(m.partition !== undefined ? { partition: m.partition } : {}) })),
      });
      o.onProgress?.(i + batch.length);
      if (o.rate) {
        const due = ((i + batch.length) / o.rate) * 1000;
        const wait = due - (performance.now() - started);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
  } finally {
    await producer.disconnect();
  }
  return { sent: messages.length, seconds: (performance.now() - started) / 1000 };
}

/** An MSK cluster's bootstrap brokers (TLS listener; IAM-authenticated clients use the SASL/IAM string). */
export async function bootstrapBrokers(clusterArn: string, client = new KafkaClient({})): Promise<string[]> {
  const out = await client.send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn }));
  const list = out.BootstrapBrokerStringTls ?? out.BootstrapBrokerStringSaslIam ?? out.BootstrapBrokerString;
  if (!list) throw new Error(`cluster ${clusterArn} reports no bootstrap brokers`);
  return list.split(',');
}
