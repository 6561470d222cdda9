import { InstrumentError } from '../common/errors';
import { LIMITS } from './limits';

/**
 * At most a few warnings per window: a tester sending garbage a thousand times a second must not
 * turn into a thousand log lines a second. How many were left out is said when their window ends,
 * whether or not another warning follows: a burst that stops must not leave its count unsaid.
 */
export class WarningThrottle {
  private windowStart = -Infinity;
  private inWindow = 0;
  private suppressed = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly emit: (warning: InstrumentError) => void;

  constructor(emit: (warning: InstrumentError) => void) {
    this.emit = emit;
  }

  offer(warning: InstrumentError): void {
    const now = Date.now();
    if (now - this.windowStart >= LIMITS.warningWindowMs) {
      // The count of the window before comes first, should its timer not have fired yet.
      this.flush();
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow >= LIMITS.warningsPerWindow) {
      this.suppressed += 1;
      // Unref'd: a pending count must not keep a process alive that has nothing else to do.
      this.flushTimer ??= setTimeout(() => this.flush(), this.windowStart + LIMITS.warningWindowMs - now).unref();
      return;
    }
    this.inWindow += 1;
    this.emit(warning);
  }

  /** Forget what is pending and stop the timer (the tester is stopping: nobody listens any more). */
  close(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.suppressed = 0;
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const left = this.suppressed;
    this.suppressed = 0;
    if (left === 0) return;
    this.emit(
      new InstrumentError('PROTOCOL', `${left} more warnings like the ones before were not reported`, {
        reason: 'warningsSuppressed',
        count: left,
      }),
    );
  }
}
