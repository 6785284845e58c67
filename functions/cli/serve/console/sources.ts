// What the console's API reads and writes, whichever store is behind it: the local store serve holds
// (LocalRuntime), or an AWS deployment reached with the operator's own credentials (sources-aws.ts). The
// handlers in api.ts see only this interface.
import type { ClickHouseClient } from '@clickhouse/client';
import type { ClickHouseWarehouse } from '../../../adapters/warehouse/clickhouse.js';
import type { ReplayDeps } from '../../../core/quarantine/replay.js';
import type { SchemaRegistry } from '../../../core/schema/registry.js';
import type { TableSchema } from '../../../core/schema/model.js';
import type { AlarmThresholds } from '../../../../infra/alarm-defaults.js';
import { quoteIdentifier } from '../../../core/identifiers.js';
import type { LocalRuntime } from '../../local-runtime.js';
import type { MeasureOptions, StatusSources } from '../../commands/status.js';

/** Runs `f` with a query session to itself (chDB's one session); over HTTP each request is its own. */
export type Exclusive = <T>(f: () => Promise<T>) => Promise<T>;

/** Where a console query goes, and how it is put in its database. */
export interface QueryTarget {
  readonly client: ClickHouseClient;
  /** the database unqualified names resolve in */
  readonly database: string;
  /**
   * `session`: one shared session (chDB), put in the database with USE and back, under `exclusive`;
   * `request`: a server over HTTP, the database named per request (X-ClickHouse-Database), nothing kept.
   */
  readonly kind: 'session' | 'request';
  readonly exclusive?: Exclusive;
}

export interface ConsoleSources extends StatusSources {
  readonly mode: 'local' | 'aws';
  readonly warehouse: ClickHouseWarehouse;
  readonly registry: SchemaRegistry;
  /** declared schemas (schema files): tables they declare that have no records yet are listed too */
  readonly schemas: { list(): TableSchema[] };
  /** the cdk.json environment whose alarm thresholds the overview applies */
  readonly env: string;
  /** SQL page: the store's ClickHouse */
  readonly sql: QueryTarget;
  /**
   * Sample-data debugging: a chDB session on this machine, never the deployment's ClickHouse; a string says
   * why there is none.
   */
  readonly scratch: { readonly client: ClickHouseClient; readonly exclusive: Exclusive } | string;
  /** Consumer lag beside the tables' verdicts (against AWS: CloudWatch's OffsetLag); none locally. */
  consumerLag?(now: number, alarms: AlarmThresholds): Promise<Pick<MeasureOptions, 'consumers' | 'functions'>>;
  /**
   * Rows per hour (`YYYY-MM-DDTHH`) in the lake for `table`: the files each partition's catalog location holds.
   * `since`: only the hours ending after it (undefined: every hour).
   */
  lakeHours(table: string, since: number | undefined): Promise<Map<string, number>>;
  /** How far back the Tables page compares ClickHouse and the lake (undefined: every hour). */
  readonly hoursWindowMs: number | undefined;
  /** The ports a quarantine replay runs ingest with; throws a ConfigurationError saying what is missing. */
  replayDeps(): Promise<ReplayDeps>;
  /** An error message as the page may show it: any secret the sources hold (a password, a salt) masked. */
  redact(message: string): string;
  /** One line for serve's start-up output: what the console reads. No secrets. */
  readonly description: string;
  close(): Promise<void>;
}

export const hourKey = (dt: string, hour: number): string => `${dt}T${String(hour).padStart(2, '0')}`;

/** The local store serve holds: its chDB, lake directory, JSON catalog and registry. */
export function localConsoleSources(rt: LocalRuntime, env = 'dev'): ConsoleSources {
  const w = rt.warehouse;
  return {
    mode: 'local', env,
    eventTables: () => rt.eventTables(),
    warehouse: w, catalog: rt.catalog, store: rt.store, registry: rt.registry, schemas: rt.schemas,
    sql: { client: w.client, database: w.database, kind: 'session', exclusive: rt.exclusive },
    scratch: { client: w.client, exclusive: rt.exclusive },
    async lakeHours(table) {
      const out = new Map<string, number>();
      if (!(await rt.refreshLakeViews()).includes(table)) return out;
      for (const r of await w.query<{ dt: string; hour: number; n: string }>(`SELECT toString(dt) AS dt, hour, count() AS n FROM lake.${quoteIdentifier(table)} GROUP BY dt, hour`)) {
        out.set(hourKey(r.dt, Number(r.hour)), Number(r.n));
      }
      return out;
    },
    hoursWindowMs: undefined,
    replayDeps: async () => ({ ...rt.deps, ensureResolutionTable: () => w.ensureQuarantineResolvedTable() }),
    redact: (message) => message,
    description: `the local store ${rt.home}`,
    // serve closes the runtime itself (it also holds the ClickHouse interface)
    close: async () => undefined,
  };
}
