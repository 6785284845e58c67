// The console inside `tributary serve`: its front end (dist/console, built by `prepare`) under /console/ and
// its JSON API under /api/. Everything else stays ClickHouse's HTTP interface.
import { readFileSync, existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ApiError, ROUTES, type ApiContext } from './api.js';
import { checkAccess, type AccessOptions } from './access.js';
import { readCappedBody } from '../server.js';

export const CONSOLE_PATH = '/console/';
const MAX_BODY = 16 * 1024 * 1024;

const TYPES = new Map([
  ['.html', 'text/html; charset=utf-8'], ['.js', 'text/javascript; charset=utf-8'], ['.css', 'text/css; charset=utf-8'],
  ['.map', 'application/json'], ['.svg', 'image/svg+xml'], ['.png', 'image/png'],
]);

/** Scripts only from the console itself; Plot writes inline styles. No frames, no other origins. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export interface ConsoleOptions extends AccessOptions, ApiContext {
  /** dist/console: the built front end */
  readonly assets: string;
}

export type ConsoleRoutes = (req: IncomingMessage, res: ServerResponse) => boolean;

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: Buffer, extra: Record<string, string> = {}): void {
  const gzip = body.length > 1024 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const out = gzip ? gzipSync(body) : body;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(out.length), ...(gzip ? { 'content-encoding': 'gzip' } : {}), ...extra });
  res.end(req.method === 'HEAD' ? undefined : out);
}

const json = (req: IncomingMessage, res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void =>
  send(req, res, status, 'application/json; charset=utf-8', Buffer.from(JSON.stringify(value)), { 'cache-control': 'no-store', ...extra });

/** Handles /console/… and /api/…; false for every other path (ClickHouse's interface answers those). */
export function consoleRoutes(o: ConsoleOptions): ConsoleRoutes {
  const files = new Map<string, Buffer>();
  const asset = (path: string): Buffer | undefined => {
    const rel = normalize(path).replace(/^([/\\])+/, '');
    if (rel.startsWith('..') || rel.includes(`${sep}..`)) return undefined;
    let body = files.get(rel);
    if (body === undefined) {
      const file = join(o.assets, rel);
      if (!existsSync(file) || !file.startsWith(o.assets)) return undefined;
      body = readFileSync(file);
      files.set(rel, body);
    }
    return body;
  };

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/console') {
      res.writeHead(308, { location: CONSOLE_PATH });
      res.end();
      return true;
    }
    const isApi = path.startsWith('/api/');
    if (!isApi && !path.startsWith(CONSOLE_PATH)) return false;
    const route = isApi ? ROUTES.get(path) : undefined;
    const refused = checkAccess(req, o, req.method !== 'GET' && req.method !== 'HEAD');
    if (refused) {
      json(req, res, refused.status, { error: refused.message }, Object.fromEntries(refused.headers ?? []));
      req.resume();
      return true;
    }
    if (!isApi) {
      req.resume();
      const rel = path.slice(CONSOLE_PATH.length) || 'index.html';
      const body = asset(rel) ?? (extname(rel) === '' ? asset('index.html') : undefined);
      if (body === undefined) {
        const missing = !existsSync(join(o.assets, 'index.html'));
        json(req, res, 404, { error: missing ? `the console is not built: run npm run build:cli (it builds ${o.assets})` : `no file ${rel}` });
        return true;
      }
      const type = TYPES.get(extname(rel)) ?? (extname(rel) === '' ? 'text/html; charset=utf-8' : 'application/octet-stream');
      // index.html names the bundle by content hash: the bundle can be cached, the page cannot.
      send(req, res, 200, type, body, { 'cache-control': /-[A-Z0-9]{8}\.(js|css)$/.test(rel) ? 'public, max-age=31536000, immutable' : 'no-cache' });
      return true;
    }
    if (!route) {
      req.resume();
      json(req, res, 404, { error: `no API ${path}` });
      return true;
    }
    if (req.method !== route.method) {
      req.resume();
      json(req, res, 405, { error: `${path} takes ${route.method}` }, { allow: route.method });
      return true;
    }
    readCappedBody(req, MAX_BODY, (chunks, size) => {
      void (async () => {
        if (size > MAX_BODY) throw new ApiError(413, `request body over ${MAX_BODY} bytes`);
        let body: unknown = null;
        if (route.method === 'POST') {
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
          } catch {
            throw new ApiError(400, 'the request body is not JSON');
          }
        }
        return route.handler(o, url.searchParams, body);
      })().then((value) => json(req, res, 200, value), (err: unknown) => {
        const status = err instanceof ApiError ? err.status : /UsageError|TransformationError/.test((err as Error).name ?? '') ? 400 : 500;
        json(req, res, status, { error: o.sources.redact((err as Error).message ?? String(err)) });
      });
    });
    return true;
  };
}
