import { InstrumentError, errorMessage } from '../common/errors';
import { secondsOf } from '../common/timeout';
import { withTimeout } from '../common/timers';
import { WebSocketConnection, type WebSocketConnectionOptions } from '../common/websocket-connection';
import type { LoadProgress, LoadRequest, LoadResult, PropellerConnection, TerminalOptions, TerminalSession } from './connection';
import { ActiveLoad } from './launcher-load';
import { MINIMUM_LAUNCHER_VERSION, cleanPorts, isSupportedVersion, oneLine, parseIncoming, type LauncherInfo } from './launcher-messages';
import { sharedQueue } from '../common/serial-queue';
import { LauncherTerminalSession, PacketCounter, type TerminalOwner } from './launcher-terminal';

export const DEFAULT_LAUNCHER_URL = 'ws://localhost:6009';
/**
 * Largest frame taken from a Launcher. Its own are a few kilobytes at most (a terminal packet is
 * 1492 bytes in base64); a bigger one only costs time to parse, and the socket is dropped for it.
 */
export const LAUNCHER_MAX_FRAME = 256 * 1024;

export interface LauncherClientOptions extends Omit<WebSocketConnectionOptions, 'headers'> {
  /** Whole-load limit when the request names none (a 32 KB EEPROM load over Wi-Fi can take a minute). */
  loadTimeoutMs?: number;
  /** How long a load or terminal waits for the connection before giving up. */
  connectWaitMs?: number;
  /** How long to wait for the Launcher's first port list (or a non-empty one, for "first available"). */
  portWaitMs?: number;
}

export type LauncherEvents = {
  /** The port list changed (the Launcher repeats it every 5 s; only changes are emitted). */
  ports: [string[]];
};

interface OpenTerminal {
  port: string;
  options: TerminalOptions;
  sessions: Set<LauncherTerminalSession>;
  packets: PacketCounter;
  /** Data has come since the last open was sent: the Launcher has the port open. */
  confirmed: boolean;
}

/**
 * A client of the BlocklyProp Launcher's websocket API (a plain Node object, no Node-RED). One
 * hello and one port-list-request per connection (each request starts another 5 s timer inside the
 * Launcher); no ping liveness (it never answers pings); loads run one at a time per Launcher URL.
 */
export class LauncherClient extends WebSocketConnection<LauncherEvents> implements PropellerConnection, TerminalOwner {
  readonly kind = 'launcher' as const;
  /** What the Launcher said in hello-client on the current connection. */
  info: LauncherInfo | undefined;
  private portList: string[] | undefined;
  private helloWaiter: ((info: LauncherInfo) => void) | undefined;
  private activeLoad: ActiveLoad | undefined;
  private terminal: OpenTerminal | undefined;
  private readonly loadTimeoutMs: number;
  private readonly connectWaitMs: number;
  private readonly portWaitMs: number;

  constructor(options: LauncherClientOptions) {
    super({ maxPayload: LAUNCHER_MAX_FRAME, ...options });
    this.loadTimeoutMs = options.loadTimeoutMs ?? 120_000;
    this.connectWaitMs = options.connectWaitMs ?? 10_000;
    this.portWaitMs = options.portWaitMs ?? 6_000;
    this.on('disconnected', (err) => this.onDisconnected(err));
    this.on('connected', () => this.reopenTerminal());
  }

  /** The last port list of this connection (undefined before the first one arrives). */
  get ports(): string[] | undefined {
    return this.portList;
  }

  async listPorts(): Promise<string[]> {
    await this.whenConnected(this.connectWaitMs);
    return [...(await this.currentPorts(false))];
  }

  watchPorts(listener: (ports: string[]) => void): () => void {
    this.on('ports', listener);
    return () => this.off('ports', listener);
  }

  load(request: LoadRequest, onProgress?: (progress: LoadProgress) => void): Promise<LoadResult> {
    const queued = (): void => onProgress?.({ id: -1, text: 'Waiting for another load through this Launcher to finish', stage: 'queued' });
    // Every load through one Launcher (keyed by its URL, across clients) waits for the one before it.
    const queue = sharedQueue(`launcher ${this.endpoint}`);
    if (queue.length > 0) queued();
    return queue.run(() => this.runLoad(request, onProgress));
  }

