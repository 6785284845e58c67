/**
 * Memoises a pure function of a string or number. The cache is bounded: when full it starts over, so
 * hostile input (millions of distinct names) costs recomputation, never unbounded memory.
 */
export function memoise<K extends string | number, V>(fn: (key: K) => V, maxEntries: number): (key: K) => V {
  const cache = new Map<K, V>();
  return (key: K): V => {
    const hit = cache.get(key);
    if (hit !== undefined || cache.has(key)) return hit as V;
    const value = fn(key);
    if (cache.size >= maxEntries) cache.clear();
    cache.set(key, value);
    return value;
  };
}
