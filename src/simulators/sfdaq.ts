/**
 * Simulated sf-daq brokers: the fast and the slow broker in one process on two ports, in the
 * "documented" mode (the REST document: methods, "failed", documented reply shapes) or the
 * "current" mode (today's code: some methods changed, "error" + exception, newer reply shapes,
 * extra routes). Like the real ones (bottle on wsgiref) each serves one request at a time, answers
 * HTTP/1.0 and closes the connection, reads JSON only with Content-Type application/json, refuses
 * bodies over 102,400 bytes, and takes the beamline from the caller's address, trusting
 * X-Forwarded-For, which is why a client must never send it.
 */
import net from 'node:net';
import { ROUTES, MAX_BODY_BYTES, ALLOWED_RATE_MULTIPLICATORS, MAX_PULSEID_DELTA } from '../protocols/sfdaq/routes';
import type { BrokerKind, RouteSpec } from '../protocols/sfdaq/routes';
import { isPlainObject } from '../protocols/sfdaq/validate';
import type { FlowConfigNode, RunningSimulator, SimulatorDefinition, SimulatorStartOptions } from './simulator';
import { SimulatorOptions, SocketSet, closeServer, listen } from './simulator-kit';
import { TimerSet } from './timer-set';

export type SfdaqMode = 'documented' | 'current';
type Json = Record<string, unknown>;

export interface SfdaqSimulatorOptions {
  mode?: SfdaqMode;
  host?: string;
  fastPort?: number;
  /** Default: fastPort + 1 when fastPort is fixed, else any free port. */
  slowPort?: number;
  /** Beamline of callers on this machine (127.0.0.1); default alvra. */
  beamline?: string;
  /** How long a pedestal keeps its detectors out of the running list (the real one: 40 s and more). */
  pedestalMs?: number;
  /** How long a detector takes to run after power_on_detector. */
  powerOnMs?: number;
  log?: (line: string) => void;
}

export interface RecordedRequest {
  broker: BrokerKind;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The parsed JSON body, or null when there was none or it was not declared JSON. */
  body: unknown;
  remoteAddress: string;
  beamline: string | undefined;
}

interface DetectorInfo {
  description: string;
  visualisation: string;
  modules: number;
}

interface RunState {
  tag: string | undefined;
  acquisitions: number;
  scanSteps: unknown[];
  files: string[];
  aux: string[];
}

export interface PgroupState {
  lastRun: number;
  lastAcquisition: number;
  closed: boolean;
  runs: Map<number, RunState>;
}

/** Raised by a route handler: becomes {"status":"failed"|"error", "message", "exception"}. */
class BrokerFailure extends Error {
  constructor(
    message: string,
    readonly exception = 'RuntimeError',
  ) {
    super(message);
  }
}

const DETECTORS: Record<string, Record<string, DetectorInfo>> = {
  alvra: {
    JF02T09V03: { description: 'Alvra 4.5M detector', visualisation: 'sf-daq-alvra:5001', modules: 9 },
    JF06T08V04: { description: 'Alvra 4M detector, 8 modules', visualisation: 'sf-daq-alvra:5002', modules: 8 },
  },
  bernina: {
    JF01T03V01: { description: '1p5M Bernina detector', visualisation: 'sf-daq-12:5001', modules: 3 },
    JF03T01V02: { description: 'Bernina I0, 1 module', visualisation: 'sf-daq-12:5003', modules: 1 },
  },
  furka: {},
};
/** Consoles of other beamlines, reachable only through X-Forwarded-For in a simulation. */
const CONSOLES: Record<string, string> = { '129.129.242.10': 'bernina', '129.129.246.10': 'furka' };
const SETTING_NAMES = ['delay', 'detector_mode', 'exptime', 'gain_mode'];
const SETTING_VALUES: Record<string, string[]> = { detector_mode: ['normal', 'low_noise'], gain_mode: ['dynamic', 'fixed_gain1', 'fixed_gain2'] };
const FILE_SUFFIX: Record<string, string> = { pv_list: 'PVDATA', channels_list: 'BSDATA', camera_list: 'CAMERAS' };

