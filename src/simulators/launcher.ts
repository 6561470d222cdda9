import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { FlowConfigNode, RunningSimulator, SimulatorDefinition, SimulatorStartOptions } from './simulator';
import { SimulatorOptions, closeServer, listen } from './simulator-kit';

/**
 * A BlocklyProp Launcher stand-in (protocols/blocklyprop-launcher.md): hello, the port list every
 * 5 s per port-list-request, load-prop progress sequences for RAM and EEPROM with every failure,
 * serial-terminal with a program that prints (packetIDs, 1492-byte / 100 ms batching) and echoes,
 * the terminal error messages, and no answer to pings.
 */

/** A one-shot fault for the next load: a Launcher error id, the id-less bad-image text, silence, or a dropped socket. */
export type LoadFault = number | 'checksum' | 'stall' | 'drop';

export interface LauncherSimulatorOptions {
  host?: string;
  port?: number;
  /** Reported in hello-client (default 1.0.7, the last release). */
  version?: string;
  /** Sent only when set (today's Launcher sends neither). */
  api?: number;
  b64Msg?: boolean;
  /** Port names (default COM3 and a Wi-Fi module). */
  ports?: string[];
  /** Message type of the list: the real Launcher says port-list, the published API port-list-response. */
  listType?: 'port-list' | 'port-list-response';
  portListIntervalMs?: number;
  /** Pause between load progress messages. */
  stepMs?: number;
  /** How often the simulated program prints a line. */
  printIntervalMs?: number;
  log?: (line: string) => void;
}

export interface ReceivedLoad {
  action: string;
  portPath: string;
  debug: string;
  bytes: number;
}

const MAX_BATCH = 1492;
const BATCH_MS = 100;

interface Client {
  socket: WebSocket;
  helloDone: boolean;
  timers: Set<NodeJS.Timeout>;
  /** Repeating port-list timers started by this client's requests. */
  portTimers: number;
  /** Pauses of a running load, ended early when the client goes. */
  waiters: Set<() => void>;
  terminal: { port: string; outTo: string; printTimer: NodeJS.Timeout; count: number } | undefined;
  pending: Buffer[];
  flushTimer: NodeJS.Timeout | undefined;
  /**
   * packetID per port as this client sees it. Each client runs its own simulated board, so the
   * numbering is per client: several flows on one simulator (the demo) must not see each other's packets as gaps.
   */
  packetIds: Map<string, number>;
}

export class LauncherSimulator {
  readonly ports: string[];
  /** Every load-prop received, in order. */
  readonly loads: ReceivedLoad[] = [];
  /** Data the client wrote to a terminal, as bytes. */
  readonly terminalInput: Buffer[] = [];
  /** Counters tests use to prove behaviour. */
  pingsReceived = 0;
  portListRequests = 0;
  maxConcurrentLoads = 0;
  /** One-shot faults, consumed by the next load (per port when keyed by port). */
  nextLoadFault: LoadFault | undefined;
  readonly portFaults = new Map<string, LoadFault>();
  /** Ports whose terminal open answers "Failed to connect." */
  readonly unconnectablePorts = new Set<string>();
  private activeLoads = 0;
  private dropPackets = 0;
  private readonly clients = new Set<Client>();
  private readonly options: Required<Omit<LauncherSimulatorOptions, 'api' | 'b64Msg' | 'log' | 'host' | 'port'>> & LauncherSimulatorOptions;

  private constructor(
    private readonly http: http.Server,
    private readonly server: WebSocketServer,
    options: LauncherSimulatorOptions,
  ) {
    this.options = {
      version: '1.0.7',
      ports: ['COM3', 'wx-1a2b3c'],
      listType: 'port-list',
      portListIntervalMs: 5_000,
      stepMs: 10,
      printIntervalMs: 500,
      ...(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as LauncherSimulatorOptions),
    };
    this.ports = [...this.options.ports];
    server.on('connection', (socket) => this.accept(socket));
  }

