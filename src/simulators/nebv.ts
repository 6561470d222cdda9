import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { errorMessage } from '../protocols/common/errors';
import { JsonFramer } from '../protocols/common/json-framer';
import { portRange } from '../protocols/common/tcp-connection';
import type { EbvItem } from '../protocols/nebv/types';
import { isEbvItem, isRecord } from '../protocols/nebv/types';
import type { FlowConfigNode, RunningSimulator, SimulatorDefinition, SimulatorStartOptions } from './simulator';
import { SimulatorOptions, closeServer, listen } from './simulator-kit';
import { seededRandom } from '../protocols/common/seeded-random';

/**
 * A neoEBV stand-in speaking its JSON-RPC socket interface (shared/protocols/neoebv.md): a few
 * pynebv section, item and module methods with the class hierarchy the spec describes, replies
 * with no delimiter, cut into random chunks and sometimes several in one write, so clients must
 * frame the stream themselves. TCP (optionally on one port inside a range) and a Unix socket.
 */
export interface NebvSimulatorOptions {
  host?: string;
  /** TCP port; 0 = any free port. Ignored when portRange is set. */
  port?: number;
  /** Bind one port inside [first, last], like `nebv --json-rpc-server=host:first-last`. */
  portRange?: [number, number];
  /** With portRange: take exactly the port at this index (tests); otherwise the first free one. */
  portIndex?: number;
  /** Also listen on this Unix socket path. */
  unixPath?: string;
  /** Cut replies into random chunks and coalesce them (default true). */
  chunking?: boolean;
  /** Append "\n" to every reply (for line-based clients such as Node-RED's tcp request node). */
  replyNewline?: boolean;
  /** Seed for the chunking randomness, so a failing test can be replayed. */
  seed?: number;
  log?: (line: string) => void;
}

type RpcId = string | number | null;
const PARENT: Record<string, string | undefined> = {
  EbvItem: undefined,
  MarkListItem: 'EbvItem',
  Mark: 'MarkListItem',
  File: 'EbvItem',
  Jobdeck: 'File',
};
/** The class each item method is defined on; any subclass may be named in the request. */
const ITEM_METHODS: Record<string, string> = { props: 'EbvItem', close: 'File', layer: 'Jobdeck', delete: 'Mark' };

class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function ancestry(klass: string): string[] {
  const chain: string[] = [];
  for (let k: string | undefined = klass; k !== undefined && k in PARENT; k = PARENT[k]) chain.push(k);
  return chain;
}

