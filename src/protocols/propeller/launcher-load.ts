import type { LoadProgress, LoadRequest, LoadResult } from './connection';
import { secondsOf } from '../common/timeout';
import { NOTICE, parseProgress } from './launcher-messages';

/** After "Download successful!" with debug term/graph, how long to wait for close-compile. */
export const SUCCESS_TAIL_MS = 1_000;
/** After a specific error id, how long to wait for the 102 that normally follows it. */
export const ERROR_TAIL_MS = 2_000;
/**
 * Progress lines kept and passed on per load. A 32 KB load over Wi-Fi sends about a hundred; a
 * Launcher that sends endless ones must not flood the flow or grow the log. Lines past the limit
 * still decide the outcome.
 */
export const PROGRESS_LIMIT = 500;

/**
 * One load-prop in flight: reads the Launcher's ui-command messages and settles once. Success is
 * the 005 notice; failure is 102 (carrying the specific error that came before it), an "Error:"
 * text without an id (a bad image: no 102 follows), a lost connection, or the time limit.
 */
export class ActiveLoad {
  readonly result: Promise<LoadResult>;
  private readonly log: LoadProgress[] = [];
  private readonly started = Date.now();
  private settle!: (result: LoadResult) => void;
  private done = false;
  private succeeded = false;
  private lastError: LoadProgress | undefined;
  private tailTimer: NodeJS.Timeout | undefined;
  private readonly limitTimer: NodeJS.Timeout;

  constructor(
    private readonly request: LoadRequest,
    private readonly port: string,
    private readonly onProgress: ((progress: LoadProgress) => void) | undefined,
    timeoutMs: number,
  ) {
    this.result = new Promise((resolve) => {
      this.settle = resolve;
    });
    this.limitTimer = setTimeout(() => this.fail(`the Launcher did not finish the load within ${secondsOf(timeoutMs)} s`), timeoutMs);
  }

  handleUi(action: string, msg: string | undefined): void {
    if (this.done) return;
    if (action === 'close-compile') {
      if (this.succeeded) this.succeed();
      return;
    }
    if (action !== 'message-compile' || msg === undefined) return;
    const parsed = parseProgress(msg);
    if (!parsed) return;
    const progress: LoadProgress = { id: parsed.id, text: parsed.text, stage: parsed.stage };
    if (this.log.length < PROGRESS_LIMIT) {
      this.log.push(progress);
      this.onProgress?.(progress);
    }
    if (parsed.withoutId && parsed.id < 0) {
      this.fail(parsed.text, undefined);
    } else if (parsed.id === NOTICE.success) {
      this.succeeded = true;
      // With a terminal or graph to open, the Launcher still sends open-* and close-compile.
      if (this.request.debug === 'none') this.succeed();
      else this.armTail(SUCCESS_TAIL_MS, () => this.succeed());
    } else if (parsed.id === NOTICE.downloadFailed) {
      const cause = this.lastError;
      this.fail(cause ? cause.text : parsed.text, cause ? cause.id : parsed.id);
    } else if (parsed.id >= 100) {
      this.lastError = progress;
      this.armTail(ERROR_TAIL_MS, () => this.fail(progress.text, progress.id));
    }
  }

  /** The websocket went away while this load was running. */
  disconnected(reason: string): void {
    this.fail(`the connection to the Launcher was lost during the load (${reason})`);
  }

  /** Give up now (the connection is being closed). */
  abort(reason: string): void {
    this.fail(reason);
  }

  private armTail(ms: number, then: () => void): void {
    clearTimeout(this.tailTimer);
    this.tailTimer = setTimeout(then, ms);
  }

  private succeed(): void {
    this.finish({ success: true });
  }

  private fail(error: string, errorId?: number): void {
    this.finish({ success: false, error, errorId });
  }

  private finish(outcome: { success: boolean; error?: string; errorId?: number }): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.tailTimer);
    clearTimeout(this.limitTimer);
    const result: LoadResult = {
      success: outcome.success,
      port: this.port,
      action: this.request.action,
      log: this.log,
      durationMs: Date.now() - this.started,
    };
    if (!outcome.success) {
      result.error = outcome.error;
      if (outcome.errorId !== undefined) result.errorId = outcome.errorId;
    }
    this.settle(result);
  }
}