  async openTerminal(options: TerminalOptions): Promise<TerminalSession> {
    await this.whenConnected(this.connectWaitMs);
    // The Launcher's own "port not found" answer is the check here: a port may be newer than our list.
    const port = options.port || (await this.currentPorts(true))[0]!;
    const open = this.terminal;
    if (open && open.port !== port) {
      throw new InstrumentError(
        'BAD_INPUT',
        `the Launcher's terminal data does not say which port it comes from, ` +
          `so one Launcher connection serves one terminal port at a time (${open.port} is open); ` +
          `close that terminal first or add a second Launcher config node`,
        { reason: 'launcherOneTerminal', open: open.port, port },
      );
    }
    const terminal = open ?? { port, options, sessions: new Set<LauncherTerminalSession>(), packets: new PacketCounter(), confirmed: false };
    if (!open || open.options.baudrate !== options.baudrate || open.options.mode !== options.mode) {
      terminal.options = options;
      this.sendOpen(terminal);
      this.terminal = terminal;
    }
    const session = new LauncherTerminalSession(port, this, terminal.confirmed);
    terminal.sessions.add(session);
    return session;
  }

  writeTerminal(port: string, data: Buffer): void {
    const terminal = this.terminal;
    const baudrate = terminal?.port === port ? terminal.options.baudrate : 115200;
    // API v1 wants one char code per byte; a b64Msg Launcher wants base64.
    const msg = this.info?.b64Msg ? data.toString('base64') : data.toString('latin1');
    this.sendJson({ type: 'serial-terminal', action: 'msg', portPath: port, baudrate, msg });
  }

  async detach(session: LauncherTerminalSession): Promise<void> {
    const terminal = this.terminal;
    if (!terminal || !terminal.sessions.delete(session) || terminal.sessions.size > 0) return;
    this.terminal = undefined;
    if (!this.isConnected) return;
    try {
      this.sendJson({ type: 'serial-terminal', action: 'close', portPath: terminal.port, baudrate: terminal.options.baudrate, msg: 'none' });
    } catch {
      // The socket went away between the check and the send: the Launcher drops the stream anyway.
    }
  }

  override async stop(): Promise<void> {
    this.activeLoad?.abort('the Launcher connection was closed during the load');
    await super.stop();
  }

  protected override async handshake(): Promise<void> {
    this.portList = undefined;
    this.info = undefined;
    const hello = new Promise<LauncherInfo>((resolve) => {
      this.helloWaiter = resolve;
    });
    this.sendJson({ type: 'hello-browser' });
    const info = await hello;
    this.helloWaiter = undefined;
    if (!isSupportedVersion(info.version)) {
      const err = new InstrumentError(
        'PROTOCOL',
        `BlocklyProp Launcher ${info.version || '(version not given)'} is too old: version ${MINIMUM_LAUNCHER_VERSION} or newer is needed. ` +
          `Install the current Launcher from parallax.com, then redeploy.`,
        { reason: 'launcherTooOld', version: info.version || '(version not given)', minimum: MINIMUM_LAUNCHER_VERSION },
      );
      // Retrying cannot make the Launcher newer: stop instead of reconnecting in a loop.
      this.fail(err);
      throw err;
    }
    this.info = info;
    this.sendJson({ type: 'port-list-request' });
  }

  protected override onText(text: string): void {
    const message = parseIncoming(text);
    if (!message) return;
    switch (message.kind) {
      case 'hello':
        this.helloWaiter?.(message.info);
        return;
      case 'ports':
        this.updatePorts(cleanPorts(message.ports));
        return;
      case 'ui':
        this.activeLoad?.handleUi(message.action, this.decodeUiText(message.msg));
        return;
      case 'terminal-data':
        this.deliverTerminalData(message.packetId, message.data);
        return;
      case 'terminal-error':
        this.deliverTerminalError(message.text);
        return;
      default:
        return;
    }
  }

  private async runLoad(request: LoadRequest, onProgress?: (progress: LoadProgress) => void): Promise<LoadResult> {
    await this.whenConnected(this.connectWaitMs);
    const port = await this.choosePort(request.port);
    const load = new ActiveLoad(request, port, onProgress, request.timeoutMs ?? this.loadTimeoutMs);
    this.activeLoad = load;
    try {
      this.sendJson({ type: 'load-prop', action: request.action, portPath: port, payload: request.image.toString('base64'), debug: request.debug });
    } catch (err) {
      load.abort(`could not send the image to the Launcher: ${errorMessage(err)}`);
    }
    const result = await load.result;
    if (this.activeLoad === load) this.activeLoad = undefined;
    return result;
  }