/** Python's str(float): 10 → "10.0". */
function pyFloat(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

interface Peer {
  socket: net.Socket;
  framer: JsonFramer;
  pieces: Buffer[];
  /** Index of the next piece to write (a head index: shifting a long array each tick is quadratic). */
  head: number;
  pumping: boolean;
}

export class NebvSimulator extends EventEmitter {
  /** Test hooks: stop answering (requests are still read and counted). */
  silent = false;
  /**
   * Test hook for replies the spec does not describe but a broken or hostile peer sends (cut off
   * part-way, nested thousands deep, huge, invalid UTF-8, foreign ids): return the raw bytes to write
   * for a request instead of the normal reply, or undefined to answer normally. Written as they are,
   * with no chunking.
   */
  rawReply: ((request: { id: RpcId; method: string }) => string | Buffer | undefined) | undefined;
  requestCount = 0;
  port = 0;
  unixPath: string | undefined;
  readonly files = new Map<string, EbvItem>();
  readonly marks = new Map<string, EbvItem>();
  private readonly peers = new Set<Peer>();
  private readonly servers: net.Server[] = [];
  private readonly random: () => number;
  private readonly options: NebvSimulatorOptions;
  private opened = new Map<string, number>();
  private markNumber = 0;

  private constructor(options: NebvSimulatorOptions) {
    super();
    this.options = options;
    this.random = seededRandom(options.seed ?? Date.now());
  }

  static async start(options: NebvSimulatorOptions = {}): Promise<NebvSimulator> {
    const sim = new NebvSimulator(options);
    try {
      await sim.listenTcp();
      if (options.unixPath) await sim.listenUnix(options.unixPath);
    } catch (err) {
      await sim.close();
      throw err;
    }
    return sim;
  }

  get connectionCount(): number {
    return this.peers.size;
  }

  /** Drop every client connection (a crash or a restart from the client's point of view). */
  dropConnections(): void {
    for (const peer of this.peers) peer.socket.destroy();
  }

  /** Write raw bytes to every client (to test a client's reaction to a broken stream). */
  writeRaw(data: string | Buffer): void {
    for (const peer of this.peers) peer.socket.write(data);
  }

  async close(): Promise<void> {
    this.dropConnections();
    await Promise.all(this.servers.map(closeServer));
    this.servers.length = 0;
    if (this.unixPath) fs.rmSync(this.unixPath, { force: true });
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private async listenTcp(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    if (!this.options.portRange) {
      this.port = await this.listen({ host, port: this.options.port ?? 0 });
      return;
    }
    const ports = portRange(...this.options.portRange);
    const candidates = this.options.portIndex === undefined ? ports : [ports[this.options.portIndex]!];
    for (const port of candidates) {
      try {
        this.port = await this.listen({ host, port });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
    throw new Error(`no free port in ${this.options.portRange.join('-')}`);
  }

  private async listenUnix(socketPath: string): Promise<void> {
    fs.rmSync(socketPath, { force: true });
    await this.listen({ path: socketPath });
    this.unixPath = socketPath;
  }

  private async listen(where: net.ListenOptions): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket));
    const port = await listen(server, where);
    this.servers.push(server);
    return port;
  }

  private accept(socket: net.Socket): void {
    const peer: Peer = { socket, framer: new JsonFramer(), pieces: [], head: 0, pumping: false };
    this.peers.add(peer);
    socket.setNoDelay(true);
    this.log(`client connected (${this.peers.size} open)`);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.peers.delete(peer);
      this.log(`client disconnected (${this.peers.size} open)`);
    });
    socket.on('data', (chunk: Buffer) => {
      let texts: string[];
      try {
        texts = peer.framer.push(chunk);
      } catch {
        this.reply(peer, null, undefined, new RpcFailure(-32700, 'Parse error'));
        return;
      }
      for (const text of texts) this.handle(peer, text);
    });
  }

  private handle(peer: Peer, text: string): void {
    this.requestCount += 1;
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      this.reply(peer, null, undefined, new RpcFailure(-32700, 'Parse error'));
      return;
    }
    if (this.silent) return;
    const id = isRecord(request) && (typeof request.id === 'string' || typeof request.id === 'number') ? request.id : null;
    const raw = this.rawReply?.({ id, method: isRecord(request) && typeof request.method === 'string' ? request.method : '' });
    if (raw !== undefined) {
      if (!peer.socket.destroyed) peer.socket.write(raw);
      return;
    }
    if (!isRecord(request) || request.jsonrpc !== '2.0' || typeof request.method !== 'string') {
      this.reply(peer, id, undefined, new RpcFailure(-32600, 'Invalid Request'));
      return;
    }
    const params = request.params ?? {};
    try {
      if (!isRecord(params)) throw new RpcFailure(-32602, 'Invalid params: params must be an object');
      this.reply(peer, id, this.dispatch(request.method, params));
      if (request.method === 'pynebv.quit') this.quit(peer);
    } catch (err) {
      const failure = err instanceof RpcFailure ? err : new RpcFailure(-32000, errorMessage(err));
      this.reply(peer, id, undefined, failure);
    }
  }

  private dispatch(method: string, params: Record<string, unknown>): unknown {
    const parts = method.split('.');
    if (parts[0] !== 'pynebv') throw new RpcFailure(-32601, 'Method not found');
    if (parts.length === 2 && parts[1] === 'quit') return {};
    if (parts.length !== 3) throw new RpcFailure(-32601, 'Method not found');
    const [, klass, name] = parts as [string, string, string];
    if (klass === 'FileList' && name === 'open') return this.open(params);
    if (klass === 'FileList' && name === 'items') return [...this.files.values()];
    if (klass === 'MarkList' && name === 'add') return this.addMark(params);
    if (klass === 'MarkList' && name === 'items') return [...this.marks.values()];
    const definedOn = ITEM_METHODS[name];
    if (definedOn === undefined || !ancestry(klass).includes(definedOn)) throw new RpcFailure(-32601, 'Method not found');
    const item = this.lookup(params.item, klass);
    switch (name) {
      case 'props':
        return item.props ?? {};
      case 'close':
        this.files.delete(item.key);
        return {};
      case 'delete':
        this.marks.delete(item.key);
        return {};
      default:
        return { layers: ['1/0', '2/0', '10/0'], current: '1/0' };
    }
  }

  private lookup(value: unknown, klass: string): EbvItem {
    if (!isEbvItem(value)) throw new RpcFailure(-32602, 'Invalid params: item must be an EbvItem');
    if (!ancestry(value.klass).includes(klass)) throw new RpcFailure(-32602, `Invalid params: item of class ${value.klass} is not a ${klass}`);
    const known = this.files.get(value.key) ?? this.marks.get(value.key);
    if (!known) throw new RpcFailure(-32000, `item ${value.key} does not exist (closed or deleted)`);
    return known;
  }

  private open(params: Record<string, unknown>): EbvItem {
    const filePath = params.filePath;
    if (typeof filePath !== 'string' || filePath === '') throw new RpcFailure(-32602, 'Invalid params: filePath is required');
    const extension = path.extname(filePath).toLowerCase();
    const jobdeck = extension === '.jdc' || extension === '.jdf';
    if (!jobdeck && !['.oas', '.oasis', '.gds', '.gds2'].includes(extension))
      throw new RpcFailure(-32000, `cannot open ${filePath}: unsupported file type`);
    if (path.basename(filePath).startsWith('missing')) throw new RpcFailure(-32000, `cannot open ${filePath}: no such file`);
    const base = path.basename(filePath);
    const count = (this.opened.get(base) ?? 0) + 1;
    this.opened.set(base, count);
    const klass = jobdeck ? 'Jobdeck' : 'File';
    const item: EbvItem = {
      key: `${base}@${count}`,
      klass,
      props: {
        'File/AU [um]': '0.0254',
        'File/Area [um]': '-88.9,-114.3,4770.12,4693.92',
        'File/Display Name': path.basename(filePath, extension),
        'File/Path': filePath,
      },
      attrs: { area: [-88.9, -114.3, 4770.12, 4693.92], au: '0.0254', bold: 'False' },
    };
    this.files.set(item.key, item);
    return item;
  }

  private addMark(params: Record<string, unknown>): EbvItem {
    const point = params.point;
    if (!Array.isArray(point) || point.length !== 2 || !point.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new RpcFailure(-32602, 'Invalid params: point must be [x, y] numbers');
    }
    const [x, y] = point as [number, number];
    this.markNumber += 1;
    const name = typeof params.name === 'string' && params.name !== '' ? params.name : `Mark ${this.markNumber}`;
    const item: EbvItem = {
      key: `Marks@1|${name}@${this.markNumber}`,
      props: { Color: '80000000', Location: `${pyFloat(x)},${pyFloat(y)}`, Name: name, Shape: 'Dot' },
      attrs: {
        cells: {
          'LineNo.': String(this.markNumber),
          mark_color: '',
          mark_group: '',
          mark_representative: '',
          mark_shape: '',
          name,
          x: pyFloat(x),
          y: pyFloat(y),
        },
        color: '80000000',
        display: 'True',
        is_filter_hit: 'True',
        name,
        pos: [x, y],
        thumbnail_image_size: 'None',
      },
      klass: 'Mark',
    };
    this.marks.set(item.key, item);
    return item;
  }

  /** neoEBV exits: the reply goes out, then every connection drops and the state is gone. */
  private quit(peer: Peer): void {
    this.log('quit requested: dropping connections and clearing state');
    const drop = (): void => {
      if (peer.pumping) setImmediate(drop);
      else {
        this.files.clear();
        this.marks.clear();
        this.dropConnections();
        this.emit('quit');
      }
    };
    setImmediate(drop);
  }

  private reply(peer: Peer, id: RpcId, result: unknown, failure?: RpcFailure): void {
    let text: string;
    if (failure?.code === -32601) {
      // As in the spec: Python's spacing, and the id echoed as a string.
      text = `{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": ${JSON.stringify(id === null ? null : String(id))}}`;
    } else if (failure) {
      text = JSON.stringify({ jsonrpc: '2.0', id, error: { code: failure.code, message: failure.message } });
    } else {
      text = JSON.stringify({ jsonrpc: '2.0', id, result });
    }
    this.send(peer, Buffer.from(this.options.replyNewline ? `${text}\n` : text, 'utf8'));
  }

  private send(peer: Peer, data: Buffer): void {
    if (this.options.chunking === false) {
      peer.socket.write(data);
      return;
    }
    // Random cuts, anywhere (inside strings and multi-byte characters too); pieces of
    // neighbouring replies go out together because the pump writes whatever is queued.
    let offset = 0;
    while (offset < data.length) {
      const size = 1 + Math.floor(this.random() * Math.min(data.length - offset, 1 + data.length / 2));
      peer.pieces.push(data.subarray(offset, offset + size));
      offset += size;
    }
    if (!peer.pumping) {
      peer.pumping = true;
      setImmediate(() => this.pump(peer));
    }
  }

  private pump(peer: Peer): void {
    if (!peer.socket.destroyed) {
      // Mostly a few pieces per write; now and then everything queued, i.e. several replies at once.
      const burst = this.random() < 0.2 ? peer.pieces.length : 1 + Math.floor(this.random() * 3);
      const end = Math.min(peer.pieces.length, peer.head + burst);
      const pieces = peer.pieces.slice(peer.head, end);
      peer.head = end;
      peer.socket.write(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces));
      if (peer.head < peer.pieces.length) {
        setImmediate(() => this.pump(peer));
        return;
      }
    }
    peer.pieces = [];
    peer.head = 0;
    peer.pumping = false;
  }
}

