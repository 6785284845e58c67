// The ingest function and one MSK event source mapping per topic, with IAM scoped to the cluster, its
// topics and their consumer groups, and VPC placement to reach the brokers.
//
// The mappings are made without aws-lambda-event-sources' ManagedKafkaEventSource, which attaches the
// AWS-managed AWSLambdaMSKExecutionRole: that policy allows kafka:DescribeCluster(V2) and
// kafka:GetBootstrapBrokers on every cluster in the account. Here they are granted on this cluster only.
import { Duration, Fn, Names } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { StartingPosition, type EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { TopicConfig } from './config.js';
import { JOB_OUTPUT_TABLES } from '../functions/adapters/job-files.js';
import { attachClickHouse, tributaryFunction, type ClickHouseLogin, type FunctionContext } from './functions.js';
import { LAKE_KEYS } from './lake.js';

export interface IngestProps extends FunctionContext {
  readonly clusterArn: string;
  readonly topics: readonly TopicConfig[];
  readonly consumerGroup: string;
  readonly piiSaltSecret: ISecret;
  /** ingest's own ClickHouse user */
  readonly clickhouse: ClickHouseLogin;
  readonly memoryMb: number;
  /** V8's semi-space in MB: the young generation that bounds a batch's garbage (infra/config.ts) */
  readonly semiSpaceMb: number;
  /** ≤ 14 minutes: the MSK event source mapping's limit */
  readonly timeout: Duration;
}

/**
 * The consumer group of a topic's event source mapping. Lambda requires a group id that no other Kafka
 * event source uses, so each topic gets its own, named after the environment's group.
 */
export const consumerGroupOf = (group: string, topic: string): string => `${group}-${topic}`;

/** kafka-cluster ARNs of a cluster's topics and groups: same name and uuid, another resource type. */
export function kafkaResourceArn(clusterArn: string, type: 'topic' | 'group', name: string): string {
  const [prefix, rest] = [Fn.select(0, Fn.split(':cluster/', clusterArn)), Fn.select(1, Fn.split(':cluster/', clusterArn))];
  return Fn.join('', [prefix, `:${type}/`, rest, `/${name}`]);
}

/** EC2 reads an MSK event source mapping needs beyond AWSLambdaVPCAccessExecutionRole's ENI actions. */
export const MSK_POLLER_EC2_DESCRIBE = ['ec2:DescribeSecurityGroups', 'ec2:DescribeVpcs'] as const;

export class Ingest extends Construct {
  readonly fn: NodejsFunction;
  readonly eventSources: EventSourceMapping[] = [];

  constructor(scope: Construct, id: string, p: IngestProps) {
    super(scope, id);
    if (p.timeout.toMinutes() > 14) throw new Error('Ingest: timeout must be at most 14 minutes (MSK event source mappings)');
    if (p.topics.length === 0) throw new Error('Ingest: at least one topic');
    this.fn = tributaryFunction(this, 'Function', {
      entry: 'ingest/handler.ts',
      description: 'Kafka → Parquet lake + Glue + ClickHouse (Tributary ingest)',
      memoryMb: p.memoryMb,
      semiSpaceMb: p.semiSpaceMb,
      timeout: p.timeout,
      logDays: p.logDays,
      environment: {
        ...p.lake.environment(),
        TRIBUTARY_SCHEMAS_DIR: 'schemas/events',
        TRIBUTARY_PII_SALT_SECRET_ARN: p.piiSaltSecret.secretArn,
        POWERTOOLS_SERVICE_NAME: 'tributary-ingest',
      },
      extra: { vpc: p.vpc, vpcSubnets: p.subnets, securityGroups: [...p.securityGroups] },
    });
    // The lake, as functions/core/ingest.ts uses it: write its data files (an hour partition, or a compacted
    // version for late rows) and quarantine files, read back a data file a redelivered batch finds under its
    // key; list, read and append registry versions. Never read the quarantine, never touch a job's output,
    // never write a compaction's outputs or manifests (other names than its own), never delete.
    p.lake.grantPut(this.fn, [LAKE_KEYS.ingestFiles, LAKE_KEYS.registry]);
    p.lake.grantGet(this.fn, [LAKE_KEYS.ingestFiles, LAKE_KEYS.registry]);
    p.lake.grantList(this.fn, [LAKE_KEYS.registry]);
    p.lake.deny(this.fn, ['s3:GetObject', 's3:GetObjectVersion'], [LAKE_KEYS.quarantine]);
    p.lake.deny(this.fn, ['s3:*'], Object.values(JOB_OUTPUT_TABLES).map(LAKE_KEYS.jobOutput));
    attachClickHouse(this.fn, p.clickhouse);
    p.piiSaltSecret.grantRead(this.fn);
    // Glue, as the catalog adapter does it for ingest: tables created and evolved from data, partitions
    // registered, looked up and brought up to the table's columns (on the table's ARN: Glue has no partition
    // ARN). Job output tables are another function's: denied whatever the table wildcard says.
    const glue = p.lake.glueArns();
    this.fn.addToRolePolicy(new PolicyStatement({
      actions: ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable', 'glue:BatchGetPartition', 'glue:BatchCreatePartition', 'glue:BatchUpdatePartition'],
      resources: [glue.catalog, glue.database, glue.tables],
    }));
    this.fn.addToRolePolicy(new PolicyStatement({ effect: Effect.DENY, actions: ['glue:*'], resources: Object.values(JOB_OUTPUT_TABLES).map(glue.table) }));
    // MSK IAM auth: connect to the cluster, read its topics, commit offsets for our groups only.
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
      resources: p.topics.map((t) => kafkaResourceArn(p.clusterArn, 'group', consumerGroupOf(p.consumerGroup, t.name))),
    }));
    // The mapping's pollers, on the function's role: find the cluster's brokers (DescribeClusterV2 is the
    // one MSK Serverless answers) ...
    this.fn.addToRolePolicy(new PolicyStatement({
      actions: ['kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
      resources: [p.clusterArn],
    }));
    // ... and place their network interfaces. AWSLambdaVPCAccessExecutionRole (attached for the function's
    // own VPC placement) has the ENI actions; these two are the rest of what MSK mappings need, and EC2's
    // Describe actions have no resource-level permissions.
    this.fn.addToRolePolicy(new PolicyStatement({ actions: [...MSK_POLLER_EC2_DESCRIBE], resources: ['*'] }));
    for (const t of p.topics) {
      // The id ManagedKafkaEventSource gave a mapping before, so a deployed stack keeps its mappings: a new
      // logical id would replace one, and the replacement could not take the consumer group it holds.
      const mapping = this.fn.addEventSourceMapping(`KafkaEventSource:${Names.nodeUniqueId(this.fn.node)}${t.name}`, {
        eventSourceArn: p.clusterArn,
        kafkaTopic: t.name,
        kafkaConsumerGroupId: consumerGroupOf(p.consumerGroup, t.name),
        batchSize: t.batchSize ?? 5000,
        maxBatchingWindow: Duration.seconds(t.batchingWindowSeconds ?? 10),
        startingPosition: t.startingPosition === 'TRIM_HORIZON' ? StartingPosition.TRIM_HORIZON : StartingPosition.LATEST,
        // No on-failure destination: with one, Lambda caps retries at 10 and then skips the batch, and an
        // SQS destination receives only its offsets. Bad records are quarantined, never thrown, so a
        // failing batch means the lake, Glue or ClickHouse is down: it is retried until they are back
        // (the IngestErrors and OffsetLag alarms fire meanwhile) and nothing is skipped.
      });
      this.eventSources.push(mapping);
    }
  }
}