  /** The named port if the Launcher lists it, else the first listed; refuses before anything is sent. */
  private async choosePort(requested: string | undefined): Promise<string> {
    const ports = await this.currentPorts(!requested);
    if (!requested) return ports[0]!;
    if (ports.includes(requested)) return requested;
    const listed = ports.join(', ');
    throw new InstrumentError(
      'BAD_INPUT',
      `port "${requested}" is not in the Launcher's port list (${listed || 'empty'}); ` +
        `connect the board, pick a listed port, or leave the port empty for the first available`,
      // An empty list has its own sentence: "empty" is a word to translate, not a port name.
      { reason: listed ? 'launcherPortNotListed' : 'launcherPortListEmpty', port: requested, ports, listed },
    );
  }

  /**
   * The port list, waiting for the first one (and, when `nonEmpty`, for at least one port). The list
   * that satisfied the wait is the one returned: another may replace it (or a disconnect clear it)
   * before the caller runs on.
   */
  private async currentPorts(nonEmpty: boolean): Promise<string[]> {
    const ready = (ports: string[] | undefined): ports is string[] => ports !== undefined && (!nonEmpty || ports.length > 0);
    const now = this.portList;
    if (ready(now)) return now;
    let listener: ((ports: string[]) => void) | undefined;
    const arrived = new Promise<string[]>((resolve) => {
      listener = (ports) => {
        if (ready(ports)) resolve(ports);
      };
      this.on('ports', listener);
    });
    try {
      return await withTimeout(arrived, this.portWaitMs, () =>
        nonEmpty && this.portList !== undefined
          ? new InstrumentError('BAD_INPUT', `the Launcher lists no ports: connect a Propeller board (USB or Wi-Fi) and try again`, {
              reason: 'launcherNoPorts',
            })
          : new InstrumentError('TIMEOUT', `the Launcher did not send its port list within ${secondsOf(this.portWaitMs)} s`, {
              reason: 'launcherNoPortList',
              timeoutSeconds: secondsOf(this.portWaitMs),
            }),
      );
    } finally {
      if (listener) this.off('ports', listener);
    }
  }

  private updatePorts(ports: string[]): void {
    const previous = this.portList;
    this.portList = ports;
    if (previous && previous.length === ports.length && previous.every((p, i) => p === ports[i])) return;
    this.emit('ports', [...ports]);
  }

  private decodeUiText(msg: string | undefined): string | undefined {
    if (msg === undefined || !this.info?.b64Msg || msg.startsWith('\r') || !/^[A-Za-z0-9+/]+=*$/.test(msg)) return msg;
    return Buffer.from(msg, 'base64').toString('utf8');
  }

  private deliverTerminalData(packetId: number, data: Buffer): void {
    const terminal = this.terminal;
    if (!terminal) return;
    const gap = terminal.packets.next(packetId);
    terminal.confirmed = true;
    for (const session of terminal.sessions) {
      session.setConfirmed(true);
      if (gap) session.emit('gap', gap);
      session.emit('data', data);
    }
  }

  private deliverTerminalError(text: string): void {
    const terminal = this.terminal;
    if (!terminal) return;
    const line = oneLine(text);
    // "Port X not found" also answers a close of a port we have since left: only the open port's counts.
    const named = /^Port '?(.+?)'? not found/i.exec(line);
    if (named && named[1] !== terminal.port) return;
    const err = line
      ? new InstrumentError('REMOTE', `Launcher: ${line}`, { reason: 'launcherTerminalError', port: terminal.port, text: line })
      : new InstrumentError(
          'REMOTE',
          `the Launcher reported an error on the terminal for ${terminal.port} without saying what; check the board and its port`,
          { reason: 'launcherTerminalErrorWithoutText', port: terminal.port },
        );
    for (const session of terminal.sessions) session.deliverError(err);
  }

  private sendOpen(terminal: OpenTerminal): void {
    terminal.packets.reset();
    // Until the Launcher sends data from the port, nothing says the open worked.
    terminal.confirmed = false;
    for (const session of terminal.sessions) session.setConfirmed(false);
    const outTo = terminal.options.mode === 'graph' ? 'graph' : 'terminal';
    this.sendJson({ type: 'serial-terminal', action: 'open', outTo, portPath: terminal.port, baudrate: terminal.options.baudrate, msg: 'none' });
  }

  /** The Launcher forgets an open terminal with the websocket: open it again on the new one. */
  private reopenTerminal(): void {
    if (this.terminal && this.terminal.sessions.size > 0) this.sendOpen(this.terminal);
  }

  private onDisconnected(err: Error | undefined): void {
    this.portList = undefined;
    this.activeLoad?.disconnected(err ? err.message : 'connection closed');
  }
}
