import { EventEmitter } from 'node:events';
import { secondsOf } from '../common/timeout';
import { InstrumentError } from '../common/errors';
import type { ConnectionStatus } from '../common/reconnecting-connection';
import { withTimeout } from '../common/timers';
import { CommandLane } from './command-lane';
import { droppedMessage } from './decode';
import { canonicalCommand, checkState, prepareCommand, type CommandName, type CommandRequest, type TransportKind } from './commands';
import { LIMITS, bounded } from './limits';
import { SemiAteMqtt, type MqttTransportOptions } from './mqtt-transport';
import { PendingCommand, changesState } from './pending-command';
import { partsFromRecords } from './stdf';
import type { JsonObject, LogEntry, MasterState, PartResult, StdfRecord, TesterEvent, YieldSnapshot } from './types';
import { asString, isObject } from './types';
import { WarningThrottle } from './warning-throttle';
import { SemiAteWebSocket } from './websocket-transport';
import { siteIds } from './wire';
import { YieldTracker } from './yield-tracker';
import { waitTarget, DEFAULT_WAIT_MS } from './wait-targets';

/** Without waiting for the outcome, how long a state-changing command may take to show it was acted on. */
const CONFIRM_MS = 10_000;

/** The message types whose latest payload is kept (anything else is passed on, not stored). */
const KEPT_TYPES = new Set(['masterconfiguration', 'usersettings', 'lotdata', 'bintable', 'yield', 'logfile', 'status']);

export type TesterOptions =
  { transport: 'websocket'; url: string; reconnectMs?: number; connectTimeoutMs?: number } | ({ transport: 'mqtt' } & MqttTransportOptions);

export interface ExecuteOptions {
  /** Wait for the command's outcome (load → ready, next → results, unload → initialized). */
  waitUntilDone?: boolean;
  /** Limit for the wait; default depends on the command (the master's own timeouts plus a margin). */
  timeoutMs?: number;
  /** Time allowed to connect and learn the master's state before a command. */
  connectTimeoutMs?: number;
}

export interface CommandOutcome {
  command: CommandName;
  /** The master's state when the outcome was known. */
  state: MasterState;
  /** True when we waited for the outcome; false when only sent. */
  waited: boolean;
  parts?: PartResult[];
  records?: StdfRecord[][];
  response?: unknown;
  logs?: LogEntry[];
  logfile?: unknown;
  /** MQTT next: the sites and part ids sent. */
  sites?: string[];
  yield?: YieldSnapshot;
}

export type TesterEvents = {
  status: [ConnectionStatus];
  /** A state change (not every periodic status report). */
  state: [{ state: MasterState; previous: MasterState | undefined; message: string }];
  part: [PartResult, StdfRecord[]];
  event: [TesterEvent];
  /** Something the tester sent that could not be used (a few per window; see WarningThrottle). */
  warning: [InstrumentError];
};

type Transport = SemiAteWebSocket | SemiAteMqtt;

/**
 * A Semi-ATE master seen by automation: the connection (websocket or MQTT), the state and what
 * the master announced (connection id, configuration, user settings, lot data), the parts with a
 * running yield, and commands checked against the state before they are sent.
 */
export class SemiAteTester extends EventEmitter<TesterEvents> {
  readonly kind: TransportKind;
  private readonly transport: Transport;
  private currentState: MasterState | undefined;
  private stateText = '';
  private readonly knownSites = new Set<string>();
  private partCounter = 0;
  readonly yieldTracker = new YieldTracker();
  private readonly interest = new Map<string, number>();
  private loadedLot: string | undefined;
  /** Latest payloads by websocket message type (masterconfiguration, usersettings, lotdata, bintable, yield, status). */
  readonly latest = new Map<string, unknown>();
  private readonly lane = new CommandLane();
  /** The state-changing command the master is working on, as far as we know. */
  private inFlight: PendingCommand | undefined;
  /** MQTT: identify questions sent and answered since connecting (the answers come in order). */
  private identifyAsked = 0;
  private identifyAnswered = 0;
  private readonly warnings = new WarningThrottle((warning) => this.emit('warning', warning));

