// The AWS side of the ports, wired from the environment: S3 lake, Glue catalog, ClickHouse over HTTP(S),
// the schema registry in the bucket. Shared by the Lambda functions and by the CLI when TRIBUTARY_BUCKET is set.
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { createClient } from '@clickhouse/client';
import { lakeGlob } from '../core/warehouse/clickhouse-ddl.js';
import { INSERTS_IN_FLIGHT } from '../core/warehouse/inserts-in-flight.js';
import { quoteString } from '../core/identifiers.js';
import { SchemaRegistry, type DeclaredSchemas } from '../core/schema/registry.js';
import type { Catalog, ObjectStore, Warehouse } from '../core/ports.js';
import { ConfigurationError, type IngestEnvironment, type SecretSource, type ServicesEnvironment } from './environment.js';
import { GLUE_CLIENT_CONFIG, GlueCatalog } from './catalog/glue.js';
import { S3_CLIENT_CONFIG, S3Store } from './object-store/s3.js';
import { ClickHouseWarehouse } from './warehouse/clickhouse.js';

/** Secrets are fetched once per container (Powertools caches them for an hour; a rotation reaches new containers). */
export async function secretValue(s: SecretSource): Promise<string> {
  if ('value' in s) return s.value;
  const v = await getSecret(s.secretArn, { maxAge: 3600 });
  if (typeof v !== 'string' || v === '') throw new ConfigurationError(`secret ${s.secretArn} is empty or binary`);
  return v;
}

export interface AwsServices {
  readonly store: S3Store;
  readonly catalog: GlueCatalog;
  readonly warehouse: ClickHouseWarehouse;
  registry(options?: { ttlMs?: number; declared?: DeclaredSchemas }): SchemaRegistry;
}

/** The `s3()` source of a table's `_all` view. */
export function lakeSource(lakeUrl: string, table: string, structure: string, roleArn?: string): string {
  const credentials = roleArn ? `, extra_credentials(role_arn = ${quoteString(roleArn)})` : '';
  return `s3(${quoteString(lakeGlob(lakeUrl, table))}, 'Parquet', ${quoteString(structure)}${credentials})`;
}

export async function openAwsServices(env: ServicesEnvironment): Promise<AwsServices> {
  const password = await secretValue(env.clickhouse.password);
  const clickhouse = createClient({
    url: env.clickhouse.url, // https:// gives TLS (ClickHouse Cloud); the client verifies the server certificate
    username: env.clickhouse.username,
    password,
    request_timeout: 60_000,
    // ingest's inserts in flight (one per table of a batch): the client's default of 10 sockets would queue the rest
    max_open_connections: INSERTS_IN_FLIGHT,
    compression: { request: false, response: true },
  });
  const lakeUrl = env.clickhouse.lakeUrl;
  const store = new S3Store(new S3Client(S3_CLIENT_CONFIG), { bucket: env.bucket, ...(env.kmsKeyId ? { kmsKeyId: env.kmsKeyId } : {}) });
  const catalog = new GlueCatalog(new GlueClient(GLUE_CLIENT_CONFIG), env.glueDatabase);
  return {
    store,
    catalog,
    warehouse: new ClickHouseWarehouse(clickhouse, {
      database: env.clickhouse.database,
      ttlDays: env.clickhouse.ttlDays,
      ...(env.clickhouse.asyncInsert ? { asyncInsert: true } : {}),
      // The server reads the lake with its own S3 access: a self-managed server's instance role, or on
      // ClickHouse Cloud the role it assumes, named per view (extra_credentials is Cloud's).
      ...(lakeUrl ? { lakeSource: (table: string, structure: string) => lakeSource(lakeUrl, table, structure, env.clickhouse.lakeRoleArn) } : {}),
    }),
    registry: (options = {}) => new SchemaRegistry(store, { adopt: (t) => catalog.getTable(t), ...options }),
  };
}

/** A port a path of the `split` topology must never reach: a call is a bug, never a silent drop. */
function absent<T extends object>(what: string, sinks: string): T {
  return new Proxy({} as T, {
    get: (_t, prop) => (prop === 'then' ? undefined : () => { throw new Error(`${what}.${String(prop)} called by an ingest function whose TRIBUTARY_SINKS=${sinks}`); }),
  });
}

export interface IngestServices {
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly warehouse: Warehouse;
  registry(options?: { ttlMs?: number; declared?: DeclaredSchemas }): SchemaRegistry;
}

/**
 * The ingest function's ports for its sinks: the lake path opens no ClickHouse client and reads no
 * ClickHouse secret; the fresh path's catalog refuses every call (the core makes none on that path).
 */
export async function openIngestServices(env: IngestEnvironment): Promise<IngestServices> {
  const { sinks } = env;
  const label = sinks.lake && sinks.warehouse ? 'lake,clickhouse' : sinks.lake ? 'lake' : 'clickhouse';
  if (sinks.lake && sinks.warehouse) return openAwsServices(env);
  const store = new S3Store(new S3Client(S3_CLIENT_CONFIG), { bucket: env.bucket, ...(env.kmsKeyId ? { kmsKeyId: env.kmsKeyId } : {}) });
  if (sinks.lake) {
    const catalog = new GlueCatalog(new GlueClient(GLUE_CLIENT_CONFIG), env.glueDatabase);
    return { store, catalog, warehouse: absent<Warehouse>('warehouse', label), registry: (options = {}) => new SchemaRegistry(store, { adopt: (t) => catalog.getTable(t), ...options }) };
  }
  const { warehouse } = await openAwsServices(env);
  return { store, catalog: absent<Catalog>('catalog', label), warehouse, registry: (options = {}) => new SchemaRegistry(store, options) };
}

