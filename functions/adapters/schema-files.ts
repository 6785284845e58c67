// Declared event schemas from a directory of JSON Schema files (schemas/events/<event>.json).
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { SchemaSource } from '../core/ingest.js';
import { parseDeclaredSchema, SchemaDefinitionError, type TableSchema } from '../core/schema.js';

export class SchemaFiles implements SchemaSource {
  constructor(private readonly schemas: ReadonlyMap<string, TableSchema>) {}

  /** Loads every `*.json` file; a broken file throws with its name, so a bad schema never half-applies. */
  static load(dir: string): SchemaFiles {
    const map = new Map<string, TableSchema>();
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const f of files) {
      let doc: unknown;
      try {
        doc = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      } catch (err) {
        throw new SchemaDefinitionError(`${join(dir, f)}: ${(err as Error).message}`);
      }
      const schema = parseDeclaredSchema(basename(f, '.json'), doc);
      map.set(schema.table, schema);
    }
    return new SchemaFiles(map);
  }

  declared(table: string): TableSchema | undefined {
    return this.schemas.get(table);
  }

  list(): TableSchema[] {
    return [...this.schemas.values()];
  }
}
