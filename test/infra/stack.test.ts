// The CDK stack for every environment in cdk.json: cdk-nag passes, and the resources carry the properties
// that matter (encryption, TLS, ESM settings, scoped IAM, alarms, every handler's configuration).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { App, Validations, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readCompactEnvironment } from '../../functions/compact/config.js';
import { readMaterializeEnvironment } from '../../functions/materialize/config.js';
import { readIngestEnvironment, readServicesEnvironment } from '../../functions/adapters/environment.js';
import { DEFAULT_SPLIT_BATCHING, EnvironmentConfigError, parseEnvironment, type EnvironmentConfig } from '../../infra/config.js';
import { heapFlags, PROJECT_ROOT } from '../../infra/functions.js';
import { MSK_POLLER_EC2_DESCRIBE, type IngestPath } from '../../infra/ingest.js';
import { acknowledgeFindings } from '../../infra/nag.js';
import { TributaryStack } from '../../infra/stack.js';
import { jobPartitionPrefix } from '../../functions/core/jobs/run-job.js';
import { claimKey, dataKey, manifestKey, QUARANTINE_TABLE, versionPrefix } from '../../functions/core/lake/layout.js';
import { registryKey, registryPrefix } from '../../functions/core/schema/registry-entry.js';
import { BUCKET, bucketPolicy, decide, KEY, principalStatements, resolver, roleStatements, type Statement as PolicyStatementJson } from './policy.js';

const environments = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context.environments as Record<string, Record<string, unknown>>;

function synthConfig(config: EnvironmentConfig): { stack: TributaryStack; template: Template } {
  const name = config.name;
  // No bundling here (the bundle has its own test); cdk-nag runs as in `cdk synth`.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new TributaryStack(app, `tributary-${name}`, { config });
  acknowledgeFindings(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth(); // throws when cdk-nag reports a finding nobody acknowledged
  return { stack, template: Template.fromStack(stack) };
}

type Statement = { Action: string | string[]; Resource: unknown };

type FunctionResource = { Properties: Record<string, unknown> & { Description?: string; Environment?: { Variables: Record<string, unknown> } } };

/** Environment variables with CloudFormation references replaced by placeholder text. */
function placeholders(variables: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, typeof v === 'string' ? v : k.endsWith('SECRET_ARN') ? 'arn:aws:secretsmanager:eu-west-1:1:secret:x'
    : k.endsWith('ROLE_ARN') ? 'arn:aws:iam::123456789012:role/resolved-at-deploy' : 'resolved-at-deploy']));
}

/** A function's environment with CloudFormation references replaced by placeholder text. */
function environmentOf(template: Template, description: RegExp): Record<string, string> {
  const fns = Object.values(template.findResources('AWS::Lambda::Function')) as FunctionResource[];
  const fn = fns.find((f) => description.test(f.Properties.Description ?? ''));
  assert.ok(fn, `a function described ${description}`);
  return placeholders(fn.Properties.Environment!.Variables);
}

/** A function's resource in the template, by the construct. */
function functionResource(stack: TributaryStack, template: Template, fn: IFunction): FunctionResource {
  const resource = (template.toJSON()['Resources'] as Record<string, FunctionResource>)[stack.getLogicalId(fn.node.defaultChild as CfnElement)];
  assert.ok(resource, `${fn.node.path} in the template`);
  return resource;
}

/** A split environment as it would be coupled: the same topics with coupled's default batching. */
function coupledVariant(raw: Record<string, unknown>): Record<string, unknown> {
  const { topology: _, topics, ...rest } = raw;
  return { ...rest, topology: 'coupled', topics: (topics as Array<Record<string, unknown>>).map(({ fresh: _f, lake: _l, ...t }) => t) };
}

/** An environment with spool writes as it would be with direct writes (no materializer). */
function directVariant(raw: Record<string, unknown>): Record<string, unknown> {
  const { lakeWrites: _w, materializeEveryMinutes: _m, materializeDeferSeconds: _d, ...rest } = raw;
  return rest;
}

// Every environment as cdk.json has it and, for a split one, the same environment coupled: both topologies
// keep every property below; for one that spools, the same environment writing directly: both lake writes too.
const variants = Object.entries(environments).flatMap(([name, raw]) => [
  { label: name, name, raw },
  ...(raw['topology'] === 'split' ? [{ label: `${name} (coupled)`, name, raw: coupledVariant(raw) }] : []),
  ...(raw['lakeWrites'] === 'spool' ? [{ label: `${name} (direct)`, name, raw: directVariant(raw) }] : []),
]);

