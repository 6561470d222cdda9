/**
 * Runs async work one item at a time, in arrival order, for instruments that cannot take two
 * requests at once (the sf-daq broker is single-threaded; the Launcher does not guard against two
 * loads). Work waits here, before its own timeout starts, instead of in the instrument's backlog.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Items queued or running. */
  get length(): number {
    return this.waiting;
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    this.waiting += 1;
    const result = this.tail.then(work);
    const settled = result.finally(() => {
      this.waiting -= 1;
    });
    // A failed item must not stop the ones behind it.
    this.tail = settled.catch(() => undefined);
    return settled;
  }
}

const shared = new Map<string, SerialQueue>();

/**
 * The process-wide queue for one instrument address, shared by every client: two configuration
 * nodes (or a node and a script) pointing at the same instrument still take turns.
 */
export function sharedQueue(key: string): SerialQueue {
  let queue = shared.get(key);
  if (!queue) {
    queue = new SerialQueue();
    shared.set(key, queue);
  }
  return queue;
}
