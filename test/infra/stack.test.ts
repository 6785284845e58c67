// The CDK stack for every environment in cdk.json: cdk-nag passes, and the resources carry the properties
// that matter (encryption, TLS, ESM settings, scoped IAM, alarms, every handler's configuration).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readCompactEnvironment } from '../../functions/compact/config.js';
import { readIngestEnvironment, readServicesEnvironment } from '../../functions/adapters/environment.js';
import { EnvironmentConfigError, parseEnvironment } from '../../infra/config.js';
import { heapFlags, PROJECT_ROOT } from '../../infra/functions.js';
import { MSK_POLLER_EC2_DESCRIBE } from '../../infra/ingest.js';
import { acknowledgeFindings } from '../../infra/nag.js';
import { TributaryStack } from '../../infra/stack.js';

const environments = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context.environments as Record<string, Record<string, unknown>>;

function synth(name: string): { stack: TributaryStack; template: Template } {
  // No bundling here (the bundle has its own test); cdk-nag runs as in `cdk synth`.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = parseEnvironment(name, environments);
  const stack = new TributaryStack(app, `tributary-${name}`, { config });
  acknowledgeFindings(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth(); // throws when cdk-nag reports a finding nobody acknowledged
  return { stack, template: Template.fromStack(stack) };
}

type Statement = { Action: string | string[]; Resource: unknown };

/** A function's environment with CloudFormation references replaced by placeholder text. */
function environmentOf(template: Template, description: RegExp): Record<string, string> {
  const fns = Object.values(template.findResources('AWS::Lambda::Function')) as Array<{ Properties: { Description?: string; Environment?: { Variables: Record<string, unknown> } } }>;
  const fn = fns.find((f) => description.test(f.Properties.Description ?? ''));
  assert.ok(fn, `a function described ${description}`);
  return Object.fromEntries(Object.entries(fn.Properties.Environment!.Variables).map(([k, v]) => [k, typeof v === 'string' ? v : k.endsWith('SECRET_ARN') ? 'arn:aws:secretsmanager:eu-west-1:1:secret:x' : 'resolved-at-deploy']));
}

for (const name of Object.keys(environments)) {
  describe(`stack for ${name}`, () => {
    const { stack, template } = synth(name);
    const config = parseEnvironment(name, environments);

    it('keeps the lake private, TLS-only and encrypted', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: config.kmsKey ? 'aws:kms' : 'AES256' } }] },
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'lake/' }),
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
      template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: `tributary_${name}` } });
      template.hasResourceProperties('AWS::Athena::WorkGroup', { WorkGroupConfiguration: Match.objectLike({ EnforceWorkGroupConfiguration: true }) });
    });

    it('maps every topic with its settings and a consumer group of its own, retrying failed batches rather than skipping them', () => {
      const mappings = template.findResources('AWS::Lambda::EventSourceMapping') as Record<string, { Properties: Record<string, unknown> }>;
      assert.equal(Object.keys(mappings).length, config.topics.length);
      for (const t of config.topics) {
        template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          Topics: [t.name], BatchSize: t.batchSize, MaximumBatchingWindowInSeconds: t.batchingWindowSeconds, StartingPosition: t.startingPosition,
          AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: `${config.consumerGroup}-${t.name}` },
          // An on-failure destination would cap retries at 10 and then skip the batch (its records lost).
          DestinationConfig: Match.absent(), MaximumRetryAttempts: Match.absent(),
        });
      }
      // Lambda requires a consumer group id that no other Kafka event source uses.
      const groups = Object.values(mappings).map((m) => (m.Properties['AmazonManagedKafkaEventSourceConfig'] as { ConsumerGroupId: string }).ConsumerGroupId);
      assert.equal(new Set(groups).size, groups.length);
      template.resourceCountIs('AWS::MSK::ServerlessCluster', 'create' in config.msk ? 1 : 0);
    });

    it('grants no inline permission on "*" but EC2 reads that have no resource, and scopes Kafka access to the cluster, the topics and the group', () => {
      for (const policy of Object.values(template.findResources('AWS::IAM::Policy')) as Array<{ Properties: { PolicyDocument: { Statement: Statement[] } } }>) {
        for (const s of policy.Properties.PolicyDocument.Statement) {
          const actions = ([] as string[]).concat(s.Action);
          assert.ok(!actions.includes('*'), 'no Action "*"');
          if (s.Resource === '*') assert.deepEqual(actions, [...MSK_POLLER_EC2_DESCRIBE], `actions ${actions.join(', ')} have a narrower resource`);
        }
      }
      const statements = (Object.values(template.findResources('AWS::IAM::Policy')) as Array<{ Properties: { PolicyDocument: { Statement: Statement[] } } }>)
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
      // The MSK pollers' cluster reads are on this cluster, not through AWSLambdaMSKExecutionRole (every cluster).
      const managed = JSON.stringify(Object.values(template.findResources('AWS::IAM::Role')).map((r) => (r as { Properties: { ManagedPolicyArns?: unknown } }).Properties.ManagedPolicyArns));
      assert.doesNotMatch(managed, /AWSLambdaMSKExecutionRole/);
      const clusterReads = statements.filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('kafka:')));
      assert.deepEqual(clusterReads.flatMap((s) => ([] as string[]).concat(s.Action)).sort(), ['kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers']);
      const created = Object.keys(template.findResources('AWS::MSK::ServerlessCluster'))[0];
      const cluster = 'create' in config.msk ? { 'Fn::GetAtt': [created, 'Arn'] } : config.msk.clusterArn;
      for (const s of clusterReads) assert.deepEqual(s.Resource, cluster, 'on the cluster only');
      const read = statements.find((s) => ([] as string[]).concat(s.Action).includes('kafka-cluster:ReadData'))!;
      assert.equal(([] as unknown[]).concat(read.Resource).length, config.topics.length, 'one topic ARN per topic');
      assert.ok(statements.some((s) => ([] as string[]).concat(s.Action).includes('kafka-cluster:AlterGroup')));
      assert.ok(!statements.some((s) => ([] as string[]).concat(s.Action).includes('s3:DeleteObject*') && JSON.stringify(s.Resource).includes('_registry')), 'nothing deletes registry versions');
      // Deleting a current object leaves a noncurrent version (compaction's deletes stay recoverable); nothing may purge versions.
      const deletes = statements.flatMap((s) => ([] as string[]).concat(s.Action)).filter((a) => a.startsWith('s3:Delete'));
      assert.deepEqual([...new Set(deletes)], ['s3:DeleteObject']);
      // Only ingest creates tables from data; ab-daily writes its own output table and no other.
      const creators = statements.filter((s) => ([] as string[]).concat(s.Action).includes('glue:CreateTable'));
      assert.equal(creators.filter((s) => /:table\/\w+\/\*/.test(JSON.stringify(s.Resource))).length, 1);
      assert.equal(creators.filter((s) => /:table\/\w+\/ab_daily"/.test(JSON.stringify(s.Resource))).length, 1);
    });

    it('gives every handler the configuration it reads', () => {
      assert.doesNotThrow(() => readIngestEnvironment(environmentOf(template, /ingest/)));
      if (config.clickhouse.lakeUrl === true) {
        // The _all views read this stack's own bucket, whose name CloudFormation makes.
        const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) => /ingest/.test((f as { Properties: { Description?: string } }).Properties.Description ?? '')) as { Properties: { Environment: { Variables: Record<string, unknown> } } };
        assert.match(JSON.stringify(fn.Properties.Environment.Variables['CLICKHOUSE_LAKE_URL']), /RegionalDomainName/);
      }
      assert.doesNotThrow(() => readCompactEnvironment(environmentOf(template, /Compacts/)));
      const ab = environmentOf(template, /A\/B/);
      assert.doesNotThrow(() => readServicesEnvironment(ab));
      assert.equal(ab['TRIBUTARY_JOBS_DIR'], 'schemas/jobs');
      const ingest = environmentOf(template, /ingest/);
      assert.equal(ingest['CLICKHOUSE_URL'], config.clickhouse.url);
      assert.ok(!('CLICKHOUSE_PASSWORD' in ingest), 'the password is never in the environment, only its secret ARN');
      template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('ingest'), Timeout: config.ingest.timeoutMinutes * 60, MemorySize: config.ingest.memoryMb, Architectures: ['arm64'], VpcConfig: Match.anyValue() });
    });

    it('sizes the ingest function\'s young generation through NODE_OPTIONS, with the old space Lambda would give it', () => {
      // Lambda's bootstrap keeps its own heap flags out when NODE_OPTIONS names one, so both must be there.
      const options = environmentOf(template, /ingest/)['NODE_OPTIONS']!.split(' ');
      assert.deepEqual(options, ['--enable-source-maps', `--max-semi-space-size=${config.ingest.semiSpaceMb}`, `--max-old-space-size=${config.ingest.memoryMb - Math.floor(config.ingest.memoryMb / 10)}`]);
      for (const other of [/Compacts/, /A\/B/]) assert.equal(environmentOf(template, other)['NODE_OPTIONS'], '--enable-source-maps', 'the jobs keep Lambda\'s heap sizing');
    });

    it('schedules compaction and ab-daily, with dead-letter queues', () => {
      template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(20 * * * ? *)' });
      template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(5 * * * ? *)' });
      template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(30 0 * * ? *)' });
      template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('Compacts'), DeadLetterConfig: Match.anyValue(), EphemeralStorage: { Size: 10240 } });
    });

    it('alarms to SNS on freshness, quarantine rate, errors, lag and failed jobs, and outputs what BI tools need', () => {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Array<{ Properties: { AlarmActions: unknown[] } }>;
      assert.equal(alarms.length, 6);
      assert.ok(alarms.every((a) => a.Properties.AlarmActions.length === 1));
      template.resourceCountIs('AWS::SNS::Subscription', config.alarms.emails.length);
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      for (const output of ['LakeBucket', 'GlueDatabase', 'AthenaWorkgroup', 'ClickHouseTables']) template.hasOutput(output, Match.anyValue());
      assert.equal(stack.lake.glueDatabase, `tributary_${name}`);
    });
  });
}

