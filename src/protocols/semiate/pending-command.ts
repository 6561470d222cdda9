import { InstrumentError } from '../common/errors';
import { secondsOf } from '../common/timeout';
import type { CommandName, TransportKind } from './commands';
import { partsFromRecords } from './stdf';
import type { MasterState, PartResult, StdfRecord, TesterEvent } from './types';
import { asString } from './types';
import { FAILURE_STATES } from './wait-targets';

/** The states a command moves the master through, and the one that ends it (next ends with its results). */
const PATHS: Partial<Record<CommandName, { through: readonly string[]; final?: string }>> = {
  load: { through: ['loading', 'waitingforbintable', 'ready'], final: 'ready' },
  unload: { through: ['unloading', 'finished', 'initialized'], final: 'initialized' },
  reset: { through: ['connecting', 'initialized'], final: 'initialized' },
  next: { through: ['testing'] },
};

/** Commands whose effect the client follows: it confirms them and waits for them before the next one. */
export function changesState(name: CommandName): boolean {
  return PATHS[name] !== undefined;
}

export interface PendingCommandOptions {
  kind: TransportKind;
  name: CommandName;
  /** The state the master was in, as far as we know, when the command was sent. */
  before: MasterState;
  /** load: the lot sent (a websocket status naming another lot is not ours). */
  lot?: string;
  /** next: the sites expected to report. */
  sites: readonly string[];
  /** Whether the caller waits for the outcome (else only for the confirmation). */
  wait: boolean;
  /** Limit for the outcome; the command counts as over (settled) by then at the latest. */
  doneMs: number;
  /** Limit for the confirmation when the caller does not wait for the outcome. */
  confirmMs: number;
  /** The caller's limit as given, for messages (what is left of it after queueing is less). */
  limitMs: number;
  currentState: () => MasterState | undefined;
}

export interface CommandResult {
  parts?: PartResult[];
  records?: StdfRecord[][];
  response?: unknown;
}

/**
 * One state-changing command after it was sent: confirmed once the master shows it acted (a
 * state on the command's path, or next's results), done at its final state or once every site
 * reported, failed on a failure state, ignored when the master has certainly processed it (the
 * `barrier`) without acting. Everything the master sends in between is fed in order.
 */
export class PendingCommand {
  readonly confirmed: Promise<void>;
  readonly finished: Promise<CommandResult>;
  /** Resolves when the command is over, however it ended; never rejects. */
  readonly settled: Promise<void>;
  /** MQTT: the count of identify answers after which the master has processed this command. */
  barrierAt: number | undefined;
  private readonly options: PendingCommandOptions;
  private isConfirmed = false;
  private over = false;
  private moved = false;
  private offPath: string | undefined;
  private statuses = 0;
  private readonly parts: PartResult[] = [];
  private readonly records: StdfRecord[][] = [];
  private response: unknown;
  private confirm!: () => void;
  private reject!: (err: Error) => void;
  private resolve!: (result: CommandResult) => void;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(options: PendingCommandOptions) {
    this.options = options;
    let rejectConfirmed!: (err: Error) => void;
    let rejectFinished!: (err: Error) => void;
    this.confirmed = new Promise<void>((resolve, reject) => {
      this.confirm = resolve;
      rejectConfirmed = reject;
    });
    this.finished = new Promise<CommandResult>((resolve, reject) => {
      this.resolve = resolve;
      rejectFinished = reject;
    });
    // A settled promise ignores a later reject: a confirmed command that then fails rejects only `finished`.
    this.reject = (err) => {
      rejectConfirmed(err);
      rejectFinished(err);
    };
    // Whoever does not wait must not see an unhandled rejection.
    this.confirmed.catch(() => undefined);
    this.settled = this.finished.then(
      () => undefined,
      () => undefined,
    );
    this.timers.push(setTimeout(() => this.fail(this.timeoutError()), options.doneMs));
    if (!options.wait) {
      this.timers.push(
        setTimeout(() => {
          if (!this.isConfirmed) this.fail(this.unconfirmedError());
        }, options.confirmMs),
      );
    }
  }

  get name(): CommandName {
    return this.options.name;
  }

  get isOver(): boolean {
    return this.over;
  }