for (const { label, name, raw } of variants) {
  describe(`stack for ${label}`, () => {
    const config = parseEnvironment(name, { [name]: raw });
    const { stack, template } = synthConfig(config);
    const paths = stack.ingest.paths;
    /** the function that writes the lake: the coupled one, or split's lake path */
    const lakeWriter = paths.find((x) => x.name !== 'fresh')!;
    const envOf = (x: IngestPath): Record<string, string> => placeholders(functionResource(stack, template, x.fn).Properties.Environment!.Variables);
    const text = resolver(stack);

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

    if (config.topology === 'coupled') it('maps every topic with its settings and a consumer group of its own, retrying failed batches rather than skipping them', () => {
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

    if (config.topology === 'split') it('maps every topic twice, a fresh and a lake mapping, each with its batching, its own consumer group and its path\'s function, retrying failed batches rather than skipping them', () => {
      const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as Array<{ Properties: Record<string, unknown> }>;
      assert.equal(mappings.length, 2 * config.topics.length);
      assert.deepEqual(paths.map((x) => x.name), ['fresh', 'lake']);
      for (const t of config.topics) {
        for (const path of paths) {
          const batching = path.name === 'fresh' ? t.fresh! : t.lake!;
          template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
            FunctionName: { Ref: stack.getLogicalId(path.fn.node.defaultChild as CfnElement) },
            Topics: [t.name], BatchSize: batching.batchSize, MaximumBatchingWindowInSeconds: batching.batchingWindowSeconds, StartingPosition: t.startingPosition,
            AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: `${config.consumerGroup}-${path.name}-${t.name}` },
            DestinationConfig: Match.absent(), MaximumRetryAttempts: Match.absent(),
          });
        }
        // the fresh path is the low-latency one
        assert.ok(t.fresh!.batchingWindowSeconds <= t.lake!.batchingWindowSeconds, t.name);
      }
      const groups = mappings.map((m) => (m.Properties['AmazonManagedKafkaEventSourceConfig'] as { ConsumerGroupId: string }).ConsumerGroupId);
      assert.equal(new Set(groups).size, groups.length, 'a consumer group per mapping');
      // Each path's function is the same bundle and handler, told its sinks by TRIBUTARY_SINKS.
      assert.deepEqual(paths.map((x) => envOf(x)['TRIBUTARY_SINKS']), ['clickhouse', 'lake']);
      const [fresh, lake] = paths.map((x) => functionResource(stack, template, x.fn).Properties);
      assert.equal(fresh!['Handler'], lake!['Handler']);
      assert.deepEqual(fresh!['Code'], lake!['Code'], 'one code bundle');
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
      assert.deepEqual(clusterReads.flatMap((s) => ([] as string[]).concat(s.Action)).sort(), paths.flatMap(() => ['kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers']).sort());
      const created = Object.keys(template.findResources('AWS::MSK::ServerlessCluster'))[0];
      const cluster = 'create' in config.msk ? { 'Fn::GetAtt': [created, 'Arn'] } : config.msk.clusterArn;
      for (const s of clusterReads) assert.deepEqual(s.Resource, cluster, 'on the cluster only');
      for (const path of paths) {
        const own = roleStatements(stack, template, path.fn);
        assert.deepEqual(own.filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('kafka:'))).flatMap((s) => ([] as string[]).concat(s.Action)).sort(), ['kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'], `${path.name}'s pollers`);
        const read = own.find((s) => ([] as string[]).concat(s.Action).includes('kafka-cluster:ReadData'))!;
        assert.equal(([] as unknown[]).concat(read.Resource).length, config.topics.length, 'one topic ARN per topic');
        // Offsets are committed for this path's groups only: a path never moves the other's offsets.
        const groups = own.filter((s) => ([] as string[]).concat(s.Action).includes('kafka-cluster:AlterGroup')).flatMap((s) => ([] as unknown[]).concat(s.Resource).map(text)).map((arn) => arn.replace(/^.*:group\/[^/]+\/[^/]+\//, '')).sort();
        assert.deepEqual(groups, path.mappings.map((m) => m.consumerGroup).sort(), `${path.name}'s consumer groups`);
      }
      assert.ok(!statements.some((s) => ([] as string[]).concat(s.Action).includes('s3:DeleteObject*') && JSON.stringify(s.Resource).includes('_registry')), 'nothing deletes registry versions');
      // Deleting a current object leaves a noncurrent version (compaction's deletes stay recoverable); nothing may purge versions.
      const deletes = statements.flatMap((s) => ([] as string[]).concat(s.Action)).filter((a) => a.startsWith('s3:Delete'));
      assert.deepEqual([...new Set(deletes)], ['s3:DeleteObject']);
      // Only ingest creates tables from data; ab-daily writes its own output table and no other.
      const creators = statements.filter((s) => ([] as string[]).concat(s.Action).includes('glue:CreateTable'));
      assert.equal(creators.filter((s) => /:table\/\w+\/\*/.test(JSON.stringify(s.Resource))).length, 1);
      assert.equal(creators.filter((s) => /:table\/\w+\/ab_daily"/.test(JSON.stringify(s.Resource))).length, 1);
    });

    // Keys as the code makes them (functions/core/lake/layout.ts, the registry, the job runner), one of each kind.
    const range = { topic: 'tracking', partition: 0, firstOffset: 100, lastOffset: 199 };
    const keys = {
      data: dataKey('page_view', '2026-12-06', 10, [range]),
      multiPartition: dataKey('page_view', '2026-12-06', 10, [range, { ...range, partition: 3 }]), // one file per hour for every partition of a batch
      late: dataKey('page_view', '2026-12-06', 10, [{ ...range, firstOffset: 200, lastOffset: 209 }], 1), // late rows into a compacted version
      compacted: `${versionPrefix('page_view', '2026-12-06', 10, 1)}part-00000.parquet`,
      manifest: manifestKey('page_view', '2026-12-06', 10, 1),
      claim: claimKey('page_view', '2026-12-06', 10, 1),
      quarantine: dataKey(QUARANTINE_TABLE, '2026-12-06', 10, [range]),
      job: `${jobPartitionPrefix('ab_daily', { date: '2026-12-06', start: 0, end: 0 })}part-00000.parquet`,
      registry: registryKey('page_view', 3),
      athena: 'athena-results/query.csv',
      stray: 'lake/notes.txt',
    };
    // The ingest roles by path: 'ingest' (coupled) or 'fresh' and 'lake' (split).
    type Role = 'ingest' | 'fresh' | 'lake' | 'compaction' | 'abDaily' | 'materializer';
    const pathRole = (x: IngestPath): Role => (x.name === 'coupled' ? 'ingest' : x.name);
    const fns: Partial<Record<Role, IFunction>> = {
      ...Object.fromEntries(paths.map((x) => [pathRole(x), x.fn])), compaction: stack.jobs.compaction, abDaily: stack.jobs.abDaily, ...(stack.materializer ? { materializer: stack.materializer.fn } : {}),
    };
    const lakeRole = pathRole(lakeWriter);
    const roleArn = (role: Role): string => `arn:aws:iam::${config.account}:role/${role}`;
    const s3 = (role: Role, action: string, key: keyof typeof keys): boolean =>
      decide(roleStatements(stack, template, fns[role]!), bucketPolicy(stack, template), { action, resource: `${BUCKET}/${keys[key]}`, principalArn: roleArn(role) }, text).allowed;
    const list = (role: Role, prefix?: string): boolean =>
      decide(roleStatements(stack, template, fns[role]!), bucketPolicy(stack, template), { action: 's3:ListBucket', resource: BUCKET, principalArn: roleArn(role), ...(prefix === undefined ? {} : { context: { 's3:prefix': prefix } }) }, text).allowed;
    /** Every (action, key) a role may use, by what its code does; everything else must be refused. */
    const expectKeys = (role: Role, allowed: Record<string, ReadonlyArray<keyof typeof keys>>): void => {
      const wrong: string[] = [];
      for (const action of ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload']) {
        for (const key of Object.keys(keys) as Array<keyof typeof keys>) {
          const want = allowed[action]?.includes(key) ?? false;
          if (s3(role, action, key) !== want) wrong.push(`${action} ${key} (${keys[key]}): ${want ? 'refused' : 'allowed'}`);
        }
      }
      assert.deepEqual(wrong, [], `${role}'s S3 rights`);
    };

    if (config.lakeWrites === 'spool') it(`scopes spooling ingest${lakeRole === 'lake' ? '\'s lake path' : ''} to putting spool objects and registry versions: nothing under lake/ (#23)`, () => {
      const spool = '_spool/pending/tracking+3p+0123456789abcdef.spool';
      const can = (action: string, key: string): boolean => decide(roleStatements(stack, template, fns[lakeRole]!), bucketPolicy(stack, template), { action, resource: `${BUCKET}/${key}`, principalArn: roleArn(lakeRole) }, text).allowed;
      assert.ok(can('s3:PutObject', spool), 'puts its spool object');
      for (const action of ['s3:GetObject', 's3:DeleteObject']) assert.ok(!can(action, spool), `no ${action} of a spool`);
      for (const key of ['_spool/manifests/x.json', '_spool/offsets.json', '_spool/pending/notes.txt']) assert.ok(!can('s3:PutObject', key), key);
      expectKeys(lakeRole, { 's3:PutObject': ['registry'], 's3:AbortMultipartUpload': ['registry'], 's3:GetObject': ['registry'] });
      assert.equal(envOf(lakeWriter)['TRIBUTARY_LAKE_WRITES'], 'spool');
      for (const prefix of [undefined, '', 'lake/', '_spool/', '_spool/pending/']) assert.ok(!list(lakeRole, prefix), `no listing of ${JSON.stringify(prefix)}`);
    });

    if (stack.materializer) it('runs the materializer on its schedule, one run at a time, scoped to the spool, lake files, quarantine files and lineage (#23)', () => {
      const m = functionResource(stack, template, stack.materializer!.fn).Properties;
      assert.equal(m['ReservedConcurrentExecutions'], 1, 'two runs never take the same spool');
      template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: `rate(${config.materializeEveryMinutes} minutes)` });
      const env = placeholders(m.Environment!.Variables);
      const read = readMaterializeEnvironment(env);
      assert.ok(read.leaseMs > Number(m['Timeout']) * 1000, 'a manifest\'s lease outlasts a run');
      assert.equal(env['POWERTOOLS_SERVICE_NAME'], 'tributary-materialize');
      const can = (action: string, key: string): boolean => decide(roleStatements(stack, template, stack.materializer!.fn), bucketPolicy(stack, template), { action, resource: `${BUCKET}/${key}`, principalArn: roleArn('materializer') }, text).allowed;
      const spool = '_spool/pending/tracking+3p+0123456789abcdef.spool';
      for (const action of ['s3:GetObject', 's3:DeleteObject']) assert.ok(can(action, spool), `${action} spool`);
      assert.ok(!can('s3:PutObject', spool), 'never writes a spool');
      for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']) assert.ok(can(action, '_spool/manifests/abc.json'), `${action} manifest`);
      for (const action of ['s3:GetObject', 's3:PutObject']) assert.ok(can(action, '_spool/offsets.json'), `${action} offsets`);
      assert.ok(can('s3:PutObject', 'lake/_ingest_log/dt=2026-12-06/abc.parquet'), 'writes lineage');
      expectKeys('materializer', {
        's3:PutObject': ['data', 'multiPartition', 'late', 'quarantine'],
        's3:AbortMultipartUpload': ['data', 'multiPartition', 'late', 'quarantine'],
      });
      assert.ok(list('materializer', '_spool/pending/') && list('materializer', '_spool/manifests/'));
      for (const prefix of [undefined, '', 'lake/', '_registry/']) assert.ok(!list('materializer', prefix), `no listing of ${JSON.stringify(prefix)}`);
      assert.ok(!Object.keys(env).some((k) => k.startsWith('CLICKHOUSE_')), 'no ClickHouse');
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Array<{ Properties: { MetricName?: string; Threshold: number; TreatMissingData: string } }>;
      const age = alarms.find((a) => a.Properties.MetricName === 'SpoolBacklogAge');
      assert.ok(age, 'an alarm on the spool backlog\'s age');
      assert.equal(age.Properties.TreatMissingData, 'breaching', 'a materializer that stopped running alarms too');
      assert.ok(age.Properties.Threshold <= 300 - Math.max(...config.topics.map((t) => t.lake?.batchingWindowSeconds ?? t.batchingWindowSeconds ?? 0)), 'fires before an event could miss 5 minutes');
      assert.match(JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard')), /SpoolBacklogAge/);
    });

    it('publishes each ingest path\'s metrics under its own service and counts records on one path only (#23)', () => {
      const services = paths.map((x) => envOf(x)['POWERTOOLS_SERVICE_NAME']);
      assert.equal(new Set(services).size, paths.length, services.join(', '));
      const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
      const recordsService = paths.length === 1 ? 'tributary-ingest' : 'tributary-ingest-lake';
      assert.match(body, new RegExp(`\\\\"Tributary\\\\",\\\\"RecordsIn\\\\",\\\\"service\\\\",\\\\"${recordsService}\\\\"`));
      for (const other of ['tributary-ingest', 'tributary-ingest-fresh', 'tributary-ingest-lake'].filter((x) => x !== recordsService)) {
        assert.doesNotMatch(body, new RegExp(`RecordsIn\\\\",\\\\"service\\\\",\\\\"${other}\\\\"`), other);
      }
    });

    if (config.lakeWrites === 'direct') it(`scopes ingest${lakeRole === 'lake' ? '\'s lake path' : ''} to writing its data files, quarantine files and registry versions, reading back its own data files and the registry (#22.16)`, () => {
      expectKeys(lakeRole, {
        's3:PutObject': ['data', 'multiPartition', 'late', 'quarantine', 'registry'],
        's3:AbortMultipartUpload': ['data', 'multiPartition', 'late', 'quarantine', 'registry'],
        // a redelivered batch compares the file under its key; the registry is read to plan every batch
        's3:GetObject': ['data', 'multiPartition', 'late', 'registry'],
      });
      assert.ok(list(lakeRole, registryPrefix('page_view')), 'lists a table\'s registry versions');
      for (const prefix of [undefined, '', 'lake/', 'lake/page_view/', 'lake/_quarantine/', '_registry/']) assert.ok(!list(lakeRole, prefix), `no listing of ${JSON.stringify(prefix)}`);
    });

    if (config.topology === 'split') it('scopes the fresh path to the registry: no S3 right under lake/ (its quarantine is ClickHouse\'s)', () => {
      expectKeys('fresh', { 's3:PutObject': ['registry'], 's3:AbortMultipartUpload': ['registry'], 's3:GetObject': ['registry'] });
      assert.ok(list('fresh', registryPrefix('page_view')), 'lists a table\'s registry versions');
      for (const prefix of [undefined, '', 'lake/', 'lake/page_view/', 'lake/page_view/dt=2026-12-06/hour=10/', 'lake/_quarantine/', '_registry/']) assert.ok(!list('fresh', prefix), `no listing of ${JSON.stringify(prefix)}`);
      const fresh = envOf(paths[0]!);
      assert.equal(fresh['TRIBUTARY_GLUE_DATABASE'], undefined, 'no Glue database to call');
      if (config.kmsKey) {
        // registry versions are written under the lake key
        const kms = (action: string): boolean => decide(roleStatements(stack, template, fns.fresh!), [], { action, resource: KEY, principalArn: roleArn('fresh'), context: { 'kms:ViaService': `s3.${config.region}.amazonaws.com` } }, text).allowed;
        assert.ok(kms('kms:GenerateDataKey') && kms('kms:Decrypt'));
      }
    });

    it('scopes compaction to event partitions: never the quarantine, job outputs or the registry (#22.16)', () => {
      expectKeys('compaction', {
        's3:GetObject': ['data', 'multiPartition', 'late', 'compacted', 'manifest', 'claim'],
        // its own version folders: outputs, manifest, claim (a late-rows file there is never its own, but shares the folder)
        's3:PutObject': ['late', 'compacted', 'manifest', 'claim'],
        's3:AbortMultipartUpload': ['late', 'compacted', 'manifest', 'claim'],
        's3:DeleteObject': ['data', 'multiPartition', 'late', 'compacted', 'manifest', 'claim'],
      });
      assert.ok(list('compaction', 'lake/page_view/dt=2026-12-06/hour=10/'), 'lists a partition');
      for (const prefix of [undefined, '', 'lake/', 'lake/_quarantine/dt=2026-12-06/hour=10/', 'lake/ab_daily/dt=2026-12-06/hour=10/', '_registry/events/']) {
        assert.ok(!list('compaction', prefix), `no listing of ${JSON.stringify(prefix)}`);
      }
    });

    it('scopes ab-daily to its own output and the registry (#22.16)', () => {
      expectKeys('abDaily', { 's3:PutObject': ['job'], 's3:AbortMultipartUpload': ['job'], 's3:GetObject': ['registry'] });
      assert.ok(list('abDaily', registryPrefix('page_view')));
      for (const prefix of [undefined, '', 'lake/', 'lake/ab_daily/', 'lake/_quarantine/']) assert.ok(!list('abDaily', prefix), `no listing of ${JSON.stringify(prefix)}`);
    });

    it('lists the bucket only under a prefix condition, with no wildcard S3 actions (#22.16)', () => {
      for (const [role, fn] of Object.entries(fns) as Array<[Role, IFunction]>) {
        for (const s of roleStatements(stack, template, fn).filter((x) => x.Effect === 'Allow')) {
          const actions = ([] as string[]).concat(s.Action).filter((a) => a.startsWith('s3:'));
          for (const a of actions) assert.ok(!a.includes('*'), `${role}: ${a} names exact actions`);
          if (actions.includes('s3:ListBucket')) assert.ok(s.Condition?.['StringLike']?.['s3:prefix'], `${role}: ListBucket under an s3:prefix condition`);
        }
      }
    });

    it('keeps ingest and compaction off job output tables in Glue, and ab-daily on its own (#22.16)', () => {
      const glue = `arn:aws:glue:${config.region}:${config.account}`;
      const db = `tributary_${name}`;
      const can = (role: Role, action: string, table: string): boolean => {
        const statements = roleStatements(stack, template, fns[role]!);
        const at = (resource: string): boolean => decide(statements, [], { action, resource, principalArn: roleArn(role) }, text).allowed;
        // Glue checks the catalog, the database and the table; a partition is authorized on its table's ARN.
        return at(`${glue}:catalog`) && at(`${glue}:database/${db}`) && at(`${glue}:table/${db}/${table}`);
      };
      const expect = (role: Role, table: string, allowed: readonly string[]): void => {
        const all = ['glue:GetTable', 'glue:GetTables', 'glue:CreateTable', 'glue:UpdateTable', 'glue:DeleteTable', 'glue:GetPartitions', 'glue:BatchGetPartition',
          'glue:BatchCreatePartition', 'glue:UpdatePartition', 'glue:BatchUpdatePartition', 'glue:DeletePartition', 'glue:BatchDeletePartition'];
        const wrong = all.filter((a) => can(role, a, table) !== allowed.includes(a)).map((a) => `${a} on ${table}: ${allowed.includes(a) ? 'refused' : 'allowed'}`);
        assert.deepEqual(wrong, [], `${role}'s Glue rights`);
      };
      // addPartitions (ingest, ab-daily, compaction's repair of partitions a schema change left behind):
      // GetTable, BatchCreatePartition, then BatchGetPartition and BatchUpdatePartition for those already there.
      // Spooling, ingest creates and evolves tables; their partitions are the materializer's.
      expect(lakeRole, 'page_view', config.lakeWrites === 'spool' ? ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable']
        : ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable', 'glue:BatchGetPartition', 'glue:BatchCreatePartition', 'glue:BatchUpdatePartition']);
      expect(lakeRole, 'ab_daily', []);
      // The fresh path makes no Glue calls: none is allowed, and all are denied whatever else the role gets.
      if (fns.fresh) {
        expect('fresh', 'page_view', []);
        expect('fresh', 'ab_daily', []);
        const denied = (resource: string): boolean => decide([{ Effect: 'Allow', Action: '*', Resource: '*' }, ...roleStatements(stack, template, fns.fresh!)], [], { action: 'glue:GetTable', resource, principalArn: roleArn('fresh') }, text).allowed === false;
        assert.ok(denied(`${glue}:table/${db}/page_view`) && denied(`${glue}:database/${db}`) && denied(`${glue}:catalog`));
      }
      expect('compaction', 'page_view', ['glue:GetTable', 'glue:GetTables', 'glue:GetPartitions', 'glue:BatchGetPartition', 'glue:UpdatePartition', 'glue:BatchCreatePartition', 'glue:BatchUpdatePartition']);
      // GetTables answers with the tables a caller may read: compaction sees job outputs only to skip them.
      expect('compaction', 'ab_daily', ['glue:GetTable', 'glue:GetTables', 'glue:GetPartitions', 'glue:BatchGetPartition']);
      expect('abDaily', 'ab_daily', ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable', 'glue:BatchCreatePartition', 'glue:BatchGetPartition', 'glue:BatchUpdatePartition']);
      expect('abDaily', 'page_view', []);
      // the materializer: the tables' columns in one GetTables per run, partitions as addPartitions makes them
      if (fns.materializer) {
        expect('materializer', 'page_view', ['glue:GetTable', 'glue:GetTables', 'glue:BatchGetPartition', 'glue:BatchCreatePartition', 'glue:BatchUpdatePartition']);
        expect('materializer', 'ab_daily', []);
      }
    });

    it('grants every Glue call the catalog adapter makes to some function, on event tables (a new call needs its IAM too)', () => {
      const adapter = readFileSync(join(PROJECT_ROOT, 'functions/adapters/catalog/glue.ts'), 'utf8');
      const calls = [...new Set([...adapter.matchAll(/new (\w+)Command\(/g)].map((m) => `glue:${m[1]}`))].sort();
      assert.ok(calls.length >= 5, `found the adapter's calls: ${calls.join(', ')}`);
      const glue = `arn:aws:glue:${config.region}:${config.account}`;
      const table = `${glue}:table/tributary_${name}/page_view`;
      const granted = (action: string): boolean => (Object.keys(fns) as Role[]).some((role) =>
        [`${glue}:catalog`, `${glue}:database/tributary_${name}`, table].every((resource) => decide(roleStatements(stack, template, fns[role]!), [], { action, resource, principalArn: roleArn(role) }, text).allowed));
      assert.deepEqual(calls.filter((a) => !granted(a)), [], 'Glue calls no function may make');
    });

    it('denies reading lake/_quarantine/ in the bucket policy to everyone but the data steward and the account root (#22.16)', () => {
      const allowAll: PolicyStatementJson[] = [{ Effect: 'Allow', Action: '*', Resource: '*' }];
      const read = (principalArn: string, action: string, key: keyof typeof keys) => decide(allowAll, bucketPolicy(stack, template), { action, resource: `${BUCKET}/${keys[key]}`, principalArn }, text);
      const outsiders = [...(Object.keys(fns) as Role[]).map(roleArn), `arn:aws:iam::${config.account}:role/analyst`, `arn:aws:iam::${config.account}:role/data-steward`, `arn:aws:iam::${config.account}:user/admin`];
      for (const who of outsiders) {
        if (who === config.dataStewardRoleArn) continue;
        for (const action of ['s3:GetObject', 's3:GetObjectVersion']) assert.deepEqual(read(who, action, 'quarantine'), { allowed: false, deniedBy: 'bucket' }, `${who} ${action}`);
        assert.equal(read(who, 's3:GetObject', 'data').allowed, true, 'the deny covers the quarantine only');
        assert.equal(read(who, 's3:PutObject', 'quarantine').allowed, true, 'writing the quarantine is left to IAM');
      }
      assert.equal(read(`arn:aws:iam::${config.account}:root`, 's3:GetObject', 'quarantine').allowed, true, 'break-glass: the account root');
      if (config.dataStewardRoleArn) assert.equal(read(config.dataStewardRoleArn, 's3:GetObject', 'quarantine').allowed, true, 'the data steward');
    });

    it('gives ingest and ab-daily ClickHouse users of their own, each role reading only its own password secret (#22.17)', () => {
      const clickhouseWriter = paths.find((x) => x.name !== 'lake')!;
      const ingest = envOf(clickhouseWriter);
      const ab = environmentOf(template, /A\/B/);
      assert.equal(ingest['CLICKHOUSE_USER'], config.clickhouse.ingest.user);
      assert.equal(ab['CLICKHOUSE_USER'], config.clickhouse.jobs.user);
      assert.notEqual(config.clickhouse.ingest.user, config.clickhouse.jobs.user);
      const compact = environmentOf(template, /Compacts/);
      assert.ok(!Object.keys(compact).some((k) => k.startsWith('CLICKHOUSE_')), 'compaction does not talk to ClickHouse');
      const secretsOf = (fn: IFunction | undefined): string[] => roleStatements(stack, template, fn!)
        .filter((st) => st.Effect === 'Allow' && ([] as string[]).concat(st.Action).some((a) => a.startsWith('secretsmanager:')))
        .flatMap((st) => ([] as unknown[]).concat(st.Resource).map(text)).map((arn) => arn.replace(/^.*:secret:/, '')).sort();
      assert.deepEqual(secretsOf(clickhouseWriter.fn), [`${config.clickhouse.ingest.secretName}-??????`, `${config.piiSaltSecretName}-??????`].sort());
      if (fns.lake) {
        // The lake path never talks to ClickHouse: no password secret to read, no ClickHouse settings at all.
        assert.deepEqual(secretsOf(fns.lake), [`${config.piiSaltSecretName}-??????`]);
        assert.deepEqual(Object.keys(envOf(lakeWriter)).filter((k) => k.startsWith('CLICKHOUSE_')), []);
      }
      assert.deepEqual(secretsOf(fns.abDaily), [`${config.clickhouse.jobs.secretName}-??????`]);
      assert.deepEqual(secretsOf(fns.compaction), []);
      const passwordSecret = (description: RegExp): string => {
        const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) => description.test((f as { Properties: { Description?: string } }).Properties.Description ?? '')) as { Properties: { Environment: { Variables: Record<string, unknown> } } };
        return text(fn.Properties.Environment.Variables['CLICKHOUSE_PASSWORD_SECRET_ARN']);
      };
      assert.match(text(functionResource(stack, template, clickhouseWriter.fn).Properties.Environment!.Variables['CLICKHOUSE_PASSWORD_SECRET_ARN']), new RegExp(`:secret:${config.clickhouse.ingest.secretName}$`));
      assert.match(passwordSecret(/A\/B/), new RegExp(`:secret:${config.clickhouse.jobs.secretName}$`));
    });

    it('gives ClickHouse\'s principal what the _all views read: the lake but its quarantine, and the lake key (#22.17)', () => {
      const access = config.clickhouse.lakeAccess;
      if (config.clickhouse.lakeUrl !== true) {
        assert.equal(stack.clickhouseLakeReader, undefined);
        return;
      }
      assert.ok(access, 'an environment whose ClickHouse reads this stack\'s lake names ClickHouse\'s principal');
      assert.ok('serviceRoleArn' in access, 'cdk.json environments use ClickHouse Cloud');
      // A role in this account that ClickHouse Cloud's service role assumes (s3(…, extra_credentials(role_arn = …))).
      const roles = template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Action: 'sts:AssumeRole', Principal: { AWS: access.serviceRoleArn } })] } } });
      assert.equal(Object.keys(roles).length, 1);
      const roleId = Object.keys(roles)[0]!;
      const statements = principalStatements(template, roleId);
      const reader = `arn:aws:iam::${config.account}:role/clickhouse-lake-reader`;
      const get = (key: keyof typeof keys): boolean => decide(statements, bucketPolicy(stack, template), { action: 's3:GetObject', resource: `${BUCKET}/${keys[key]}`, principalArn: reader }, text).allowed;
      const list = (prefix: string): boolean => decide(statements, bucketPolicy(stack, template), { action: 's3:ListBucket', resource: BUCKET, principalArn: reader, context: { 's3:prefix': prefix } }, text).allowed;
      for (const key of ['data', 'multiPartition', 'late', 'compacted', 'job'] as const) assert.ok(get(key), `reads ${key}`);
      for (const key of ['quarantine', 'registry', 'athena'] as const) assert.ok(!get(key), `does not read ${key}`);
      assert.ok(list('lake/page_view/'), 'lists an event table (the views\' glob)');
      for (const prefix of ['', 'lake/_quarantine/', '_registry/', 'athena-results/']) assert.ok(!list(prefix), `no listing of ${JSON.stringify(prefix)}`);
      for (const action of ['s3:PutObject', 's3:DeleteObject']) assert.ok(!decide(statements, [], { action, resource: `${BUCKET}/${keys.data}`, principalArn: reader }, text).allowed, action);
      if (config.kmsKey) {
        const decrypt = (service: string): boolean => decide(statements, [], { action: 'kms:Decrypt', resource: KEY, principalArn: reader, context: { 'kms:ViaService': service } }, text).allowed;
        assert.ok(decrypt(`s3.${config.region}.amazonaws.com`), 'decrypts the lake key through S3');
        assert.ok(!decrypt('secretsmanager.eu-west-1.amazonaws.com'), 'and only through S3');
      }
      // The functions name the role in the views they make.
      const roleArnOf = (description: RegExp): unknown => (Object.values(template.findResources('AWS::Lambda::Function')).find((f) => description.test((f as { Properties: { Description?: string } }).Properties.Description ?? '')) as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables['CLICKHOUSE_LAKE_ROLE_ARN'];
      for (const x of paths) {
        // the views are made by whichever path writes ClickHouse
        assert.deepEqual(functionResource(stack, template, x.fn).Properties.Environment!.Variables['CLICKHOUSE_LAKE_ROLE_ARN'], x.name === 'lake' ? undefined : { 'Fn::GetAtt': [roleId, 'Arn'] }, x.name);
      }
      template.hasOutput('ClickHouseLakeRole', Match.anyValue());
    });

    it('gives every handler the configuration it reads', () => {
      for (const x of paths) assert.doesNotThrow(() => readIngestEnvironment(envOf(x)), x.name);
      const clickhouseWriter = paths.find((x) => x.name !== 'lake')!;
      if (config.clickhouse.lakeUrl === true) {
        // The _all views read this stack's own bucket, whose name CloudFormation makes.
        assert.match(JSON.stringify(functionResource(stack, template, clickhouseWriter.fn).Properties.Environment!.Variables['CLICKHOUSE_LAKE_URL']), /RegionalDomainName/);
      }
      assert.doesNotThrow(() => readCompactEnvironment(environmentOf(template, /Compacts/)));
      const ab = environmentOf(template, /A\/B/);
      assert.doesNotThrow(() => readServicesEnvironment(ab));
      assert.equal(ab['TRIBUTARY_JOBS_DIR'], 'schemas/jobs');
      const ingest = envOf(clickhouseWriter);
      assert.equal(ingest['CLICKHOUSE_URL'], config.clickhouse.url);
      for (const x of paths) {
        assert.ok(!('CLICKHOUSE_PASSWORD' in envOf(x)), 'the password is never in the environment, only its secret ARN');
        assert.equal(readIngestEnvironment(envOf(x)).registryTtlMs, config.ingest.registryTtlSeconds * 1000, `${x.name}: ingest.registryTtlSeconds reaches the handler`);
        assert.deepEqual(
          { Timeout: config.ingest.timeoutMinutes * 60, MemorySize: config.ingest.memoryMb, Architectures: ['arm64'], VpcConfig: true },
          (({ Timeout, MemorySize, Architectures, VpcConfig }) => ({ Timeout, MemorySize, Architectures, VpcConfig: VpcConfig !== undefined }))(functionResource(stack, template, x.fn).Properties),
          x.name,
        );
      }
      template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('ingest'), Timeout: config.ingest.timeoutMinutes * 60, MemorySize: config.ingest.memoryMb, Architectures: ['arm64'], VpcConfig: Match.anyValue() });
    });

    it('sizes the ingest function\'s young generation through NODE_OPTIONS, with the old space Lambda would give it', () => {
      // Lambda's bootstrap keeps its own heap flags out when NODE_OPTIONS names one, so both must be there.
      for (const x of paths) {
        const options = envOf(x)['NODE_OPTIONS']!.split(' ');
        assert.deepEqual(options, ['--enable-source-maps', `--max-semi-space-size=${config.ingest.semiSpaceMb}`, `--max-old-space-size=${config.ingest.memoryMb - Math.floor(config.ingest.memoryMb / 10)}`]);
      }
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
      // freshness, quarantine rate, three failed jobs (compaction, ab-daily, the SQL jobs of schemas/jobs); errors and lag per ingest path; spool age and failures with a materializer
      assert.equal(alarms.length, 5 + 2 * paths.length + (stack.materializer ? 2 : 0));
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
    const broken = { ...environments['staging'], topology: 'coupled', account: 'me', topics: [{ name: 'tracking', batchSize: 20_000 }], clickhouse: {} };
    assert.throws(() => parseEnvironment('x', { x: broken }), (e: unknown) => {
      const m = (e as Error).message;
      return /account "me" does not match/.test(m) && /topics\.0\.batchSize must be an integer from 1 to 10000/.test(m) && /clickhouse\.url is missing/.test(m) && /clickhouse\.ingest\.secretName is missing/.test(m) && /clickhouse\.jobs\.user is missing/.test(m);
    });
  });

  it('lists wrong types, unknown keys, duplicate topics and log retentions CloudWatch does not offer', () => {
    const staging = environments['staging'] as Record<string, unknown>;
    const bad = {
      ...staging, kmsKey: 'true', ingets: {}, topics: [{ name: 'tracking' }, { name: 'tracking' }],
      alarms: { emails: ['ops@example.com', 'not-an-email'] }, retention: { logDays: 60 * 7 },
      clickhouse: { ...(staging['clickhouse'] as object), ingest: { user: 7, secretName: 's' }, lakeUrl: 's3://bucket/lake' },
      msk: { create: true, clusterName: 'c', clusterArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/c/1' },
    };
    assert.throws(() => parseEnvironment('x', { x: bad }), (e: unknown) => {
      const m = (e as Error).message;
      return [/kmsKey must be true or false, not "true"/, /unknown keys "ingets"/, /topics\.1\.name tracking is listed twice/, /alarms\.emails must list/,
        /retention\.logDays must be one of CloudWatch's retention periods/, /clickhouse\.ingest\.user 7 does not match/, /clickhouse\.lakeUrl "s3:\/\/bucket\/lake" does not match/,
        /msk has both "create" and "clusterArn"/].every((r) => r.test(m));
    });
    const sixtyDays = parseEnvironment('x', { x: { ...staging, retention: { logDays: 60 } } });
    assert.equal(sixtyDays.retention.logDays, 60);
    const noViews = parseEnvironment('x', { x: { ...staging, clickhouse: { ...(staging['clickhouse'] as object), lakeUrl: false } } });
    assert.equal(noViews.clickhouse.lakeUrl, undefined, 'false: no _all views');
  });

  it('takes a data-steward role ARN per environment, the only role besides the account root that reads the quarantine (#22.16)', () => {
    const staging = environments['staging'] as Record<string, unknown>;
    assert.equal(parseEnvironment('x', { x: staging }).dataStewardRoleArn, undefined, 'absent: the account root only');
    const arn = 'arn:aws:iam::222222222222:role/privacy/data-steward';
    assert.equal(parseEnvironment('x', { x: { ...staging, dataStewardRoleArn: arn } }).dataStewardRoleArn, arn);
    for (const bad of ['data-steward', 'arn:aws:iam::222222222222:user/alice', 'arn:aws:iam::222222222222:role/*', 'arn:aws:iam::2222:role/x', 7]) {
      assert.throws(() => parseEnvironment('x', { x: { ...staging, dataStewardRoleArn: bad } }), /dataStewardRoleArn .* is not an IAM role ARN/, String(bad));
    }
  });

  it('refuses an environment whose ClickHouse reads this stack\'s lake without naming ClickHouse\'s principal (#22.17)', () => {
    const prod = environments['prod'] as Record<string, unknown>;
    const clickhouse = prod['clickhouse'] as Record<string, unknown>;
    const { lakeAccess: _, ...withoutAccess } = clickhouse;
    assert.throws(() => parseEnvironment('prod', { prod: { ...prod, clickhouse: withoutAccess } }),
      /clickhouse\.lakeUrl true makes ClickHouse read this stack's lake bucket \(encrypted with its KMS key\), but nothing grants ClickHouse access: set clickhouse\.lakeAccess\.serviceRoleArn .* or clickhouse\.lakeAccess\.roleArn .*, or clickhouse\.lakeUrl false/);
    // No views over the lake, nothing to grant.
    assert.equal(parseEnvironment('prod', { prod: { ...prod, clickhouse: { ...withoutAccess, lakeUrl: false } } }).clickhouse.lakeAccess, undefined);
    const refusal = (lakeAccess: unknown): string => {
      try { parseEnvironment('prod', { prod: { ...prod, clickhouse: { ...clickhouse, lakeAccess } } }); return 'accepted'; } catch (e) { return (e as Error).message; }
    };
    assert.match(refusal({ serviceRoleArn: 'arn:aws:iam::999999999999:role/CH-S3-x', roleArn: 'arn:aws:iam::333333333333:role/ch' }), /clickhouse\.lakeAccess has both "serviceRoleArn" and "roleArn": choose one/);
    assert.match(refusal({ serviceRoleArn: 'clickhouse' }), /clickhouse\.lakeAccess\.serviceRoleArn "clickhouse" is not an IAM role ARN/);
    assert.match(refusal({ roleArn: 'arn:aws:iam::444444444444:role/ch' }), /clickhouse\.lakeAccess\.roleArn must be a role of this environment's account 333333333333/);
    assert.match(refusal({}), /clickhouse\.lakeAccess needs "serviceRoleArn" .* or "roleArn"/);
    const own = parseEnvironment('prod', { prod: { ...prod, clickhouse: { ...clickhouse, lakeAccess: { roleArn: 'arn:aws:iam::333333333333:role/clickhouse-server' } } } });
    assert.deepEqual(own.clickhouse.lakeAccess, { roleArn: 'arn:aws:iam::333333333333:role/clickhouse-server' });
  });

  it('attaches the lake read policy to a self-managed ClickHouse server\'s own role (clickhouse.lakeAccess.roleArn) (#22.17)', () => {
    const prod = environments['prod'] as Record<string, unknown>;
    const server = 'arn:aws:iam::333333333333:role/clickhouse-server';
    const config = parseEnvironment('prod', { prod: { ...prod, clickhouse: { ...(prod['clickhouse'] as object), lakeAccess: { roleArn: server } } } });
    const { stack, template } = synthConfig(config);
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: ['clickhouse-server'] } })) as Array<{ Properties: { PolicyDocument: { Statement: PolicyStatementJson[] } } }>;
    assert.equal(policies.length, 1, 'one policy on the existing role');
    const statements = policies[0]!.Properties.PolicyDocument.Statement;
    const text = resolver(stack);
    const get = (key: string): boolean => decide(statements, bucketPolicy(stack, template), { action: 's3:GetObject', resource: `${BUCKET}/${key}`, principalArn: server }, text).allowed;
    assert.ok(get('lake/page_view/dt=2026-12-06/hour=10/tracking+0+1-2.parquet'));
    assert.ok(!get('lake/_quarantine/dt=2026-12-06/hour=10/tracking+0+1-2.parquet'));
    assert.ok(decide(statements, [], { action: 'kms:Decrypt', resource: KEY, principalArn: server, context: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } }, text).allowed);
    // The server reads with its own credentials: no role for the views to name.
    assert.equal(environmentOf(template, /ingest/)['CLICKHOUSE_LAKE_ROLE_ARN'], undefined);
    assert.deepEqual(Object.keys(template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { AWS: Match.anyValue() } })] } } })), [], 'no role for ClickHouse Cloud to assume');
  });

  it('refuses one ClickHouse user shared by ingest and jobs, and the single-user settings it replaces (#22.17)', () => {
    const staging = environments['staging'] as Record<string, unknown>;
    const clickhouse = staging['clickhouse'] as Record<string, unknown>;
    const same = { ...clickhouse, jobs: clickhouse['ingest'] };
    assert.throws(() => parseEnvironment('x', { x: { ...staging, clickhouse: same } }), (e: unknown) => {
      const m = (e as Error).message;
      return /clickhouse\.ingest\.user and clickhouse\.jobs\.user are the same user/.test(m) && /clickhouse\.ingest\.secretName and clickhouse\.jobs\.secretName are the same secret/.test(m);
    });
    assert.throws(() => parseEnvironment('x', { x: { ...staging, clickhouse: { ...clickhouse, user: 'tributary', secretName: 'tributary/staging/clickhouse' } } }),
      /clickhouse\.user and clickhouse\.secretName are replaced by clickhouse\.ingest and clickhouse\.jobs/);
  });

  it('refuses a misspelt key inside a settings object rather than ignoring it (ingest, retention, alarms, msk, vpc)', () => {
    const staging = environments['staging'] as Record<string, unknown>;
    const typos = {
      ...staging, ingest: { memoryMB: 2048 }, retention: { quarantinedays: 3 }, alarms: { offsetlag: 5 },
      msk: { ...(staging['msk'] as object), clustername: 'x' }, vpc: { ...(staging['vpc'] as object), subnets: [] },
      clickhouse: { ...(staging['clickhouse'] as object), jobs: { user: 'tributary_jobs', secretName: 's', pasword: 'x' } },
    };
    assert.throws(() => parseEnvironment('x', { x: typos }), (e: unknown) => {
      const m = (e as Error).message;
      return [/ingest has unknown keys "memoryMB" \(known: memoryMb, /, /retention has unknown keys "quarantinedays"/, /alarms has unknown keys "offsetlag"/,
        /msk has unknown keys "clustername"/, /vpc has unknown keys "subnets"/, /clickhouse\.jobs has unknown keys "pasword" \(known: user, secretName\)/].every((r) => r.test(m));
    });
    assert.throws(() => parseEnvironment('x', { x: { ...staging, msk: { ...(staging['msk'] as object), clusterName: 'mine' } } }), /msk\.clusterName applies with "create": true only/);
    assert.throws(() => parseEnvironment('x', { x: { ...staging, ingest: 512 } }), /ingest must be an object of memoryMb, timeoutMinutes, semiSpaceMb, registryTtlSeconds/);
  });

  it('takes the schema registry\'s TTL per environment, 30 s by default, from 5 s to an hour', () => {
    const staging = environments['staging'] as Record<string, unknown>;
    assert.equal(parseEnvironment('x', { x: staging }).ingest.registryTtlSeconds, 30);
    assert.equal(parseEnvironment('x', { x: { ...staging, ingest: { registryTtlSeconds: 300 } } }).ingest.registryTtlSeconds, 300);
    for (const bad of [4, 3601, 30.5, '300']) {
      assert.throws(() => parseEnvironment('x', { x: { ...staging, ingest: { registryTtlSeconds: bad } } }), /ingest\.registryTtlSeconds must be an integer from 5 to 3600/, String(bad));
    }
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

describe('lake writes (#23)', () => {
  const prod = environments['prod'] as Record<string, unknown>;
  const refusal = (raw: Record<string, unknown>): string => {
    try { parseEnvironment('x', { x: raw }); return 'accepted'; } catch (e) { return (e as Error).message; }
  };

  it('reads direct or spool per environment (direct when unset) and the materializer\'s interval', () => {
    assert.equal(parseEnvironment('x', { x: directVariant(prod) }).lakeWrites, 'direct');
    const c = parseEnvironment('prod', environments);
    assert.deepEqual([c.lakeWrites, c.materializeEveryMinutes], ['spool', 2]);
    assert.equal(parseEnvironment('dev', environments).lakeWrites, 'direct');
  });

  it('refuses an unknown setting, an interval outside 1–5 minutes or without spool, and a window + interval that would miss event → lake in 5 minutes', () => {
    assert.match(refusal({ ...prod, lakeWrites: 'spooled' }), /lakeWrites must be "direct" \(.*\) or "spool" \(.*docs\/lake\.md#spool-writes\), not "spooled"/);
    assert.match(refusal({ ...prod, materializeEveryMinutes: 10 }), /materializeEveryMinutes must be an integer from 1 to 5/);
    assert.match(refusal({ ...directVariant(prod), materializeEveryMinutes: 2 }), /materializeEveryMinutes applies to "lakeWrites": "spool" only/);
    assert.match(refusal({ ...prod, topics: [{ name: 'tracking', lake: { batchSize: 10_000, batchingWindowSeconds: 240 } }] }),
      /topics\.0: with "lakeWrites": "spool", its lake window 240 s \+ materializeEveryMinutes 2 min \+ 60 s for the run is 420 s, over the 300 s an event may take to reach the lake/);
    assert.equal(refusal({ ...prod, materializeEveryMinutes: 1, topics: [{ name: 'tracking', lake: { batchSize: 10_000, batchingWindowSeconds: 180 } }] }), 'accepted');
  });

  it('reads the materializer\'s deferral (0 when unset), refused outside 0–240 s, without spool, or when window + deferral + interval + 60 s exceed 300 s', () => {
    assert.equal(parseEnvironment('prod', environments).materializeDeferSeconds, 0);
    const lake60 = { ...prod, materializeEveryMinutes: 1, topics: [{ name: 'tracking', lake: { batchSize: 10_000, batchingWindowSeconds: 60 } }] };
    assert.equal(parseEnvironment('x', { x: { ...lake60, materializeDeferSeconds: 120 } }).materializeDeferSeconds, 120);
    assert.match(refusal({ ...lake60, materializeDeferSeconds: 241 }), /materializeDeferSeconds must be an integer from 0 to 240/);
    assert.match(refusal({ ...lake60, materializeDeferSeconds: -1 }), /materializeDeferSeconds must be an integer from 0 to 240/);
    assert.match(refusal({ ...directVariant(prod), materializeDeferSeconds: 60 }), /materializeDeferSeconds applies to "lakeWrites": "spool" only/);
    // 60 s window + 121 s + 1 min + 60 s = 301 s: one second over
    assert.match(refusal({ ...lake60, materializeDeferSeconds: 121 }),
      /topics\.0: with "lakeWrites": "spool", its lake window 60 s \+ materializeDeferSeconds 121 s \+ materializeEveryMinutes 1 min \+ 60 s for the run is 301 s, over the 300 s an event may take to reach the lake: shorten the window, the deferral or the interval/);
    // prod as it is (a 120 s lake window, every 2 minutes) has no room for any deferral
    assert.match(refusal({ ...prod, materializeDeferSeconds: 1 }), /is 301 s, over the 300 s/);
  });

  it('gives the materializer its deferral and counts it in the SpoolBacklogAge alarm', () => {
    const config = parseEnvironment('prod', { prod: { ...prod, materializeEveryMinutes: 1, materializeDeferSeconds: 120, topics: [{ name: 'tracking', lake: { batchSize: 10_000, batchingWindowSeconds: 60 } }] } });
    const { stack, template } = synthConfig(config);
    const env = placeholders(functionResource(stack, template, stack.materializer!.fn).Properties.Environment!.Variables);
    assert.equal(env['TRIBUTARY_MATERIALIZE_DEFER_SECONDS'], '120');
    assert.equal(readMaterializeEnvironment(env).deferMs, 120_000);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Array<{ Properties: { MetricName?: string; Threshold: number } }>;
    // a spool holding a waiting table's rows is taken again once they are due: its age includes the deferral
    assert.equal(alarms.find((a) => a.Properties.MetricName === 'SpoolBacklogAge')?.Properties.Threshold, 60 + 60 + 120);
  });
});

describe('topology (#23)', () => {
  // staging as it was before it spooled: the topology's settings and rights with direct lake writes
  const staging = directVariant(environments['staging'] as Record<string, unknown>);
  const refusal = (raw: Record<string, unknown>): string => {
    try { parseEnvironment('x', { x: raw }); return 'accepted'; } catch (e) { return (e as Error).message; }
  };

  it('reads coupled or split per environment, coupled when unset, and each split path\'s batching per topic with defaults', () => {
    const { topology: _, ...unset } = coupledVariant(staging);
    assert.equal(parseEnvironment('x', { x: unset }).topology, 'coupled');
    assert.deepEqual(parseEnvironment('staging', environments).topics.map((t) => [t.name, t.fresh, t.lake, t.batchSize]),
      [['tracking', { batchSize: 1000, batchingWindowSeconds: 1 }, { batchSize: 10_000, batchingWindowSeconds: 120 }, undefined],
        ['tracking-web', { batchSize: 1000, batchingWindowSeconds: 1 }, { batchSize: 10_000, batchingWindowSeconds: 120 }, undefined]]);
    const defaults = parseEnvironment('x', { x: { ...staging, topics: [{ name: 'tracking', startingPosition: 'TRIM_HORIZON' }, { name: 'web', lake: { batchingWindowSeconds: 300 } }] } });
    assert.deepEqual(defaults.topics, [
      { name: 'tracking', startingPosition: 'TRIM_HORIZON', fresh: DEFAULT_SPLIT_BATCHING.fresh, lake: DEFAULT_SPLIT_BATCHING.lake },
      { name: 'web', startingPosition: 'LATEST', fresh: DEFAULT_SPLIT_BATCHING.fresh, lake: { batchSize: DEFAULT_SPLIT_BATCHING.lake.batchSize, batchingWindowSeconds: 300 } },
    ]);
  });

  it('refuses a topology it does not know, and the settings of the other topology rather than ignoring them', () => {
    assert.match(refusal({ ...staging, topology: 'both' }), /topology must be "coupled" \(.*\) or "split" \(.*\), not "both"/);
    assert.match(refusal({ ...staging, topics: [{ name: 'tracking', batchSize: 500, batchingWindowSeconds: 5 }] }),
      /topics\.0\.batchSize applies to topology "coupled" only; this environment is "split": set topics\.0\.fresh\.batchSize and topics\.0\.lake\.batchSize[\s\S]*topics\.0\.batchingWindowSeconds applies to topology "coupled" only/);
    const coupled = coupledVariant(staging);
    assert.match(refusal({ ...coupled, topics: [{ name: 'tracking', fresh: { batchSize: 100 } }] }), /topics\.0\.fresh applies to topology "split" only; this environment is "coupled"/);
    const { topology: _, ...unset } = coupled;
    assert.match(refusal({ ...unset, topics: [{ name: 'tracking', lake: { batchSize: 100 } }] }), /topics\.0\.lake applies to topology "split" only; this environment is "coupled" \(set "topology": "split" to use it\)/);
    assert.match(refusal({ ...staging, topics: [{ name: 'tracking', batchsize: 100 }] }), /topics\.0 has unknown keys "batchsize"/);
  });

  it('refuses split batching outside the MSK mapping\'s limits, unknown keys in it, and a fresh window longer than the lake\'s', () => {
    const topic = (t: Record<string, unknown>): Record<string, unknown> => ({ ...staging, topics: [{ name: 'tracking', ...t }] });
    const m = refusal(topic({ fresh: { batchSize: 0, batchingWindowSeconds: 1 }, lake: { batchSize: 20_000, batchingWindowSeconds: 301 } }));
    for (const r of [/topics\.0\.fresh\.batchSize must be an integer from 1 to 10000/, /topics\.0\.lake\.batchSize must be an integer from 1 to 10000/, /topics\.0\.lake\.batchingWindowSeconds must be an integer from 0 to 300/]) assert.match(m, r);
    assert.match(refusal(topic({ fresh: { batchSize: 100, window: 1 } })), /topics\.0\.fresh has unknown keys "window"/);
    assert.match(refusal(topic({ fresh: 5 })), /topics\.0\.fresh must be \{"batchSize", "batchingWindowSeconds"\}/);
    assert.match(refusal({ ...topic({ lake: { batchingWindowSeconds: 300 } }), alarms: { freshnessMinutes: 5 } }),
      /topics\.0\.lake\.batchingWindowSeconds 300 is not shorter than alarms\.freshnessMinutes 5 \(the freshness alarm would fire on every lake batch\)/);
    assert.match(refusal(topic({ fresh: { batchingWindowSeconds: 120 }, lake: { batchingWindowSeconds: 1 } })),
      /topics\.0\.fresh\.batchingWindowSeconds 120 is longer than topics\.0\.lake\.batchingWindowSeconds 1: the fresh path is the low-latency one/);
    // "-fresh-" makes each group id longer than coupled's: still at most 200 characters
    const group = 'g'.repeat(150);
    assert.equal(parseEnvironment('x', { x: { ...coupledVariant(staging), consumerGroup: group, topics: [{ name: 't'.repeat(49) }] } }).consumerGroup, group);
    assert.match(refusal({ ...staging, consumerGroup: group, topics: [{ name: 't'.repeat(49) }] }), /makes a group id over 200 characters/);
  });

  it('keeps a coupled stack as it was: the function and mapping logical ids, no TRIBUTARY_SINKS, one mapping per topic', () => {
    const { stack, template } = synthConfig(parseEnvironment('staging', { staging: coupledVariant(staging) }));
    assert.deepEqual(stack.ingest.paths.map((x) => x.name), ['coupled']);
    // A new logical id would replace the function or a mapping of a deployed stack.
    assert.deepEqual(Object.keys(template.findResources('AWS::Lambda::EventSourceMapping')).sort(), [
      'IngestFunctionKafkaEventSourcetributarystagingIngestFunction16960F79trackingAFAEB349',
      'IngestFunctionKafkaEventSourcetributarystagingIngestFunction16960F79trackingwebD6039C9A',
    ]);
    assert.equal(stack.getLogicalId(stack.ingest.paths[0]!.fn.node.defaultChild as CfnElement), 'IngestFunctionB02ED0EB');
    const ingest = functionResource(stack, template, stack.ingest.paths[0]!.fn);
    assert.equal(ingest.Properties.Environment!.Variables['TRIBUTARY_SINKS'], undefined, 'unset: both sinks');
    assert.equal(ingest.Properties.Description, 'Kafka → Parquet lake + Glue + ClickHouse (Tributary ingest)');
    const alarms = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).map((id) => id.replace(/[0-9A-F]{8}$/, '')).sort();
    assert.deepEqual(alarms, ['MonitoringAbDailyFailures', 'MonitoringCompactionFailures', 'MonitoringFreshness', 'MonitoringIngestErrors', 'MonitoringOffsetLag', 'MonitoringQuarantineRate', 'MonitoringSqlJobFailures']);
  });

  describe('a split stack', () => {
    const config = parseEnvironment('staging', { staging });
    const { stack, template } = synthConfig(config);
    const [fresh, lake] = stack.ingest.paths;
    const text = resolver(stack);

    it('has a fresh and a lake function, each with a mapping per topic and consumer groups of its own, named <group>-<path>-<topic>', () => {
      assert.deepEqual([fresh!.name, lake!.name], ['fresh', 'lake']);
      const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as Array<{ Properties: { FunctionName: unknown; Topics: string[]; AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: string } } }>;
      const byFunction = (fn: IFunction): string[] => mappings.filter((m) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ Ref: stack.getLogicalId(fn.node.defaultChild as CfnElement) }))
        .map((m) => `${m.Properties.Topics[0]} → ${m.Properties.AmazonManagedKafkaEventSourceConfig.ConsumerGroupId}`).sort();
      assert.deepEqual(byFunction(fresh!.fn), ['tracking → tributary-staging-fresh-tracking', 'tracking-web → tributary-staging-fresh-tracking-web']);
      assert.deepEqual(byFunction(lake!.fn), ['tracking → tributary-staging-lake-tracking', 'tracking-web → tributary-staging-lake-tracking-web']);
      assert.equal(mappings.length, 4);
    });

    it('tells each function its sinks, and gives the lake function no ClickHouse settings and the fresh one no Glue database', () => {
      const variables = (fn: IFunction): Record<string, unknown> => functionResource(stack, template, fn).Properties.Environment!.Variables;
      assert.equal(variables(fresh!.fn)['TRIBUTARY_SINKS'], 'clickhouse');
      assert.equal(variables(lake!.fn)['TRIBUTARY_SINKS'], 'lake');
      assert.deepEqual(Object.keys(variables(lake!.fn)).filter((k) => k.startsWith('CLICKHOUSE_')), []);
      assert.ok(variables(lake!.fn)['TRIBUTARY_GLUE_DATABASE']);
      assert.equal(variables(fresh!.fn)['TRIBUTARY_GLUE_DATABASE'], undefined);
      assert.equal(variables(fresh!.fn)['CLICKHOUSE_USER'], config.clickhouse.ingest.user);
    });

    it('gives the fresh role no Glue and no S3 right under lake/, and the lake role no ClickHouse secret', () => {
      const role = (fn: IFunction): PolicyStatementJson[] => roleStatements(stack, template, fn);
      const allows = (statements: PolicyStatementJson[], prefix: string): string[] => statements.filter((s) => s.Effect === 'Allow').flatMap((s) => ([] as string[]).concat(s.Action)).filter((a) => a.startsWith(prefix));
      assert.deepEqual(allows(role(fresh!.fn), 'glue:'), []);
      assert.ok(allows(role(lake!.fn), 'glue:').includes('glue:CreateTable'));
      const can = (fn: IFunction, action: string, key: string): boolean => decide(role(fn), bucketPolicy(stack, template), { action, resource: `${BUCKET}/${key}`, principalArn: 'arn:aws:iam::222222222222:role/x' }, text).allowed;
      for (const key of ['lake/page_view/dt=2026-12-06/hour=10/tracking+0+1-2.parquet', 'lake/_quarantine/dt=2026-12-06/hour=10/tracking+0+1-2.parquet', 'lake/page_view/dt=2026-12-06/hour=10/_v0001/part-00000.parquet']) {
        for (const action of ['s3:PutObject', 's3:GetObject', 's3:DeleteObject']) assert.ok(!can(fresh!.fn, action, key), `fresh ${action} ${key}`);
        assert.equal(can(lake!.fn, 's3:PutObject', key), !key.includes('_v0001'), `lake puts ${key}`);
      }
      assert.ok(can(fresh!.fn, 's3:PutObject', '_registry/events/page_view/v0003.json') && can(lake!.fn, 's3:PutObject', '_registry/events/page_view/v0003.json'), 'both register schemas');
      const secrets = (fn: IFunction): string[] => role(fn).filter((s) => s.Effect === 'Allow' && allows([s], 'secretsmanager:').length > 0).flatMap((s) => ([] as unknown[]).concat(s.Resource).map(text));
      assert.ok(secrets(fresh!.fn).some((arn) => arn.includes(config.clickhouse.ingest.secretName)));
      assert.ok(!secrets(lake!.fn).some((arn) => arn.includes('clickhouse')), 'no ClickHouse secret');
    });

    it('names both paths\' consumer groups in the Kafka group policies, each role its own', () => {
      const groups = (fn: IFunction): string[] => roleStatements(stack, template, fn).filter((s) => ([] as string[]).concat(s.Action).includes('kafka-cluster:AlterGroup'))
        .flatMap((s) => ([] as unknown[]).concat(s.Resource).map(text)).map((arn) => arn.split('/').pop()!).sort();
      assert.deepEqual(groups(fresh!.fn), ['tributary-staging-fresh-tracking', 'tributary-staging-fresh-tracking-web']);
      assert.deepEqual(groups(lake!.fn), ['tributary-staging-lake-tracking', 'tributary-staging-lake-tracking-web']);
    });

    it('alarms on errors and lag of each path at the configured thresholds, and charts lag per consumer group', () => {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Array<{ Properties: { MetricName?: string; Namespace?: string; Threshold: number; Dimensions?: Array<{ Name: string; Value: unknown }> } }>;
      const on = (metric: string, fn: IFunction) => alarms.filter((a) => a.Properties.MetricName === metric && JSON.stringify(a.Properties.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: stack.getLogicalId(fn.node.defaultChild as CfnElement) } }]));
      for (const fn of [fresh!.fn, lake!.fn]) {
        assert.deepEqual(on('OffsetLag', fn).map((a) => a.Properties.Threshold), [config.alarms.offsetLag]);
        assert.deepEqual(on('Errors', fn).map((a) => a.Properties.Threshold), [0]);
      }
      const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
      for (const group of ['tributary-staging-fresh-tracking', 'tributary-staging-lake-tracking', 'tributary-staging-fresh-tracking-web', 'tributary-staging-lake-tracking-web']) {
        assert.match(body, new RegExp(`\\\\"AWS/Kafka\\\\",\\\\"SumOffsetLag\\\\",\\\\"Cluster Name\\\\",\\\\"tributary-staging\\\\",\\\\"Consumer Group\\\\",\\\\"${group}\\\\"`), group);
      }
    });
  });
});