describe('environment configuration', () => {
  it('names the environments when one is unknown, and everything missing when one is incomplete', () => {
    assert.throws(() => parseEnvironment('qa', environments), (e: unknown) => e instanceof EnvironmentConfigError && /unknown environment "qa"; cdk.json defines: dev, staging, prod/.test(e.message));
    assert.throws(() => parseEnvironment(undefined, environments), /choose an environment: -c env=<dev\|staging\|prod>/);
    const broken = { ...environments['staging'], account: 'me', topics: [{ name: 'tracking', batchSize: 20_000 }], clickhouse: {} };
    assert.throws(() => parseEnvironment('x', { x: broken }), (e: unknown) => {
      const m = (e as Error).message;
      return /account "me" does not match/.test(m) && /topics\.0\.batchSize must be an integer from 1 to 10000/.test(m) && /clickhouse\.url is missing/.test(m) && /clickhouse\.secretName is missing/.test(m);
    });
  });

  it('lists wrong types, unknown keys, duplicate topics and log retentions CloudWatch does not offer', () => {
    const staging = environments['staging'] as Record<string, unknown>;
    const bad = {
      ...staging, kmsKey: 'true', ingets: {}, topics: [{ name: 'tracking' }, { name: 'tracking' }],
      alarms: { emails: ['ops@example.com', 'not-an-email'] }, retention: { logDays: 60 * 7 },
      clickhouse: { ...(staging['clickhouse'] as object), user: 7, lakeUrl: 's3://bucket/lake' },
      msk: { create: true, clusterName: 'c', clusterArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/c/1' },
    };
    assert.throws(() => parseEnvironment('x', { x: bad }), (e: unknown) => {
      const m = (e as Error).message;
      return [/kmsKey must be true or false, not "true"/, /unknown keys "ingets"/, /topics\.1\.name tracking is listed twice/, /alarms\.emails must list/,
        /retention\.logDays must be one of CloudWatch's retention periods/, /clickhouse\.user 7 does not match/, /clickhouse\.lakeUrl "s3:\/\/bucket\/lake" does not match/,
        /msk has both "create" and "clusterArn"/].every((r) => r.test(m));
    });
    const sixtyDays = parseEnvironment('x', { x: { ...staging, retention: { logDays: 60 } } });
    assert.equal(sixtyDays.retention.logDays, 60);
    const noViews = parseEnvironment('x', { x: { ...staging, clickhouse: { ...(staging['clickhouse'] as object), lakeUrl: false } } });
    assert.equal(noViews.clickhouse.lakeUrl, undefined, 'false: no _all views');
  });

  it('takes the ingest semi-space from the environment, 8 MB by default, never more than Lambda\'s own sizing', () => {
    const staging = environments['staging'] as Record<string, unknown>;
    assert.equal(parseEnvironment('x', { x: { ...staging, ingest: { memoryMb: 2048 } } }).ingest.semiSpaceMb, 8);
    assert.equal(parseEnvironment('x', { x: { ...staging, ingest: { memoryMb: 2048, semiSpaceMb: 16 } } }).ingest.semiSpaceMb, 16);
    assert.throws(() => parseEnvironment('x', { x: { ...staging, ingest: { memoryMb: 1024, semiSpaceMb: 64 } } }), /ingest\.semiSpaceMb 64 is more than memory\/20 \(51 MB at ingest\.memoryMb 1024\)/);
    assert.throws(() => parseEnvironment('x', { x: { ...staging, ingest: { semiSpaceMb: 0 } } }), /ingest\.semiSpaceMb must be an integer from 1 to 512/);
    assert.throws(() => heapFlags(1024, 52), /semiSpaceMb must be an integer from 1 to memory\/20 \(51 MB at 1024 MB\), not 52/);
    assert.deepEqual(heapFlags(2048, 8), ['--max-semi-space-size=8', '--max-old-space-size=1844']);
  });

  it('refuses a consumer group that is not a valid group id, or too long with a topic name', () => {
    for (const consumerGroup of ['', 'has space', 123]) {
      assert.throws(() => parseEnvironment('x', { x: { ...environments['staging'], consumerGroup } }), /consumerGroup must be 1–150 characters/);
    }
    const long = { ...environments['staging'], consumerGroup: 'g'.repeat(150), topics: [{ name: 't'.repeat(60) }] };
    assert.throws(() => parseEnvironment('x', { x: long }), /makes a group id over 200 characters/);
  });
});
