// An hour partition as ingest leaves it under steady traffic: many small files (one per MSK batch) with a
// share of redelivered events whose event_ids repeat in later files.
import { LocalJsonCatalog } from '../functions/adapters/catalog/local-json.js';
import { LocalDirectoryStore } from '../functions/adapters/object-store/local-directory.js';
import { ingestBatch } from '../functions/core/ingest.js';
import { encodeMskEvent } from '../functions/core/decode/msk-event.js';
import { SchemaRegistry } from '../functions/core/schema/registry.js';
import { memoryPorts } from './memory-ports.js';

export interface FixtureOptions {
  readonly files: number;
  readonly rowsPerFile: number;
  /** share of each file's rows that repeat an event of an earlier file */
  readonly duplicateRate: number;
  readonly hourStart: number;
}

/** Writes the fixture into `home` (lake + catalog) and returns `table/dt/hour`. */
export async function buildCompactionFixture(home: string, o: FixtureOptions): Promise<{ partition: string; rows: number; distinct: number }> {
  const store = new LocalDirectoryStore(home);
  const now = o.hourStart + 2 * 3_600_000;
  const deps = {
    store, catalog: new LocalJsonCatalog(`${home}/catalog`), warehouse: memoryPorts().warehouse,
    registry: new SchemaRegistry(store, { clock: () => now }), clock: () => now,
  };
  let offset = 0;
  let next = 0;
  for (let f = 0; f < o.files; f++) {
    const records = Array.from({ length: o.rowsPerFile }, (_, i) => {
      const repeat = f > 0 && i < o.rowsPerFile * o.duplicateRate;
      const id = repeat ? Math.floor((i * 7919 + f * 104729) % next) : next++;
      const ts = o.hourStart + ((id * 997) % 3_600_000);
      const value = JSON.stringify({
        event: 'page_view', event_id: `pv-${id}`, ts, user_id: `u${id % 5000}`,
        properties: {
          page: `/p/${id % 300}`, duration_ms: (id * 7907) % 90000, is_mobile: id % 3 === 0, referrer: id % 4 === 0 ? 'search' : null,
          // a session token and a URL with a query string: real tracking rows are not all low-cardinality
          session: ((id * 2654435761) >>> 0).toString(16).padStart(8, '0') + ((id * 40503) >>> 0).toString(16), url: `https://shop.example/p/${id % 300}?q=${(id * 31) % 10007}&ref=${id % 17}`,
        },
      });
      return { topic: 'bench', partition: 0, offset: offset++, timestamp: ts, key: null, value: Buffer.from(value) };
    });
    await ingestBatch(encodeMskEvent(records), deps);
  }
  const hour = new Date(o.hourStart).getUTCHours();
  return { partition: `page_view/${new Date(o.hourStart).toISOString().slice(0, 10)}/${hour}`, rows: o.files * o.rowsPerFile, distinct: next };
}
