// The console's calls to its API: JSON in and out, errors as Error with the server's message.
export class ApiFailure extends Error {}

async function answer<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }))) as T & { error?: string };
  if (!res.ok) throw new ApiFailure(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

/** Requests started before the page that reads them has rendered (the first page's data, at start-up). */
const early = new Map<string, Promise<unknown>>();

/** Starts `get(path)` now; the page's first `get(path)` takes the answer instead of asking again. */
export function prefetch(path: string): void {
  const p = get(path);
  p.catch(() => undefined); // the page reports a failure when it takes the answer
  early.set(path, p);
}

export function get<T>(path: string, params: Record<string, string | string[] | undefined> = {}): Promise<T> {
  const started = Object.keys(params).length === 0 ? early.get(path) : undefined;
  if (started) { early.delete(path); return started as Promise<T>; }
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) q.append(k, x);
  const s = q.toString();
  return fetch(`/api/${path}${s ? `?${s}` : ''}`, { headers: { accept: 'application/json' } }).then((r) => answer<T>(r));
}

/** A change: carries the console's header, which a cross-site form cannot send. */
export function post<T>(path: string, body: unknown): Promise<T> {
  return fetch(`/api/${path}`, {
    method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-tributary-console': '1' },
  }).then((r) => answer<T>(r));
}
