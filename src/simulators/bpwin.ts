import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FlowConfigNode, RunningSimulator, SimulatorDefinition, SimulatorStartOptions } from './simulator';
import { SimulatorOptions, SocketSet, closeServer, listen } from './simulator-kit';

/**
 * A BPWin REST + /ws simulator, after the BPWin REST API v1.2 document and what the vendor's
 * DataPanel client expects: a 64-bit /auth challenge, 403 for a wrong challenge or passphrase,
 * APS autohandler and manual modes, a job session whose devices pass and fail with Appendix B
 * result codes, and events for file loads, job begin/complete/aborts and every socket.
 */
export type SimMode = 'aps' | 'manual';
export type SimFault = 'http500' | 'malformed' | 'hang';
export type MachineStatus = 'Active' | 'Idle' | 'Paused' | 'Error';

export interface BpwinSimulatorOptions {
  host?: string;
  port?: number;
  /** Contents of Auth.txt; '' = open API. */
  passphrase?: string;
  /**
   * Whether the /ws upgrade must carry the challenge headers (default true). BPWin's document does
   * not say; clients send them anyway, and a simulator that demands them tests that they do.
   */
  wsAuth?: boolean;
  mode?: SimMode;
  /** Run jobs by itself, one after another (the demo); tests drive it by hand. */
  autorun?: boolean;
  /** Time per device in autorun, in ms. */
  cycleMs?: number;
  sites?: number;
  socketsPerSite?: number;
  log?: (line: string) => void;
}

interface Session {
  quantity: number;
  passed: number;
  failed: number;
  active: Set<string>;
  startedAt: number;
  idleMs: number;
  idleSince: number | undefined;
  status: MachineStatus;
}

const APS_SERIAL = 'H3911910180556';
const DP_CHECKSUM = 'F402D078h';
const PART_NUMBER = 'FVE4ASM08MLPA';
const AUTH_FAILED = '{"Success":0,"Message":"Authentication failed. The passphrase or Random Challenge Number is incorrect."}';
const NO_SESSION = '{"Success":0,"Message":"Job statistics are only available when job session is in progress. "}';
/** Failure codes a real line sees most, weighted (Appendix B). */
const FAILURES = [26, 26, 26, 28, 28, 14, 15, 23, 56, 59, 4];
const BP_FILE = 'C:\\APITestFile\\APITestBp.bp';
const ABP_FILE = 'C:\\APITestFile\\APITestAbp.abp';
const DATA_PATTERN = 'APITestDataPattern.bin';

/**
 * A random challenge in (2^53, 2^63): JSON.parse cannot hold it, which is the point. Odd, because an
 * even one can happen to be a double exactly (788510512269207900 is), and then rounding shows nothing.
 */
export function newChallenge(): string {
  const low = 2n ** 53n + 1n;
  const span = 2n ** 63n - 1n - low;
  const random = BigInt(`0x${crypto.randomBytes(8).toString('hex')}`);
  return ((low + (random % span)) | 1n).toString();
}

/** "2023-12-08 17:08:16 -0600", BPWin's local-time format. */
export function bpwinTimestamp(date = new Date()): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return `${day} ${time} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

function clock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}`;
}

/** Event text the way BPWin writes it; `unescaped` values go in verbatim (BPWin does not escape paths). */
export function eventText(fields: Record<string, string>, unescaped: Record<string, string> = {}): string {
  const parts = [`"Category" : "Event"`];
  for (const [key, value] of Object.entries(fields)) parts.push(`${JSON.stringify(key)} : ${JSON.stringify(value)}`);
  for (const [key, value] of Object.entries(unescaped)) parts.push(`${JSON.stringify(key)}: "${value}"`);
  parts.push(`"Timestamp" : "${bpwinTimestamp()}"`);
  return `{\n${parts.join(',\n')}\n}`;
}

/** One request as the simulator answered it, for tests that count what a client sends. */
export interface SimRequest {
  path: string;
  status: number;
  at: number;
}

/** The request log keeps the most recent entries only: a long demo must not grow without bound. */
const REQUEST_LOG_LIMIT = 10_000;

