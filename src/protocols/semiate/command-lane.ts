import { InstrumentError } from '../common/errors';
import { secondsOf } from '../common/timeout';
import { withTimeout } from '../common/timers';
import { LIMITS } from './limits';

/**
 * State-changing commands one after the other. The master ignores a command that arrives while
 * an earlier one is still moving it (an unload during a test, a second next during the first), so
 * each waits until the one before has settled: its transition seen, failed or timed out. The queue
 * is bounded, and a command given its own time limit counts it from when it was queued.
 */
export class CommandLane {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private busyWith: string | undefined;
  private lastQueued = '';

  /** The command whose transition the lane is waiting for, if any. */
  get inProgress(): string | undefined {
    return this.busyWith;
  }

  /**
   * Run `work` once every earlier command has settled. `work` calls `hold` with the promise that
   * settles when its own transition is over (the next command waits for that); without it the
   * lane moves on as soon as `work` ends.
   */
  async run<T>(name: string, limitMs: number | undefined, work: (hold: (settled: Promise<unknown>) => void) => Promise<T>): Promise<T> {
    if (this.queued >= LIMITS.maxQueuedCommands) {
      throw new InstrumentError(
        'BAD_INPUT',
        `${name} was not sent: ${this.queued} commands are already waiting for the tester; wait for their results before sending more`,
        { reason: 'queueFull', command: name, queued: this.queued },
      );
    }
    const previous = this.tail;
    // Whom this command waits for, to name it should the wait run out.
    const predecessor = this.lastQueued;
    this.lastQueued = name;
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    this.tail = previous.then(() => mine);
    this.queued += 1;
    try {
      if (limitMs === undefined) await previous;
      else
        await withTimeout(
          previous,
          limitMs,
          () =>
            new InstrumentError(
              'TIMEOUT',
              `${name} was not sent: the tester was still busy with ${this.busyWith ?? predecessor} after ${secondsOf(limitMs)} s`,
              {
                reason: 'testerQueuedTooLong',
                command: name,
                busyWith: this.busyWith ?? predecessor,
                timeoutSeconds: secondsOf(limitMs),
              },
            ),
        );
    } catch (err) {
      release();
      throw err;
    } finally {
      this.queued -= 1;
    }
    let held = false;
    this.busyWith = name;
    const done = (): void => {
      if (this.busyWith === name) this.busyWith = undefined;
      release();
    };
    try {
      return await work((settled) => {
        held = true;
        settled.then(done, done);
      });
    } finally {
      if (!held) done();
    }
  }
}
