// DuckDB as an independent Parquet reader for tests: what we write must read back in another engine.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

let connection: Promise<DuckDBConnection> | undefined;

export async function duck(): Promise<DuckDBConnection> {
  connection ??= DuckDBInstance.create(':memory:').then((i) => i.connect());
  return connection;
}

export async function duckRows(sql: string): Promise<Record<string, unknown>[]> {
  const reader = await (await duck()).runAndReadAll(sql);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

/** Writes bytes to a temporary .parquet file and returns its path. */
export function tempParquet(bytes: Uint8Array): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tributary-test-')), 'f.parquet');
  writeFileSync(path, bytes);
  return path;
}
