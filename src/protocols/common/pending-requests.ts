import { InstrumentError } from './errors';
import { secondsOf } from './timeout';

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Calls in flight keyed by a string id (JSON-RPC ids are matched by their string form because
 * some servers echo a numeric id as a string). Each call has its own timeout; when the link
 * dies every pending call fails at once with the reason.
 */
export class PendingRequests<T> {
  private readonly calls = new Map<string, Pending<T>>();

  get size(): number {
    return this.calls.size;
  }

  has(id: string | number): boolean {
    return this.calls.has(String(id));
  }

  /** Register a call; `describe` names it in the timeout message. */
  add(id: string | number, timeoutMs: number, describe: string): Promise<T> {
    const key = String(id);
    if (this.calls.has(key)) return Promise.reject(new InstrumentError('PROTOCOL', `request id ${key} is already in flight`));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(key);
        reject(
          // Seconds, the unit every timeout of the package is given in.
          new InstrumentError('TIMEOUT', `${describe}: no reply within ${secondsOf(timeoutMs)} s`, {
            reason: 'noReplyWithinSeconds',
            where: describe,
            id: key,
            timeoutSeconds: secondsOf(timeoutMs),
          }),
        );
      }, timeoutMs);
      this.calls.set(key, { resolve, reject, timer });
    });
  }

  /** Settle a call with its reply; returns false for an unknown (late or foreign) id. */
  resolve(id: string | number, value: T): boolean {
    const key = String(id);
    const call = this.calls.get(key);
    if (!call) return false;
    this.calls.delete(key);
    clearTimeout(call.timer);
    call.resolve(value);
    return true;
  }

  reject(id: string | number, err: Error): boolean {
    const key = String(id);
    const call = this.calls.get(key);
    if (!call) return false;
    this.calls.delete(key);
    clearTimeout(call.timer);
    call.reject(err);
    return true;
  }

  /** Fail everything in flight, e.g. when the socket dies. */
  rejectAll(err: Error): void {
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const call of calls) {
      clearTimeout(call.timer);
      call.reject(err);
    }
  }
}
