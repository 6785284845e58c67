// A fault-injecting HTTP proxy in front of one stand-in service (S3 on radosgw, the Glue endpoint, ClickHouse
// over HTTP). Each child process ("container") reaches every service through a proxy port of its own slot, so
// the proxy knows whose request it holds and asks the harness what to do with it: pass it, fail it as the
// service would (5xx, throttling, Glue and ClickHouse errors), delay it, tear it mid-body, apply it and lose
// the response, or SIGKILL the sender before, during or after the write. Kills land at request boundaries and
// mid-body, chosen per invocation from a seeded plan (not timed), so a run is reproducible up to the order
// in which concurrent containers reach the services.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Service = 's3' | 'glue' | 'clickhouse';

export interface ProxiedRequest {
  readonly slot: number;
  readonly service: Service;
  readonly method: string;
  /** path and query */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** S3: the object key (path after the bucket); Glue: the operation; ClickHouse: the statement's first words */
  readonly what: string;
}

export type Action =
  | { readonly kind: 'pass' }
  /** answer without forwarding: the service refused (the request was not applied) */
  | { readonly kind: 'respond'; readonly status: number; readonly headers?: Record<string, string>; readonly body: string }
  | { readonly kind: 'delay'; readonly ms: number }
  /** cut the connection before forwarding (service unreachable) */
  | { readonly kind: 'refuse' }
  /** forward half the body, then cut both connections: the sender sees a reset and may retry */
  | { readonly kind: 'torn' }
  /** forward half the body, then kill the sender */
  | { readonly kind: 'kill_mid_body' }
  /** kill the sender before the request reaches the service */
  | { readonly kind: 'kill_before' }
  /** let the service apply it, then kill the sender before it reads the response */
  | { readonly kind: 'kill_after' }
  /** let the service apply it, then answer with an error instead of its response */
  | { readonly kind: 'lost_response'; readonly status: number; readonly headers?: Record<string, string>; readonly body: string }
  /** let the service apply it, then cut the connection (a client timeout after the write went in) */
  | { readonly kind: 'drop_after' };

export interface FaultProxy {
  readonly endpoint: string;
  close(): Promise<void>;
}

function describe(service: Service, method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): string {
  if (service === 'glue') return String(headers['x-amz-target'] ?? '').replace('AWSGlue.', '');
  if (service === 's3') {
    const path = decodeURIComponent(url.split('?')[0]!).split('/').slice(2).join('/');
    return `${method} ${path}${url.includes('?delete') ? ' (delete)' : url.includes('list-type') ? ' (list)' : ''}`;
  }
  const q = new URL(url, 'http://x').searchParams.get('query') ?? body.subarray(0, 200).toString('utf8');
  return q.trim().replace(/\s+/g, ' ').slice(0, 120);
}

export async function startFaultProxy(o: {
  slot: number;
  service: Service;
  upstream: string;
  decide: (r: ProxiedRequest) => Action;
  kill: (slot: number) => void;
}): Promise<FaultProxy> {
  const target = new URL(o.upstream);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const method = req.method ?? 'GET';
      const url = req.url ?? '/';
      const r: ProxiedRequest = { slot: o.slot, service: o.service, method, url, headers: req.headers, body, what: describe(o.service, method, url, req.headers, body) };
      let action = o.decide(r);
      const go = (): void => {
        if (action.kind === 'respond') {
          res.writeHead(action.status, { 'content-type': 'text/plain', ...action.headers });
          res.end(action.body);
          return;
        }
        if (action.kind === 'refuse') { res.socket?.destroy(); return; }
        if (action.kind === 'kill_before') { o.kill(o.slot); res.socket?.destroy(); return; }
        // A connection per request upstream: Node's global agent keeps sockets alive, and one the service closed
        // after its own 5 s keep-alive just as the proxy reused it came back as a reset no fault had planned
        // (a job's query failed with ECONNRESET).
        const up = httpRequest({ host: target.hostname, port: target.port, method, path: url, headers: req.headers, agent: false }, (upRes) => {
          const got: Buffer[] = [];
          upRes.on('data', (c: Buffer) => got.push(c));
          upRes.on('end', () => {
            if (action.kind === 'kill_after') { o.kill(o.slot); res.socket?.destroy(); return; }
            if (action.kind === 'drop_after') { res.socket?.destroy(); return; }
            if (action.kind === 'lost_response') {
              res.writeHead(action.status, { 'content-type': 'text/plain', ...action.headers });
              res.end(action.body);
              return;
            }
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            res.end(Buffer.concat(got));
          });
          upRes.on('error', () => res.socket?.destroy());
        });
        up.on('error', () => res.socket?.destroy());
        if (action.kind === 'torn' || action.kind === 'kill_mid_body') {
          // Half the body with the full length announced: the service sees an upload cut short.
          up.write(body.subarray(0, Math.floor(body.length / 2)), () => {
            if (action.kind === 'kill_mid_body') o.kill(o.slot);
            setTimeout(() => { up.destroy(); res.socket?.destroy(); }, 20);
          });
          return;
        }
        up.end(body);
      };
      if (action.kind === 'delay') {
        const ms = action.ms;
        action = { kind: 'pass' };
        setTimeout(go, ms);
      } else go();
    });
  });
  // ClickHouse's client reuses an idle socket for 2.5 s (@clickhouse/client's idle_socket_ttl) and does not retry
  // a reset one, so its proxy keeps sockets as a ClickHouse server does (longer than that); at 1 s, a job's
  // query now and then met a reset no fault had planned. The SDKs retry such resets on S3 and Glue.
  server.keepAliveTimeout = o.service === 'clickhouse' ? 10_000 : 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
