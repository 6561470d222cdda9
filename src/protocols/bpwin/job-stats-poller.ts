import { EventEmitter } from 'node:events';
import { Backoff, type BackoffOptions } from '../common/backoff';
import { InstrumentError, errorMessage } from '../common/errors';
import type { BpwinClient } from './client';
import { request } from './requests';

export const DEFAULT_POLL_MS = 1_000;
export const MIN_POLL_MS = 100;

/** When to emit a reading: on any change, on a change other than the clocks and DPH, or every poll. */
export type EmitPolicy = 'change' | 'counts' | 'always';

export type PollerState =
  | { state: 'session'; stats: Record<string, unknown> }
  | { state: 'idle'; message: string }
  | { state: 'disconnected'; error: string; retryInMs: number }
  | { state: 'error'; error: string; retryInMs: number }
  | { state: 'refused'; error: string }
  | { state: 'stopped' };

export type JobStatsPollerEvents = {
  /** A reading to pass on (per the emit policy). */
  stats: [Record<string, unknown>];
  /** Every poll outcome; the node turns it into its status. */
  state: [PollerState];
  /** The first failure after a good poll (not every retry), and a refusal. */
  failure: [InstrumentError];
};

export interface JobStatsPollerOptions {
  client: BpwinClient;
  intervalMs?: number;
  emit?: EmitPolicy;
  backoff?: BackoffOptions;
}

/** Fields that tick every second during a session; 'counts' ignores them. */
const CLOCK_FIELDS = new Set([
  'Elapsed_Time',
  'Elapsed_Seconds',
  'Remaining_Time',
  'Remaining_Seconds',
  'Idle_Time',
  'Idle_Seconds',
  'Actual_DPH',
  'Potential_DPH',
]);

/**
 * Polls /data/job-stats. "No job session" is a normal state (idle), not an error. When BPWin is
 * unreachable it keeps trying with backoff and recovers by itself; a refused passphrase stops it
 * until the client reports a successful call again.
 */
export class JobStatsPoller extends EventEmitter<JobStatsPollerEvents> {
  readonly intervalMs: number;
  private readonly client: BpwinClient;
  private readonly policy: EmitPolicy;
  private readonly backoff: Backoff;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight = false;
  private lastKey: string | undefined;
  private failing = false;
  private readonly onAuthenticated = (): void => {
    if (this.running && this.timer === undefined && !this.inFlight) this.schedule(0);
  };

  constructor(options: JobStatsPollerOptions) {
    super();
    this.client = options.client;
    this.intervalMs = Math.max(MIN_POLL_MS, options.intervalMs ?? DEFAULT_POLL_MS);
    this.policy = options.emit ?? 'change';
    this.backoff = new Backoff(options.backoff);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.client.on('authenticated', this.onAuthenticated);
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.client.off('authenticated', this.onAuthenticated);
    this.emit('state', { state: 'stopped' });
  }

  /** Read now and return whatever comes back (a manual trigger); the schedule is unchanged unless it was waiting out a failure. */
  async readNow(): Promise<Record<string, unknown>> {
    const result = await request(this.client, 'job-stats');
    this.lastKey = this.keyOf(result.payload);
    if (this.running && this.failing) {
      // BPWin answered: a state still saying "disconnected, retry in N s" would lie until that retry.
      this.answered(result.payload);
      this.schedule(this.intervalMs);
    }
    return result.payload;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, ms);
  }

  private async poll(): Promise<void> {
    if (!this.running || this.inFlight) return;
    this.inFlight = true;
    try {
      const { payload } = await request(this.client, 'job-stats');
      if (!this.running) return;
      this.succeeded(payload);
      this.schedule(this.intervalMs);
    } catch (err) {
      if (!this.running) return;
      this.failed(err);
    } finally {
      this.inFlight = false;
    }
  }

  private answered(payload: Record<string, unknown>): void {
    this.backoff.reset();
    this.failing = false;
    if (payload.Session === false) this.emit('state', { state: 'idle', message: String(payload.Message ?? '') });
    else this.emit('state', { state: 'session', stats: payload });
  }

  private succeeded(payload: Record<string, unknown>): void {
    this.answered(payload);
    const key = this.keyOf(payload);
    if (this.policy === 'always' || key !== this.lastKey) {
      this.lastKey = key;
      this.emit('stats', payload);
    }
  }

  private failed(err: unknown): void {
    const error = err instanceof InstrumentError ? err : new InstrumentError('PROTOCOL', errorMessage(err));
    if (error.code === 'AUTH_FAILED') {
      // No retry loop: wait for a successful call (the 'authenticated' listener) or a redeploy.
      this.failing = true;
      this.emit('state', { state: 'refused', error: error.message });
      this.emit('failure', error);
      return;
    }
    const retryInMs = this.backoff.next();
    const unreachable = error.code === 'CONNECT_FAILED' || error.code === 'TIMEOUT' || error.code === 'DISCONNECTED';
    this.emit('state', { state: unreachable ? 'disconnected' : 'error', error: error.message, retryInMs });
    if (!this.failing) this.emit('failure', error);
    this.failing = true;
    // Force a fresh emit after recovery so downstream sees the current reading.
    this.lastKey = undefined;
    this.schedule(retryInMs);
  }

  private keyOf(payload: Record<string, unknown>): string {
    if (this.policy !== 'counts') return JSON.stringify(payload);
    return JSON.stringify(Object.entries(payload).filter(([name]) => !CLOCK_FIELDS.has(name)));
  }
}
