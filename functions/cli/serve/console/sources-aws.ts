// The console against an AWS deployment, from the operator's machine with the operator's own credentials (the
// usual AWS chain) and ClickHouse login: the registry and lake in the bucket, the Glue catalog, the deployed
// ClickHouse, CloudWatch's OffsetLag. The same variables as `tributary status` and `quarantine` against AWS
// (docs/cli.md#against-aws), read once when serve starts. Nothing runs in AWS for it.
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readServicesEnvironment } from '../../../adapters/environment.js';
import { openAwsServices, secretValue } from '../../../adapters/aws-services.js';
import { S3_CLIENT_CONFIG } from '../../../adapters/object-store/s3.js';
import { SchemaFiles } from '../../../adapters/schema-files.js';
import { hourEnd } from '../../../core/time.js';
import { hourKey, type ConsoleSources } from './sources.js';
import { parquetRows } from './parquet-rows.js';

export interface AwsConsoleOptions {
  /** the environment variables as serve started with them (forwarded commands change process.env while they run) */
  readonly environment: NodeJS.ProcessEnv;
  /** the cdk.json environment: alarm thresholds and MSK cluster */
  readonly env: string;
  readonly clock: () => number;
  /** the declared schemas (schema files) replay and the Tables page apply */
  readonly schemasDir: string;
  /** sample-data debugging: the local chDB, never the deployment */
  readonly scratch: ConsoleSources['scratch'];
}

/** The Tables page compares the last day: the lake's side is read from each file's footer, a request per file. */
const HOURS_WINDOW_MS = 24 * 3_600_000;
/** footer reads in flight at once */
const FOOTER_CONCURRENCY = 16;

/** A URL as it can be printed: without a user or password in it. */
export function printableUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(CLICKHOUSE_URL)';
  }
}

function safeUrlPassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

export async function openAwsConsoleSources(o: AwsConsoleOptions): Promise<ConsoleSources> {
  const services = readServicesEnvironment(o.environment);
  const aws = await openAwsServices(services);
  const s3 = new S3Client(S3_CLIENT_CONFIG);
  try {
    const schemas = SchemaFiles.load(o.schemasDir);
    const { cdkJsonPath, environmentCluster, cloudWatchLag } = await import('../../commands/status.js');
    const cluster = environmentCluster(o.env, await cdkJsonPath());
    const w = aws.warehouse;
    const root = aws.store.uri('');
    // What an error message must never carry to the page, should a library echo it: the ClickHouse password
    // (from the variable, the URL or Secrets Manager, whose value Powertools has cached), the salt, AWS keys.
    const secrets = [
      await secretValue(services.clickhouse.password), safeUrlPassword(services.clickhouse.url),
      o.environment['TRIBUTARY_PII_SALT'], o.environment['AWS_SECRET_ACCESS_KEY'], o.environment['AWS_SESSION_TOKEN'],
    ].filter((v): v is string => typeof v === 'string' && v.length >= 4);

    /** Rows of the Parquet file at `key`, from a ranged read of its tail. */
    const fileRows = (key: string): Promise<number> => parquetRows(async (n) => {
      const out = await s3.send(new GetObjectCommand({ Bucket: services.bucket, Key: key, Range: `bytes=-${n}` }));
      return out.Body ? out.Body.transformToByteArray() : new Uint8Array();
    });

    const sources: ConsoleSources = {
      mode: 'aws', env: o.env,
      eventTables: () => aws.catalog.listTables('event'),
      warehouse: w, catalog: aws.catalog, store: aws.store, registry: aws.registry({ declared: schemas }), schemas,
      sql: { client: w.client, database: w.database, kind: 'request' },
      scratch: o.scratch,
      async consumerLag(now, alarms) {
        if (cluster === undefined) {
          return { consumers: [{ group: '–', health: 'warn', reason: `consumer lag not read: environment ${o.env} in cdk.json names no MSK cluster (serve --env NAME picks another)`, lag: 0, partitions: [] }] };
        }
        try {
          return await cloudWatchLag(cluster, undefined, undefined, now, alarms.offsetLag);
        } catch (e) {
          // Lag not measured is said, never shown as no lag.
          return { consumers: [{ group: '–', health: 'warn', reason: `consumer lag could not be read from CloudWatch: ${(e as Error).message}`, lag: 0, partitions: [] }] };
        }
      },
      async lakeHours(table, since) {
        // The files at each hour's catalog location (its current compaction version), as Athena reads them.
        const partitions = (await aws.catalog.listPartitions(table))
          .filter((p) => p.hour !== undefined && (since === undefined || hourEnd(p.dt, p.hour) > since) && p.location.startsWith(root));
        const files: Array<{ hour: string; key: string }> = [];
        for (const p of partitions) {
          const prefix = p.location.slice(root.length).replace(/\/?$/, '/');
          for (const key of await aws.store.list(prefix)) {
            if (key.endsWith('.parquet') && !key.slice(prefix.length).includes('/')) files.push({ hour: hourKey(p.dt, p.hour!), key });
          }
        }
        const out = new Map<string, number>();
        for (let i = 0; i < files.length; i += FOOTER_CONCURRENCY) {
          const chunk = files.slice(i, i + FOOTER_CONCURRENCY);
          const rows = await Promise.all(chunk.map((f) => fileRows(f.key)));
          chunk.forEach((f, j) => out.set(f.hour, (out.get(f.hour) ?? 0) + rows[j]!));
        }
        return out;
      },
      hoursWindowMs: HOURS_WINDOW_MS,
      redact: (message) => secrets.reduce((m, secret) => m.split(secret).join('***'), message),
      replayDeps: async () => (await import('../../commands/quarantine.js')).awsReplayDeps(aws, o.environment, o.schemasDir, o.clock),
      description: `the AWS deployment: S3 bucket ${services.bucket} (registry, lake), Glue database ${services.glueDatabase}, ` +
        `ClickHouse ${printableUrl(services.clickhouse.url)} (user ${services.clickhouse.username}, database ${services.clickhouse.database}), ` +
        `CloudWatch OffsetLag${cluster === undefined ? '' : ` (MSK cluster ${cluster})`}; thresholds of environment ${o.env}`,
      async close() {
        s3.destroy();
        await w.close();
      },
    };
    return sources;
  } catch (e) {
    s3.destroy();
    await aws.warehouse.close();
    throw e;
  }
}
