// A catalog on local files that stores exactly what Glue would: one TableInput and its PartitionInputs
// per table, so the local run exercises the same shapes as production.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  fromTableInput, isDerivedTable, mergeColumns, partitionColumnsUpdate, partitionStateOf, partitionValues, toDerivedTableInput, toPartitionInput, toTableInput,
  withPartitionColumns, type GluePartitionInput, type GlueTableInput,
} from '../../core/lake/glue-table.js';
import { isValidTableName } from '../../core/identifiers.js';
import { partitionId, type Catalog, type DerivedTable, type PartitionRef, type PartitionState } from '../../core/ports.js';
import type { TableSchema } from '../../core/schema/model.js';

interface StoredTable {
  TableInput: GlueTableInput;
  Partitions: GluePartitionInput[];
}

export class LocalJsonCatalog implements Catalog {
  private readonly dir: string;

  constructor(root: string, readonly database = 'tributary') {
    this.dir = join(root, database);
  }

  private file(table: string): string {
    if (!isValidTableName(table)) throw new Error(`invalid table name ${JSON.stringify(table)}`);
    return join(this.dir, `${table}.json`);
  }

  async read(table: string): Promise<StoredTable | undefined> {
    try {
      return JSON.parse(await readFile(this.file(table), 'utf8')) as StoredTable;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private async write(table: string, value: StoredTable): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.file(table)}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(value, null, 2));
    await rename(tmp, this.file(table));
  }

  async getTable(table: string): Promise<TableSchema | undefined> {
    const t = await this.read(table);
    return t ? fromTableInput(t.TableInput) : undefined;
  }

  async upsertTable(schema: TableSchema, location: string): Promise<void> {
    const existing = await this.read(schema.table);
    const input = toTableInput(schema, location);
    // Like the Glue adapter: never drop a column the table already has, nor narrow its type.
    if (existing) input.StorageDescriptor.Columns = mergeColumns(input.StorageDescriptor.Columns, existing.TableInput.StorageDescriptor.Columns);
    await this.write(schema.table, { TableInput: input, Partitions: existing?.Partitions ?? [] });
  }

  async upsertDerivedTable(table: DerivedTable, location: string): Promise<void> {
    const existing = await this.read(table.table);
    await this.write(table.table, { TableInput: toDerivedTableInput(table, location), Partitions: existing?.Partitions ?? [] });
  }

  async addPartitions<P extends PartitionRef>(table: string, partitions: readonly P[], locationOf: (p: P) => string): Promise<void> {
    const t = await this.read(table);
    if (!t) throw new Error(`catalog has no table ${table}`);
    const have = new Map(t.Partitions.map((p, i) => [p.Values.join('/'), i]));
    let changed = false;
    for (const p of partitions) {
      const i = have.get(partitionValues(p.dt, p.hour).join('/'));
      if (i === undefined) {
        t.Partitions.push(toPartitionInput(t.TableInput, p.dt, p.hour, locationOf(p)));
        have.set(partitionValues(p.dt, p.hour).join('/'), t.Partitions.length - 1);
        changed = true;
        continue;
      }
      // Like the Glue adapter: a registered partition takes the table's current columns, location and version kept.
      const columns = partitionColumnsUpdate(t.TableInput.StorageDescriptor.Columns, t.Partitions[i]!.StorageDescriptor.Columns ?? []);
      if (columns) {
        t.Partitions[i] = withPartitionColumns(t.Partitions[i]!, columns);
        changed = true;
      }
    }
    if (!changed) return;
    t.Partitions.sort((a, b) => (a.Values.join('/') < b.Values.join('/') ? -1 : 1));
    await this.write(table, t);
  }

  async listTables(kind?: 'event'): Promise<string[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    if (kind !== 'event') return names;
    const events: string[] = [];
    for (const n of names) {
      const t = await this.read(n);
      if (t && !isDerivedTable(t.TableInput)) events.push(n);
    }
    return events;
  }

  async listPartitions(table: string): Promise<PartitionState[]> {
    const t = await this.read(table);
    return (t?.Partitions ?? []).flatMap((p) => partitionStateOf(p) ?? []);
  }

  async getPartitions(table: string, partitions: readonly PartitionRef[]): Promise<Map<string, PartitionState>> {
    const wanted = new Set(partitions.map(partitionId));
    return new Map((await this.listPartitions(table)).filter((p) => wanted.has(partitionId(p))).map((p) => [partitionId(p), p]));
  }

  async switchPartition(table: string, partition: PartitionRef, version: number, location: string): Promise<void> {
    const t = await this.read(table);
    const values = partitionValues(partition.dt, partition.hour).join('/');
    const i = t?.Partitions.findIndex((p) => p.Values.join('/') === values) ?? -1;
    if (!t || i < 0) throw new Error(`catalog has no partition ${table}/${values}`);
    // Like Glue's UpdatePartition: the whole partition input is replaced, with the table's current columns.
    t.Partitions[i] = toPartitionInput(t.TableInput, partition.dt, partition.hour, location, version);
    await this.write(table, t);
  }
}
