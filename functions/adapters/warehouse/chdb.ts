// Embedded ClickHouse (chDB) plugged into @clickhouse/client: same client API and SQL as a server.
// chDB's client connection passes insert bodies as text, so Parquet goes in through file() instead.
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { qualified } from '../../core/warehouse/clickhouse-ddl.js';
import { quoteIdentifier, quoteString } from '../../core/identifiers.js';
import { ClickHouseWarehouse, type ClickHouseWarehouseOptions, type ParquetInserter } from './clickhouse.js';

interface ChdbRaw {
  queryAsync(sql: string, opts?: { format?: string }): Promise<{ text(): string }>;
}

export interface ChdbWarehouse {
  readonly warehouse: ClickHouseWarehouse;
  /** raw chDB access for statements the HTTP-shaped client cannot express (file() inserts) */
  readonly raw: ChdbRaw;
  /**
   * Runs `f` with chDB's one session to itself: no other caller's statement runs between its statements
   * (with `serialize`; without it, `f` as it is). For a run that sets the session's database or settings
   * and puts them back.
   */
  exclusive<T>(f: () => Promise<T>): Promise<T>;
}

export interface ChdbOpenOptions extends Pick<ClickHouseWarehouseOptions, 'ttlDays' | 'lakeSource'> {
  /**
   * One statement at a time on the session, whoever sends it (`tributary serve`: BI queries and the commands it
   * runs for other processes share the session, whose current database and SETs every statement sees).
   */
  readonly serialize?: boolean;
}

/** Statements one at a time; a holder's own statements (inside `run`) pass straight through. */
class SessionLock {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly holder = new AsyncLocalStorage<boolean>();

  run<T>(f: () => Promise<T>): Promise<T> {
    if (this.holder.getStore() === true) return f();
    const next = this.tail.then(() => this.holder.run(true, f));
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** The local store's ClickHouse directory is held by another process (chDB takes an exclusive lock on it). */
export class LocalStoreBusyError extends Error {
  override readonly name = 'LocalStoreBusyError';
}

/** The pid in the status file ClickHouse keeps in its directory while it runs, if that process is alive and not this one. */
function liveHolder(path: string): number | undefined {
  let pid: number;
  try {
    pid = Number(/PID:\s*(\d+)/.exec(readFileSync(join(path, 'status'), 'utf8'))?.[1]);
  } catch {
    return undefined; // no status file: nobody holds the store
  }
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0); // signal 0: is it alive?
    return pid;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined; // ESRCH: a stale file left by a killed process
  }
}

const busyError = (path: string, pid: number | undefined): LocalStoreBusyError =>
  new LocalStoreBusyError(`the local store ${path} is in use by another tributary process${pid ? ` (pid ${pid})` : ''}: ` +
    'wait for it to finish, or give this command another TRIBUTARY_HOME');

/** A LocalStoreBusyError when `err` is chDB failing to lock the directory (the holder started after the check above). */
function busyStore(err: unknown, path: string): LocalStoreBusyError | undefined {
  const messages: string[] = [];
  for (let e: unknown = err; typeof e === 'object' && e !== null && messages.length < 4; e = (e as { cause?: unknown }).cause) messages.push(String((e as Error).message));
  return messages.some((m) => /Cannot lock file|Another server instance/.test(m)) || liveHolder(path) !== undefined ? busyError(path, liveHolder(path)) : undefined;
}

/** Opens chDB on a data directory. libchdb binds one directory per process: open it once. */
export async function openChdbWarehouse(path: string, database = 'tributary', openOptions: ChdbOpenOptions = {}): Promise<ChdbWarehouse> {
  const { serialize = false, ...options } = openOptions;
  // chdb is a dev/local dependency (570 MB): loaded lazily so Lambda bundles never include it.
  const { createChdbConnection } = await import('chdb/connection');
  // Asked before chDB is: its lock failure also prints a ClickHouse exception straight to stderr.
  const holder = liveHolder(path);
  if (holder !== undefined) throw busyError(path, holder);
  let connection: ReturnType<typeof createChdbConnection>;
  try {
    connection = createChdbConnection({ path });
  } catch (err) {
    throw busyStore(err, path) ?? err;
  }
  let raw = connection.chdb as unknown as ChdbRaw;
  let exclusive = <T>(f: () => Promise<T>): Promise<T> => f();
  if (serialize) {
    const lock = new SessionLock();
    const conn = connection as unknown as Record<'query' | 'exec' | 'command' | 'insert' | 'ping', (...a: unknown[]) => Promise<unknown>>;
    for (const m of ['query', 'exec', 'command', 'insert', 'ping'] as const) {
      const f = conn[m].bind(connection);
      conn[m] = (...a: unknown[]) => lock.run(() => f(...a));
    }
    const unlocked = raw;
    raw = { queryAsync: (sql, opts) => lock.run(() => unlocked.queryAsync(sql, opts)) };
    exclusive = (f) => lock.run(f);
  }
  const client = createClient({ connection } as unknown as Parameters<typeof createClient>[0]) as ClickHouseClient;
  // Parquet bodies pass through files beside the data directory; this process holds the directory's lock,
  // so whatever a killed predecessor left there is garbage.
  const scratch = `${path}.scratch`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });

  const insertParquet: ParquetInserter = async (_client, i) => {
    const file = join(scratch, `${Math.random().toString(36).slice(2)}.parquet`);
    await writeFile(file, i.file.bytes);
    try {
      const cols = i.columns.map((c) => quoteIdentifier(c.name)).join(', ');
      await raw.queryAsync(
        `INSERT INTO ${qualified(i.database, i.table)} (${cols}) SETTINGS insert_deduplication_token = ${quoteString(i.dedupToken)}, insert_deduplicate = 1 ` +
        `SELECT ${cols} FROM file(${quoteString(file)}, 'Parquet')`,
      );
    } finally {
      await rm(file, { force: true });
    }
  };
  return { warehouse: new ClickHouseWarehouse(client, { database, insertParquet, ...options }), raw, exclusive };
}
