// The lake: an S3 bucket (private, TLS-only, encrypted, versioned with a short noncurrent life), its
// access-log bucket, the Glue database, and an Athena workgroup that reads it.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase } from 'aws-cdk-lib/aws-glue';
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
}

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
        { id: 'quarantine', prefix: 'lake/_quarantine/', expiration: Duration.days(props.quarantineDays ?? 30) },
        // Compaction deletes superseded files; versioning keeps them recoverable this long, then they go.
        { id: 'noncurrent', noncurrentVersionExpiration: Duration.days(props.noncurrentDays ?? 7), abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'athena-results', prefix: 'athena-results/', expiration: Duration.days(30) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
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

  /** ARNs of the Glue catalog, database and its tables (or one of them), for policies scoped to this lake. */
  glueArns(): { catalog: string; database: string; tables: string; table: (name: string) => string } {
    const { account, region, partition } = this.bucket.stack;
    const base = `arn:${partition}:glue:${region}:${account}`;
    return {
      catalog: `${base}:catalog`, database: `${base}:database/${this.glueDatabase}`, tables: `${base}:table/${this.glueDatabase}/*`,
      table: (name) => `${base}:table/${this.glueDatabase}/${name}`,
    };
  }
}