function htmlError(code: number, reason: string, text: string): string {
  return (
    '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n' +
    `<html><head><title>Error: ${code} ${reason}</title></head>\n` +
    `<body><h1>Error: ${code} ${reason}</h1><p>Sorry, the requested URL caused an error:</p><pre>${text}</pre></body></html>\n`
  );
}

export class SfdaqSimulator {
  mode: SfdaqMode;
  readonly requests: RecordedRequest[] = [];
  /** Requests that arrived while the same broker was busy with another (a client that queues never causes one). */
  overlaps = 0;
  readonly delays = new Map<string, number>();
  readonly failures = new Map<string, BrokerFailure>();
  readonly pgroups = new Map<string, PgroupState>();
  readonly running = new Set<string>();
  readonly settings = new Map<string, Json>();
  readonly dap = new Map<string, Json>();
  readonly pvLists = new Map<string, string[]>([
    ['alvra', ['ELCOMAT:X', 'ELCOMAT:Y']],
    ['bernina', ['SARES20-LSCP9-FNS:CH0:VAL_GET']],
  ]);
  readonly userFiles = new Set<string>([
    '/sf/alvra/data/p17502/res/test/test1.json',
    '/sf/alvra/data/p17502/res/test/test2.json',
    '/sf/bernina/data/p17534/res/notes.txt',
  ]);
  readonly uploadedScripts = new Map<string, string>();
  private readonly localBeamline: string;
  private readonly pedestalMs: number;
  private readonly powerOnMs: number;
  private readonly servers: Record<BrokerKind, net.Server>;
  private readonly busy: Record<BrokerKind, boolean> = { fast: false, slow: false };
  private readonly backlog: Record<BrokerKind, net.Socket[]> = { fast: [], slow: [] };
  private readonly sockets = new SocketSet();
  private readonly timers = new TimerSet();
  private readonly log: (line: string) => void;
  fastUrl = '';
  slowUrl = '';

  private constructor(options: SfdaqSimulatorOptions) {
    this.mode = options.mode ?? 'current';
    this.localBeamline = options.beamline ?? 'alvra';
    this.pedestalMs = options.pedestalMs ?? 2000;
    this.powerOnMs = options.powerOnMs ?? 1000;
    this.log = options.log ?? (() => undefined);
    this.servers = { fast: net.createServer((s) => this.accept('fast', s)), slow: net.createServer((s) => this.accept('slow', s)) };
    for (const pgroup of ['p17502', 'p12345']) this.addPgroup('alvra', pgroup);
    this.addPgroup('bernina', 'p17534');
    this.running.add('alvra/JF02T09V03');
    this.running.add('bernina/JF01T03V01');
    for (const beamline of Object.keys(DETECTORS)) {
      for (const name of Object.keys(DETECTORS[beamline]!)) {
        this.settings.set(name, { delay: 0.00089, detector_mode: 'normal', exptime: 5e-6, gain_mode: 'dynamic' });
        if (name !== 'JF03T01V02')
          this.dap.set(name, {
            beam_center_x: 1119.0,
            beam_center_y: 1068.0,
            detector_distance: 0.092,
            threshold_value: 'NaN',
            do_peakfinder_analysis: 0,
          });
      }
    }
  }

  static async start(options: SfdaqSimulatorOptions = {}): Promise<SfdaqSimulator> {
    const sim = new SfdaqSimulator(options);
    const host = options.host ?? '127.0.0.1';
    const fastPort = options.fastPort ?? 0;
    try {
      sim.fastUrl = await sim.listen('fast', host, fastPort);
      sim.slowUrl = await sim.listen('slow', host, options.slowPort ?? (fastPort > 0 ? fastPort + 1 : 0));
    } catch (err) {
      await sim.close(); // the fast broker must not stay behind when the slow one's port is taken
      throw err;
    }
    return sim;
  }