  constructor(options: TesterOptions) {
    super();
    this.kind = options.transport;
    this.transport =
      options.transport === 'websocket'
        ? new SemiAteWebSocket({
            url: options.url,
            backoff: options.reconnectMs ? { initialMs: options.reconnectMs } : undefined,
            connectTimeoutMs: options.connectTimeoutMs,
            wanted: (type) => (this.interest.get(type) ?? 0) > 0,
          })
        : new SemiAteMqtt(options);
    this.transport.on('status', (status) => {
      if (status.state === 'connected') this.identifyAnswered = this.identifyAsked;
      else {
        this.currentState = undefined;
        const pending = this.inFlight;
        pending?.abort(
          new InstrumentError('DISCONNECTED', `lost ${this.endpoint} while waiting for the tester to act on ${pending.name}`, {
            reason: 'connectionLost',
            endpoint: this.endpoint,
            command: pending.name,
          }),
        );
      }
      this.emit('status', status);
    });
    this.transport.on('event', (event) => this.onEvent(event));
    this.transport.on('warning', (warning) => this.warnings.offer(warning));
  }

  get endpoint(): string {
    return this.transport.endpoint;
  }
  get status(): ConnectionStatus {
    return this.transport.status;
  }
  get state(): MasterState | undefined {
    return this.currentState;
  }
  get stateMessage(): string {
    return this.stateText;
  }
  get connectionId(): string | undefined {
    return this.transport instanceof SemiAteWebSocket ? this.transport.connectionId : undefined;
  }
  get masterConfiguration(): unknown {
    return this.latest.get('masterconfiguration');
  }
  get userSettings(): unknown {
    return this.latest.get('usersettings');
  }
  /** The lot: from the master's status (websocket), else the last lot this client loaded (MQTT). */
  get lotNumber(): string | undefined {
    const status = this.latest.get('status');
    const reported = isObject(status) ? asString(status.lot_number) : '';
    return reported || this.loadedLot;
  }

  get sites(): string[] {
    return [...this.knownSites].sort((a, b) => Number(a) - Number(b));
  }

  /** Why the connection gave up for good (e.g. a refused MQTT login), with a reason key; undefined while it retries. */
  get failure(): InstrumentError | undefined {
    return this.transport instanceof SemiAteMqtt && this.transport.status.state === 'failed' ? this.transport.failure : undefined;
  }

  start(): void {
    this.transport.start();
  }

  /**
   * Ask for an optional message type (the websocket's yield and bintable, sent after every part,
   * are skipped unparsed unless someone wants them). Returns the function that withdraws the wish.
   */
  want(type: string): () => void {
    this.interest.set(type, (this.interest.get(type) ?? 0) + 1);
    let withdrawn = false;
    return () => {
      if (withdrawn) return;
      withdrawn = true;
      this.interest.set(type, (this.interest.get(type) ?? 1) - 1);
    };
  }

  stop(): Promise<void> {
    this.warnings.close();
    return this.transport.stop();
  }

  /** Connected, and the master has told us its state (websocket: within about a second). */
  async ready(timeoutMs: number): Promise<MasterState> {
    const deadline = Date.now() + timeoutMs;
    await this.transport.whenConnected(timeoutMs);
    if (this.currentState !== undefined) return this.currentState;
    await this.waitForEvent((e) => e.kind === 'state', Math.max(1, deadline - Date.now()), undefined);
    return this.currentState ?? 'unknown';
  }

  async execute(request: CommandRequest, options: ExecuteOptions = {}): Promise<CommandOutcome> {
    // Refuse bad input before connecting; only the default sites of an MQTT next wait for the
    // tester (they come from what it reports), so a state error is reported ahead of them.
    const name = canonicalCommand(request.command, this.kind);
    const defaultSites = this.kind === 'mqtt' && name === 'next' && (request.sites === undefined || request.sites === null || request.sites === '');
    if (!defaultSites) prepareCommand(this.kind, request, { knownSites: [], nextPartId: () => '' });
    // get-state joins the queue too: it answers with the state once the commands before it have settled.
    if (!changesState(name) && name !== 'usersettings' && name !== 'get-state') return this.send(name, request, options);
    // A command that moves the master waits for the one before to settle: sent earlier, the
    // master would ignore it. With its own time limit, that counts from now.
    const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    return this.lane.run(name, options.timeoutMs, async (hold) => {
      const left = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
      if (!changesState(name)) return this.send(name, request, { ...options, timeoutMs: left });
      return this.sendAndFollow(name, request, options, left, hold);
    });
  }