  static async start(options: LauncherSimulatorOptions = {}): Promise<LauncherSimulator> {
    // Plain HTTP gets "426 Upgrade Required", as from any websocket-only server.
    const server = http.createServer((_req, res) => res.writeHead(426).end(http.STATUS_CODES[426]));
    await listen(server, { host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
    // autoPong off: the real Launcher never answers pings, and clients must cope.
    return new LauncherSimulator(server, new WebSocketServer({ server, autoPong: false }), options);
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Websockets open right now (for leak checks). */
  get connectionCount(): number {
    return this.clients.size;
  }

  /** Repeating port-list timers running for connected clients (one per port-list-request). */
  get portListTimers(): number {
    let count = 0;
    for (const client of this.clients) count += client.portTimers;
    return count;
  }

  /** Change the port list; every client with a running list timer hears it at its next tick. */
  setPorts(ports: string[]): void {
    this.ports.splice(0, this.ports.length, ...ports);
  }

  /** Skip the next `count` packetIDs, as if packets were lost. */
  dropNextPackets(count = 1): void {
    this.dropPackets += count;
  }

  /** Close every client socket (as when the Launcher quits). */
  disconnectAll(): void {
    for (const client of this.clients) client.socket.terminate();
  }

  /** Send `totalBytes` of terminal data to every open terminal (on `port`, if given) as fast as the socket takes it (benchmarks). */
  async flood(totalBytes: number, port?: string): Promise<void> {
    const chunk = Buffer.alloc(MAX_BATCH, 0x41);
    for (const client of this.clients) {
      if (!client.terminal || (port !== undefined && client.terminal.port !== port)) continue;
      for (let sent = 0; sent < totalBytes; sent += MAX_BATCH) {
        const data = sent + MAX_BATCH <= totalBytes ? chunk : chunk.subarray(0, totalBytes - sent);
        // Queue freely, but wait for the socket to drain past 1 MB so memory stays flat.
        if (client.socket.bufferedAmount > 1_000_000) await new Promise<void>((resolve) => this.sendPacket(client, data, resolve));
        else this.sendPacket(client, data);
      }
    }
  }

  async close(): Promise<void> {
    for (const client of this.clients) this.drop(client);
    await closeServer(this.server);
    await closeServer(this.http);
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private accept(socket: WebSocket): void {
    const client: Client = {
      socket,
      helloDone: false,
      timers: new Set(),
      portTimers: 0,
      waiters: new Set(),
      terminal: undefined,
      pending: [],
      flushTimer: undefined,
      packetIds: new Map(),
    };
    this.clients.add(client);
    this.log('client connected');
    socket.on('ping', () => {
      this.pingsReceived += 1;
    });
    socket.on('message', (data, isBinary) => {
      if (!isBinary) this.handle(client, data.toString());
    });
    socket.on('close', () => {
      this.drop(client);
      this.log('client disconnected');
    });
    socket.on('error', () => undefined);
  }

  private drop(client: Client): void {
    for (const timer of client.timers) clearTimeout(timer);
    client.timers.clear();
    this.clients.delete(client);
    for (const resolve of client.waiters) resolve();
    client.waiters.clear();
    this.stopTerminal(client);
    client.socket.terminate();
  }

  private send(client: Client, value: unknown): void {
    if (client.socket.readyState === WebSocket.OPEN) client.socket.send(JSON.stringify(value));
  }

  private handle(client: Client, text: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    switch (message.type) {
      case 'hello-browser': {
        client.helloDone = true;
        const hello: Record<string, unknown> = { type: 'hello-client', version: this.options.version };
        if (this.options.api !== undefined) hello.api = String(this.options.api);
        if (this.options.b64Msg !== undefined) hello.b64Msg = String(this.options.b64Msg);
        this.send(client, hello);
        return;
      }
      case 'port-list-request': {
        // Like the real Launcher, every request starts one more repeating timer.
        this.portListRequests += 1;
        this.sendPorts(client);
        const timer = setInterval(() => this.sendPorts(client), this.options.portListIntervalMs);
        client.timers.add(timer);
        client.portTimers += 1;
        return;
      }
      case 'pref-port':
        this.sendPorts(client);
        return;
      case 'load-prop':
        void this.playLoad(client, message);
        return;
      case 'serial-terminal':
        this.terminalRequest(client, message);
        return;
      default:
        return;
    }
  }

  private sendPorts(client: Client): void {
    if (this.activeLoads === 0) this.send(client, { type: this.options.listType, ports: [...this.ports] });
  }

  /** A pause inside a client's load; ends at once when that client has gone, so the load unwinds. */
  private wait(client: Client, ms: number): Promise<void> {
    if (!this.clients.has(client)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        client.timers.delete(timer);
        client.waiters.delete(resolve);
        resolve();
      }, ms);
      client.timers.add(timer);
      client.waiters.add(resolve);
    });
  }

  private async playLoad(client: Client, message: Record<string, unknown>): Promise<void> {
    const portPath = String(message.portPath ?? '');
    const action = String(message.action ?? 'RAM');
    const debug = String(message.debug ?? 'none');
    const image = Buffer.from(String(message.payload ?? ''), 'base64');
    this.loads.push({ action, portPath, debug, bytes: image.length });
    let fault: LoadFault | undefined = this.portFaults.get(portPath) ?? this.nextLoadFault;
    this.portFaults.delete(portPath);
    this.nextLoadFault = undefined;
    if (fault === undefined && !this.ports.includes(portPath)) fault = 130;
    if (fault === undefined && !imageChecksumOk(image)) fault = 'checksum';
    // A full 32 KB .eeprom image has the call frame counted twice by the Launcher (see the protocol notes).
    if (fault === undefined && image.length === 32768) fault = 125;
    this.activeLoads += 1;
    this.maxConcurrentLoads = Math.max(this.maxConcurrentLoads, this.activeLoads);
    const say = async (text: string): Promise<void> => {
      await this.wait(client, this.options.stepMs);
      this.send(client, { type: 'ui-command', action: 'message-compile', msg: `\r${text}` });
    };
    const error = async (id: number): Promise<void> => {
      await say(`${String(id).padStart(3, '0')}-Error: ${ERROR_TEXT[id] ?? 'Unknown error'}${id === 130 || id === 117 ? ` ${portPath}` : ''}`);
      await say('102-Error: Download failed!');
    };
    try {
      if (fault === 'checksum') {
        await say('Error: Invalid checksum in .binary or .eeprom data');
        return;
      }
      if (fault === 130 || fault === 117) return await error(fault);
      await say(`000-Scanning port ${portPath}`);
      if (fault === 104 || fault === 119 || fault === 124) return await error(fault);
      await say('000-Found Propeller');
      await say('000-Ready for Launch');
      const packets = Math.max(1, Math.ceil(image.length / 2048));
      for (let i = 0; i < packets; i += 1) {
        await say('002-Downloading');
        if (fault === 'drop' && i === 0) {
          client.socket.terminate();
          return;
        }
      }
      if (fault === 'stall') return;
      if (fault === 128 || fault === 129 || fault === 199) return await error(fault);
      await say('003-Verifying RAM');
      if (fault === 125) return await error(125);
      if (action === 'EEPROM') {
        await say('012-Programming and verifying EEPROM');
        if (fault === 127) return await error(127);
      }
      if (typeof fault === 'number') return await error(fault);
      await say('000-Launching');
      await say('005-Download successful!');
      if (debug === 'term' || debug === 'graph') {
        await this.wait(client, this.options.stepMs);
        this.send(client, { type: 'ui-command', action: debug === 'graph' ? 'open-graph' : 'open-terminal' });
        this.send(client, { type: 'ui-command', action: 'close-compile' });
      }
      for (const other of this.clients) if (other.terminal?.port === portPath) this.print(other, 'Program restarted\r\n');
    } finally {
      this.activeLoads -= 1;
    }
  }

  private terminalRequest(client: Client, message: Record<string, unknown>): void {
    const port = String(message.portPath ?? '');
    const action = message.action;
    if (!this.ports.includes(port)) {
      this.send(client, { type: 'serial-terminal', msg: `Port ${port} not found.\rPlease close this terminal and select an existing port.` });
      return;
    }
    if (action === 'open') {
      if (this.unconnectablePorts.has(port)) {
        this.send(client, { type: 'serial-terminal', msg: 'Failed to connect.\rPlease close this terminal and select a connected port.' });
        return;
      }
      this.stopTerminal(client);
      const outTo = String(message.outTo ?? 'terminal');
      const terminal = { port, outTo, count: 0, printTimer: setInterval(() => this.tick(client), this.options.printIntervalMs) };
      client.terminal = terminal;
      this.print(client, outTo === 'graph' ? '' : 'Hello from the simulated Propeller\r\n');
    } else if (action === 'close') {
      this.stopTerminal(client);
    } else if (action === 'msg') {
      const text = String(message.msg ?? '');
      const bytes = this.options.b64Msg ? Buffer.from(text, 'base64') : Buffer.from(text, 'latin1');
      this.terminalInput.push(bytes);
      // The program echoes what it receives, as a terminal demo would.
      if (client.terminal?.port === port) this.print(client, bytes);
    }
  }

  private tick(client: Client): void {
    const terminal = client.terminal;
    if (!terminal) return;
    terminal.count += 1;
    if (terminal.outTo === 'graph') {
      const angle = terminal.count / 5;
      this.print(client, `${Math.round(100 * Math.sin(angle))},${Math.round(100 * Math.cos(angle))}\r`);
    } else {
      this.print(client, `count = ${terminal.count}\r\n`);
    }
  }

  private stopTerminal(client: Client): void {
    if (client.terminal) clearInterval(client.terminal.printTimer);
    client.terminal = undefined;
    clearTimeout(client.flushTimer);
    client.flushTimer = undefined;
    client.pending = [];
  }

  /** Output is batched like the Launcher's: up to 1492 bytes or 100 ms. */
  private print(client: Client, data: string | Buffer): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    if (bytes.length === 0 || !client.terminal) return;
    client.pending.push(bytes);
    const size = client.pending.reduce((n, b) => n + b.length, 0);
    if (size >= MAX_BATCH) this.flush(client);
    else if (!client.flushTimer) client.flushTimer = setTimeout(() => this.flush(client), BATCH_MS);
  }

