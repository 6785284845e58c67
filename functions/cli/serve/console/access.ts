// Who may use the console's API. It reads and changes the store (schema push, quarantine replay), so:
// with a password it answers only with serve's user and password (HTTP Basic), on loopback too (the machine's
// other users reach loopback); without one it answers on loopback only. Cross-site pages cannot drive it either:
// every request must name a loopback or the bound Host, and a change must carry the console's own header.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface AccessOptions {
  readonly host: string;
  readonly user: string;
  readonly password: string | undefined;
}

export interface Refusal {
  readonly status: number;
  readonly message: string;
  readonly headers?: ReadonlyMap<string, string>;
}

/** The header every state-changing request carries: a cross-site form or image cannot set it. */
export const CONSOLE_HEADER = 'x-tributary-console';

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The Host header without its port. */
function hostName(header: string | undefined): string {
  if (!header) return '';
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(header) ?? /^([^:]+)(?::\d+)?$/.exec(header);
  return m?.[1] ?? header;
}

/** undefined: allowed; else why not. */
export function checkAccess(req: IncomingMessage, o: AccessOptions, changes: boolean): Refusal | undefined {
  const loopback = isLoopback(o.host);
  if (!loopback && o.password === undefined) {
    return { status: 403, message: `the console's API answers on ${o.host} only with a password: start tributary serve with --password-file F or TRIBUTARY_SERVE_PASSWORD, or bind it to 127.0.0.1` };
  }
  // DNS rebinding: a page from elsewhere that resolves its own name to 127.0.0.1 sends its own Host.
  const host = hostName(req.headers.host);
  if (loopback ? !isLoopback(host) : !(isLoopback(host) || host === o.host || o.host === '0.0.0.0' || o.host === '::')) {
    return { status: 403, message: `Host ${JSON.stringify(host)} is not this console's address` };
  }
  if (changes && req.headers[CONSOLE_HEADER] !== '1') return { status: 403, message: `a change needs the ${CONSOLE_HEADER} header (the console sends it)` };
  if (o.password !== undefined) {
    const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const text = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
    const colon = text.indexOf(':');
    const ok = colon >= 0 && text.slice(0, colon) === o.user && timingSafeEqual(digest(text.slice(colon + 1)), digest(o.password!));
    if (!ok) return { status: 401, message: 'log in with tributary serve\'s user and password', headers: new Map([['www-authenticate', 'Basic realm="tributary console", charset="UTF-8"']]) };
  }
  return undefined;
}