  /** Everything the master sends while the command is pending, in order. */
  feed(event: TesterEvent): void {
    if (this.over) return;
    const { name, kind, before } = this.options;
    if (event.kind === 'state') {
      if (kind === 'websocket') this.statuses += 1;
      const state = event.state;
      if (state !== before) this.moved = true;
      const path = PATHS[name]!;
      if (FAILURE_STATES.includes(state) && this.moved) {
        this.fail(
          event.message
            ? new InstrumentError('REMOTE', `${name} failed: the tester went to ${state} (${event.message})`, {
                reason: 'commandFailedSaying',
                command: name,
                state,
                message: event.message,
              })
            : new InstrumentError('REMOTE', `${name} failed: the tester went to ${state}`, { reason: 'commandFailed', command: name, state }),
        );
        return;
      }
      if (path.through.includes(state) && this.ours(event.raw)) {
        this.accept();
        if (state === path.final) this.finish();
      } else if (state !== before) {
        this.offPath = state;
      }
      // The websocket repeats the status about once a second: the second one after sending was
      // composed after the master read the command.
      if (kind === 'websocket' && this.statuses >= 2) this.barrier();
    } else if (event.kind === 'part') {
      if (name !== 'next') {
        this.offPath = 'testing';
        return;
      }
      this.accept();
      this.collect(event.site, event.records);
    } else if (event.kind === 'response' && event.type === 'next' && name === 'next') {
      this.response = event.payload;
      this.accept();
      this.collect('', undefined);
    }
  }

  /** The master has certainly read the command by now: if nothing shows it acted, it ignored it. */
  barrier(): void {
    if (this.over || this.isConfirmed) return;
    const { name } = this.options;
    const state = this.offPath ?? this.options.currentState() ?? 'unknown';
    if (this.offPath !== undefined) {
      this.fail(
        new InstrumentError('REMOTE', `the tester ignored ${name}: it was ${state}; send ${name} again when the tester allows it`, {
          reason: 'commandIgnored',
          command: name,
          state,
        }),
      );
    } else {
      this.fail(
        new InstrumentError(
          'REMOTE',
          `the tester did not act on ${name} although it reports ${state}; it may have been busy in between (another client?): send ${name} again`,
          { reason: 'commandNotActedOn', command: name, state },
        ),
      );
    }
  }

  /** The connection dropped or the client stopped. */
  abort(err: Error): void {
    this.fail(err);
  }

  private ours(raw: Record<string, unknown>): boolean {
    const { kind, name, lot } = this.options;
    if (kind !== 'websocket' || name !== 'load' || lot === undefined) return true;
    const reported = asString(raw.lot_number);
    return reported === '' || reported === lot;
  }

  private collect(site: string, records: StdfRecord[] | undefined): void {
    const sites = this.options.sites;
    if (records) {
      for (const part of partsFromRecords(records, site || '0')) {
        // Kept only as many as were asked for: a peer sending parts without end cannot grow this.
        const wanted =
          this.options.kind === 'mqtt'
            ? sites.includes(part.site) && !this.parts.some((p) => p.site === part.site)
            : this.parts.length < sites.length;
        if (wanted) this.parts.push(part);
      }
      if (this.records.length < sites.length) this.records.push(records);
    }
    const complete =
      this.options.kind === 'mqtt'
        ? this.response !== undefined && sites.every((s) => this.parts.some((p) => p.site === s))
        : this.parts.length >= sites.length;
    if (complete) this.finish();
  }

  private accept(): void {
    if (this.isConfirmed) return;
    this.isConfirmed = true;
    this.confirm();
  }

  private finish(): void {
    if (this.over) return;
    this.accept();
    this.over = true;
    this.clearTimers();
    const result: CommandResult = this.options.name === 'next' ? { parts: this.parts, records: this.records } : {};
    if (this.response !== undefined) result.response = this.response;
    this.resolve(result);
  }

  private fail(err: Error): void {
    if (this.over) return;
    this.over = true;
    this.clearTimers();
    this.reject(err);
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }

  private timeoutError(): InstrumentError {
    const { name, wait, doneMs, sites } = this.options;
    const timeoutMs = wait ? this.options.limitMs : doneMs;
    // Seconds, the unit the user gave the timeout in.
    const timeoutSeconds = secondsOf(timeoutMs);
    const state = this.options.currentState() ?? 'unknown';
    if (name === 'next') {
      return new InstrumentError('TIMEOUT', `no results of ${sites.length} site(s) after next within ${timeoutSeconds} s (the tester is ${state})`, {
        reason: 'resultsTimeout',
        sites: sites.length,
        timeoutSeconds,
        state,
      });
    }
    const expected = PATHS[name]!.final!;
    return new InstrumentError('TIMEOUT', `no state ${expected} after ${name} within ${timeoutSeconds} s (the tester is ${state})`, {
      reason: 'stateTimeout',
      command: name,
      expected,
      timeoutSeconds,
      state,
    });
  }

  private unconfirmedError(): InstrumentError {
    const { name, limitMs } = this.options;
    const state = this.options.currentState() ?? 'unknown';
    return new InstrumentError(
      'TIMEOUT',
      `no sign within ${secondsOf(limitMs)} s that the tester acted on ${name} (it reports ${state}); check that it is running`,
      { reason: 'noConfirmation', command: name, timeoutSeconds: secondsOf(limitMs), state },
    );
  }
}
