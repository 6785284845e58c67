// Declared event schemas from a directory of JSON Schema files (schemas/events/<event>.json).
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseDeclaredSchema, SchemaDefinitionError, type DeclaredSchemaOptions } from '../core/schema/declared-schema.js';
import { DEFAULT_MAX_COLUMNS_PER_TABLE } from '../core/schema/model.js';
import { integerSetting } from './environment.js';
import type { DeclaredSchemas } from '../core/schema/registry.js';
import type { TableSchema } from '../core/schema/model.js';

/** Thrown by `SchemaFiles.load` for a file that is not a valid schema; re-exported so callers outside functions/ need not reach into the core. */
export { SchemaDefinitionError };

/**
 * What a declared schema is held to where it is loaded or pushed: the deployment's column limit
 * (TRIBUTARY_MAX_COLUMNS_PER_TABLE, as ingest reads it), so a schema ingest would refuse to grow into
 * is refused before it applies.
 */
export function declaredSchemaOptions(env: NodeJS.ProcessEnv = process.env): DeclaredSchemaOptions {
  const problems: string[] = [];
  const maxProperties = integerSetting(env, 'TRIBUTARY_MAX_COLUMNS_PER_TABLE', DEFAULT_MAX_COLUMNS_PER_TABLE, 1, problems);
  if (problems.length > 0) throw new SchemaDefinitionError(problems.join('; '));
  return { maxProperties };
}

export class SchemaFiles implements DeclaredSchemas {
  constructor(private readonly schemas: ReadonlyMap<string, TableSchema>, private readonly files: ReadonlyMap<string, string> = new Map()) {}

  /** Loads every `*.json` file; a broken file throws with its name, so a bad schema never half-applies. */
  static load(dir: string, options: DeclaredSchemaOptions = declaredSchemaOptions()): SchemaFiles {
    const map = new Map<string, TableSchema>();
    const names = new Map<string, string>();
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
      let schema: TableSchema;
      try {
        schema = parseDeclaredSchema(basename(f, '.json'), doc, options);
      } catch (err) {
        if (!(err instanceof SchemaDefinitionError)) throw err;
        throw new SchemaDefinitionError(`${join(dir, f)}: ${err.message}`);
      }
      const twin = names.get(schema.table);
      if (twin !== undefined) throw new SchemaDefinitionError(`${join(dir, f)}: ${twin} already defines ${schema.table} (file names normalise to the event name)`);
      map.set(schema.table, schema);
      names.set(schema.table, f);
    }
    return new SchemaFiles(map, names);
  }

  declared(table: string): TableSchema | undefined {
    return this.schemas.get(table);
  }

  sourceOf(table: string): string {
    return `schema file ${this.files.get(table) ?? `${table}.json`}`;
  }

  list(): TableSchema[] {
    return [...this.schemas.values()];
  }
}
