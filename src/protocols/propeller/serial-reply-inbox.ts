/**
 * The most bytes kept. Every answer the loader waits for is at most a few hundred bytes, read from
 * the tail or the head right after a clear; a device that floods the line must not grow memory.
 */
export const INBOX_LIMIT = 64 * 1024;

/**
 * Bytes the chip sent during a load, and a way to wait for enough of them. A closed port or an
 * exceeded deadline wakes the waiter, so no wait outlives the load. Beyond INBOX_LIMIT the oldest
 * bytes go.
 */
export class ReplyInbox {
  private received: Buffer = Buffer.alloc(0);
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  push(data: Buffer): void {
    const joined = data.length >= INBOX_LIMIT ? data : Buffer.concat([this.received, data]);
    this.received = joined.length > INBOX_LIMIT ? Buffer.from(joined.subarray(joined.length - INBOX_LIMIT)) : joined;
    this.wake?.();
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.wake?.();
  }

  get bytes(): Buffer {
    return this.received;
  }

  clear(): void {
    this.received = Buffer.alloc(0);
  }

  /** Take and remove the first byte, if any. */
  shift(): number | undefined {
    if (this.received.length === 0) return undefined;
    const byte = this.received[0];
    this.received = this.received.subarray(1);
    return byte;
  }

  /**
   * Resolve true as soon as `done(bytes)` holds, false after `ms` without it. Rejects when the
   * port failed.
   */
  async until(done: (bytes: Buffer) => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (true) {
      if (this.failure) throw this.failure;
      if (done(this.received)) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, left);
        function finish(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wake = finish;
      });
      this.wake = undefined;
    }
  }
}