  /** A command the master answers (queries) or simply takes (settings): checked, sent, its answer awaited when it has one. */
  private async send(name: CommandName, request: CommandRequest, options: ExecuteOptions): Promise<CommandOutcome> {
    const state = await this.ready(options.connectTimeoutMs ?? 5000);
    checkState(name, state);
    if (name === 'get-state' && this.kind === 'websocket') {
      // The websocket has no get-state: the master's periodic status is the answer, in the shape MQTT's has.
      return { command: name, state, waited: false, response: { state, message: this.stateText || null } };
    }
    const prepared = prepareCommand(this.kind, request, { knownSites: this.sites, nextPartId: () => String(++this.partCounter) });
    const target = waitTarget(prepared.name);
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS[prepared.name] ?? 10_000;
    // Listen before sending: a fast master answers before send() returns.
    let cancel = (): void => undefined;
    const waiting = target ? this.waitForEvent(target.accept, timeoutMs, prepared.name, (c) => (cancel = c)) : undefined;
    try {
      this.sendCommand(prepared.name, prepared.body);
    } catch (err) {
      waiting?.catch(() => undefined);
      cancel();
      throw err;
    }
    const outcome: CommandOutcome = { command: prepared.name, state: this.currentState ?? 'unknown', waited: waiting !== undefined };
    if (!waiting || !target) return outcome;
    await waiting;
    return { ...outcome, ...target.result(), state: this.currentState ?? 'unknown' };
  }

