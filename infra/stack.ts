// The whole system for one environment: lake, ingest from MSK, scheduled jobs, monitoring, outputs.
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnServerlessCluster } from 'aws-cdk-lib/aws-msk';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ArnPrincipal, Role, type IRole } from 'aws-cdk-lib/aws-iam';
import { MATERIALIZE_RUN_ALLOWANCE_SECONDS, type ClickHouseUser, type EnvironmentConfig } from './config.js';
import type { ClickHouseLogin } from './functions.js';
import { Ingest } from './ingest.js';
import { Jobs } from './jobs.js';
import { Lake } from './lake.js';
import { Materializer } from './materialize.js';
import { Monitoring } from './monitoring.js';

export interface TributaryStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** the SQL job files to schedule and deploy (default: the project's schemas/jobs) */
  readonly jobsDir?: string;
}

export class TributaryStack extends Stack {
  readonly lake: Lake;
  readonly ingest: Ingest;
  readonly jobs: Jobs;
  readonly monitoring: Monitoring;
  /** with "lakeWrites": "spool": the function that turns the spool into lake files */
  readonly materializer?: Materializer;
  /** the role ClickHouse reads the lake as, when clickhouse.lakeAccess is set */
  readonly clickhouseLakeReader?: IRole;

  constructor(scope: Construct, id: string, props: TributaryStackProps) {
    super(scope, id, { ...props, env: { account: props.config.account, region: props.config.region } });
    const c = props.config;
    // RetentionDays' values are the days; the config admits only the periods CloudWatch accepts.
    const logDays = c.retention.logDays as RetentionDays;
    // Imported by id (committed in cdk.json): synth needs no lookups and no credentials.
    const vpc = Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: c.vpc.vpcId, availabilityZones: [...c.vpc.availabilityZones], privateSubnetIds: [...c.vpc.privateSubnetIds] });
    const subnets = { subnets: c.vpc.privateSubnetIds.map((s, i) => Subnet.fromSubnetId(this, `Subnet${i}`, s)) };
    const securityGroups = c.vpc.securityGroupIds.map((sg, i) => SecurityGroup.fromSecurityGroupId(this, `Sg${i}`, sg, { mutable: false }));

    let clusterArn: string;
    // arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>
    const clusterName = 'create' in c.msk ? c.msk.clusterName : c.msk.clusterArn.split(':cluster/')[1]!.split('/')[0]!;
    if ('create' in c.msk) {
      const cluster = new CfnServerlessCluster(this, 'Kafka', {
        clusterName: c.msk.clusterName,
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [{ subnetIds: [...c.vpc.privateSubnetIds], securityGroups: [...c.vpc.securityGroupIds] }],
      });
      clusterArn = cluster.attrArn;
    } else {
      clusterArn = c.msk.clusterArn;
    }

    this.lake = new Lake(this, 'Lake', {
      envName: c.name, kmsKey: c.kmsKey, quarantineDays: c.retention.quarantineDays, noncurrentDays: c.retention.noncurrentDays,
      ...(c.dataStewardRoleArn ? { dataStewardRoleArn: c.dataStewardRoleArn } : {}),
    });
    const piiSaltSecret = Secret.fromSecretNameV2(this, 'PiiSaltSecret', c.piiSaltSecretName);
    // ClickHouse's principal for the `<event>_all` views over this stack's lake.
    if (c.clickhouse.lakeAccess) {
      const access = c.clickhouse.lakeAccess;
      this.clickhouseLakeReader = 'serviceRoleArn' in access
        ? new Role(this, 'ClickHouseLakeReader', { assumedBy: new ArnPrincipal(access.serviceRoleArn), description: `Tributary ${c.name}: ClickHouse Cloud reads the lake (but its quarantine) for the _all views` })
        : Role.fromRoleArn(this, 'ClickHouseLakeReader', access.roleArn, { mutable: true });
      this.lake.grantLakeRead(this.clickhouseLakeReader);
    }
    const clickhouseEnvironment = {
      CLICKHOUSE_URL: c.clickhouse.url,
      CLICKHOUSE_DATABASE: c.clickhouse.database,
      CLICKHOUSE_TTL_DAYS: String(c.clickhouse.ttlDays),
      ...(c.clickhouse.lakeUrl ? { CLICKHOUSE_LAKE_URL: c.clickhouse.lakeUrl === true ? `https://${this.lake.bucket.bucketRegionalDomainName}/lake` : c.clickhouse.lakeUrl } : {}),
      // ClickHouse Cloud reads the lake as this role: the views name it in s3(…, extra_credentials(role_arn = …)).
      ...(this.clickhouseLakeReader && c.clickhouse.lakeAccess && 'serviceRoleArn' in c.clickhouse.lakeAccess ? { CLICKHOUSE_LAKE_ROLE_ARN: this.clickhouseLakeReader.roleArn } : {}),
    };
    // One ClickHouse user per function, each with a secret only that function reads.
    const login = (id: string, u: ClickHouseUser): ClickHouseLogin => ({
      environment: { ...clickhouseEnvironment, CLICKHOUSE_USER: u.user },
      secret: Secret.fromSecretNameV2(this, id, u.secretName),
    });
    this.ingest = new Ingest(this, 'Ingest', {
      lake: this.lake, clusterArn, topology: c.topology, lakeWrites: c.lakeWrites, topics: c.topics, consumerGroup: c.consumerGroup, vpc, subnets, securityGroups,
      clickhouse: login('ClickHouseIngestSecret', c.clickhouse.ingest), piiSaltSecret,
      memoryMb: c.ingest.memoryMb, semiSpaceMb: c.ingest.semiSpaceMb, registryTtlSeconds: c.ingest.registryTtlSeconds, timeout: Duration.minutes(c.ingest.timeoutMinutes), logDays,
    });
    this.jobs = new Jobs(this, 'Jobs', { lake: this.lake, vpc, subnets, securityGroups, clickhouse: login('ClickHouseJobsSecret', c.clickhouse.jobs), logDays, ...(props.jobsDir ? { jobsDir: props.jobsDir } : {}) });
    if (c.lakeWrites === 'spool') this.materializer = new Materializer(this, 'Materializer', { lake: this.lake, vpc, subnets, securityGroups, logDays, everyMinutes: c.materializeEveryMinutes, deferSeconds: c.materializeDeferSeconds });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      ...(this.materializer ? { materializer: this.materializer.fn, spoolAgeSeconds: 60 * c.materializeEveryMinutes + MATERIALIZE_RUN_ALLOWANCE_SECONDS + c.materializeDeferSeconds } : {}),
      envName: c.name, ingest: this.ingest.paths, clusterName, compaction: this.jobs.compaction, abDaily: this.jobs.abDaily, ...(this.jobs.sqlJobs ? { sqlJobs: this.jobs.sqlJobs } : {}),
      emails: c.alarms.emails, freshnessMinutes: c.alarms.freshnessMinutes, quarantinePercent: c.alarms.quarantinePercent, quarantineTable: `${c.clickhouse.database}_ops._quarantine`, offsetLag: c.alarms.offsetLag,
    });

    // What a BI tool or an analyst needs to connect.
    new CfnOutput(this, 'LakeBucket', { value: this.lake.bucket.bucketName, description: 'S3 bucket of the lake (lake/<event>/dt=…/hour=…)' });
    new CfnOutput(this, 'GlueDatabase', { value: this.lake.glueDatabase, description: 'Glue database: one table per event, plus ab_daily' });
    new CfnOutput(this, 'AthenaWorkgroup', { value: this.lake.workgroup.name, description: 'Athena workgroup for the lake' });
    new CfnOutput(this, 'ClickHouseTables', { value: `${c.clickhouse.database}.<event>, <event>_dedup, <event>_all, ab_daily`, description: 'ClickHouse tables and views for BI tools (SELECT on this database only)' });
    new CfnOutput(this, 'ClickHouseOperationalTables', { value: `${c.clickhouse.database}_ops._quarantine, _ingest_log`, description: 'ClickHouse operational tables (raw quarantined records): no BI grant' });
    new CfnOutput(this, 'ClickHouseUsers', { value: `ingest: ${c.clickhouse.ingest.user}, jobs: ${c.clickhouse.jobs.user}`, description: 'ClickHouse users of the functions (grants: see the docs)' });
    if (this.clickhouseLakeReader) new CfnOutput(this, 'ClickHouseLakeRole', { value: this.clickhouseLakeReader.roleArn, description: 'The role ClickHouse reads the lake as (_all views)' });
    new CfnOutput(this, 'QuarantineReaders', {
      value: c.dataStewardRoleArn ? `${c.dataStewardRoleArn} and the account root` : 'the account root only (no dataStewardRoleArn in cdk.json)',
      description: 'Who may read lake/_quarantine/ (raw records): the bucket policy denies everyone else',
    });
    new CfnOutput(this, 'AlarmTopic', { value: this.monitoring.topic.topicArn });
  }
}
