// cdk-nag AwsSolutions findings this design accepts, each with its reason, on the construct it concerns.
// Everything else cdk-nag reports fails the synth.
import { Validations, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { JOB_OUTPUT_TABLES } from '../functions/adapters/job-files.js';
import { MSK_POLLER_EC2_DESCRIBE } from './ingest.js';
import { LAKE_KEYS } from './lake.js';
import type { TributaryStack } from './stack.js';

const ack = (scope: IConstruct, id: string, reason: string): void => Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${id}`, reason });

export function acknowledgeFindings(stack: TributaryStack): void {
  const ingest = stack.ingest.paths;
  const materializer = stack.materializer?.fn;
  const sqlJobs = stack.jobs.sqlJobs;
  const functions = [...ingest.map((x) => x.fn), stack.jobs.compaction, stack.jobs.abDaily, ...(materializer ? [materializer] : []), ...(sqlJobs ? [sqlJobs] : [])];
  // The lake writers: the coupled function, or split's lake path (the fresh path has no Glue and no lake/ rights).
  const lakeWriters = ingest.filter((x) => x.name !== 'fresh').map((x) => x.fn);
  const bucket = stack.resolve(stack.lake.bucket.bucketArn) as { 'Fn::GetAtt': [string, string] };
  const objects = (pattern: string): string => `IAM5[Resource::<${bucket['Fn::GetAtt'][0]}.Arn>/${pattern}]`;
  const glueTables = `arn:<AWS::Partition>:glue:${stack.region}:${stack.account}:table/${stack.lake.glueDatabase}/*`;
  for (const fn of functions) {
    ack(fn, 'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'writes the function\'s own logs; the AWS-managed policy is the documented minimum');
    ack(fn, 'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]', 'network interfaces for VPC placement (MSK and ClickHouse are private); ENI actions cannot be scoped to resources');
  }
  for (const fn of lakeWriters) ack(fn, `IAM5[Resource::${glueTables}]`, 'tables are created from data at run time (one per event); limited to this environment\'s Glue database, job output tables denied');
  ack(stack.jobs.compaction, `IAM5[Resource::${glueTables}]`, 'compacts every event table, whose names come from data; limited to this environment\'s Glue database, changes to job output tables denied');
  for (const { fn } of ingest) ack(fn, 'IAM5[Resource::*]', `${MSK_POLLER_EC2_DESCRIBE.join(' and ')} only, for the MSK event source mapping's network interfaces: EC2's Describe actions have no resource-level permissions`);
  for (const fn of lakeWriters) {
    if (materializer) ack(fn, objects(LAKE_KEYS.spoolObjects), 'one spool object per batch, named by its Kafka ranges; put only, never read or deleted (docs/lake.md#spool-writes)');
    else ack(fn, objects(LAKE_KEYS.ingestFiles), 'its own files (<topic>+<partition>+<offsets>.parquet) in hour partitions named by data; the quarantine is write-only, job outputs denied');
  }
  if (materializer) {
    ack(materializer, `IAM5[Resource::${glueTables}]`, 'registers partitions of every event table, whose names come from data; limited to this environment\'s Glue database, job output tables denied');
    ack(materializer, objects(LAKE_KEYS.ingestFiles), 'lake files (<topic>+<partition>+<offsets>.parquet) in hour partitions named by data, and quarantine files (write-only); job outputs denied');
    ack(materializer, objects(LAKE_KEYS.spoolObjects), 'reads and deletes the spool objects it materializes (one per ingest batch)');
    ack(materializer, objects(LAKE_KEYS.spoolManifests), 'its claim manifests, one per set of spool objects');
    ack(materializer, objects(LAKE_KEYS.lineage), 'its lineage files, one per manifest, partitioned by day');
  }
  for (const fn of [...ingest.map((x) => x.fn), stack.jobs.abDaily]) ack(fn, objects(LAKE_KEYS.registry), 'schema registry versions, one document per table version (table names come from data)');
  ack(stack.jobs.compaction, objects(LAKE_KEYS.partitionObjects), 'reads and deletes the files of event tables\' hour partitions (named by data); quarantine and job outputs denied');
  ack(stack.jobs.compaction, objects(LAKE_KEYS.versionFolders), 'writes the version folders (_v<N>/) of event tables\' hour partitions; quarantine and job outputs denied');
  ack(stack.jobs.abDaily, objects(LAKE_KEYS.jobOutput(JOB_OUTPUT_TABLES['ab-daily'])), 'writes its own output, one file per day');
  if (sqlJobs) {
    ack(sqlJobs, objects(LAKE_KEYS.registry), 'schema registry versions: a declared source table is created as ingest would');
    for (const t of stack.jobs.sqlJobOutputs) ack(sqlJobs, objects(LAKE_KEYS.jobOutput(t)), `writes job ${t}'s output, one file per window`);
  }
  if (stack.clickhouseLakeReader) ack(stack.clickhouseLakeReader, objects(LAKE_KEYS.lake), 'ClickHouse\'s _all views read every event table under lake/ (names from data); the quarantine is denied');
  acknowledgeImportedSubnets(stack);
}

/** Subnets are imported by id so synth needs no lookups; nothing here reads their route tables. */
function acknowledgeImportedSubnets(stack: Stack): void {
  Validations.of(stack).acknowledge({ id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId', reason: 'subnets imported by id; no route table is read' });
}
