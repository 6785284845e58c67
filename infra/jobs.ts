// Scheduled work: compaction of closed hours (hourly) and ab-daily (provisional hourly, final at 00:30 UTC),
// each its own function with its own least-privilege role and a dead-letter queue for failed invocations.
import { Duration, Size } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { JOB_OUTPUT_TABLES, jobDeployment } from '../functions/adapters/job-files.js';
import { attachClickHouse, PROJECT_ROOT, tributaryFunction, type ClickHouseLogin, type FunctionContext } from './functions.js';
import { LAKE_KEYS } from './lake.js';

export interface JobsProps extends FunctionContext {
  /** the jobs' own ClickHouse user (ab-daily); compaction does not talk to ClickHouse */
  readonly clickhouse: ClickHouseLogin;
  /** the SQL job files to schedule and bundle (default: the project's schemas/jobs) */
  readonly jobsDir?: string;
}

export class Jobs extends Construct {
  readonly compaction: NodejsFunction;
  readonly abDaily: NodejsFunction;
  /** the SQL jobs of schemas/jobs/ (absent when there is none) */
  readonly sqlJobs?: NodejsFunction;
  /** the SQL jobs' output tables */
  readonly sqlJobOutputs: readonly string[];
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
    // The lake, as functions/core/lake/compact-partition.ts uses it: list an hour partition, read its files,
    // manifests and claims, write a version folder (outputs, manifest, claim), delete superseded files and
    // claims. Only event tables are compacted: the quarantine has no catalog table and no valid event name,
    // job outputs are skipped by kind, so neither is readable, writable or listable here. Deleting a
    // current object leaves a noncurrent version; s3:DeleteObjectVersion, which would purge it, is not given.
    const jobsDir = p.jobsDir ?? join(PROJECT_ROOT, 'schemas/jobs');
    // Read at synth: a job file with a problem fails the synth, naming the file and line.
    const deployment = jobDeployment(jobsDir);
    this.sqlJobOutputs = deployment.outputTables;
    const outputTables = [...Object.values(JOB_OUTPUT_TABLES), ...deployment.outputTables];
    const offLimits = [LAKE_KEYS.quarantine, ...outputTables.map(LAKE_KEYS.jobOutput)];
    p.lake.grantList(this.compaction, [LAKE_KEYS.partitionPrefix]);
    p.lake.grantGet(this.compaction, [LAKE_KEYS.partitionObjects]);
    p.lake.grantPut(this.compaction, [LAKE_KEYS.versionFolders]);
    p.lake.grantDelete(this.compaction, [LAKE_KEYS.partitionObjects]);
    p.lake.deny(this.compaction, ['s3:*'], offLimits);
    p.lake.denyList(this.compaction, offLimits);
    // Glue: list tables (their kind tells event tables from job outputs), read partitions, switch one to a new
    // version, bring partitions a schema change left behind up to the table's columns (the catalog's
    // addPartitions: BatchCreatePartition, then BatchUpdatePartition for those already there). Job output
    // tables' metadata stays readable (GetTables answers only with readable tables, and compaction must see
    // their kind to skip them); changing them is denied.
    this.compaction.addToRolePolicy(new PolicyStatement({
      actions: ['glue:GetTables', 'glue:GetTable', 'glue:GetPartitions', 'glue:BatchGetPartition', 'glue:UpdatePartition', 'glue:BatchCreatePartition', 'glue:BatchUpdatePartition'],
      resources: [glue.catalog, glue.database, glue.tables],
    }));
    this.compaction.addToRolePolicy(new PolicyStatement({
      effect: Effect.DENY,
      actions: ['glue:Create*', 'glue:Update*', 'glue:Delete*', 'glue:BatchCreate*', 'glue:BatchUpdate*', 'glue:BatchDelete*'],
      resources: outputTables.map(glue.table),
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
        POWERTOOLS_SERVICE_NAME: 'tributary-ab-daily',
      },
      extra: { ...network, ...asyncSafety, reservedConcurrentExecutions: 1 },
    });
    // The registry (to know the event tables' columns) and its own output, one file per window; nothing else.
    const output = JOB_OUTPUT_TABLES['ab-daily'];
    p.lake.grantList(this.abDaily, [LAKE_KEYS.registry]);
    p.lake.grantGet(this.abDaily, [LAKE_KEYS.registry]);
    p.lake.grantPut(this.abDaily, [LAKE_KEYS.jobOutput(output)]);
    attachClickHouse(this.abDaily, p.clickhouse);
    this.abDaily.addToRolePolicy(new PolicyStatement({
      // a re-run finds its day registered: addPartitions reads it back and brings its columns up to the table's
      actions: ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable', 'glue:BatchCreatePartition', 'glue:BatchGetPartition', 'glue:BatchUpdatePartition'],
      resources: [glue.catalog, glue.database, glue.table(output)], // its own output only
    }));
    new Rule(this, 'AbDailyHourly', { schedule: Schedule.cron({ minute: '5' }), targets: [new LambdaFunction(this.abDaily, { retryAttempts: 2, event: RuleTargetInput.fromObject({}) })] });
    new Rule(this, 'AbDailyFinal', { schedule: Schedule.cron({ minute: '30', hour: '0' }), targets: [new LambdaFunction(this.abDaily, { retryAttempts: 2, event: RuleTargetInput.fromObject({}) })] });

