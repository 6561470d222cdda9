import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { WebSocketServer, WebSocket } from 'ws';
import { seededRandom } from '../protocols/common/seeded-random';
import { DEFAULT_BINS, DEFAULT_TESTS, generatePart, type SimBin, type SimTest } from '../protocols/semiate/part-generator';
import type { StdfRecord } from '../protocols/semiate/types';
import type { FlowConfigNode, RunningSimulator, SimulatorDefinition, SimulatorStartOptions } from './simulator';
import { SimulatorOptions, SocketSet, closeServer, listen } from './simulator-kit';
import { TimerSet } from './timer-set';

/**
 * A Semi-ATE tester: the master's state machine with N sites, its UI websocket (/ws) and its MQTT
 * topics on a broker (an embedded Aedes, or an external one such as mosquitto). Like the real
 * master it ignores commands that are not allowed in its state (it only logs them), reports its
 * state on the websocket about once a second (not at each change), and its test apps publish
 * results over MQTT the way Python's json.dumps writes them (bare Infinity, -Infinity, NaN).
 */
export interface SemiAteSimulatorOptions {
  host?: string;
  /** Websocket port (0 = any). */
  port?: number;
  /** Embedded broker's port (0 = any); ignored with brokerUrl. */
  mqttPort?: number;
  /** Use this broker instead of the embedded one, e.g. mqtt://127.0.0.1:1883. */
  brokerUrl?: string;
  /** Credentials the embedded broker requires (none when unset). */
  mqttUsername?: string;
  mqttPassword?: string;
  deviceId?: string;
  sites?: number;
  passRate?: number;
  bins?: SimBin[];
  tests?: SimTest[];
  seed?: number;
  /** Durations of the simulated work. */
  startupMs?: number;
  loadMs?: number;
  testMs?: number;
  unloadMs?: number;
  /** Websocket status period (the real master: about a second). */
  statusIntervalMs?: number;
  /** Also send the websocket status at once on every state change; the real master does not (default false). */
  statusOnChange?: boolean;
  /** The master's timeouts (real: load 180 s, test 30 s, unload 60 s). */
  loadTimeoutMs?: number;
  testTimeoutMs?: number;
  unloadTimeoutMs?: number;
  log?: (line: string) => void;
}

export type SimPhase = 'load' | 'next' | 'unload';

interface PartEntry {
  partId: string;
  site: string;
  records: StdfRecord[];
  pass: boolean;
  bin: SimBin;
}

const pad = (text: string, width: number): string => text.padEnd(width, ' ');

export class SemiAteSimulator {
  readonly options: Required<Omit<SemiAteSimulatorOptions, 'brokerUrl' | 'mqttUsername' | 'mqttPassword' | 'log'>> & SemiAteSimulatorOptions;
  state = 'connecting';
  errorMessage = '';
  lotNumber = '';
  /** Commands the master ignored because of its state, for tests to assert. */
  readonly ignored: string[] = [];
  /** Parts tested since the lot was loaded (a retest replaces the earlier entry). */
  readonly parts = new Map<string, PartEntry>();
  /** Parts per site and soft bin, kept as parts come so yield and bin table stay cheap in a long lot. */
  private readonly binCounts = new Map<string, Map<number, number>>();
  private readonly faults = new Map<SimPhase, 'hang' | 'error'>();
  private httpServer: http.Server | undefined;
  private wss: WebSocketServer | undefined;
  private broker: { close(cb?: () => void): void; connectedClients: number } | undefined;
  private brokerServer: net.Server | undefined;
  private readonly brokerSockets = new SocketSet();
  private master: MqttClient | undefined;
  private readonly timers = new TimerSet();
  private statusTimer: NodeJS.Timeout | undefined;
  private random: () => number;
  private partCounter = 0;
  private prepared: Array<{ topic: string; mqtt: string; texts: string[] }> = [];
  private logLevel = 20;
  private userSettings = SemiAteSimulator.defaultSettings();
  private readonly logLines: Array<{ source: string; date: string; type: string; description: string }> = [];
  wsUrl = '';
  mqttUrl = '';

