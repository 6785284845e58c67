// In-memory ports for the benchmark: isolate the handler's own cost from storage and network.
import { inKeyRange, type Catalog, type ObjectStore, type PartitionRef, type Warehouse } from '../functions/core/ports.js';
import type { TableSchema } from '../functions/core/schema/model.js';

export function memoryPorts(): { store: ObjectStore; catalog: Catalog; warehouse: Warehouse } {
  // Data files are counted, not kept, so the benchmark measures the handler rather than this map; the
  // schema registry's small documents are kept because the handler reads them back.
  const objects = new Map<string, Uint8Array | undefined>();
  const keep = (key: string, body: Uint8Array): Uint8Array | undefined => (key.startsWith('_registry/') ? body : undefined);
  const tables = new Map<string, TableSchema>();
  const partitions = new Map<string, Set<string>>();
  return {
    store: {
      async put(key, body) { objects.set(key, keep(key, body)); },
      async putIfAbsent(key, body) {
        // A data file is never kept, so each write of one is a first write: both passes measure a
        // consumer's new batches, not the redelivery path (which reads the existing file back).
        if (key.startsWith('_registry/') && objects.has(key)) return false;
        objects.set(key, keep(key, body));
        return true;
      },
      async get(key) { return objects.get(key); },
      async delete(keys) { for (const k of keys) objects.delete(k); },
      async list(prefix, range) { return [...objects.keys()].filter((k) => k.startsWith(prefix) && inKeyRange(k, range)).sort(); },
      uri: (key) => `memory://${key}`,
    },
    catalog: {
      async getTable(t) { return tables.get(t); },
      async upsertTable(s) { tables.set(s.table, s); },
      async addPartitions<P extends PartitionRef>(t: string, ps: readonly P[]) {
        const set = partitions.get(t) ?? partitions.set(t, new Set()).get(t)!;
        for (const p of ps) set.add(`${p.dt}/${p.hour}`);
      },
      async listTables() { return [...tables.keys()]; },
      async listPartitions() { return []; },
      async getPartitions() { return new Map(); },
      async switchPartition() {},
      async upsertDerivedTable() {},
    },
    warehouse: {
      database: 'tributary',
      async ensureTable() {},
      async ensureQuarantineTable() {},
      async insertParquet() {},
      async recordIngest() {},
      async query() { return []; },
      async replacePartition() {},
      async close() {},
    },
  };
}