  private flush(client: Client): void {
    clearTimeout(client.flushTimer);
    client.flushTimer = undefined;
    let all = Buffer.concat(client.pending);
    client.pending = [];
    while (all.length > 0) {
      this.sendPacket(client, all.subarray(0, MAX_BATCH));
      all = all.subarray(MAX_BATCH);
    }
  }

  private sendPacket(client: Client, data: Buffer, sent?: () => void): void {
    const port = client.terminal?.port ?? '';
    let id = client.packetIds.get(port) ?? 0;
    id += this.dropPackets;
    this.dropPackets = 0;
    client.packetIds.set(port, id + 1);
    const text = JSON.stringify({ type: 'serial-terminal', packetID: id, msg: data.toString('base64') });
    if (client.socket.readyState === WebSocket.OPEN) client.socket.send(text, () => sent?.());
    else sent?.();
  }
}

const ERROR_TEXT: Record<number, string> = {
  104: 'Propeller not found',
  117: 'Can not open port',
  119: 'Can not set port to baudrate 115200',
  124: 'Found Propeller version 2 - expected version 1',
  125: 'RAM checksum failed',
  127: 'EEPROM verify failed',
  128: 'Communication lost',
  129: 'Loader failed',
  130: 'Can not find port',
  131: 'Can not close port',
  199: 'Communication failed',
};