function startOptions(options: SimulatorStartOptions): NebvSimulatorOptions {
  const opts = new SimulatorOptions(options);
  const rangeText = opts.text('range');
  const range = rangeText === undefined ? null : /^(\d+)-(\d+)$/.exec(rangeText);
  if (rangeText !== undefined && !range) throw new Error('--range needs FIRST-LAST, e.g. --range 5000-5010');
  const unix = opts.off('unix') ? undefined : (opts.text('unix') ?? path.join(os.tmpdir(), `labwire-nebv-${process.pid}.sock`));
  return {
    ...opts.common,
    portRange: range ? [Number(range[1]), Number(range[2])] : undefined,
    unixPath: unix,
    chunking: !opts.off('chunks') && opts.choice('chunks', ['on', 'off'] as const) !== 'off',
    replyNewline: opts.flag('newline') === true,
  };
}

export const simulator: SimulatorDefinition = {
  name: 'nebv',
  summary: 'neoEBV JSON-RPC socket (pynebv files, marks, props, quit) over TCP and a Unix socket',
  optionHelp: [
    '--range FIRST-LAST  bind the first free port in this range (like --json-rpc-server=host:port-portmax)',
    '--unix PATH         Unix socket path (default: a file in the temp folder); --no-unix for TCP only',
    '--no-chunks         send each reply in one write (default: random chunks, several replies per write)',
    '--newline           end each reply with "\\n"',
  ],
  async start(options: SimulatorStartOptions): Promise<RunningSimulator> {
    const sim = await NebvSimulator.start(startOptions(options));
    const host = options.host ?? '127.0.0.1';
    const endpoints = [`${host}:${sim.port} (neoEBV JSON-RPC over TCP)`];
    if (sim.unixPath) endpoints.push(`${sim.unixPath} (neoEBV JSON-RPC over a Unix socket)`);
    return {
      endpoints,
      configure(node: FlowConfigNode) {
        if (node.type !== 'nebv-server') return undefined;
        node.transport = 'tcp';
        node.host = host === '0.0.0.0' ? '127.0.0.1' : host;
        node.port = String(sim.port);
        return {};
      },
      close: () => sim.close(),
    };
  },
};