    // The SQL jobs (schemas/jobs/*.sql, bundled with the function: adding a job is adding a file and deploying;
    // docs/jobs.md says why not TRIBUTARY_JOBS from S3): one function, one schedule per cadence that has jobs.
    if (deployment.schedules.length === 0) return;
    this.sqlJobs = tributaryFunction(this, 'SqlJobs', {
      entry: 'jobs/handler.ts',
      description: `Windowed SQL jobs of schemas/jobs (${deployment.schedules.flatMap((x) => x.jobs).join(', ')}) (Tributary)`.slice(0, 256),
      memoryMb: 1024,
      timeout: Duration.minutes(15),
      logDays: p.logDays,
      jobsDir,
      environment: {
        ...p.lake.environment(),
        TRIBUTARY_JOBS_DIR: 'schemas/jobs',
        POWERTOOLS_SERVICE_NAME: 'tributary-jobs',
      },
      extra: { ...network, ...asyncSafety, reservedConcurrentExecutions: 1 },
    });
    // The registry (a declared source table is created empty, as ingest would) and each job's own output.
    p.lake.grantList(this.sqlJobs, [LAKE_KEYS.registry]);
    p.lake.grantGet(this.sqlJobs, [LAKE_KEYS.registry]);
    p.lake.grantPut(this.sqlJobs, deployment.outputTables.map(LAKE_KEYS.jobOutput));
    attachClickHouse(this.sqlJobs, p.clickhouse);
    this.sqlJobs.addToRolePolicy(new PolicyStatement({
      actions: ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable', 'glue:BatchCreatePartition', 'glue:BatchGetPartition', 'glue:BatchUpdatePartition'],
      resources: [glue.catalog, glue.database, ...deployment.outputTables.map(glue.table)], // the jobs' outputs only
    }));
    for (const x of deployment.schedules) {
      const id = x.cadence === 'hourly' ? 'SqlJobsHourly' : 'SqlJobsDaily';
      new Rule(this, id, {
        description: `Tributary ${x.cadence} SQL jobs: ${x.jobs.join(', ')}`.slice(0, 512),
        schedule: Schedule.cron(x.hour === undefined ? { minute: String(x.minute) } : { minute: String(x.minute), hour: String(x.hour) }),
        targets: [new LambdaFunction(this.sqlJobs, { retryAttempts: 2, event: RuleTargetInput.fromObject({ cadence: x.cadence }) })],
      });
    }
  }
}