describe('SQL jobs from schemas/jobs (#26)', () => {
  const synthWithJobs = (jobsDir: string): { stack: TributaryStack; template: Template } => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new TributaryStack(app, 'tributary-staging', { config: parseEnvironment('staging', environments), jobsDir });
    acknowledgeFindings(stack);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth();
    return { stack, template: Template.fromStack(stack) };
  };
  const jobsDirWith = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-stack-jobs-'));
    cpSync(join(PROJECT_ROOT, 'schemas/jobs'), dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };
  const ruleFor = (template: Template, cadence: string): { ScheduleExpression: string; Description: string } => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as Array<{ Properties: { ScheduleExpression: string; Description?: string; Targets: Array<{ Input?: string }> } }>;
    const rule = rules.find((r) => r.Properties.Targets.some((t) => t.Input === JSON.stringify({ cadence })));
    assert.ok(rule, `a ${cadence} SQL jobs rule`);
    return { ScheduleExpression: rule.Properties.ScheduleExpression, Description: rule.Properties.Description ?? '' };
  };

  it('a job file added appears in its cadence\'s schedule, with its own grants and an alarm on failure', () => {
    const dir = jobsDirWith({
      'signups-hourly.sql': '-- window: hourly\n-- lateness: 20m\n-- description: Signups per hour\n-- order_by: n\nSELECT count() AS n FROM newsletter_signup WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)}\n',
      'late-daily.sql': '-- window: daily\n-- lateness: 2h\n-- description: A daily job with two hours of lateness\n-- order_by: n\nSELECT count() AS n FROM purchase WHERE event_time >= {window_start:DateTime64(3)} AND event_time < {window_end:DateTime64(3)}\n',
    });
    const { stack, template } = synthWithJobs(dir);
    const hourly = ruleFor(template, 'hourly');
    assert.equal(hourly.ScheduleExpression, 'cron(5 * * * ? *)');
    assert.match(hourly.Description, /hourly-funnel, signups-hourly/);
    // One daily schedule for all daily jobs, once the longest lateness (2 h) has passed.
    const daily = ruleFor(template, 'daily');
    assert.equal(daily.ScheduleExpression, 'cron(5 2 * * ? *)');
    assert.match(daily.Description, /daily-active-users, daily-revenue, late-daily/);
    assert.ok(stack.jobs.sqlJobs, 'the SQL jobs function');
    const role = functionResource(stack, template, stack.jobs.sqlJobs);
    assert.equal(role.Properties.Environment!.Variables['TRIBUTARY_JOBS_DIR'], 'schemas/jobs');
    const text = resolver(stack);
    const put = (key: string): boolean => decide(roleStatements(stack, template, stack.jobs.sqlJobs!), bucketPolicy(stack, template),
      { action: 's3:PutObject', resource: `${BUCKET}/${key}`, principalArn: 'arn:aws:iam::1:role/sqlJobs' }, text).allowed;
    assert.ok(put(`${jobPartitionPrefix('signups_hourly', { date: '2026-11-20', hour: 3, start: 0, end: 0 })}part-00000.parquet`), 'its own output');
    assert.ok(!put('lake/purchase/dt=2026-11-20/hour=03/x.parquet'), 'no event table');
    assert.ok(!put(`${jobPartitionPrefix('ab_daily', { date: '2026-11-20', start: 0, end: 0 })}part-00000.parquet`), 'not ab-daily\'s output');
    const alarms = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    assert.ok(alarms.some((id) => id.startsWith('MonitoringSqlJobFailures')), alarms.join(', '));
  });

  it('a job file with a problem fails the synth, naming its file and line', () => {
    const dir = jobsDirWith({ 'broken.sql': '-- window: weekly\n-- description: x\n-- order_by: n\nSELECT 1 AS n WHERE {window_start:DateTime64(3)} < {window_end:DateTime64(3)}\n' });
    assert.throws(() => synthWithJobs(dir), /broken\.sql:1: window must be daily or hourly, not "weekly"/);
  });
});
