// Scheduled work: compaction of closed hours (hourly) and ab-daily (provisional hourly, final at 00:30 UTC),
// each its own function with its own least-privilege role and a dead-letter queue for failed invocations.
import { Duration, Size } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { JOB_OUTPUT_TABLES } from '../functions/adapters/job-files.js';
import { tributaryFunction, type FunctionContext } from './functions.js';

export type JobsProps = FunctionContext;

export class Jobs extends Construct {
  readonly compaction: NodejsFunction;
  readonly abDaily: NodejsFunction;
  readonly deadLetters: Queue;

  constructor(scope: Construct, id: string, p: JobsProps) {
    super(scope, id);
    this.deadLetters = new Queue(this, 'DeadLetters', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    const network = { vpc: p.vpc, vpcSubnets: p.subnets, securityGroups: [...p.securityGroups] };
    const asyncSafety = { deadLetterQueue: this.deadLetters, retryAttempts: 1 };
    const glue = p.lake.glueArns();

    // DuckDB's native binding is the build machine's (linux-x64), hence x86_64 for this one function.
    this.compaction = tributaryFunction(this, 'Compaction', {
      entry: 'compact/handler.ts',
      description: 'Compacts closed hour partitions of the lake (Tributary)',
      memoryMb: 4096,
      timeout: Duration.minutes(15),
      architecture: Architecture.X86_64,
      duckdb: true,
      logDays: p.logDays,
      environment: {
        ...p.lake.environment(),
        TRIBUTARY_COMPACT_MEMORY_LIMIT: '2GB',
        TRIBUTARY_COMPACT_SCRATCH_DIR: '/tmp',
        POWERTOOLS_SERVICE_NAME: 'tributary-compact',
      },
      extra: { ...network, ...asyncSafety, ephemeralStorageSize: Size.gibibytes(10), reservedConcurrentExecutions: 1 },
    });
    // Read, write and delete current objects; not s3:DeleteObjectVersion, which would let it purge the
    // noncurrent versions that keep a compaction's deletes recoverable.
    p.lake.bucket.grantRead(this.compaction, 'lake/*');
    p.lake.bucket.grantPut(this.compaction, 'lake/*');
    this.compaction.addToRolePolicy(new PolicyStatement({ actions: ['s3:DeleteObject'], resources: [p.lake.bucket.arnForObjects('lake/*')] }));
    this.compaction.addToRolePolicy(new PolicyStatement({
      actions: ['glue:GetTable', 'glue:GetTables', 'glue:GetPartitions', 'glue:BatchGetPartition', 'glue:UpdatePartition'],
      resources: [glue.catalog, glue.database, glue.tables],
    }));
    // 20 minutes past the hour: the previous hour's 15-minute grace has passed.
    new Rule(this, 'CompactionSchedule', { schedule: Schedule.cron({ minute: '20' }), targets: [new LambdaFunction(this.compaction, { retryAttempts: 2 })] });

    this.abDaily = tributaryFunction(this, 'AbDaily', {
      entry: 'ab-daily/handler.ts',
      description: 'Daily A/B results: provisional hourly, final at 00:30 UTC (Tributary)',
      memoryMb: 1024,
      timeout: Duration.minutes(10),
      logDays: p.logDays,
      environment: {
        ...p.lake.environment(),
        TRIBUTARY_JOBS_DIR: 'schemas/jobs',
        ...p.clickhouseEnvironment,
        CLICKHOUSE_PASSWORD_SECRET_ARN: p.clickhouseSecret.secretArn,
        POWERTOOLS_SERVICE_NAME: 'tributary-ab-daily',
      },
      extra: { ...network, ...asyncSafety, reservedConcurrentExecutions: 1 },
    });
    p.lake.bucket.grantRead(this.abDaily, '_registry/*');
    p.lake.bucket.grantPut(this.abDaily, 'lake/ab_daily/*');
    p.clickhouseSecret.grantRead(this.abDaily);
    this.abDaily.addToRolePolicy(new PolicyStatement({
      actions: ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable', 'glue:GetPartitions', 'glue:BatchCreatePartition'],
      resources: [glue.catalog, glue.database, glue.table(JOB_OUTPUT_TABLES['ab-daily'])], // its own output only
    }));
    new Rule(this, 'AbDailyHourly', { schedule: Schedule.cron({ minute: '5' }), targets: [new LambdaFunction(this.abDaily, { retryAttempts: 2, event: RuleTargetInput.fromObject({}) })] });
    new Rule(this, 'AbDailyFinal', { schedule: Schedule.cron({ minute: '30', hour: '0' }), targets: [new LambdaFunction(this.abDaily, { retryAttempts: 2, event: RuleTargetInput.fromObject({}) })] });
  }
}