  constructor(options: SemiAteSimulatorOptions = {}) {
    this.options = {
      host: '127.0.0.1',
      port: 0,
      mqttPort: 0,
      deviceId: 'SCT-SIM-1',
      sites: 2,
      passRate: 0.9,
      bins: DEFAULT_BINS,
      tests: DEFAULT_TESTS,
      seed: 1,
      startupMs: 100,
      // A real load takes seconds: long enough to show as "loading" in a status sent once a second.
      loadMs: 1500,
      testMs: 20,
      unloadMs: 500,
      statusIntervalMs: 1000,
      statusOnChange: false,
      loadTimeoutMs: 180_000,
      testTimeoutMs: 30_000,
      unloadTimeoutMs: 60_000,
      // undefined (an option not given on the command line) must not erase a default
      ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)),
    };
    if (!Number.isInteger(this.options.sites) || this.options.sites < 1)
      throw new Error(`sites must be a whole number ≥ 1, not ${this.options.sites}`);
    if (!(this.options.passRate >= 0 && this.options.passRate <= 1))
      throw new Error(`pass rate must be between 0 and 1, not ${this.options.passRate}`);
    this.random = seededRandom(this.options.seed);
  }

  static defaultSettings(): Array<{ name: string; active: boolean; value: number }> {
    return ['stop_on_fail', 'single_step', 'stop_on_test', 'trigger_on_test', 'trigger_on_fail', 'trigger_site_specific'].map((name) => ({
      name,
      active: false,
      value: -1,
    }));
  }

  get siteIds(): string[] {
    return Array.from({ length: this.options.sites }, (_, i) => String(i));
  }

  /** Websocket clients plus MQTT clients other than the master itself. */
  get openConnections(): number {
    return (this.wss?.clients.size ?? 0) + (this.broker ? Math.max(0, this.broker.connectedClients - (this.master?.connected ? 1 : 0)) : 0);
  }

  async start(): Promise<void> {
    try {
      await this.listenAndConnect();
    } catch (err) {
      // Leave nothing listening behind a simulator that could not start (a taken port, an unreachable broker).
      await this.close();
      throw err;
    }
    this.statusTimer = setInterval(() => this.broadcastStatus(), this.options.statusIntervalMs);
    this.setState('connecting');
    this.timers.later(this.options.startupMs, () => this.setState('initialized'));
  }

  private async listenAndConnect(): Promise<void> {
    const { host } = this.options;
    if (!this.options.brokerUrl) {
      const { Aedes } = await import('aedes');
      const broker = await Aedes.createBroker();
      if (this.options.mqttUsername) {
        broker.authenticate = (_client, username, password, done) => {
          const ok = username === this.options.mqttUsername && password?.toString() === (this.options.mqttPassword ?? '');
          done(ok ? null : Object.assign(new Error('bad username or password'), { returnCode: 4 }), ok);
        };
      }
      this.broker = broker;
      this.brokerServer = net.createServer((socket) => {
        this.brokerSockets.add(socket);
        broker.handle(socket);
      });
      this.mqttUrl = `mqtt://${host}:${await listen(this.brokerServer, { port: this.options.mqttPort, host })}`;
    } else {
      this.mqttUrl = this.options.brokerUrl;
    }
    this.httpServer = http.createServer((_req, res) => res.writeHead(404).end('Semi-ATE simulator: the websocket is at /ws\n'));
    // Listen before the websocket server attaches: it re-emits the HTTP server's errors, where nothing would catch them.
    this.wsUrl = `ws://${host}:${await listen(this.httpServer, { port: this.options.port, host })}/ws`;
    this.wss = new WebSocketServer({ server: this.httpServer, path: '/ws' });
    this.wss.on('connection', (socket) => this.greet(socket));
    await this.connectMaster();
  }

  async close(): Promise<void> {
    clearInterval(this.statusTimer);
    this.timers.clear();
    for (const client of this.wss?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => (this.master ? this.master.end(true, {}, () => resolve()) : resolve()));
    this.wss?.close();
    this.brokerSockets.destroyAll();
    await closeServer(this.httpServer);
    await closeServer(this.brokerServer);
    await closeServer(this.broker);
  }

  /** Make the next load/next/unload hang until the master's timeout, or fail at once. */
  injectFault(phase: SimPhase, kind: 'hang' | 'error'): void {
    this.faults.set(phase, kind);
  }

  /** Cut every client connection (websocket and MQTT, not the master's own) to exercise reconnects. */
  dropClients(): void {
    for (const client of this.wss?.clients ?? []) client.terminate();
    const masterPort = (this.master?.stream as net.Socket | undefined)?.localPort;
    this.brokerSockets.destroyAll((socket) => socket.remotePort === masterPort);
  }

  /**
   * A command from another client — the tester's own UI, a prober — acted on at once, as the
   * master would; this client's view of the state learns of it only from what the master sends.
   */
  press(command: 'load' | 'next' | 'unload' | 'reset', lotNumber = 'OTHER'): void {
    this.command(command, command === 'load' ? { lot_number: lotNumber } : {}, () => undefined);
  }

  /** Publish `count` parts back to back, as a fast multi-site lot would (benchmarks). */
  burst(count: number): void {
    for (let i = 0; i < count; i++) this.testPart(String(i % this.options.sites), String(++this.partCounter));
  }

  /**
   * Benchmarks: test `count` parts now and keep every message they cause as text; sendPrepared()
   * then only writes them (as often as asked), so the consumer, not the simulator, sets the pace.
   */
  prepareBurst(count: number): void {
    this.prepared = [];
    for (let i = 0; i < count; i++) {
      const site = String(i % this.options.sites);
      const entry = this.recordPart(site, String(++this.partCounter));
      this.prepared.push({
        topic: `TestApp/testresult/site${site}`,
        mqtt: pythonJson({ type: 'testresult', payload: entry.records }),
        texts: [
          JSON.stringify({ type: 'testresult', payload: entry.records }),
          JSON.stringify({ type: 'yield', payload: this.yieldPayload() }),
          JSON.stringify({ type: 'bintable', payload: this.binTable() }),
        ],
      });
    }
  }

  /** Send the first `count` prepared parts (all by default) on the websocket, MQTT or both. */
  sendPrepared(count = this.prepared.length, via: 'websocket' | 'mqtt' | 'both' = 'both'): void {
    const clients = via === 'mqtt' ? [] : [...(this.wss?.clients ?? [])].filter((c) => c.readyState === WebSocket.OPEN);
    const master = via === 'websocket' ? undefined : this.master;
    for (const { topic, mqtt: text, texts } of this.prepared.slice(0, count)) {
      for (const client of clients) for (const text of texts) client.send(text);
      if (master?.connected) master.publish(`ate/${this.options.deviceId}/${topic}`, text, { qos: 2 });
    }
  }

  // ---- the master's state machine ----

  private command(name: string, body: Record<string, unknown>, reply: (type: string, payload: unknown) => void): void {
    const allowed: Record<string, string[]> = {
      load: ['initialized'],
      next: ['ready'],
      start: [],
      unload: ['ready'],
      reset: ['softerror'],
      usersettings: ['initialized', 'ready'],
    };
    if (allowed[name] && !allowed[name].includes(this.state)) {
      this.ignored.push(`${name}@${this.state}`);
      this.log('master', 'WARNING', `ignored command ${name} in state ${this.state}`);
      return;
    }
    switch (name) {
      case 'load':
        return this.load(String(body.lot_number ?? ''));
      case 'next':
        return this.next(body.sites);
      case 'unload':
        return this.phase('unload', 'unloading', this.options.unloadMs, this.options.unloadTimeoutMs, () => {
          this.lotNumber = '';
          this.setState('initialized');
        });
      case 'reset':
        this.errorMessage = '';
        this.faults.clear();
        this.setState('connecting');
        return this.timers.later(this.options.startupMs, () => this.setState('initialized'));
      case 'usersettings':
        this.userSettings = Array.isArray(body.payload) ? (body.payload as typeof this.userSettings) : this.userSettings;
        return this.broadcast('usersettings', this.settingsPayload());
      case 'getresults':
        return reply(
          'testresults',
          [...this.parts.values()].slice(-1000).map((p) => p.records),
        );
      case 'getlogs':
        return reply('logs', this.logLines.slice(-200));
      case 'getlogfile':
        return reply('logfile', {
          filename: `${this.options.deviceId}.log`,
          content: this.logLines.map((l) => `${l.date}|${l.type}|${l.description}`).join('\n'),
        });
      case 'setloglevel':
        this.logLevel = Number(body.level) || this.logLevel;
        return this.broadcast('usersettings', this.settingsPayload());
      case 'binMap':
        return this.log('master', 'INFO', `bin map requested for sBin ${String(body.sBin)} hBin ${String(body.hBin)}`);
      case 'identify':
        return reply('identify', { name: this.options.deviceId });
      case 'get-state':
        return reply('get-state', { state: this.state, message: this.errorMessage || null });
      case 'get-host':
        return reply('get-host', { host: this.options.host, port: Number(this.wsUrl.split(':')[2]?.split('/')[0]) });
      case 'site-layout':
        return this.log('master', 'INFO', 'site layout received');
      default:
        this.ignored.push(`${name}@${this.state}`);
        return this.log('master', 'WARNING', `unknown command ${name}`);
    }
  }

  private load(lot: string): void {
    this.lotNumber = lot;
    this.parts.clear();
    this.binCounts.clear();
    this.userSettings = SemiAteSimulator.defaultSettings();
    this.phase('load', 'loading', this.options.loadMs, this.options.loadTimeoutMs, () => {
      this.setState('ready');
      this.broadcast('usersettings', this.settingsPayload());
      this.broadcast('lotdata', this.lotData());
    });
  }

  private next(requested: unknown): void {
    // Like the master, test only sites it has: an unknown site id (a topic wildcard even) is not published to.
    const sites =
      Array.isArray(requested) && requested.length > 0
        ? (requested as Array<{ siteid?: unknown; partid?: unknown } | null>).flatMap((s) =>
            s !== null && typeof s === 'object' && this.siteIds.includes(String(s.siteid)) ? [s] : [],
          )
        : this.siteIds.map((siteid) => ({ siteid, partid: undefined }));
    if (sites.length === 0) {
      this.ignored.push(`next@${this.state}`);
      return this.log('master', 'WARNING', 'ignored next: none of its sites exists');
    }
    this.phase('next', 'testing', this.options.testMs, this.options.testTimeoutMs, () => {
      const response = sites.map((s) => {
        const site = String(s.siteid ?? '0');
        const entry = this.testPart(site, s.partid === undefined ? String(++this.partCounter) : String(s.partid));
        return { siteid: site, partid: entry.partId, binning: entry.bin.hBin, logflag: 0, additionalinfo: 0 };
      });
      this.setState('ready');
      this.publish('Master/response', { type: 'next', payload: { sites: response } });
    });
  }

  /** Run a phase: its work after `ms`, unless a fault makes it fail at once or time out like the real master. */
  private phase(phase: SimPhase, busyState: string, ms: number, timeoutMs: number, finish: () => void): void {
    const fault = this.faults.get(phase);
    this.faults.delete(phase);
    this.setState(busyState);
    if (fault === 'error') return this.timers.later(ms, () => this.softError(`${phase} failed on site 0`));
    if (fault === 'hang') return this.timers.later(timeoutMs, () => this.softError(`${phase} timeout`));
    this.timers.later(ms, finish);
  }

  private softError(message: string): void {
    this.errorMessage = message;
    this.log('master', 'ERROR', message);
    this.setState('softerror');
  }

  private testPart(site: string, partId: string): PartEntry {
    const entry = this.recordPart(site, partId);
    // The test app writes with Python's json.dumps; the master's websocket sends "inf"/"-inf" strings.
    this.publishText(`TestApp/testresult/site${site}`, pythonJson({ type: 'testresult', payload: entry.records }));
    this.broadcast('testresult', entry.records);
    this.broadcast('yield', this.yieldPayload());
    this.broadcast('bintable', this.binTable());
    return entry;
  }

  /** The test app's part: generated and counted (a retest of a part id replaces the earlier one). */
  private recordPart(site: string, partId: string): PartEntry {
    const generated = generatePart({
      site: Number(site),
      partId,
      tests: this.options.tests,
      bins: this.options.bins,
      passRate: this.options.passRate,
      random: this.random,
      testTimeMs: this.options.testMs,
    });
    const entry = { partId, site, ...generated };
    const earlier = this.parts.get(partId);
    if (earlier) this.countBin(earlier.site, earlier.bin.sBin, -1);
    this.parts.delete(partId);
    this.parts.set(partId, entry);
    this.countBin(site, entry.bin.sBin, 1);
    return entry;
  }

  private setState(state: string): void {
    if (state !== 'softerror') this.errorMessage = state === this.state ? this.errorMessage : '';
    this.state = state;
    this.log('master', 'INFO', `state ${state}`);
    if (this.options.statusOnChange) this.broadcastStatus();
    this.publish('Master/status', { type: 'status', interface_version: 1, state, payload: { state, message: this.errorMessage || null } });
    const control =
      state === 'loading'
        ? 'loading'
        : state === 'softerror'
          ? 'error'
          : state === 'connecting'
            ? 'resetting'
            : state === 'testing' || state === 'ready'
              ? 'busy'
              : 'idle';
    const app =
      state === 'testing' ? 'testing' : state === 'ready' ? 'idle' : state === 'unloading' || state === 'initialized' ? 'terminated' : 'starting';
    for (const site of this.siteIds) {
      this.publish(`Control/status/site${site}`, { type: 'status', interface_version: 1, payload: { state: control, error_message: '' } });
      this.publish(`TestApp/status/site${site}`, { type: 'status', state: app, payload: { state: app, message: '' } });
    }
  }

  // ---- websocket ----

  private greet(socket: WebSocket): void {
    const connectionid = randomUUID();
    const send = (type: string, payload: unknown): void => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type, payload }));
    };
    send('connectionid', { connectionid });
    send('masterconfiguration', {
      broker_host: this.options.host,
      broker_port: Number(this.mqttUrl.split(':').pop()),
      device_id: this.options.deviceId,
      sites: this.siteIds,
      handler: 'sim-handler',
      environment: 'F1',
      jobsource: 'filesystem',
      jobformat: 'xml.semi-ate',
    });
    send('usersettings', this.settingsPayload());
    send(
      'testresults',
      [...this.parts.values()].slice(-1000).map((p) => p.records),
    );
    send('yield', this.yieldPayload());
    send('bintable', this.binTable());
    if (this.lotNumber) send('lotdata', this.lotData());
    send('status', this.statusPayload());
    const ping = setInterval(() => socket.readyState === WebSocket.OPEN && socket.ping(), 1000);
    socket.on('close', () => clearInterval(ping));
    socket.on('error', () => socket.terminate());
    socket.on('message', (data) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        return;
      }
      if (message.type !== 'cmd' || typeof message.command !== 'string') return;
      this.command(message.command, message, send);
    });
  }

  private broadcast(type: string, payload: unknown): void {
    if (!this.wss || this.wss.clients.size === 0) return;
    const text = JSON.stringify({ type, payload });
    for (const client of this.wss.clients) if (client.readyState === WebSocket.OPEN) client.send(text);
  }

  private broadcastStatus(): void {
    this.broadcast('status', this.statusPayload());
  }

  private statusPayload(): Record<string, unknown> {
    const now = new Date();
    const month = now.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
    const systemTime = `${month} ${now.getUTCDate()} ${now.getUTCFullYear()} ${now.toISOString().slice(11, 19)}`;
    return {
      device_id: this.options.deviceId,
      systemTime,
      sites: this.siteIds,
      state: this.state,
      error_message: this.errorMessage,
      env: 'F1',
      lot_number: this.lotNumber,
    };
  }

  private settingsPayload(): Record<string, unknown> {
    return { testoptions: this.userSettings, loglevel: this.logLevel };
  }

  private lotData(): Record<string, unknown> {
    return {
      LOT_ID: this.lotNumber.split('.')[0],
      SBLOT_ID: this.lotNumber.split('.')[1] ?? '',
      PART_TYP: 'SIM-DEVICE',
      JOB_NAM: 'sim_program',
      JOB_REV: '1',
      TST_TEMP: '25',
      NODE_NAM: this.options.deviceId,
    };
  }

  private countBin(site: string, sBin: number, delta: number): void {
    let bins = this.binCounts.get(site);
    if (!bins) this.binCounts.set(site, (bins = new Map()));
    bins.set(sBin, (bins.get(sBin) ?? 0) + delta);
  }

  private binCount(site: string, sBin: number): number {
    return this.binCounts.get(site)?.get(sBin) ?? 0;
  }

  /** Bin groups per site and for all sites (siteid "-1"), like the master's yield message. */
  private yieldPayload(): Array<Record<string, unknown>> {
    const rows: Array<Record<string, unknown>> = [];
    for (const siteid of [...this.siteIds, '-1']) {
      const sites = siteid === '-1' ? this.siteIds : [siteid];
      const count = (type: string): number =>
        this.options.bins.filter((b) => b.type === type).reduce((sum, b) => sum + sites.reduce((n, s) => n + this.binCount(s, b.sBin), 0), 0);
      const good = count('Good');
      const bad = count('Bad');
      const total = good + bad;
      rows.push({ name: 'Good', siteid, value: total ? (good / total) * 100 : 0, count: good });
      rows.push({ name: 'Bad', siteid, value: total ? (bad / total) * 100 : 0, count: bad });
      rows.push({ name: 'sum', siteid, value: total ? 100 : 0, count: total });
    }
    return rows;
  }

  private binTable(): Array<Record<string, unknown>> {
    return this.options.bins.map((bin) => ({
      name: bin.name,
      sBin: String(bin.sBin),
      hBin: String(bin.hBin),
      type: bin.type,
      siteCounts: this.siteIds.map((siteId) => ({ siteId, count: this.binCount(siteId, bin.sBin) })),
    }));
  }

  private log(source: string, type: string, description: string): void {
    const now = new Date();
    const date = `${now.toISOString().slice(0, 10).split('-').reverse().join('/')} ${now.toISOString().slice(11, 19)}`;
    const entry = { source: pad(source, 10), date: pad(date, 24), type: pad(type, 8), description };
    this.logLines.push(entry);
    if (this.logLines.length > 1000) this.logLines.shift();
    this.options.log?.(`[semiate] ${type} ${description}`);
    this.broadcast('logs', [entry]);
    if (this.master?.connected)
      this.master.publish(
        `ate/${this.options.deviceId}/Control/log/site0`,
        JSON.stringify({ type: 'log', payload: `${source}|${date}|${type}|${description}` }),
        { qos: 0 },
      );
  }

  // ---- MQTT ----

  private async connectMaster(): Promise<void> {
    const topic = (t: string): string => `ate/${this.options.deviceId}/${t}`;
    const will = JSON.stringify({
      type: 'status',
      interface_version: 1,
      state: 'crash',
      payload: { state: 'crash', message: 'master connection lost' },
    });
    const client = await mqtt.connectAsync(this.mqttUrl, {
      clientId: `semiate-sim-master-${randomUUID().slice(0, 8)}`,
      username: this.options.mqttUsername,
      password: this.options.mqttPassword,
      reconnectPeriod: 200,
      will: { topic: topic('Master/status'), payload: Buffer.from(will), qos: 2, retain: false },
    });
    this.master = client;
    await client.subscribeAsync(topic('Master/cmd'), { qos: 2 });
    client.on('message', (_topic, buffer) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(buffer.toString()) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof message.type !== 'string') return;
      const payload = (message.payload ?? {}) as Record<string, unknown>;
      this.command(message.type, payload, (type, body) => this.publish('Master/response', { type, payload: body }));
    });
  }

  private publish(topic: string, message: unknown): void {
    this.publishText(topic, JSON.stringify(message));
  }

  private publishText(topic: string, text: string): void {
    if (this.master?.connected) this.master.publish(`ate/${this.options.deviceId}/${topic}`, text, { qos: 2 });
  }
}