  /**
   * load, next, unload, reset: sent only in a state that allows them, then followed until the
   * master shows it acted (or it is certain that it ignored the command), and — when the caller
   * waits — until the outcome. The lane holds the next command until this one has settled.
   */
  private async sendAndFollow(
    name: CommandName,
    request: CommandRequest,
    options: ExecuteOptions,
    timeoutMs: number | undefined,
    hold: (settled: Promise<unknown>) => void,
  ): Promise<CommandOutcome> {
    const state = await this.ready(Math.min(options.connectTimeoutMs ?? 5000, timeoutMs ?? Infinity));
    checkState(name, state);
    const prepared = prepareCommand(this.kind, request, { knownSites: this.sites, nextPartId: () => String(++this.partCounter) });
    const wait = options.waitUntilDone === true;
    // Without waiting, the caller hears once the master acted; the transition itself is still
    // followed (the next command waits for it) until the master's own limit.
    const ownLimitMs = DEFAULT_WAIT_MS[name] ?? 10_000;
    const doneMs = wait ? (timeoutMs ?? ownLimitMs) : ownLimitMs;
    const confirmMs = wait ? doneMs : Math.min(timeoutMs ?? CONFIRM_MS, ownLimitMs);
    const pending = new PendingCommand({
      kind: this.kind,
      name,
      before: state,
      lot: name === 'load' ? String(request.lotNumber) : undefined,
      sites: prepared.sites ?? this.expectedSites(),
      wait,
      doneMs,
      confirmMs,
      limitMs: options.timeoutMs ?? (wait ? doneMs : CONFIRM_MS),
      currentState: () => this.currentState,
    });
    this.inFlight = pending;
    hold(pending.settled);
    void pending.settled.then(() => {
      if (this.inFlight === pending) this.inFlight = undefined;
    });
    try {
      this.sendCommand(prepared.name, prepared.body);
      // Over MQTT the master answers in order: once it has answered an identify sent after the
      // command, it has read the command.
      if (this.kind === 'mqtt') {
        this.sendCommand('identify', { payload: {} });
        pending.barrierAt = this.identifyAsked;
      }
    } catch (err) {
      pending.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    if (name === 'load') this.loadedLot = String(request.lotNumber);
    const outcome: CommandOutcome = { command: name, state: this.currentState ?? 'unknown', waited: wait };
    if (prepared.sites) outcome.sites = prepared.sites;
    await pending.confirmed;
    if (!wait) return { ...outcome, state: this.currentState ?? 'unknown' };
    const result = await pending.finished;
    return { ...outcome, ...result, state: this.currentState ?? 'unknown' };
  }

  private sendCommand(name: CommandName, body: JsonObject): void {
    this.transport.sendCommand(name, body);
    if (name === 'identify') this.identifyAsked += 1;
  }

  private expectedSites(): string[] {
    return this.sites.length > 0 ? this.sites : ['0'];
  }

  /**
   * Resolve when `accept` returns true for an event; reject on disconnect, on timeout, or when
   * `cancel` (if given) is called back — which then frees the timer and listeners at once.
   * `query` is the command whose answer is awaited, or undefined for the tester's first state.
   */
  private waitForEvent(
    accept: (e: TesterEvent) => boolean,
    timeoutMs: number,
    query: CommandName | undefined,
    onCancel?: (cancel: () => void) => void,
  ): Promise<void> {
    const awaited = query === undefined ? "the tester's state" : `the answer to ${query}`;
    let cleanup = (): void => undefined;
    const waiter = new Promise<void>((resolve, reject) => {
      // Only send() cancels, when sending failed: it reports that error and drops this one unseen.
      onCancel?.(() => reject(new InstrumentError('CLOSED', `stopped waiting for ${awaited}`)));
      const onEvent = (event: TesterEvent): void => {
        if (accept(event)) resolve();
      };
      const onStatus = (status: ConnectionStatus): void => {
        if (status.state === 'connected') return;
        const details =
          query === undefined
            ? { reason: 'testerLostState', endpoint: this.endpoint }
            : { reason: 'testerLostAnswer', endpoint: this.endpoint, command: query };
        reject(new InstrumentError('DISCONNECTED', `lost ${this.endpoint} while waiting for ${awaited}`, details));
      };
      this.on('event', onEvent);
      this.transport.on('status', onStatus);
      cleanup = () => {
        this.off('event', onEvent);
        this.transport.off('status', onStatus);
      };
    });
    return withTimeout(waiter, timeoutMs, () => {
      const timeoutSeconds = secondsOf(timeoutMs);
      const state = this.currentState ?? 'unknown';
      return query === undefined
        ? new InstrumentError('TIMEOUT', `the tester reported no state within ${timeoutSeconds} s`, {
            reason: 'testerNoState',
            timeoutSeconds,
            timeoutMs,
          })
        : new InstrumentError('TIMEOUT', `no answer to ${query} within ${timeoutSeconds} s (the tester is ${state})`, {
            reason: 'testerNoAnswer',
            command: query,
            state,
            timeoutSeconds,
            timeoutMs,
          });
    }).finally(() => cleanup());
  }

  private onEvent(event: TesterEvent): void {
    if (event.kind === 'state' && event.state === '') {
      // Not a state report: counting it as one would leave the client believing in a state "unknown".
      this.warnings.offer(droppedMessage(this.endpoint, { ok: false, cause: 'noState', text: 'it is a status that names no state', details: {} }));
      return;
    }
    switch (event.kind) {
      case 'state':
        this.onState(event.state, event.message, event.raw);
        break;
      case 'part':
        // A part does not make its site known: the master's list (websocket) or the apps' own status
        // topics (MQTT) do. Else one stray result would become a site every default next waits for.
        for (const part of partsFromRecords(event.records, event.site || '0')) {
          this.yieldTracker.add(part);
          this.emit('part', part, event.records);
        }
        break;
      case 'data':
        this.onData(event.type, event.payload);
        break;
      default:
        break;
    }
    const pending = this.inFlight;
    if (pending) {
      pending.feed(event);
      if (pending.isOver && pending === this.inFlight) this.afterCommand(pending);
    }
    if (event.kind === 'response' && event.type === 'identify') {
      this.identifyAnswered = Math.min(this.identifyAnswered + 1, this.identifyAsked);
      const current = this.inFlight;
      if (current?.barrierAt !== undefined && this.identifyAnswered >= current.barrierAt) current.barrier();
    }
    this.emit('event', event);
  }

  /**
   * The master is ready again once every site has reported; its websocket status may say so only
   * a second later, and the next command must not wait for that.
   */
  private afterCommand(pending: PendingCommand): void {
    this.inFlight = undefined;
    if (pending.name === 'next' && this.currentState === 'testing') this.onState('ready', '', { inferred: true });
  }

  /** Remember a site id, up to maxSites of them (a tester has a handful; a hostile peer could send millions). */
  private addSite(site: string): void {
    if (this.knownSites.size < LIMITS.maxSites) this.knownSites.add(bounded(site, LIMITS.maxNameChars));
  }

  /** The master's own list of its sites replaces what we gathered. */
  private setSites(value: unknown): void {
    const ids = siteIds(value);
    if (!ids) return;
    this.knownSites.clear();
    for (const id of ids) this.knownSites.add(id);
  }

  private onState(state: MasterState, message: string, raw: JsonObject): void {
    this.setSites(raw.sites);
    if (this.kind === 'websocket' && raw.lot_number !== undefined) {
      // A periodic status may never show "loading" for a quick load: a new lot number also starts a new yield.
      const before = this.latest.get('status');
      const lot = asString(raw.lot_number);
      if (isObject(before) && lot !== '' && lot !== asString(before.lot_number)) this.yieldTracker.reset();
      this.latest.set('status', raw);
    }
    const previous = this.currentState;
    this.stateText = message;
    if (state === previous) return;
    this.currentState = state;
    if (state === 'loading') this.yieldTracker.reset();
    this.emit('state', { state, previous, message });
  }

  private onData(type: string, payload: unknown): void {
    if (KEPT_TYPES.has(type)) this.latest.set(type, payload);
    if (type === 'masterconfiguration' && isObject(payload)) {
      this.setSites(payload.sites);
    } else if (type === 'sitestatus' && isObject(payload) && asString(payload.site) !== '') {
      this.addSite(asString(payload.site));
    }
  }
}
