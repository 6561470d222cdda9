import { EventEmitter } from 'node:events';
import { InstrumentError } from '../common/errors';
import type { ConnectionStatus } from '../common/reconnecting-connection';
import { withTimeout } from '../common/timers';
import { canonicalCommand, checkState, prepareCommand, type CommandName, type CommandRequest, type TransportKind } from './commands';
import { SemiAteMqtt, type MqttTransportOptions } from './mqtt-transport';
import { partsFromRecords } from './stdf';
import type { JsonObject, LogEntry, MasterState, PartResult, StdfRecord, TesterEvent, YieldSnapshot } from './types';
import { asString, isObject } from './types';
import { SemiAteWebSocket } from './websocket-transport';
import { YieldTracker } from './yield-tracker';
import { waitTarget, DEFAULT_WAIT_MS } from './wait-targets';

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
      if (status.state !== 'connected') this.currentState = undefined;
      this.emit('status', status);
    });
    this.transport.on('event', (event) => this.onEvent(event));
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
    return this.transport.stop();
  }

  /** Connected, and the master has told us its state (websocket: within about a second). */
  async ready(timeoutMs: number): Promise<MasterState> {
    const deadline = Date.now() + timeoutMs;
    await this.transport.whenConnected(timeoutMs);
    if (this.currentState !== undefined) return this.currentState;
    await this.waitForEvent(
      (e) => e.kind === 'state',
      Math.max(1, deadline - Date.now()),
      "the tester's state",
      () => undefined,
    );
    return this.currentState ?? 'unknown';
  }

  async execute(request: CommandRequest, options: ExecuteOptions = {}): Promise<CommandOutcome> {
    // Refuse bad input before connecting; only the default sites of an MQTT next wait for the
    // tester (they come from what it reports), so a state error is reported ahead of them.
    const name = canonicalCommand(request.command, this.kind);
    const defaultSites = this.kind === 'mqtt' && name === 'next' && (request.sites === undefined || request.sites === null || request.sites === '');
    if (!defaultSites) prepareCommand(this.kind, request, { knownSites: [], nextPartId: () => '' });
    const state = await this.ready(options.connectTimeoutMs ?? 5000);
    checkState(name, state);
    const prepared = prepareCommand(this.kind, request, { knownSites: this.sites, nextPartId: () => String(++this.partCounter) });
    const target = waitTarget(this.kind, prepared.name, options.waitUntilDone === true, prepared.sites ?? this.expectedSites(), state);
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS[prepared.name] ?? 10_000;
    // Listen before sending: a fast master answers before send() returns.
    let cancel = (): void => undefined;
    const waiting = target ? this.waitForEvent(target.accept, timeoutMs, target.describe, target.fail, (c) => (cancel = c)) : undefined;
    try {
      this.transport.sendCommand(prepared.name, prepared.body);
    } catch (err) {
      waiting?.catch(() => undefined);
      cancel();
      throw err;
    }
    if (prepared.name === 'load') this.loadedLot = String(request.lotNumber);
    const outcome: CommandOutcome = { command: prepared.name, state: this.currentState ?? 'unknown', waited: waiting !== undefined };
    if (prepared.sites) outcome.sites = prepared.sites;
    if (!waiting || !target) return outcome;
    await waiting;
    // The master is ready again once every site has reported; its websocket status may say so
    // only a second later, and the next command must not be refused meanwhile.
    if (prepared.name === 'next' && this.currentState === 'testing') this.onState('ready', '', { inferred: true });
    return { ...outcome, ...target.result(), state: this.currentState ?? 'unknown' };
  }

  private expectedSites(): string[] {
    return this.sites.length > 0 ? this.sites : ['0'];
  }

  /**
   * Resolve when `accept` returns true for an event; reject when `fail` names a reason, on
   * disconnect, on timeout, or when `cancel` (if given) is called back — which then frees the
   * timer and listeners at once.
   */
  private waitForEvent(
    accept: (e: TesterEvent) => boolean,
    timeoutMs: number,
    describe: string,
    fail: (e: TesterEvent) => string | undefined,
    onCancel?: (cancel: () => void) => void,
  ): Promise<void> {
    let cleanup = (): void => undefined;
    const waiter = new Promise<void>((resolve, reject) => {
      onCancel?.(() => reject(new InstrumentError('CLOSED', `stopped waiting for ${describe}`)));
      const onEvent = (event: TesterEvent): void => {
        const reason = fail(event);
        if (reason !== undefined) reject(new InstrumentError('REMOTE', reason, { state: this.currentState, message: this.stateText }));
        else if (accept(event)) resolve();
      };
      const onStatus = (status: ConnectionStatus): void => {
        if (status.state !== 'connected') reject(new InstrumentError('DISCONNECTED', `lost ${this.endpoint} while waiting for ${describe}`));
      };
      this.on('event', onEvent);
      this.transport.on('status', onStatus);
      cleanup = () => {
        this.off('event', onEvent);
        this.transport.off('status', onStatus);
      };
    });
    return withTimeout(
      waiter,
      timeoutMs,
      () =>
        new InstrumentError('TIMEOUT', `no ${describe} within ${timeoutMs} ms (the tester is ${this.currentState ?? 'in an unknown state'})`, {
          state: this.currentState,
          timeoutMs,
        }),
    ).finally(() => cleanup());
  }

  private onEvent(event: TesterEvent): void {
    switch (event.kind) {
      case 'state':
        this.onState(event.state, event.message, event.raw);
        break;
      case 'part':
        for (const part of partsFromRecords(event.records, event.site || '0')) {
          this.knownSites.add(part.site);
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
    this.emit('event', event);
  }

  private onState(state: MasterState, message: string, raw: JsonObject): void {
    if (Array.isArray(raw.sites)) for (const site of raw.sites) this.knownSites.add(asString(site));
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
    this.latest.set(type, payload);
    if (type === 'masterconfiguration' && isObject(payload) && Array.isArray(payload.sites)) {
      for (const site of payload.sites) this.knownSites.add(asString(site));
    } else if (type === 'sitestatus' && isObject(payload) && asString(payload.site) !== '') {
      this.knownSites.add(asString(payload.site));
    }
  }
}