  private async listen(kind: BrokerKind, host: string, port: number): Promise<string> {
    const bound = await listen(this.servers[kind], { host, port });
    return `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  addPgroup(beamline: string, pgroup: string): PgroupState {
    const state: PgroupState = { lastRun: 0, lastAcquisition: 0, closed: false, runs: new Map() };
    this.pgroups.set(`${beamline}/${pgroup}`, state);
    return state;
  }

  pgroup(beamline: string, pgroup: string): PgroupState | undefined {
    return this.pgroups.get(`${beamline}/${pgroup}`);
  }

  /** Make the next call of `operation` fail with this message. */
  failNext(operation: string, message: string, exception = 'RuntimeError'): void {
    this.failures.set(operation, new BrokerFailure(message, exception));
  }

  async close(): Promise<void> {
    this.timers.clear();
    this.sockets.destroyAll();
    await Promise.all(Object.values(this.servers).map(closeServer));
  }

  // ---- HTTP/1.0, one request at a time per broker ----

  private accept(kind: BrokerKind, socket: net.Socket): void {
    this.sockets.add(socket);
    if (this.busy[kind]) this.overlaps += 1;
    this.backlog[kind].push(socket);
    this.next(kind);
  }

  private next(kind: BrokerKind): void {
    if (this.busy[kind]) return;
    const socket = this.backlog[kind].shift();
    if (!socket) return;
    this.busy[kind] = true;
    void this.serve(kind, socket).finally(() => {
      this.busy[kind] = false;
      this.next(kind);
    });
  }

  private readRequest(socket: net.Socket): Promise<{ head: string; body: Buffer } | undefined> {
    return new Promise((resolve) => {
      let buffered = Buffer.alloc(0);
      const done = (value: { head: string; body: Buffer } | undefined): void => {
        socket.off('data', onData);
        socket.off('close', onClose);
        resolve(value);
      };
      const onClose = (): void => done(undefined);
      const onData = (chunk: Buffer): void => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        // Like bottle: the declared length alone decides; the body is not read when it is too large.
        if (length > MAX_BODY_BYTES || buffered.length >= end + 4 + length)
          done({ head, body: buffered.subarray(end + 4, end + 4 + Math.min(length, MAX_BODY_BYTES)) });
      };
      socket.on('data', onData);
      socket.on('close', onClose);
      if (socket.destroyed) done(undefined);
    });
  }

  private async serve(kind: BrokerKind, socket: net.Socket): Promise<void> {
    const request = await this.readRequest(socket);
    if (!request) return;
    // Whatever else the client sends (an oversize body) is read and dropped, so its write never stalls.
    socket.resume();
    const [requestLine = '', ...headerLines] = request.head.split('\r\n');
    const [method = '', target = '/'] = requestLine.split(' ');
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const path = target.split('?')[0] ?? '/';
    // bottle's request.remote_addr: the first X-Forwarded-For entry when present.
    const forwarded = headers['x-forwarded-for']?.split(',')[0]?.trim();
    const remoteAddress = forwarded || (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const beamline = ['127.0.0.1', '::1'].includes(remoteAddress) ? this.localBeamline : CONSOLES[remoteAddress];
    const reply = await this.respond(kind, method, path, headers, request.body, remoteAddress, beamline);
    this.log(`${kind} ${method} ${path} -> ${reply.code}`);
    const body = Buffer.from(reply.text, 'utf8');
    const head = [
      `HTTP/1.0 ${reply.code} ${reply.reason}`,
      `Date: ${new Date().toUTCString()}`,
      'Server: WSGIServer/0.2 CPython/3.11.4',
      `Content-Type: ${reply.type}`,
      `Content-Length: ${body.length}`,
      ...reply.extra,
      '',
      '',
    ];
    if (!socket.destroyed) socket.end(Buffer.concat([Buffer.from(head.join('\r\n'), 'latin1'), body]));
  }

  private async respond(
    kind: BrokerKind,
    method: string,
    path: string,
    headers: Record<string, string>,
    rawBody: Buffer,
    remoteAddress: string,
    beamline: string | undefined,
  ): Promise<{ code: number; reason: string; type: string; text: string; extra: string[] }> {
    const html = (
      code: number,
      reason: string,
      text: string,
      extra: string[] = [],
    ): { code: number; reason: string; type: string; text: string; extra: string[] } => ({
      code,
      reason,
      type: 'text/html; charset=UTF-8',
      text: htmlError(code, reason, text),
      extra,
    });
    const isJson = (headers['content-type'] ?? '').toLowerCase().startsWith('application/json');
    let body: unknown = null;
    if (Number(headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
      this.record(kind, method, path, headers, null, remoteAddress, beamline);
      return html(413, 'Request Entity Too Large', 'Request entity too large');
    }
    if (isJson && rawBody.length > 0) {
      try {
        body = JSON.parse(rawBody.toString('utf8'));
      } catch {
        return html(400, 'Bad Request', 'Invalid JSON');
      }
    }
    this.record(kind, method, path, headers, body, remoteAddress, beamline);
    const route = ROUTES.find((r) => `/${r.operation}` === path && r.broker === kind);
    const allowed = route && (this.mode === 'documented' ? route.documentedMethod : route.currentMethod);
    if (!route || !allowed) return html(404, 'Not Found', `Not found: '${path}'`);
    const methods = allowed === 'GET' ? ['GET', 'HEAD'] : [allowed];
    if (!methods.includes(method)) return html(405, 'Method Not Allowed', 'Method not allowed.', [`Allow: ${methods.join(',')}`]);
    const delay = this.delays.get(route.operation);
    if (delay) await new Promise((resolve) => this.timers.later(delay, () => resolve(undefined)));
    return { code: 200, reason: 'OK', type: 'application/json', text: JSON.stringify(this.dispatch(route, body, beamline)), extra: [] };
  }

  private record(
    broker: BrokerKind,
    method: string,
    path: string,
    headers: Record<string, string>,
    body: unknown,
    remoteAddress: string,
    beamline: string | undefined,
  ): void {
    this.requests.push({ broker, method, path, headers, body, remoteAddress, beamline });
    if (this.requests.length > 10_000) this.requests.splice(0, 5_000);
  }

  // ---- broker logic ----

  private dispatch(route: RouteSpec, body: unknown, beamline: string | undefined): Json {
    try {
      const failure = this.failures.get(route.operation);
      if (failure) {
        this.failures.delete(route.operation);
        throw failure;
      }
      if (!beamline) throw new BrokerFailure('can not determine from which console request came, rejected');
      const request = isPlainObject(body) ? body : {};
      const reply = this.handle(route.operation, request, beamline);
      return typeof reply === 'string' || Array.isArray(reply) ? { status: 'ok', message: reply } : reply;
    } catch (err) {
      const failure = err instanceof BrokerFailure ? err : new BrokerFailure(String(err), 'Exception');
      return this.mode === 'documented'
        ? { status: 'failed', message: failure.message }
        : { status: 'error', message: failure.message, exception: failure.exception };
    }
  }

  private need(request: Json, ...names: string[]): void {
    if (Object.keys(request).length === 0) throw new BrokerFailure('request parameters are empty');
    for (const name of names) if (!(name in request)) throw new BrokerFailure(`no "${name}" provided in the request parameters`);
  }

  private detector(request: Json, beamline: string): string {
    this.need(request, 'detector_name');
    const name = String(request.detector_name);
    if (!DETECTORS[beamline]?.[name]) throw new BrokerFailure(`${name} not belongs to the ${beamline}`);
    return name;
  }

  private openPgroup(request: Json, beamline: string): { path: string; state: PgroupState } {
    this.need(request, 'pgroup');
    const path = `/sf/${beamline}/data/${String(request.pgroup)}/raw/`;
    const state = this.pgroup(beamline, String(request.pgroup));
    if (!state) throw new BrokerFailure(`pgroup directory ${path} not reachable`);
    return { path, state };
  }

  private writable(request: Json, beamline: string): { path: string; state: PgroupState } {
    const found = this.openPgroup(request, beamline);
    if (found.state.closed) throw new BrokerFailure(`${found.path} is closed for writing`);
    return found;
  }

  private handle(operation: string, request: Json, beamline: string): Json | string | unknown[] {
    const documented = this.mode === 'documented';
    const detectors = DETECTORS[beamline] ?? {};
    if (
      ['get_allowed_detectors', 'get_running_detectors', 'power_on_detector', 'take_pedestal'].includes(operation) &&
      Object.keys(detectors).length === 0
    ) {
      throw new BrokerFailure('request is made from beamline which doesnt have detectors');
    }
    switch (operation) {
      case 'retrieve_from_buffers':
        return this.retrieve(request, beamline);
      case 'take_pedestal':
        return this.pedestal(request, beamline);
      case 'get_allowed_detectors': {
        const names = Object.values(detectors).map((d) => d.description);
        const list = { detectors: Object.keys(detectors), visualisation_address: Object.values(detectors).map((d) => d.visualisation) };
        return documented
          ? { ...list, names }
          : { status: 'ok', message: `successfully retrieved list of allowed detectors for ${beamline}`, ...list, descriptions: names };
      }
      case 'get_running_detectors': {
        const running = Object.keys(detectors).filter((name) => this.running.has(`${beamline}/${name}`));
        if (documented) return { detectors: running };
        return {
          status: 'ok',
          message: 'successfully retrieved list of running detectors',
          detectors: running,
          running_detectors: running,
          missing_detectors: Object.keys(detectors).filter((n) => !running.includes(n)),
          limping_detectors: [],
        };
      }
      case 'power_on_detector': {
        const name = this.detector(request, beamline);
        this.timers.later(this.powerOnMs, () => this.running.add(`${beamline}/${name}`));
        return 'request to power on detector is sent, wait few minutes';
      }
      case 'advance_run_number':
      case 'get_current_run_number': {
        const { state } = this.writable(request, beamline);
        if (operation === 'advance_run_number') state.lastRun += 1;
        return documented
          ? String(state.lastRun)
          : { status: 'ok', message: `run number of ${String(request.pgroup)} is ${state.lastRun}`, run_number: state.lastRun };
      }
      case 'get_pvlist': {
        const list = this.pvLists.get(beamline);
        if (!list) {
          if (documented) return { status: `failure, epics config file not exist for this beamline ${beamline}` };
          throw new BrokerFailure(
            `epics buffer config file /home/dbe/service_configs/sf.${beamline}.epics_buffer.json does not exist for beamline ${beamline}`,
          );
        }
        return documented ? { pv_list: list } : { status: 'ok', message: 'successfully retrieved list of PVs', pv_list: list };
      }
      case 'set_pvlist': {
        this.need(request, 'pv_list');
        if (!this.pvLists.has(beamline)) throw new BrokerFailure(`epics config file not exist for this beamline ${beamline}`);
        const list = [...new Set((Array.isArray(request.pv_list) ? request.pv_list : []).map(String))];
        this.pvLists.set(beamline, list);
        return documented ? list : { status: 'ok', message: 'successfully set list of PVs', pv_list: list };
      }
      case 'close_pgroup_writing': {
        const { path, state } = this.openPgroup(request, beamline);
        if (state.closed) throw new BrokerFailure(`${path} is already closed for writing`);
        state.closed = true;
        return `${String(request.pgroup)} closed for writing`;
      }
      case 'get_detector_settings': {
        const values = this.settings.get(this.detector(request, beamline))!;
        return documented
          ? { status: 'ok', ...values }
          : { status: 'ok', message: `successfully retrieved detector settings from ${String(request.detector_name)}`, parameters: values };
      }
      case 'set_detector_settings':
        return this.setSettings(request, beamline);
      case 'copy_user_files':
        return this.copyFiles(request, beamline);
      case 'get_dap_settings':
      case 'set_dap_settings':
        return this.dapSettings(operation, request, beamline);
      case 'power_on_modules':
      case 'power_off_modules': {
        const name = this.detector(request, beamline);
        this.need(request, 'modules');
        const modules = Array.isArray(request.modules) ? request.modules : [];
        const count = detectors[name]!.modules;
        const bad = modules.filter((m) => !Number.isInteger(m) || (m as number) < 0 || (m as number) >= count);
        if (bad.length > 0)
          throw new BrokerFailure(`requested modules ${JSON.stringify(bad)} out of range for ${name} with ${count} modules`, 'ValueError');
        return `successfully powered ${operation === 'power_on_modules' ? 'on' : 'off'} modules ${JSON.stringify(modules)} of ${name}`;
      }
      case 'get_detector_status':
      case 'get_detector_temperatures':
      case 'get_detector_pings':
      case 'get_jfctrl_monitor':
        return this.detectorReadout(operation, this.detector(request, beamline), beamline);
      case 'upload_custom_dap_script': {
        this.need(request, 'name', 'code');
        const name = String(request.name);
        if (name.includes('/')) throw new BrokerFailure(`name "${name}" contains directory information`, 'ValueError');
        const file = `${beamline}/${name.endsWith('.py') ? name : `${name}.py`}`;
        this.uploadedScripts.set(file, String(request.code));
        return `successfully uploaded custom DAP script ${file}`;
      }
    }
    throw new BrokerFailure(`no handler for ${operation}`);
  }

  private retrieve(request: Json, beamline: string): Json {
    this.need(request, 'pgroup', 'start_pulseid', 'stop_pulseid');
    const start = Number.parseInt(String(request.start_pulseid), 10);
    const stop = Number.parseInt(String(request.stop_pulseid), 10);
    if (!Number.isInteger(start) || !Number.isInteger(stop))
      throw new BrokerFailure('bad start or stop pluseid provided in request parameters', 'ValueError');
    if (stop - start > MAX_PULSEID_DELTA || stop - start < 0) throw new BrokerFailure('number of pulse_id problem: too large or negative request');
    if ('rate_multiplicator' in request && !ALLOWED_RATE_MULTIPLICATORS.includes(request.rate_multiplicator as number))
      throw new BrokerFailure('rate_multiplicator is not allowed one');
    const { path, state } = this.openPgroup(request, beamline);
    let runNumber: number;
    if (request.run_number === undefined) {
      // As in the real broker, the new run number is consumed even if the request fails below.
      state.lastRun += 1;
      runNumber = state.lastRun;
    } else {
      if (!Number.isInteger(request.run_number))
        throw new BrokerFailure(`unsupported format string passed to ${typeof request.run_number}.__format__`, 'TypeError');
      runNumber = request.run_number as number;
      if (runNumber > state.lastRun) throw new BrokerFailure(`requested run_number${runNumber} generated not by sf-daq`);
    }
    const tag =
      request.append_user_tag_to_data_dir === true && typeof request.user_tag === 'string' && request.user_tag !== ''
        ? request.user_tag.replace(/[^A-Za-z0-9_+.-]/g, '_').slice(0, 50)
        : undefined;
    const existing = state.runs.get(runNumber);
    const dir = `run${String(runNumber).padStart(4, '0')}${tag ? `-${tag}` : ''}`;
    if (existing && existing.tag !== tag)
      throw new BrokerFailure(
        `data directory for this run ${String(runNumber).padStart(4, '0')} already exists ` +
          `with different tag: ${existing.tag ?? ''}, than requested ${tag ?? ''}`,
      );
    if (state.closed) throw new BrokerFailure(`${path} is closed for writing`);
    const lists = ['pv_list', 'channels_list', 'camera_list'].filter((key) => Array.isArray(request[key]) && (request[key] as unknown[]).length > 0);
    if (lists.length === 0 && !('detectors' in request)) return { status: 'pass', message: 'everything fine but no request to write any data' };
    const requested = request.detectors;
    if (requested !== undefined && !isPlainObject(requested)) throw new BrokerFailure(`${JSON.stringify(requested)} is not dictionary`);
    for (const det of Object.keys(requested ?? {})) if (!DETECTORS[beamline]?.[det]) throw new BrokerFailure(`${det} not belongs to the ${beamline}`);
    const run = existing ?? { tag, acquisitions: 0, scanSteps: [], files: [], aux: [] };
    state.runs.set(runNumber, run);
    run.acquisitions += 1;
    state.lastAcquisition += 1;
    const prefix = `${path}${dir}/data/acq${String(run.acquisitions).padStart(4, '0')}`;
    const files = [...lists.map((key) => `${prefix}.${FILE_SUFFIX[key]!}.h5`), ...Object.keys(requested ?? {}).map((det) => `${prefix}.${det}.h5`)];
    run.files.push(...files);
    run.scanSteps.push(request.scan_info ?? null);
    return {
      status: 'ok',
      message: 'OK',
      run_number: String(runNumber),
      acquisition_number: String(run.acquisitions),
      unique_acquisition_number: String(state.lastAcquisition),
      files,
    };
  }

  private pedestal(request: Json, beamline: string): Json {
    this.need(request, 'pgroup', 'detectors');
    const rate = typeof request.rate_multiplicator === 'number' ? request.rate_multiplicator : 1;
    if (!isPlainObject(request.detectors))
      throw new BrokerFailure(
        `'${Array.isArray(request.detectors) ? 'list' : typeof request.detectors}' object has no attribute 'keys'`,
        'AttributeError',
      );
    const names = Object.keys(request.detectors);
    if (names.length === 0) throw new BrokerFailure('no detectors defined');
    for (const det of names) if (!DETECTORS[beamline]?.[det]) throw new BrokerFailure(`${det} not belongs to the ${beamline}`);
    this.writable(request, beamline);
    for (const det of names) this.running.delete(`${beamline}/${det}`);
    this.timers.later(this.pedestalMs, () => names.forEach((det) => this.running.add(`${beamline}/${det}`)));
    const wait = (3000 / 100) * rate + 10;
    return {
      status: 'ok',
      message: `will do a pedestal now, wait at least ${wait.toFixed(1)} seconds`,
      run_number: '0',
      acquisition_number: '0',
      unique_acquisition_number: '0',
    };
  }

  private setSettings(request: Json, beamline: string): Json {
    const name = this.detector(request, beamline);
    this.need(request, 'parameters');
    if (!isPlainObject(request.parameters)) throw new BrokerFailure('"parameters" is not a dictionary', 'ValueError');
    const values = this.settings.get(name)!;
    const changed: Record<string, [unknown, unknown]> = {};
    for (const key of SETTING_NAMES) {
      const value = request.parameters[key];
      if (value === undefined || value === null || value === values[key]) continue;
      const allowed = SETTING_VALUES[key];
      if (allowed ? !allowed.includes(String(value)) : typeof value !== 'number' || value < 0)
        throw new BrokerFailure(`invalid value ${JSON.stringify(value)} for ${key}`, 'ValueError');
      changed[key] = [values[key], value];
      values[key] = value;
    }
    return this.mode === 'documented'
      ? { status: 'ok' }
      : { status: 'ok', message: `successfully changed detector settings of ${name}`, changed_parameters: changed };
  }

  private copyFiles(request: Json, beamline: string): Json {
    this.need(request, 'pgroup', 'run_number');
    const { path, state } = this.openPgroup(request, beamline);
    if (state.closed) throw new BrokerFailure(`pgroup directory ${path} is already closed for writing`);
    const runNumber = request.run_number;
    const run = Number.isInteger(runNumber) ? state.runs.get(runNumber as number) : undefined;
    if (!run)
      throw new BrokerFailure(
        this.mode === 'documented'
          ? `no such run ${String(runNumber)} in the pgroup`
          : `run ${String(runNumber).padStart(4, '0')} does not exist in this pgroup`,
      );
    const dir = `${path}run${String(runNumber).padStart(4, '0')}${run.tag ? `-${run.tag}` : ''}/aux`;
    const copied: Record<string, string> = {};
    const errors: Record<string, string> = {};
    for (const file of [...new Set((Array.isArray(request.files) ? request.files : []).map(String))].sort()) {
      if (!this.userFiles.has(file)) errors[file] = `file "${file}" does not exist`;
      else copied[file] = `${dir}/${file.split('/').pop()!}`;
    }
    run.aux.push(...Object.values(copied));
    if (this.mode === 'documented')
      return {
        status: 'ok',
        message: 'User file copy finished, check error_files list',
        error_files: Object.keys(errors),
        destination_file_path: Object.values(copied),
      };
    const failed = Object.keys(errors).length > 0;
    return {
      status: failed ? 'error' : 'ok',
      message: failed ? 'copying user file(s) finished with errors, check "error_files"' : 'copying user file(s) finished successfully',
      destination_files: copied,
      error_files: errors,
    };
  }

  private dapSettings(operation: string, request: Json, beamline: string): Json {
    const name = this.detector(request, beamline);
    const values = this.dap.get(name);
    if (!values)
      throw new BrokerFailure(`DAP parameter file /gpfs/photonics/swissfel/buffer/dap/config/pipeline_parameters.${name}.json does not exist`);
    const documented = this.mode === 'documented';
    if (operation === 'get_dap_settings')
      return documented
        ? { status: 'ok', message: values }
        : { status: 'ok', message: `successfully retrieved DAP settings for ${name}`, parameters: values };
    this.need(request, 'parameters');
    if (!isPlainObject(request.parameters)) throw new BrokerFailure("'parameters' has no attribute 'items'", 'AttributeError');
    const changed: Record<string, [unknown, unknown]> = {};
    for (const [key, value] of Object.entries(request.parameters)) {
      if (values[key] === value) continue;
      changed[key] = [values[key] ?? null, value];
      values[key] = value;
    }
    return documented
      ? { status: 'ok', message: changed }
      : { status: 'ok', message: `successfully changed DAP settings for ${name}`, changed_parameters: changed };
  }

  private detectorReadout(operation: string, name: string, beamline: string): Json {
    const modules = DETECTORS[beamline]![name]!.modules;
    const running = this.running.has(`${beamline}/${name}`);
    const perModule = <T>(value: (i: number) => T): Record<string, T> =>
      Object.fromEntries(Array.from({ length: modules }, (_, i) => [`M${String(i).padStart(2, '0')}`, value(i)]));
    const payload: Record<string, Json> = {
      get_detector_status: { detector_status: { status: running ? 'running' : 'idle' } },
      get_detector_temperatures: { temperatures: perModule((i) => 31.5 + i * 0.25) },
      get_detector_pings: { pings: perModule(() => true) },
      get_jfctrl_monitor: { parameters: perModule((i) => ({ power: running, humidity: 3.2 + i * 0.1 })) },
    };
    return { status: 'ok', message: `successfully retrieved ${operation.replace('get_', '').replace(/_/g, ' ')} of ${name}`, ...payload[operation] };
  }
}

export const simulator: SimulatorDefinition = {
  name: 'sfdaq',
  summary: 'SwissFEL sf-daq fast and slow broker (ports N and N+1)',
  optionHelp: [
    '--mode documented|current  broker generation to imitate (default current)',
    '--beamline NAME  beamline of local callers (default alvra)',
    '--slow-port N  slow broker port (default port + 1)',
    '--pedestal-ms N  how long a pedestal takes (default 2000)',
  ],
  async start(options: SimulatorStartOptions): Promise<RunningSimulator> {
    const opts = new SimulatorOptions(options);
    const mode = opts.choice('mode', ['documented', 'current'] as const) ?? 'current';
    const sim = await SfdaqSimulator.start({
      mode,
      host: options.host,
      fastPort: options.port,
      slowPort: opts.number('slow-port', { integer: true, min: 0 }),
      beamline: opts.text('beamline'),
      pedestalMs: opts.number('pedestal-ms', { min: 0, what: 'a time in ms' }),
      log: options.log,
    });
    return {
      endpoints: [`${sim.fastUrl} (fast broker, ${mode} mode)`, `${sim.slowUrl} (slow broker)`],
      configure(node: FlowConfigNode) {
        if (node.type !== 'sfdaq-broker') return undefined;
        node.fastUrl = sim.fastUrl;
        node.slowUrl = sim.slowUrl;
        return {};
      },
      close: () => sim.close(),
    };
  },
};
