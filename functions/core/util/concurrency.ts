/**
 * Runs `fn` over `items` with at most `limit` in flight; results keep the input order. After the first
 * error no new item starts, and the calls already in flight are waited for before that error is thrown:
 * a failed invocation must not leave requests running into the next one (Lambda freezes the container and
 * resumes them there, possibly during the retry of the same batch).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}