/** Limit fields the generator writes as "inf"/"-inf" (the websocket's form). */
const LIMIT_FIELDS = new Set(['LO_LIMIT', 'HI_LIMIT', 'LO_SPEC', 'HI_SPEC']);

/**
 * What Python's json.dumps writes: infinite and missing numbers as bare Infinity, -Infinity and
 * NaN (not JSON). Our records carry infinite limits as "inf"/"-inf" and may carry number values.
 */
export function pythonJson(value: unknown): string {
  const text = JSON.stringify(value, (key, v: unknown) => {
    const number = LIMIT_FIELDS.has(key) && (v === 'inf' || v === '-inf') ? (v === 'inf' ? Infinity : -Infinity) : v;
    if (typeof number !== 'number' || Number.isFinite(number)) return v;
    return `\u0000py:${Number.isNaN(number) ? 'NaN' : number > 0 ? 'Infinity' : '-Infinity'}`;
  });
  return text.replace(/"\\u0000py:(NaN|Infinity|-Infinity)"/g, '$1');
}

/** A test list or bin table from a JSON file; limits may be written "inf"/"-inf". */
function jsonFileOption<T>(options: SimulatorOptions, key: string): T | undefined {
  const file = options.text(key);
  if (!file) return undefined;
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'), (_k, v: unknown) => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v));
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Error(`--${key} ${file}: expected a non-empty JSON array`);
  return parsed as T;
}

