// `<home>/serve.json`: how other tributary processes find the `serve` that holds their store, and prove to it
// that they may run commands there (a random token only this user can read: the file is 0600). Written once
// serve holds the store, removed when it stops; one left by a serve that died (its pid gone) is ignored.
// Light on purpose: the command line reads it before deciding to load anything else.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface ServeDiscovery {
  /** the serve process */
  readonly pid: number;
  /** its command endpoint, on 127.0.0.1 only */
  readonly commandPort: number;
  readonly token: string;
  /** the ClickHouse HTTP interface, for people reading the file */
  readonly url: string;
}

/** The local store's directory: $TRIBUTARY_HOME, else ./.tributary (local-runtime.ts opens the same). */
export const storeHome = (env: NodeJS.ProcessEnv = process.env): string => resolve(env['TRIBUTARY_HOME'] ?? '.tributary');

export const discoveryPath = (home: string): string => join(home, 'serve.json');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The serve holding `home`, if its file is there, well-formed, and its process alive (and not this one). */
export function liveServe(home: string): ServeDiscovery | undefined {
  let d: Partial<ServeDiscovery>;
  try {
    d = JSON.parse(readFileSync(discoveryPath(home), 'utf8')) as Partial<ServeDiscovery>;
  } catch {
    return undefined; // none, or half a file: no serve to talk to
  }
  if (!Number.isSafeInteger(d.pid) || !Number.isInteger(d.commandPort) || typeof d.token !== 'string' || typeof d.url !== 'string') return undefined;
  if (d.pid === process.pid || !alive(d.pid!)) return undefined;
  return d as ServeDiscovery;
}

/** Writes the file, readable by this user only, whole or not at all. */
export function writeDiscovery(home: string, d: ServeDiscovery): void {
  const path = discoveryPath(home);
  const next = `${path}.${process.pid}.tmp`;
  // Whatever lay at that name goes first: writing over a file keeps its mode, and over a link writes its target.
  rmSync(next, { force: true });
  writeFileSync(next, `${JSON.stringify(d)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(next, path);
}

/** Removes the file if it is still this serve's (a later serve on the home may have replaced it). */
export function removeDiscovery(home: string, token: string): void {
  try {
    if ((JSON.parse(readFileSync(discoveryPath(home), 'utf8')) as Partial<ServeDiscovery>).token === token) rmSync(discoveryPath(home), { force: true });
  } catch {
    // gone already
  }
}
