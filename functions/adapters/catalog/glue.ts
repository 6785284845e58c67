// The Glue Data Catalog behind the Catalog port.
import {
  AlreadyExistsException, BatchCreatePartitionCommand, BatchGetPartitionCommand, BatchUpdatePartitionCommand, ConcurrentModificationException,
  CreateTableCommand, EntityNotFoundException, GetPartitionsCommand, GetTableCommand, GetTablesCommand,
  UpdatePartitionCommand, UpdateTableCommand, type PartitionInput, type PartitionValueList,
  type GlueClient, type GlueClientConfig, type TableInput,
} from '@aws-sdk/client-glue';
import {
  fromTableInput, isDerivedTable, mergeColumns, partitionColumnsUpdate, partitionStateOf, partitionValues, toDerivedTableInput, toPartitionInput, toTableInput,
  withPartitionColumns, type GlueColumn, type GluePartitionInput, type GluePartitionLike, type GlueTableInput,
} from '../../core/lake/glue-table.js';
import { partitionId, type Catalog, type DerivedTable, type PartitionRef, type PartitionState } from '../../core/ports.js';
import type { TableSchema } from '../../core/schema/model.js';

/**
 * Client settings for the catalog: Glue throttles per account, and many ingest containers evolve tables at
 * once after a deploy, so the SDK's adaptive mode (backoff plus client-side rate limiting on
 * ThrottlingException) with more attempts than the default three.
 */
export const GLUE_CLIENT_CONFIG: GlueClientConfig = { retryMode: 'adaptive', maxAttempts: 8 };

/** Glue accepts at most 100 partitions per BatchCreatePartition call and 1,000 keys per BatchGetPartition. */
const PARTITION_BATCH = 100;
const GET_PARTITION_BATCH = 1000;
const MAX_ATTEMPTS = 5;

export class GlueCatalog implements Catalog {
  /**
   * Partitions this container has registered or brought up to date, with the table columns they then
   * took: most batches hit the same few hours, and cost no call until the table's columns change.
   */
  private readonly knownPartitions = new Map<string, string>();
  /** the columns of each table as this container last read or wrote them */
  private readonly tableColumns = new Map<string, string>();

  constructor(private readonly client: GlueClient, readonly database: string, private readonly catalogId?: string) {}

  private get ids(): { DatabaseName: string; CatalogId?: string } {
    return { DatabaseName: this.database, ...(this.catalogId ? { CatalogId: this.catalogId } : {}) };
  }

  private seen(table: string, columns: readonly GlueColumn[] | undefined): void {
    this.tableColumns.set(table, JSON.stringify((columns ?? []).map((c) => [c.Name, c.Type])));
  }

  async getTable(table: string): Promise<TableSchema | undefined> {
    try {
      const out = await this.client.send(new GetTableCommand({ ...this.ids, Name: table }));
      if (!out.Table) return undefined;
      this.seen(table, out.Table.StorageDescriptor?.Columns as GlueColumn[] | undefined);
      return fromTableInput(out.Table as unknown as GlueTableInput);
    } catch (err) {
      if (err instanceof EntityNotFoundException) return undefined;
      throw err;
    }
  }

  /**
   * One GetTables page (100 tables) for many tables instead of a GetTable each: the materializer reads the
   * columns of every table it writes on each run, fresh (another writer may have widened one since).
   * For one table, GetTable is the one call.
   */
  async getTables(tables: readonly string[]): Promise<Map<string, TableSchema>> {
    const out = new Map<string, TableSchema>();
    if (tables.length <= 1) {
      for (const t of tables) { const schema = await this.getTable(t); if (schema) out.set(t, schema); }
      return out;
    }
    const wanted = new Set(tables);
    let token: string | undefined;
    do {
      const page = await this.client.send(new GetTablesCommand({ ...this.ids, NextToken: token, MaxResults: 100 }));
      for (const t of page.TableList ?? []) {
        if (!t.Name || !wanted.has(t.Name)) continue;
        this.seen(t.Name, t.StorageDescriptor?.Columns as GlueColumn[] | undefined);
        out.set(t.Name, fromTableInput(t as unknown as GlueTableInput));
      }
      token = page.NextToken;
    } while (token);
    return out;
  }

