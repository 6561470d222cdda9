import { InstrumentError } from '../common/errors';
import { LIMITS } from './limits';

/**
 * At most a few warnings per window: a tester sending garbage a thousand times a second must not
 * turn into a thousand log lines a second. The first warning after a quiet spell says how many
 * were left out.
 */
export class WarningThrottle {
  private windowStart = -Infinity;
  private inWindow = 0;
  private suppressed = 0;
  private readonly emit: (warning: InstrumentError) => void;

  constructor(emit: (warning: InstrumentError) => void) {
    this.emit = emit;
  }

  offer(warning: InstrumentError): void {
    const now = Date.now();
    if (now - this.windowStart >= LIMITS.warningWindowMs) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow >= LIMITS.warningsPerWindow) {
      this.suppressed += 1;
      return;
    }
    this.inWindow += 1;
    const left = this.suppressed;
    this.suppressed = 0;
    if (left > 0) {
      this.emit(
        new InstrumentError('PROTOCOL', `${left} more warnings like the ones before were not reported`, {
          reason: 'warningsSuppressed',
          count: left,
        }),
      );
    }
    this.emit(warning);
  }
}