/** The Launcher's own check: .binary bytes + call frame sum to 0; a 32 KB .eeprom sums to 0; ELF is parsed (accepted here). */
function imageChecksumOk(image: Buffer): boolean {
  if (image.length < 16) return false;
  if (image.readUInt32BE(0) === 0x7f454c46) return true;
  let sum = 0;
  for (const byte of image) sum += byte;
  return image.length === 32768 ? (sum & 0xff) === 0 : ((sum + 0xec) & 0xff) === 0;
}

export const simulator: SimulatorDefinition = {
  name: 'launcher',
  summary: 'BlocklyProp Launcher (Propeller 1 loads and serial terminal over a websocket)',
  optionHelp: [
    '--version X.Y.Z   version reported in hello-client (default 1.0.7)',
    '--ports A,B       port names (default COM3,wx-1a2b3c)',
    '--list-type T     port-list (default, as the real Launcher) or port-list-response',
    "--api N --b64     announce an API level and the b64Msg flag (today's Launcher sends neither)",
    '--step-ms N       pause between load progress messages (default 10)',
  ],
  async start(options: SimulatorStartOptions): Promise<RunningSimulator> {
    const opts = new SimulatorOptions(options);
    const sim = await LauncherSimulator.start({
      ...opts.common,
      version: opts.text('version'),
      ports: opts.list('ports'),
      listType: opts.choice('list-type', ['port-list', 'port-list-response'] as const),
      api: opts.number('api', { integer: true, min: 0 }),
      b64Msg: opts.flag('b64') || undefined,
      stepMs: opts.number('step-ms', { min: 0 }),
    });
    return {
      endpoints: [`${sim.url} (BlocklyProp Launcher websocket)`],
      configure(node: FlowConfigNode) {
        if (node.type !== 'propeller-launcher') return undefined;
        node.url = sim.url;
        return {};
      },
      close: () => sim.close(),
    };
  },
};
