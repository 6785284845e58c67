// The spool's materializer (docs/lake.md#spool-writes), for environments with "lakeWrites": "spool": a
// function on a schedule, one run at a time (reserved concurrency 1: the manifest rule's second guard),
// with its own least-privilege role: read and delete spool objects, write and delete its manifests, write
// lake files, quarantine files and lineage, register partitions. No ClickHouse, no registry, no deletes
// under lake/.
import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { JOB_OUTPUT_TABLES } from '../functions/adapters/job-files.js';
import { tributaryFunction, type FunctionContext } from './functions.js';
import { LAKE_KEYS } from './lake.js';

export interface MaterializerProps extends FunctionContext {
  readonly everyMinutes: number;
  /** TRIBUTARY_MATERIALIZE_DEFER_SECONDS: validated with the lake windows in config.ts (event → lake ≤ 300 s) */
  readonly deferSeconds?: number;
}

/** The function's timeout; a manifest's lease outlasts it, so a run never takes over a live one's. */
export const MATERIALIZE_TIMEOUT = Duration.minutes(4);

export class Materializer extends Construct {
  readonly fn: NodejsFunction;
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, p: MaterializerProps) {
    super(scope, id);
    if (!Number.isInteger(p.everyMinutes) || p.everyMinutes < 1 || p.everyMinutes > 5) throw new Error('Materializer: everyMinutes must be 1–5 (event → lake within 5 minutes)');
    if (p.deferSeconds !== undefined && (!Number.isInteger(p.deferSeconds) || p.deferSeconds < 0 || p.deferSeconds > 240)) throw new Error('Materializer: deferSeconds must be an integer from 0 to 240');
    const { TRIBUTARY_BUCKET, TRIBUTARY_GLUE_DATABASE, TRIBUTARY_KMS_KEY_ID } = p.lake.environment();
    this.fn = tributaryFunction(this, 'Function', {
      entry: 'materialize/handler.ts',
      description: 'Materializes the lake spool into Parquet files per table and hour (Tributary)',
      memoryMb: 2048,
      timeout: MATERIALIZE_TIMEOUT,
      logDays: p.logDays,
      environment: {
        TRIBUTARY_BUCKET: TRIBUTARY_BUCKET!, TRIBUTARY_GLUE_DATABASE: TRIBUTARY_GLUE_DATABASE!, ...(TRIBUTARY_KMS_KEY_ID ? { TRIBUTARY_KMS_KEY_ID } : {}),
        TRIBUTARY_MATERIALIZE_LEASE_SECONDS: String(MATERIALIZE_TIMEOUT.toSeconds() + 60),
        TRIBUTARY_MATERIALIZE_DEFER_SECONDS: String(p.deferSeconds ?? 0),
        POWERTOOLS_SERVICE_NAME: 'tributary-materialize',
      },
      // One run at a time; a failed run is not retried by Lambda: the next scheduled one finishes its manifest.
      extra: { vpc: p.vpc, vpcSubnets: p.subnets, securityGroups: [...p.securityGroups], reservedConcurrentExecutions: 1, retryAttempts: 0 },
    });
    p.lake.grantList(this.fn, [LAKE_KEYS.spoolPrefixes]);
    p.lake.grantGet(this.fn, [LAKE_KEYS.spoolObjects, LAKE_KEYS.spoolManifests, LAKE_KEYS.spoolOffsets]);
    p.lake.grantDelete(this.fn, [LAKE_KEYS.spoolObjects, LAKE_KEYS.spoolManifests]);
    // lake files (an hour partition, or a compacted version's folder for late rows), quarantine files, lineage
    p.lake.grantPut(this.fn, [LAKE_KEYS.spoolManifests, LAKE_KEYS.spoolOffsets, LAKE_KEYS.ingestFiles, LAKE_KEYS.lineage]);
    p.lake.deny(this.fn, ['s3:GetObject', 's3:GetObjectVersion'], [LAKE_KEYS.quarantine]);
    p.lake.deny(this.fn, ['s3:*'], Object.values(JOB_OUTPUT_TABLES).map(LAKE_KEYS.jobOutput));
    const glue = p.lake.glueArns();
    // The tables' columns (a file has the table's current ones: GetTables, one call per 100 tables, answering
    // with the tables it may read), partition versions (late rows), addPartitions.
    this.fn.addToRolePolicy(new PolicyStatement({
      actions: ['glue:GetTables', 'glue:GetTable', 'glue:BatchGetPartition', 'glue:BatchCreatePartition', 'glue:BatchUpdatePartition'],
      resources: [glue.catalog, glue.database, glue.tables],
    }));
    this.fn.addToRolePolicy(new PolicyStatement({ effect: Effect.DENY, actions: ['glue:*'], resources: Object.values(JOB_OUTPUT_TABLES).map(glue.table) }));
    this.schedule = new Rule(this, 'Schedule', {
      schedule: Schedule.rate(Duration.minutes(p.everyMinutes)),
      targets: [new LambdaFunction(this.fn, { retryAttempts: 0 })],
    });
  }
}
