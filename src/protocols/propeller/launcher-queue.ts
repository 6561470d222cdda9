/**
 * The Launcher does not guard against two loads at once, so every load through one Launcher
 * (keyed by its URL, across all clients in this process, e.g. two config nodes pointing at the
 * same Launcher) waits for the one before it.
 */
const tails = new Map<string, Promise<unknown>>();

export function serializeLoads<T>(key: string, work: () => Promise<T>, onQueued?: () => void): Promise<T> {
  const previous = tails.get(key);
  if (previous) onQueued?.();
  const current = (previous ?? Promise.resolve()).then(work, work);
  const tail = current.then(
    () => undefined,
    () => undefined,
  );
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return current;
}