export class BpwinSimulator {
  challenge = newChallenge();
  /** The passphrase in force (BPWin read Auth.txt when it started). */
  passphrase: string;
  wsAuth: boolean;
  mode: SimMode;
  readonly host: string;
  port: number;
  readonly sites: number;
  readonly socketsPerSite: number;
  readonly cycleMs: number;
  /** Requests seen per path, for tests (e.g. how often /auth was asked). */
  readonly hits = new Map<string, number>();
  /** Every request (REST and /ws upgrades) with the status it got, oldest first. */
  readonly requests: SimRequest[] = [];
  /** Auth.txt as last written; BPWin reads it at start only, so it applies at the next restart(). */
  private authFile: string | undefined;
  jobLoaded = false;
  deviceSelected = false;
  session: Session | undefined;
  private readonly faults = new Map<string, SimFault>();
  private readonly autorun: boolean;
  private readonly log: (line: string) => void;
  private server: http.Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly sockets = new SocketSet();
  private readonly clients = new Set<WebSocket>();
  private autoTimer: NodeJS.Timeout | undefined;
  private nextSocket = 0;
  private jobsRun = 0;

  constructor(options: BpwinSimulatorOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.passphrase = options.passphrase ?? '';
    this.wsAuth = options.wsAuth ?? true;
    this.mode = options.mode ?? 'aps';
    this.autorun = options.autorun ?? false;
    this.cycleMs = Math.max(20, options.cycleMs ?? 700);
    this.sites = Math.max(1, Math.min(26, options.sites ?? 4));
    this.socketsPerSite = Math.max(1, Math.min(26, options.socketsPerSite ?? 4));
    this.log = options.log ?? ((): void => undefined);
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Open TCP connections (HTTP keep-alive and websockets), to check clients leak nothing. */
  get openConnections(): number {
    return this.sockets.size;
  }

  get wsClients(): number {
    return this.clients.size;
  }

  hitCount(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  /** How many requests (REST and /ws) were answered with HTTP 403 since `since` (ms since the epoch). */
  refusals(since = 0): number {
    return this.requests.filter((r) => r.status === 403 && r.at >= since).length;
  }

  /**
   * Change C:\BP\Auth.txt on the BPWin PC ('' = open API). Like BPWin, the simulator goes on with
   * the passphrase it started with until restart().
   */
  writeAuthFile(passphrase: string): void {
    this.authFile = passphrase;
  }

  /** Listen (again, on the same port after a stop). */
  async start(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    const wss = new WebSocketServer({ noServer: true });
    this.sockets.watch(server);
    server.on('upgrade', (req, socket, head) => this.upgrade(wss, req, socket as net.Socket, head));
    this.port = await listen(server, { port: this.port, host: this.host });
    this.server = server;
    this.wss = wss;
    if (this.autorun) this.scheduleAuto(this.cycleMs);
    this.log(
      `BPWin simulator listening on ${this.url} ` +
        `(${this.passphrase ? 'passphrase required' : 'open API'}, ${this.mode === 'aps' ? 'APS autohandler' : 'manual'} mode)`,
    );
  }

  /** Kill: drop every connection and stop listening, as when BPWin is closed. */
  async stop(): Promise<void> {
    clearTimeout(this.autoTimer);
    this.autoTimer = undefined;
    const server = this.server;
    this.server = undefined;
    for (const client of this.clients) client.terminate();
    this.clients.clear();
    this.wss?.close();
    this.wss = undefined;
    this.sockets.destroyAll();
    await closeServer(server);
  }

  /** BPWin closed and opened again: same port, new challenge, job session gone, Auth.txt read again. */
  async restart(): Promise<void> {
    await this.stop();
    this.challenge = newChallenge();
    this.session = undefined;
    if (this.authFile !== undefined) this.passphrase = this.authFile;
    this.authFile = undefined;
    await this.start();
  }

  close(): Promise<void> {
    return this.stop();
  }

  /** Make one path misbehave until cleared (undefined clears). */
  setFault(path: string, fault: SimFault | undefined): void {
    if (fault) this.faults.set(path, fault);
    else this.faults.delete(path);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Send a text to every /ws client, exactly as given. */
  broadcast(text: string): void {
    for (const client of this.clients) client.send(text);
  }

  /** Send `count` copies of one event as fast as the sockets take them (benchmarks). */
  async blast(count: number, text = this.socketEventText('1A', 'Fail', 26)): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      for (const client of this.clients) client.send(text);
      if (i % 500 === 499) {
        while ([...this.clients].some((c) => c.bufferedAmount > 4 * 1024 * 1024)) await new Promise((r) => setTimeout(r, 1));
        await new Promise((r) => setImmediate(r));
      }
    }
  }

  /** Files loaded in BPWin: a data pattern, a BP job file and an ABP workflow, each with its event. */
  loadJob(options: { fail?: boolean } = {}): void {
    const status = options.fail ? 'Fail' : 'Complete';
    this.broadcast(eventText({ Note: 'DataPattern', Operation: 'Load', Progress: options.fail ? '0' : '100', Status: status }));
    this.broadcast(eventText({ Note: 'JobFile', Operation: 'Load', Status: status }, { Directory: BP_FILE }));
    this.broadcast(eventText({ Note: 'JobFile', Operation: 'Load', Status: status }, { Directory: ABP_FILE }));
    if (!options.fail) {
      this.jobLoaded = true;
      this.deviceSelected = true;
    }
  }

  beginJob(quantity = 20): void {
    if (!this.jobLoaded) this.loadJob();
    this.session = { quantity, passed: 0, failed: 0, active: new Set(), startedAt: Date.now(), idleMs: 0, idleSince: undefined, status: 'Active' };
    this.nextSocket = 0;
    this.broadcast(eventText({ Note: 'Job', Status: 'Begin' }));
  }

  /** End the session: 0 complete, 1000 soft abort, 1001 hard abort. */
  completeJob(code: 0 | 1000 | 1001 = 0): void {
    this.session = undefined;
    this.broadcast(eventText({ Note: 'Job', Code: String(code), Status: 'Complete' }));
  }

  setMachineStatus(status: MachineStatus): void {
    const session = this.session;
    if (!session) return;
    const now = Date.now();
    if (status !== 'Active' && session.idleSince === undefined) session.idleSince = now;
    if (status === 'Active' && session.idleSince !== undefined) {
      session.idleMs += now - session.idleSince;
      session.idleSince = undefined;
    }
    session.status = status;
  }

  /** One device through one socket: Active, then Pass (code 0) or Fail with `resultCode`. */
  programDevice(siteSocket = this.nextSiteSocket(), resultCode?: number): { siteSocket: string; resultCode: number } {
    const session = this.session;
    const code = resultCode ?? (Math.random() < 0.08 ? FAILURES[Math.floor(Math.random() * FAILURES.length)]! : 0);
    this.broadcast(this.socketEventText(siteSocket, 'Active'));
    this.broadcast(this.socketEventText(siteSocket, code === 0 ? 'Pass' : 'Fail', code));
    if (session) {
      if (code === 0) session.passed += 1;
      else session.failed += 1;
    }
    return { siteSocket, resultCode: code };
  }

  socketEventText(siteSocket: string, status: 'Active' | 'Pass' | 'Fail', resultCode?: number): string {
    const site = Number.parseInt(siteSocket, 10) || 1;
    const fields: Record<string, string> = { 'APS Serial Number': APS_SERIAL, 'DP Checksum': DP_CHECKSUM, Note: 'SocketStatus' };
    if (status !== 'Active') fields.ResultCode = String(resultCode ?? 0);
    Object.assign(fields, {
      Site_SN: String(43190 + site),
      Site_Socket: siteSocket,
      Socket_PartNumber: PART_NUMBER,
      Socket_SN: `A002CA${(0xb0 + site).toString(16).toUpperCase()}`,
      Status: status,
    });
    return eventText(fields);
  }

  jobStats(): Record<string, unknown> | undefined {
    const s = this.session;
    if (!s) return undefined;
    const now = Date.now();
    const done = s.passed + s.failed;
    const elapsed = now - s.startedAt;
    const remainingDevices = Math.max(0, s.quantity - done - s.active.size);
    const common = {
      Job_Yield: done === 0 ? 0 : Math.round((s.passed / done) * 10000) / 100,
      Elapsed_Time: clock(elapsed),
    };
    const counts = { Passed_Device: s.passed, Failed_Device: s.failed, Active_Device: s.active.size, Remaining_Device: remainingDevices };
    if (this.mode === 'manual') return { ...common, ...counts };
    const idle = s.idleMs + (s.idleSince === undefined ? 0 : now - s.idleSince);
    const hours = elapsed / 3_600_000;
    const actual = hours > 0 ? Math.round(done / hours) : 0;
    const busyHours = (elapsed - idle) / 3_600_000;
    const potential = busyHours > 0 ? Math.max(actual, Math.round(done / busyHours)) : 0;
    return {
      Machine_Status: s.status,
      Red_Light_On: String(s.status === 'Error'),
      Amber_Light_On: String(s.status === 'Paused' || s.status === 'Idle'),
      Green_Light_On: String(s.status === 'Active'),
      ...common,
      Remaining_Time: done === 0 ? '--:--:--' : clock((elapsed / done) * remainingDevices),
      Idle_Time: clock(idle),
      Actual_DPH: actual,
      Potential_DPH: potential,
      ...counts,
    };
  }

  systemInfo(): Record<string, unknown> {
    const sites = [];
    for (let site = 1; site <= this.sites; site += 1) {
      const sockets = [];
      for (let socket = 1; socket <= this.socketsPerSite; socket += 1)
        sockets.push({ Ordinal: String(socket), Odometer: String(198200 + site * 10 + socket), TripOdometer: String(80380 + socket) });
      sites.push({
        Ordinal: String(site),
        SerialNumber: String(43190 + site),
        SocketModule: { Odometer: String(26350 + site), TripOdometer: String(26340 + site), Socket: sockets.length === 1 ? sockets[0] : sockets },
      });
    }
    return {
      BpWinVersion: '8.0.1',
      OperatorMode: 'No',
      Programmer: {
        Communication: { PortMode: '(USB)' },
        Model: 'BP-3928',
        SiteInfo: {
          MasterSite: '1',
          SocketModuleInfo: { Name: 'FX4ASM48TD', SocketsPerSite: String(this.socketsPerSite), DaughterCardName: 'WX4ASM48TD' },
          // One site arrives as an object, several as an array, as XML-to-JSON converters do.
          Site: sites.length === 1 ? sites[0] : sites,
        },
      },
    };
  }

  private nextSiteSocket(): string {
    const total = this.sites * this.socketsPerSite;
    const index = this.nextSocket % total;
    this.nextSocket += 1;
    return `${Math.floor(index / this.socketsPerSite) + 1}${String.fromCharCode(65 + (index % this.socketsPerSite))}`;
  }

  private authorized(req: http.IncomingMessage): boolean {
    if (this.passphrase === '') return true;
    return req.headers['random-challenge'] === this.challenge && req.headers.passphrase === this.passphrase;
  }

  private record(path: string, status: number): void {
    this.requests.push({ path, status, at: Date.now() });
    if (this.requests.length > REQUEST_LOG_LIMIT) this.requests.splice(0, this.requests.length - REQUEST_LOG_LIMIT);
  }

  private upgrade(wss: WebSocketServer, req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    this.hits.set('/ws', this.hitCount('/ws') + 1);
    const refused = path === '/ws' && this.wsAuth && !this.authorized(req);
    this.record('/ws', path !== '/ws' ? 404 : refused ? 403 : 101);
    if (path !== '/ws' || refused) {
      const status = path !== '/ws' ? '404 Not Found' : '403 Forbidden';
      socket.end(
        `HTTP/1.1 ${status}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(AUTH_FAILED)}\r\n` +
          `Connection: close\r\n\r\n${AUTH_FAILED}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      this.clients.add(ws);
      ws.on('close', () => this.clients.delete(ws));
      ws.on('error', () => undefined);
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    this.hits.set(path, this.hitCount(path) + 1);
    const send = (status: number, body: string): void => {
      this.record(path, status);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, '{"Success":0,"Message":"Only GET is supported."}');
    // The number goes out as bare digits, as BPWin writes it.
    if (path === '/auth') return send(200, `{ "Number" : ${this.challenge} }`);
    if (!this.authorized(req)) return send(403, AUTH_FAILED);
    const fault = this.faults.get(path);
    if (fault === 'hang') return;
    if (fault === 'http500') return send(500, '{"Success":0,"Message":"Internal server error (simulated)."}');
    if (fault === 'malformed') return send(200, '{"API_Version": "1.0", "BPWin_Version": ');
    const body = this.reply(path);
    if (body === undefined) return send(404, '{"Success":0,"Message":"Unknown endpoint."}');
    send(200, body);
  }

  private reply(path: string): string | undefined {
    switch (path) {
      case '/health':
        return '{"Success":1,"Message":"BPWin is ready."}';
      case '/version':
        return '{"API_Version":"1.0","BPWin_Version":"V8.0.1"}';
      case '/data/machine-name':
        return JSON.stringify(
          this.mode === 'aps'
            ? { Type: 'APS', Description: '4000 APS', Serial_Number: APS_SERIAL }
            : { Type: 'Manual', Description: null, Serial_Number: null },
        );
      case '/data/job-name':
        return JSON.stringify(
          this.jobLoaded
            ? { DataPattern_FileName: DATA_PATTERN, BP_FileName: BP_FILE, ABP_FileName: ABP_FILE }
            : { DataPattern_FileName: 'No Data Pattern File Loaded', BP_FileName: 'No Job File Loaded', ABP_FileName: 'No APS Workflow File Loaded' },
        );
      case '/data/selected-device':
        return JSON.stringify(
          this.deviceSelected
            ? { FullName: 'Winbond W25N01GVZEIG', Device: 'W25N01GVZEIG', Manufacturer: 'Winbond' }
            : { FullName: 'No Device Selected', Device: '', Manufacturer: '' },
        );
      case '/data/job-stats': {
        const stats = this.jobStats();
        return stats ? JSON.stringify(stats) : NO_SESSION;
      }
      case '/data/system-info':
        return JSON.stringify(this.systemInfo());
      default:
        return undefined;
    }
  }

  /** The demo's line: jobs of 40 devices, a short pause now and then, every fifth job soft-aborted. */
  private scheduleAuto(ms: number): void {
    clearTimeout(this.autoTimer);
    this.autoTimer = setTimeout(() => this.autoStep(), ms);
  }

  private autoStep(): void {
    if (!this.server) return;
    const session = this.session;
    if (!session) {
      this.jobsRun += 1;
      this.loadJob();
      this.beginJob(40);
      return this.scheduleAuto(this.cycleMs);
    }
    if (session.status !== 'Active') {
      this.setMachineStatus('Active');
      return this.scheduleAuto(this.cycleMs);
    }
    if (Math.random() < 0.03) {
      this.setMachineStatus('Paused');
      return this.scheduleAuto(this.cycleMs * 4);
    }
    this.programDevice();
    const done = session.passed + session.failed;
    if (this.jobsRun % 5 === 0 && done >= session.quantity / 2) {
      this.completeJob(1000);
      return this.scheduleAuto(this.cycleMs * 5);
    }
    if (done >= session.quantity) {
      this.completeJob(0);
      return this.scheduleAuto(this.cycleMs * 5);
    }
    this.scheduleAuto(this.cycleMs);
  }
}

export const simulator: SimulatorDefinition = {
  name: 'bpwin',
  summary: 'BP Microsystems BPWin REST API and /ws events (job sessions that run by themselves)',
  optionHelp: [
    '--passphrase TEXT   require this passphrase (default: open API, as with an empty Auth.txt)',
    '--open-ws           accept /ws upgrades without the challenge headers',
    '--mode aps|manual   APS autohandler (default) or manual sites',
    '--cycle MS          time per programmed device (default 700)',
    '--no-autorun        do not run jobs by itself',
  ],
  async start(options: SimulatorStartOptions): Promise<RunningSimulator> {
    const opts = new SimulatorOptions(options);
    const sim = new BpwinSimulator({
      ...opts.common,
      passphrase: opts.text('passphrase') ?? '',
      wsAuth: opts.flag('open-ws') !== true,
      mode: opts.choice('mode', ['aps', 'manual'] as const),
      // NaN would survive Math.max and run the demo line on a zero-delay timer.
      cycleMs: opts.number('cycle', { above: 0, what: 'a time in ms' }),
      autorun: opts.flag('autorun') !== false,
    });
    await sim.start();
    return runningSimulator(sim);
  },
};

/** What the demo and labwire-sim hold of a started simulator; tests wrap their own instance the same way. */
export function runningSimulator(sim: BpwinSimulator): RunningSimulator {
  return {
    endpoints: [`${sim.url} (BPWin REST API, ws://${sim.host}:${sim.port}/ws events)`],
    configure(node: FlowConfigNode) {
      if (node.type !== 'bpwin-server') return undefined;
      node.host = sim.host;
      node.port = String(sim.port);
      return { credentials: { passphrase: sim.passphrase } };
    },
    close: () => sim.close(),
  };
}
