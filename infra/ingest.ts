// The ingest function(s) and their MSK event source mappings, with IAM scoped to the cluster, its topics and
// their consumer groups, and VPC placement to reach the brokers. `coupled`: one function and one mapping per
// topic, both sinks. `split`: a fresh function (ClickHouse) and a lake function (lake files, Glue, quarantine),
// each with its own mapping per topic, consumer group and least-privilege role (docs/deploy.md#topology).
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
import type { BatchingConfig, TopicConfig, Topology } from './config.js';
import type { LakeWrites } from '../functions/adapters/environment.js';
import { INGEST_SERVICES } from '../functions/adapters/telemetry.js';
import { JOB_OUTPUT_TABLES } from '../functions/adapters/job-files.js';
import { attachClickHouse, tributaryFunction, type ClickHouseLogin, type FunctionContext } from './functions.js';
import { LAKE_KEYS } from './lake.js';

export interface IngestProps extends FunctionContext {
  readonly clusterArn: string;
  readonly topology: Topology;
  /** how the lake path writes: direct files, or one spool object per batch (the materializer makes the files) */
  readonly lakeWrites: LakeWrites;
  readonly topics: readonly TopicConfig[];
  readonly consumerGroup: string;
  readonly piiSaltSecret: ISecret;
  /** ingest's own ClickHouse user (the coupled function's, or the fresh path's) */
  readonly clickhouse: ClickHouseLogin;
  readonly memoryMb: number;
  /** V8's semi-space in MB: the young generation that bounds a batch's garbage (infra/config.ts) */
  readonly semiSpaceMb: number;
  /** how long a container caches the schema registry (TRIBUTARY_REGISTRY_TTL_SECONDS) */
  readonly registryTtlSeconds: number;
  /** ≤ 14 minutes: the MSK event source mapping's limit */
  readonly timeout: Duration;
}

/** An ingest path: `coupled` (both sinks), or one of split's `fresh` (ClickHouse) and `lake` (lake files, Glue, quarantine). */
export type IngestPathName = 'coupled' | 'fresh' | 'lake';

/**
 * TRIBUTARY_SINKS of each path's function, read by the ingest handler. Unset, the handler writes both sinks,
 * so the coupled function keeps the environment it always had.
 */
export const PATH_SINKS: Readonly<Record<IngestPathName, string | undefined>> = { coupled: undefined, fresh: 'clickhouse', lake: 'lake' };

const PATH_DESCRIPTIONS: Readonly<Record<IngestPathName, string>> = {
  coupled: 'Kafka → Parquet lake + Glue + ClickHouse (Tributary ingest)',
  fresh: 'Kafka → ClickHouse, the fresh path (Tributary ingest)',
  lake: 'Kafka → Parquet lake + Glue + quarantine, the lake path (Tributary ingest)',
};

export interface IngestMapping {
  readonly topic: string;
  readonly consumerGroup: string;
  readonly batching: BatchingConfig;
  readonly mapping: EventSourceMapping;
}

export interface IngestPath {
  readonly name: IngestPathName;
  readonly fn: NodejsFunction;
  readonly mappings: readonly IngestMapping[];
}

/**
 * The consumer group of a topic's event source mapping. Lambda requires a group id that no other Kafka
 * event source uses, so each topic gets its own, named after the environment's group, and in `split` each
 * path too: the lake and the fresh path commit their own offsets, so either can stall while the other moves on.
 */
export const consumerGroupOf = (group: string, topic: string, path: IngestPathName = 'coupled'): string =>
  (path === 'coupled' ? `${group}-${topic}` : `${group}-${path}-${topic}`);

/** kafka-cluster ARNs of a cluster's topics and groups: same name and uuid, another resource type. */
export function kafkaResourceArn(clusterArn: string, type: 'topic' | 'group', name: string): string {
  const [prefix, rest] = [Fn.select(0, Fn.split(':cluster/', clusterArn)), Fn.select(1, Fn.split(':cluster/', clusterArn))];
  return Fn.join('', [prefix, `:${type}/`, rest, `/${name}`]);
}

/** EC2 reads an MSK event source mapping needs beyond AWSLambdaVPCAccessExecutionRole's ENI actions. */
export const MSK_POLLER_EC2_DESCRIBE = ['ec2:DescribeSecurityGroups', 'ec2:DescribeVpcs'] as const;

export class Ingest extends Construct {
  /** one path (coupled) or two (split: fresh, then lake) */
  readonly paths: IngestPath[] = [];

