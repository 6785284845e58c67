#!/usr/bin/env node
// npm ci refuses a lockfile that lacks an entry for any optional dependency, even one for another
// platform. The registry this project installs from does not carry chDB's macOS/arm64 libraries, so
// `npm install` leaves them out of package-lock.json and `npm ci` then fails. This adds the missing
// platform-specific optional entries (version, os, cpu, libc only): npm skips them on other platforms
// and resolves them by version on theirs. Run it after `npm install` changes the lockfile.
import { readFileSync, writeFileSync } from 'node:fs';

const PLATFORM = {
  'darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  'darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  'linux-arm64-gnu': { os: ['linux'], cpu: ['arm64'], libc: ['glibc'] },
  'linux-x64-gnu': { os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
};

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));

/** Whether Node's lookup from `path` finds `name`: its own node_modules, then each ancestor's. */
function resolves(path, name) {
  let dir = path;
  for (;;) {
    if (lock.packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
    const i = dir.lastIndexOf('/node_modules/');
    if (i < 0) return Boolean(lock.packages[`node_modules/${name}`]);
    dir = dir.slice(0, i);
  }
}
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  if (entry.inBundle) continue; // shipped inside its parent's tarball: npm does not resolve it
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (resolves(path, name)) continue;
    const suffix = Object.keys(PLATFORM).find((p) => name.endsWith(`-${p}`));
    if (!suffix) throw new Error(`${path}: optional ${name} is missing and is not a known platform package`);
    lock.packages[key] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...PLATFORM[suffix] };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
lock.packages = sorted;
writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
console.log(`complete-lockfile: added ${added} platform entries`);