  async upsertTable(schema: TableSchema, location: string): Promise<void> {
    await this.upsertInput(toTableInput(schema, location));
  }

  async upsertDerivedTable(table: DerivedTable, location: string): Promise<void> {
    await this.upsertInput(toDerivedTableInput(table, location));
  }

  /** CreateTable, or on AlreadyExists an UpdateTable that keeps every column the table already has. */
  private async upsertInput(input: GlueTableInput): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new CreateTableCommand({ ...this.ids, TableInput: input as TableInput }));
        this.seen(input.Name, input.StorageDescriptor.Columns);
        return;
      } catch (err) {
        if (!(err instanceof AlreadyExistsException)) throw err;
      }
      try {
        // Another invocation created it first: merge, keeping every column it already has.
        const current = await this.client.send(new GetTableCommand({ ...this.ids, Name: input.Name }));
        const existing = (current.Table?.StorageDescriptor?.Columns ?? []) as GlueColumn[];
        const merged = { ...input, StorageDescriptor: { ...input.StorageDescriptor, Columns: mergeColumns(input.StorageDescriptor.Columns, existing) } };
        await this.client.send(new UpdateTableCommand({ ...this.ids, TableInput: merged as TableInput, VersionId: current.Table?.VersionId }));
        this.seen(input.Name, merged.StorageDescriptor.Columns);
        return;
      } catch (err) {
        if (!(err instanceof ConcurrentModificationException) || attempt >= MAX_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt * Math.random()));
      }
    }
  }

  async addPartitions<P extends PartitionRef>(table: string, partitions: readonly P[], locationOf: (p: P) => string): Promise<void> {
    const key = (p: PartitionRef): string => `${table}/${partitionId(p)}`;
    const known = this.tableColumns.get(table);
    const fresh = partitions.filter((p) => known === undefined || this.knownPartitions.get(key(p)) !== known);
    if (fresh.length === 0) return;
    const t = await this.client.send(new GetTableCommand({ ...this.ids, Name: table }));
    const tableInput = t.Table as unknown as GlueTableInput;
    this.seen(table, tableInput.StorageDescriptor?.Columns);
    const columns = this.tableColumns.get(table)!;
    const existing: P[] = [];
    for (let i = 0; i < fresh.length; i += PARTITION_BATCH) {
      const chunk = fresh.slice(i, i + PARTITION_BATCH);
      const out = await this.client.send(new BatchCreatePartitionCommand({
        ...this.ids,
        TableName: table,
        PartitionInputList: chunk.map((p) => toPartitionInput(tableInput, p.dt, p.hour, locationOf(p))),
      }));
      const failed = (out.Errors ?? []).filter((e) => e.ErrorDetail?.ErrorCode !== 'AlreadyExistsException');
      if (failed.length > 0) {
        throw new Error(`Glue BatchCreatePartition failed for ${table}: ${failed.map((e) => `${e.PartitionValues?.join('/')}: ${e.ErrorDetail?.ErrorCode} ${e.ErrorDetail?.ErrorMessage}`).join('; ')}`);
      }
      const there = new Set((out.Errors ?? []).map((e) => (e.PartitionValues ?? []).join('/')));
      existing.push(...chunk.filter((p) => there.has(partitionValues(p.dt, p.hour).join('/'))));
    }
    // Partitions registered before: a batch now writes files with the table's current columns into them.
    await this.updateColumns(table, tableInput.StorageDescriptor?.Columns ?? [], existing);
    for (const p of fresh) this.knownPartitions.set(key(p), columns);
  }

  /** Brings registered partitions' columns up to the table's (BatchUpdatePartition, 100 a call). */
  private async updateColumns(table: string, tableColumns: readonly GlueColumn[], partitions: readonly PartitionRef[]): Promise<void> {
    if (partitions.length === 0) return;
    const updates: Array<{ PartitionValueList: string[]; PartitionInput: PartitionInput }> = [];
    for (const p of await this.getRawPartitions(table, partitions)) {
      const input = { Values: p.Values ?? [], StorageDescriptor: p.StorageDescriptor ?? {}, ...(p.Parameters ? { Parameters: p.Parameters } : {}) } as GluePartitionInput;
      const columns = partitionColumnsUpdate(tableColumns, input.StorageDescriptor.Columns ?? []);
      if (columns) updates.push({ PartitionValueList: input.Values, PartitionInput: withPartitionColumns(input, columns) as PartitionInput });
    }
    for (let i = 0; i < updates.length; i += PARTITION_BATCH) {
      const out = await this.client.send(new BatchUpdatePartitionCommand({ ...this.ids, TableName: table, Entries: updates.slice(i, i + PARTITION_BATCH) }));
      if ((out.Errors ?? []).length > 0) {
        throw new Error(`Glue BatchUpdatePartition failed for ${table}: ${out.Errors!.map((e) => `${e.PartitionValueList?.join('/')}: ${e.ErrorDetail?.ErrorCode} ${e.ErrorDetail?.ErrorMessage}`).join('; ')}`);
      }
    }
  }

  async listTables(kind?: 'event'): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.client.send(new GetTablesCommand({ ...this.ids, NextToken: token }));
      for (const t of out.TableList ?? []) if (t.Name && !(kind === 'event' && isDerivedTable(t as { Parameters?: Record<string, string> }))) names.push(t.Name);
      token = out.NextToken;
    } while (token);
    return names.sort();
  }

  async getPartitions(table: string, partitions: readonly PartitionRef[]): Promise<Map<string, PartitionState>> {
    const out = new Map<string, PartitionState>();
    for (const p of await this.getRawPartitions(table, partitions)) {
      const state = partitionStateOf(p);
      if (state) out.set(partitionId(state), state);
    }
    return out;
  }

  /** BatchGetPartition over any number of partitions; registered ones come back as Glue has them. */
  private async getRawPartitions(table: string, partitions: readonly PartitionRef[]): Promise<GluePartitionLike[]> {
    const out: GluePartitionLike[] = [];
    let pending: PartitionValueList[] = partitions.map((p) => ({ Values: partitionValues(p.dt, p.hour) }));
    // Retries count per stall: a call that leaves keys unprocessed, not every chunk of a long list.
    for (let retries = 0; pending.length > 0; ) {
      const chunk = pending.slice(0, GET_PARTITION_BATCH);
      const page = await this.client.send(new BatchGetPartitionCommand({ ...this.ids, TableName: table, PartitionsToGet: chunk }));
      out.push(...((page.Partitions ?? []) as GluePartitionLike[]));
      // Glue may leave keys unprocessed under load: ask again for those, with backoff.
      const unprocessed = page.UnprocessedKeys ?? [];
      retries = unprocessed.length > 0 ? retries + 1 : 0;
      if (retries >= MAX_ATTEMPTS) throw new Error(`Glue BatchGetPartition left ${unprocessed.length} partitions of ${table} unprocessed`);
      if (retries > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** retries));
      pending = [...unprocessed, ...pending.slice(GET_PARTITION_BATCH)];
    }
    return out;
  }

  async switchPartition(table: string, partition: PartitionRef, version: number, location: string): Promise<void> {
    const t = await this.client.send(new GetTableCommand({ ...this.ids, Name: table }));
    const input = toPartitionInput(t.Table as unknown as GlueTableInput, partition.dt, partition.hour, location, version);
    await this.client.send(new UpdatePartitionCommand({
      ...this.ids, TableName: table, PartitionValueList: input.Values, PartitionInput: input as PartitionInput,
    }));
  }

  async listPartitions(table: string): Promise<PartitionState[]> {
    const out: PartitionState[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new GetPartitionsCommand({ ...this.ids, TableName: table, NextToken: token, MaxResults: 1000 }));
      for (const p of page.Partitions ?? []) {
        const state = partitionStateOf(p as GluePartitionLike);
        if (state) out.push(state);
      }
      token = page.NextToken;
    } while (token);
    return out;
  }
}