  constructor(scope: Construct, id: string, p: IngestProps) {
    super(scope, id);
    if (p.timeout.toMinutes() > 14) throw new Error('Ingest: timeout must be at most 14 minutes (MSK event source mappings)');
    if (p.topics.length === 0) throw new Error('Ingest: at least one topic');
    if (p.topology === 'coupled') {
      // 'Function': the id it always had, so a deployed coupled stack keeps its function and mappings.
      this.paths.push(this.path('Function', 'coupled', p, (t) => ({ batchSize: t.batchSize ?? 5000, batchingWindowSeconds: t.batchingWindowSeconds ?? 10 })));
    } else {
      for (const name of ['fresh', 'lake'] as const) {
        this.paths.push(this.path(name === 'fresh' ? 'FreshFunction' : 'LakeFunction', name, p, (t) => {
          const batching = t[name];
          if (!batching) throw new Error(`Ingest: topic ${t.name} has no ${name} batching (infra/config.ts fills it for split)`);
          return batching;
        }));
      }
    }
  }

  /** The path's function (by its id), its role's rights and its mappings, one per topic. */
  private path(id: string, name: IngestPathName, p: IngestProps, batchingOf: (t: TopicConfig) => BatchingConfig): IngestPath {
    const writesLake = name !== 'fresh';
    const writesClickHouse = name !== 'lake';
    const spooling = p.lakeWrites === 'spool';
    const sinks = PATH_SINKS[name];
    // The fresh path makes no Glue calls: no Glue database in its environment (its handler refuses one it would not read).
    const lakeEnvironment = Object.fromEntries(Object.entries(p.lake.environment()).filter(([k]) => writesLake || k !== 'TRIBUTARY_GLUE_DATABASE'));
    const fn = tributaryFunction(this, id, {
      entry: 'ingest/handler.ts',
      description: PATH_DESCRIPTIONS[name],
      memoryMb: p.memoryMb,
      semiSpaceMb: p.semiSpaceMb,
      timeout: p.timeout,
      logDays: p.logDays,
      environment: {
        ...lakeEnvironment,
        TRIBUTARY_SCHEMAS_DIR: 'schemas/events',
        TRIBUTARY_REGISTRY_TTL_SECONDS: String(p.registryTtlSeconds),
        TRIBUTARY_PII_SALT_SECRET_ARN: p.piiSaltSecret.secretArn,
        // its own metrics service: split's two paths would otherwise count every table twice
        POWERTOOLS_SERVICE_NAME: INGEST_SERVICES[name],
        ...(sinks === undefined ? {} : { TRIBUTARY_SINKS: sinks }),
        ...(writesLake && spooling ? { TRIBUTARY_LAKE_WRITES: 'spool' } : {}),
      },
      extra: { vpc: p.vpc, vpcSubnets: p.subnets, securityGroups: [...p.securityGroups] },
    });
    if (writesLake && spooling) {
      // Spooling: one object per batch under _spool/pending/ (written only if absent, so never read back) and
      // the registry. Nothing under lake/: the materializer writes the files, the quarantine and the partitions.
      p.lake.grantPut(fn, [LAKE_KEYS.spoolObjects, LAKE_KEYS.registry]);
      p.lake.grantGet(fn, [LAKE_KEYS.registry]);
      p.lake.grantList(fn, [LAKE_KEYS.registry]);
      p.lake.deny(fn, ['s3:*'], [LAKE_KEYS.lake]);
      p.lake.denyList(fn, [LAKE_KEYS.lake]);
    } else if (writesLake) {
      // The lake, as functions/core/ingest.ts uses it: write its data files (an hour partition, or a compacted
      // version for late rows) and quarantine files, read back a data file a redelivered batch finds under its
      // key; list, read and append registry versions. Never read the quarantine, never touch a job's output,
      // never write a compaction's outputs or manifests (other names than its own), never delete.
      p.lake.grantPut(fn, [LAKE_KEYS.ingestFiles, LAKE_KEYS.registry]);
      p.lake.grantGet(fn, [LAKE_KEYS.ingestFiles, LAKE_KEYS.registry]);
      p.lake.grantList(fn, [LAKE_KEYS.registry]);
      p.lake.deny(fn, ['s3:GetObject', 's3:GetObjectVersion'], [LAKE_KEYS.quarantine]);
      p.lake.deny(fn, ['s3:*'], Object.values(JOB_OUTPUT_TABLES).map(LAKE_KEYS.jobOutput));
    } else {
      // The fresh path registers new events and fields like the lake path (the registry is shared), and
      // touches nothing under lake/: its quarantine is ClickHouse's.
      p.lake.grantPut(fn, [LAKE_KEYS.registry]);
      p.lake.grantGet(fn, [LAKE_KEYS.registry]);
      p.lake.grantList(fn, [LAKE_KEYS.registry]);
      p.lake.deny(fn, ['s3:*'], [LAKE_KEYS.lake]);
      p.lake.denyList(fn, [LAKE_KEYS.lake]);
    }
    if (writesClickHouse) attachClickHouse(fn, p.clickhouse);
    p.piiSaltSecret.grantRead(fn);
    const glue = p.lake.glueArns();
    if (writesLake && spooling) {
      // Spooling, ingest creates and evolves tables (a column exists before a spooled row carries it); the
      // partitions are the materializer's.
      fn.addToRolePolicy(new PolicyStatement({ actions: ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable'], resources: [glue.catalog, glue.database, glue.tables] }));
      fn.addToRolePolicy(new PolicyStatement({ effect: Effect.DENY, actions: ['glue:*'], resources: Object.values(JOB_OUTPUT_TABLES).map(glue.table) }));
    } else if (writesLake) {
      // Glue, as the catalog adapter does it for ingest: tables created and evolved from data, partitions
      // registered, looked up and brought up to the table's columns (on the table's ARN: Glue has no partition
      // ARN). Job output tables are another function's: denied whatever the table wildcard says.
      fn.addToRolePolicy(new PolicyStatement({
        actions: ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable', 'glue:BatchGetPartition', 'glue:BatchCreatePartition', 'glue:BatchUpdatePartition'],
        resources: [glue.catalog, glue.database, glue.tables],
      }));
      fn.addToRolePolicy(new PolicyStatement({ effect: Effect.DENY, actions: ['glue:*'], resources: Object.values(JOB_OUTPUT_TABLES).map(glue.table) }));
    } else {
      fn.addToRolePolicy(new PolicyStatement({ effect: Effect.DENY, actions: ['glue:*'], resources: [glue.catalog, glue.database, glue.tables] }));
    }
    const groups = p.topics.map((t) => consumerGroupOf(p.consumerGroup, t.name, name));
    // MSK IAM auth: connect to the cluster, read its topics, commit offsets for this path's groups only.
    fn.addToRolePolicy(new PolicyStatement({
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
      resources: [p.clusterArn],
    }));
    fn.addToRolePolicy(new PolicyStatement({
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      resources: p.topics.map((t) => kafkaResourceArn(p.clusterArn, 'topic', t.name)),
    }));
    fn.addToRolePolicy(new PolicyStatement({
      actions: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
      resources: groups.map((g) => kafkaResourceArn(p.clusterArn, 'group', g)),
    }));
    // The mapping's pollers, on the function's role: find the cluster's brokers (DescribeClusterV2 is the
    // one MSK Serverless answers) ...
    fn.addToRolePolicy(new PolicyStatement({
      actions: ['kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
      resources: [p.clusterArn],
    }));
    // ... and place their network interfaces. AWSLambdaVPCAccessExecutionRole (attached for the function's
    // own VPC placement) has the ENI actions; these two are the rest of what MSK mappings need, and EC2's
    // Describe actions have no resource-level permissions.
    fn.addToRolePolicy(new PolicyStatement({ actions: [...MSK_POLLER_EC2_DESCRIBE], resources: ['*'] }));
    const mappings = p.topics.map((t, i): IngestMapping => {
      const batching = batchingOf(t);
      const consumerGroup = groups[i]!;
      // The id ManagedKafkaEventSource gave a mapping before, so a deployed stack keeps its mappings: a new
      // logical id would replace one, and the replacement could not take the consumer group it holds.
      const mapping = fn.addEventSourceMapping(`KafkaEventSource:${Names.nodeUniqueId(fn.node)}${t.name}`, {
        eventSourceArn: p.clusterArn,
        kafkaTopic: t.name,
        kafkaConsumerGroupId: consumerGroup,
        batchSize: batching.batchSize,
        maxBatchingWindow: Duration.seconds(batching.batchingWindowSeconds),
        startingPosition: t.startingPosition === 'TRIM_HORIZON' ? StartingPosition.TRIM_HORIZON : StartingPosition.LATEST,
        // No on-failure destination, on either path: with one, Lambda caps retries at 10 and then skips the
        // batch, and an SQS destination receives only its offsets. Bad records are quarantined, never thrown,
        // so a failing batch means a sink (the lake, Glue or ClickHouse) is down: it is retried until it is
        // back (the IngestErrors and OffsetLag alarms fire meanwhile) and nothing is skipped. In split, only
        // the path of the failing sink waits.
      });
      return { topic: t.name, consumerGroup, batching, mapping };
    });
    return { name, fn, mappings };
  }
}
