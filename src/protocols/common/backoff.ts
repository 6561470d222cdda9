/**
 * Capped exponential backoff with jitter. Jitter spreads the reconnects of many clients
 * (a line of testers, a rack of programmers) so a restarted server is not hit all at once.
 */
export interface BackoffOptions {
  /** First delay in ms. */
  initialMs?: number;
  /** Upper bound for any delay in ms. */
  maxMs?: number;
  /** Growth per attempt. */
  factor?: number;
  /** Fraction of the delay that is randomised (0 = none, 1 = anywhere in 0..delay). */
  jitter?: number;
  /** Injected for tests. */
  random?: () => number;
}

export const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.25 } as const;

export class Backoff {
  private attemptCount = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = Math.max(1, options.initialMs ?? DEFAULT_BACKOFF.initialMs);
    this.maxMs = Math.max(this.initialMs, options.maxMs ?? DEFAULT_BACKOFF.maxMs);
    this.factor = Math.max(1, options.factor ?? DEFAULT_BACKOFF.factor);
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? DEFAULT_BACKOFF.jitter));
    this.random = options.random ?? Math.random;
  }

  /** Attempts made since the last reset. */
  get attempts(): number {
    return this.attemptCount;
  }

  /** Delay before the next attempt; grows until maxMs. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * Math.pow(this.factor, this.attemptCount));
    this.attemptCount += 1;
    const spread = base * this.jitter;
    return Math.max(1, Math.round(base - spread + this.random() * spread));
  }

  reset(): void {
    this.attemptCount = 0;
  }
}
