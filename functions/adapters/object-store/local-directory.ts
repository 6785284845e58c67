// Object store on a local directory with the same key layout as the S3 bucket.
import { link, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inKeyRange, type KeyRange, type ObjectStore } from '../../core/ports.js';

export class LocalDirectoryStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Absolute path of a key; refuses keys that would escape the root. */
  path(key: string): string {
    const p = resolve(this.root, key);
    if (p !== this.root && !p.startsWith(this.root + sep)) throw new Error(`object key escapes the store: ${JSON.stringify(key)}`);
    return p;
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    // Write then rename: a reader never sees half a file, and a retry simply replaces it.
    const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, target);
  }

  async putIfAbsent(key: string, body: Uint8Array, _options?: { contentType: string }): Promise<boolean> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    // link(2) fails with EEXIST atomically, and the complete file appears at once: the local If-None-Match.
    const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, body);
    try {
      await link(tmp, target);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await unlink(tmp);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      try {
        await unlink(this.path(key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }

  async list(prefix: string, range?: KeyRange): Promise<string[]> {
    const start = this.path(prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '');
    const out: string[] = [];
    await walkFiles(start, (full, name) => {
      if (name.endsWith('.tmp')) return;
      const key = relative(this.root, full).split(sep).join('/');
      if (key.startsWith(prefix) && inKeyRange(key, range)) out.push(key);
    });
    return out.sort();
  }

  uri(key: string): string {
    return pathToFileURL(this.path(key)).href + (key.endsWith('/') ? '/' : '');
  }
}

/** Calls `visit` for every file below `dir`, depth first; a folder that is not there has no files. */
export async function walkFiles(dir: string, visit: (path: string, name: string) => void | Promise<void>): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) await walkFiles(full, visit);
    else await visit(full, e.name);
  }
}
