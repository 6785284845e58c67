// The ingest function and one MSK event source mapping per topic, with IAM scoped to the cluster, its
// topics and the consumer group, failed batches to an SQS queue, and VPC placement to reach the brokers.
import { Duration, Fn } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { ManagedKafkaEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TopicConfig } from './config.js';
import { tributaryFunction, type FunctionContext } from './functions.js';

export interface IngestProps extends FunctionContext {
  readonly clusterArn: string;
  readonly topics: readonly TopicConfig[];
  readonly consumerGroup: string;
  readonly piiSaltSecret: ISecret;
  readonly memoryMb: number;
  /** ≤ 14 minutes: the MSK event source mapping's limit */
  readonly timeout: Duration;
}

/** kafka-cluster ARNs of a cluster's topics and groups: same name and uuid, another resource type. */
export function kafkaResourceArn(clusterArn: string, type: 'topic' | 'group', name: string): string {
  const [prefix, rest] = [Fn.select(0, Fn.split(':cluster/', clusterArn)), Fn.select(1, Fn.split(':cluster/', clusterArn))];
  return Fn.join('', [prefix, `:${type}/`, rest, `/${name}`]);
}

export class Ingest extends Construct {
  readonly fn: NodejsFunction;
  readonly failures: Queue;
  readonly eventSources: ManagedKafkaEventSource[] = [];

  constructor(scope: Construct, id: string, p: IngestProps) {
    super(scope, id);
    if (p.timeout.toMinutes() > 14) throw new Error('Ingest: timeout must be at most 14 minutes (MSK event source mappings)');
    if (p.topics.length === 0) throw new Error('Ingest: at least one topic');
    this.failures = new Queue(this, 'FailedBatches', {
      encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14),
    });
    this.fn = tributaryFunction(this, 'Function', {
      entry: 'ingest/handler.ts',
      description: 'Kafka → Parquet lake + Glue + ClickHouse (Tributary ingest)',
      memoryMb: p.memoryMb,
      timeout: p.timeout,
      logDays: p.logDays,
      environment: {
        ...p.lake.environment(),
        TRIBUTARY_SCHEMAS_DIR: 'schemas/events',
        ...p.clickhouseEnvironment,
        CLICKHOUSE_PASSWORD_SECRET_ARN: p.clickhouseSecret.secretArn,
        TRIBUTARY_PII_SALT_SECRET_ARN: p.piiSaltSecret.secretArn,
        POWERTOOLS_SERVICE_NAME: 'tributary-ingest',
      },
      extra: { vpc: p.vpc, vpcSubnets: p.subnets, securityGroups: [...p.securityGroups] },
    });
    // The lake: read and write data, quarantine and the registry's versions; never delete.
    for (const prefix of ['lake/*', '_registry/*']) {
      p.lake.bucket.grantRead(this.fn, prefix);
      p.lake.bucket.grantPut(this.fn, prefix);
    }
    p.clickhouseSecret.grantRead(this.fn);
    p.piiSaltSecret.grantRead(this.fn);
    const glue = p.lake.glueArns();
    this.fn.addToRolePolicy(new PolicyStatement({
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:CreateTable', 'glue:UpdateTable',
        'glue:GetPartitions', 'glue:BatchGetPartition', 'glue:BatchCreatePartition'],
      resources: [glue.catalog, glue.database, glue.tables],
    }));
    // MSK IAM auth: connect to the cluster, read its topics, commit offsets for our group only.
    this.fn.addToRolePolicy(new PolicyStatement({
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
      resources: [p.clusterArn],
    }));
    this.fn.addToRolePolicy(new PolicyStatement({
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      resources: p.topics.map((t) => kafkaResourceArn(p.clusterArn, 'topic', t.name)),
    }));
    this.fn.addToRolePolicy(new PolicyStatement({
      actions: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
      resources: [kafkaResourceArn(p.clusterArn, 'group', p.consumerGroup)],
    }));
    for (const t of p.topics) {
      const source = new ManagedKafkaEventSource({
        clusterArn: p.clusterArn,
        topic: t.name,
        consumerGroupId: p.consumerGroup,
        batchSize: t.batchSize ?? 5000,
        maxBatchingWindow: Duration.seconds(t.batchingWindowSeconds ?? 10),
        startingPosition: t.startingPosition === 'TRIM_HORIZON' ? StartingPosition.TRIM_HORIZON : StartingPosition.LATEST,
        onFailure: new SqsDlq(this.failures),
      });
      this.fn.addEventSource(source);
      this.eventSources.push(source);
    }
  }
}
