// The lake: an S3 bucket (private, TLS-only, encrypted, versioned with a short noncurrent life), its
// access-log bucket, the Glue database, and an Athena workgroup that reads it.
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase } from 'aws-cdk-lib/aws-glue';
import { AnyPrincipal, Effect, PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface LakeProps {
  readonly envName: string;
  /** a customer-managed key for the lake; otherwise S3-managed encryption */
  readonly kmsKey?: boolean;
  /** days quarantined records are kept (default 30) */
  readonly quarantineDays?: number;
  /** days a deleted or overwritten object stays recoverable (default 7); covers compaction's deletes */
  readonly noncurrentDays?: number;
  /** the one role besides the account root that may read lake/_quarantine/ (raw records, PII) */
  readonly dataStewardRoleArn?: string;
}

/**
 * Key patterns of the lake bucket, as IAM resource patterns (`*` crosses `/`). They follow the layout in
 * functions/core/lake/layout.ts, the registry and the job runner; test/infra/stack.test.ts checks each role
 * against keys made by that code.
 */
export const LAKE_KEYS = {
  /** ingest's files, named `<topic>+<partition>+<first>-<last>.parquet` ('+' is not in a topic name), in an
   * hour partition or in a compacted version of it (late rows); also the quarantine's */
  ingestFiles: 'lake/*/dt=*/hour=*/*+*+*-*.parquet',
  /** everything in an event table's hour partitions: files, compaction's version folders, manifests, claims */
  partitionObjects: 'lake/*/dt=*/hour=*/*',
  /** compaction's version folders (`_v<NNNN>/`): its outputs, manifest and claim */
  versionFolders: 'lake/*/dt=*/hour=*/_v*/*',
  /** the prefix compaction lists: one hour partition */
  partitionPrefix: 'lake/*/dt=*/hour=*/',
  /** the whole lake (event tables, job outputs, quarantine), for readers whose deny keeps the quarantine out */
  lake: 'lake/*',
  /** raw records refused by ingest: written by ingest only, read by the data steward only */
  quarantine: 'lake/_quarantine/*',
  /** schema registry versions, one immutable document each */
  registry: '_registry/events/*',
  /** a job's output table */
  jobOutput: (table: string): string => `lake/${table}/*`,
  /** spool writes (docs/lake.md#spool-writes): one object per ingest batch, `_spool/pending/<topic>+<n>p+<digest>.spool` */
  spoolObjects: '_spool/pending/*.spool',
  /** the materializer's claim manifests */
  spoolManifests: '_spool/manifests/*',
  /** the offsets already materialized, per topic-partition */
  spoolOffsets: '_spool/offsets.json',
  /** the prefixes the materializer lists */
  spoolPrefixes: '_spool/*',
  /** the materializer's lineage files (Kafka offsets → spool → file) */
  lineage: 'lake/_ingest_log/*',
} as const;

export const QUARANTINE_PREFIX = 'lake/_quarantine/';

export class Lake extends Construct {
  readonly bucket: Bucket;
  readonly key?: Key;
  readonly glueDatabase: string;
  readonly workgroup: CfnWorkGroup;

  constructor(scope: Construct, id: string, props: LakeProps) {
    super(scope, id);
    if (!/^[a-z0-9-]+$/.test(props.envName)) throw new Error(`Lake: envName ${JSON.stringify(props.envName)} must be lowercase letters, digits and dashes`);
    const accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (props.kmsKey) this.key = new Key(this, 'Key', { enableKeyRotation: true, description: `Tributary ${props.envName} lake` });
    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      ...(this.key ? { encryption: BucketEncryption.KMS, encryptionKey: this.key, bucketKeyEnabled: true } : { encryption: BucketEncryption.S3_MANAGED }),
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'lake/',
      lifecycleRules: [
        { id: 'quarantine', prefix: QUARANTINE_PREFIX, expiration: Duration.days(props.quarantineDays ?? 30) },
        // Compaction deletes superseded files; versioning keeps them recoverable this long, then they go.
        { id: 'noncurrent', noncurrentVersionExpiration: Duration.days(props.noncurrentDays ?? 7), abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'athena-results', prefix: 'athena-results/', expiration: Duration.days(30) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Quarantined records are raw input, PII included: no role reads them, whatever IAM grants it, but the
    // data steward's (and the account root, the break-glass that can also edit this policy). Writing them
    // is left to IAM (ingest's role). aws:PrincipalArn is the role for any of its sessions.
    this.bucket.addToResourcePolicy(new PolicyStatement({
      sid: 'QuarantineReadOnlyByDataSteward',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [this.bucket.arnForObjects(LAKE_KEYS.quarantine)],
      conditions: { ArnNotLike: { 'aws:PrincipalArn': [`arn:${Stack.of(this).partition}:iam::${Stack.of(this).account}:root`, ...(props.dataStewardRoleArn ? [props.dataStewardRoleArn] : [])] } },
    }));
    this.glueDatabase = `tributary_${props.envName.replace(/-/g, '_')}`;
    new CfnDatabase(this, 'Database', {
      catalogId: this.bucket.stack.account,
      databaseInput: { name: this.glueDatabase, description: `Tributary ${props.envName}: event tables (one per event) and job outputs`, locationUri: this.bucket.s3UrlForObject('lake/') },
    });
    this.workgroup = new CfnWorkGroup(this, 'Workgroup', {
      name: `tributary-${props.envName}`,
      description: 'Queries over the Tributary lake',
      state: 'ENABLED',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        resultConfiguration: {
          outputLocation: this.bucket.s3UrlForObject('athena-results/'),
          encryptionConfiguration: this.key ? { encryptionOption: 'SSE_KMS', kmsKey: this.key.keyArn } : { encryptionOption: 'SSE_S3' },
        },
      },
    });
  }

  /** What every function needs to find the lake (read by the handlers' configuration readers). */
  environment(): Record<string, string> {
    return {
      TRIBUTARY_BUCKET: this.bucket.bucketName,
      TRIBUTARY_GLUE_DATABASE: this.glueDatabase,
      ...(this.key ? { TRIBUTARY_KMS_KEY_ID: this.key.keyArn } : {}),
    };
  }

  /** s3:ListBucket, only for prefixes matching these patterns (the `s3:prefix` condition). */
  grantList(grantee: IGrantable, prefixes: readonly string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({
      actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [...prefixes] } },
    }));
  }

  /** s3:GetObject on keys matching the patterns (and decryption with the lake key). */
  grantGet(grantee: IGrantable, patterns: readonly string[]): void {
    this.objects(grantee, ['s3:GetObject'], patterns);
    this.grantKey(grantee, ['kms:Decrypt']);
  }

  /** s3:PutObject (multipart uploads included, and their abort) on keys matching the patterns. */
  grantPut(grantee: IGrantable, patterns: readonly string[]): void {
    this.objects(grantee, ['s3:PutObject', 's3:AbortMultipartUpload'], patterns);
    // A multipart upload under SSE-KMS decrypts its data key to complete.
    this.grantKey(grantee, ['kms:GenerateDataKey', 'kms:Decrypt']);
  }

  /** s3:DeleteObject (a current object: versioning keeps it recoverable, nothing purges versions). */
  grantDelete(grantee: IGrantable, patterns: readonly string[]): void {
    this.objects(grantee, ['s3:DeleteObject'], patterns);
  }

  /**
   * What a query engine outside the functions (ClickHouse's `<event>_all` views) needs to read the lake:
   * list and read everything under lake/ but the quarantine, decrypt through S3. Nothing else in the bucket.
   */
  grantLakeRead(grantee: IGrantable): void {
    this.grantList(grantee, [LAKE_KEYS.lake]);
    this.grantGet(grantee, [LAKE_KEYS.lake]);
    // The region lookup some S3 clients make before their first request.
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [this.bucket.bucketArn] }));
    this.deny(grantee, ['s3:GetObject', 's3:GetObjectVersion'], [LAKE_KEYS.quarantine]);
    this.denyList(grantee, [LAKE_KEYS.quarantine]);
  }

  /** An explicit deny in the grantee's own policies: what its Allow patterns would otherwise reach. */
  deny(grantee: IGrantable, actions: readonly string[], patterns: readonly string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ effect: Effect.DENY, actions: [...actions], resources: patterns.map((p) => this.bucket.arnForObjects(p)) }));
  }

  /** An explicit deny of listing prefixes matching the patterns. */
  denyList(grantee: IGrantable, prefixes: readonly string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({
      effect: Effect.DENY, actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [...prefixes] } },
    }));
  }

  private objects(grantee: IGrantable, actions: readonly string[], patterns: readonly string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: [...actions], resources: patterns.map((p) => this.bucket.arnForObjects(p)) }));
  }

  /** The lake key, used through S3 only. */
  private grantKey(grantee: IGrantable, actions: readonly string[]): void {
    if (!this.key) return;
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({
      actions: [...actions], resources: [this.key.keyArn], conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
    }));
  }

  /**
   * ARNs of the Glue catalog, database and its tables (or one of them), for policies scoped to this lake.
   * Glue has no partition ARN: partition actions are authorized on the catalog, the database and the table.
   */
  glueArns(): { catalog: string; database: string; tables: string; table: (name: string) => string } {
    const { account, region, partition } = this.bucket.stack;
    const base = `arn:${partition}:glue:${region}:${account}`;
    return {
      catalog: `${base}:catalog`, database: `${base}:database/${this.glueDatabase}`, tables: `${base}:table/${this.glueDatabase}/*`,
      table: (name) => `${base}:table/${this.glueDatabase}/${name}`,
    };
  }
}
