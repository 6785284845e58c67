// In-memory ports for the benchmark: isolate the handler's own cost from storage and network.
import type { Catalog, ObjectStore, PartitionRef, Warehouse } from '../functions/core/ports.js';
import type { TableSchema } from '../functions/core/schema.js';

export function memoryPorts(): { store: ObjectStore; catalog: Catalog; warehouse: Warehouse } {
  const objects = new Map<string, number>();
  const tables = new Map<string, TableSchema>();
  const partitions = new Map<string, Set<string>>();
  return {
    store: {
      async put(key, body) { objects.set(key, body.length); },
      async get() { return undefined; },
      async list(prefix) { return [...objects.keys()].filter((k) => k.startsWith(prefix)).sort(); },
      uri: (key) => `memory://${key}`,
    },
    catalog: {
      async getTable(t) { return tables.get(t); },
      async upsertTable(s) { tables.set(s.table, s); },
      async addPartitions(t, ps: readonly PartitionRef[]) {
        const set = partitions.get(t) ?? partitions.set(t, new Set()).get(t)!;
        for (const p of ps) set.add(`${p.dt}/${p.hour}`);
      },
      async listTables() { return [...tables.keys()]; },
      async listPartitions() { return []; },
    },
    warehouse: {
      async ensureTable() {},
      async ensureQuarantineTable() {},
      async insertParquet() {},
      async close() {},
    },
  };
}
