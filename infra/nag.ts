// cdk-nag AwsSolutions findings this design accepts, each with its reason, on the construct it concerns.
// Everything else cdk-nag reports fails the synth.
import { Validations, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { MSK_POLLER_EC2_DESCRIBE } from './ingest.js';
import type { TributaryStack } from './stack.js';

const ack = (scope: IConstruct, id: string, reason: string): void => Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${id}`, reason });

const S3_GRANTS = 'the CDK grant helpers\' action sets (object read and put, multipart abort, bucket listing), limited to the lake bucket';

export function acknowledgeFindings(stack: TributaryStack): void {
  const functions = [stack.ingest.fn, stack.jobs.compaction, stack.jobs.abDaily];
  const bucket = stack.resolve(stack.lake.bucket.bucketArn) as { 'Fn::GetAtt': [string, string] };
  const bucketRef = `<${bucket['Fn::GetAtt'][0]}.Arn>`;
  const glueTables = `arn:<AWS::Partition>:glue:${stack.region}:${stack.account}:table/${stack.lake.glueDatabase}/*`;
  for (const fn of functions) {
    ack(fn, 'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'writes the function\'s own logs; the AWS-managed policy is the documented minimum');
    ack(fn, 'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]', 'network interfaces for VPC placement (MSK and ClickHouse are private); ENI actions cannot be scoped to resources');
    for (const action of ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']) ack(fn, `IAM5[Action::${action}]`, S3_GRANTS);
    for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) ack(fn, `IAM5[Action::${action}]`, 'SSE-KMS on the lake bucket: data keys of the lake key only');
  }
  ack(stack.ingest.fn, `IAM5[Resource::${glueTables}]`, 'tables are created from data at run time (one per event); limited to this environment\'s Glue database');
  ack(stack.jobs.compaction, `IAM5[Resource::${glueTables}]`, 'compacts every event table, whose names come from data; limited to this environment\'s Glue database');
  ack(stack.ingest.fn, 'IAM5[Resource::*]', `${MSK_POLLER_EC2_DESCRIBE.join(' and ')} only, for the MSK event source mapping's network interfaces: EC2's Describe actions have no resource-level permissions`);
  for (const prefix of ['lake', '_registry']) ack(stack.ingest.fn, `IAM5[Resource::${bucketRef}/${prefix}/*]`, `objects under ${prefix}/ (new files and registry versions have data-derived names)`);
  ack(stack.jobs.compaction, `IAM5[Resource::${bucketRef}/lake/*]`, 'compaction rewrites and deletes files under lake/ (partition folders named by data)');
  ack(stack.jobs.abDaily, `IAM5[Resource::${bucketRef}/_registry/*]`, 'reads schema versions to know the event tables\' columns');
  ack(stack.jobs.abDaily, `IAM5[Resource::${bucketRef}/lake/ab_daily/*]`, 'writes its own output, one file per day');
  acknowledgeImportedSubnets(stack);
}

/** Subnets are imported by id so synth needs no lookups; nothing here reads their route tables. */
function acknowledgeImportedSubnets(stack: Stack): void {
  Validations.of(stack).acknowledge({ id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId', reason: 'subnets imported by id; no route table is read' });
}
