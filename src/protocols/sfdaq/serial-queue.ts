/**
 * Runs async work one item at a time, in arrival order. The broker is a single-threaded
 * wsgiref server: a second request only waits in its backlog and eats into its own timeout, so
 * calls wait here instead, where their timeout has not started yet.
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