export const simulator: SimulatorDefinition = {
  name: 'semiate',
  summary: 'Semi-ATE tester: master state machine with N sites, UI websocket (/ws) and MQTT topics on an embedded or external broker',
  optionHelp: [
    '--sites N             number of sites (default 2)',
    '--pass-rate R         share of good parts, 0..1 (default 0.9)',
    '--mqtt-port P         port of the embedded MQTT broker (default: any free port)',
    '--broker URL          use this MQTT broker instead of the embedded one (e.g. mqtt://127.0.0.1:1883)',
    '--device-id ID        device id in the topics ate/<id>/… (default SCT-SIM-1)',
    '--test-ms MS          time per test run (default 20)',
    '--mqtt-username U --mqtt-password P   require these credentials on the embedded broker',
    '--tests FILE.json     test list [{number, text, kind: PTR|FTR|MPR, low, high, units, nominal}] ("inf"/"-inf" allowed)',
    '--bins FILE.json      bins [{name, sBin, hBin, type: Good|Bad}]',
  ],
  async start(options: SimulatorStartOptions): Promise<RunningSimulator> {
    const opts = new SimulatorOptions(options);
    const sim = new SemiAteSimulator({
      ...opts.common,
      mqttPort: opts.number('mqtt-port', { integer: true, min: 0 }),
      brokerUrl: opts.text('broker'),
      deviceId: opts.text('device-id'),
      sites: opts.number('sites'),
      passRate: opts.number('pass-rate'),
      testMs: opts.number('test-ms', { min: 0, what: 'a time in ms' }),
      mqttUsername: opts.text('mqtt-username'),
      mqttPassword: opts.text('mqtt-password'),
      tests: jsonFileOption<SimTest[]>(opts, 'tests'),
      bins: jsonFileOption<SimBin[]>(opts, 'bins'),
    });
    await sim.start();
    return {
      endpoints: [`${sim.wsUrl} (UI websocket)`, `${sim.mqttUrl} (MQTT, device id ${sim.options.deviceId})`],
      configure: (node: FlowConfigNode) => configureTester(sim, node),
      close: () => sim.close(),
    };
  },
};

/** Point a semiate-tester config node at the simulator (keeping its chosen transport). */
export function configureTester(sim: SemiAteSimulator, node: FlowConfigNode): { credentials?: Record<string, string> } | undefined {
  if (node.type !== 'semiate-tester') return undefined;
  node.url = sim.wsUrl;
  node.broker = sim.mqttUrl;
  node.deviceId = sim.options.deviceId;
  node.tls = false;
  return { credentials: sim.options.mqttUsername ? { username: sim.options.mqttUsername, password: sim.options.mqttPassword ?? '' } : {} };
}
