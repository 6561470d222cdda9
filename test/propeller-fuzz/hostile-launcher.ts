import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

export type Frame = string | Buffer;
type Message = Record<string, unknown>;

export interface HostileLauncherOptions {
  /** What hello-browser is answered with (default: a plain 1.0.7 hello-client). */
  hello?: (message: Message) => Frame | undefined;
  /** The port list sent for port-list-request (default ["COM3"]). */
  ports?: string[];
  /** A load-prop arrived: answer it (or not) through `send`. */
  onLoad?: (send: (frame: Frame) => void, message: Message, socket: WebSocket) => void;
  /** A serial-terminal message arrived. */
  onTerminal?: (send: (frame: Frame) => void, message: Message, socket: WebSocket) => void;
}

/**
 * A websocket server that speaks just enough of the Launcher's protocol to be connected to, and
 * otherwise sends whatever a test tells it: the peer a hostile or broken Launcher would be.
 */
export class HostileLauncher {
  readonly sockets = new Set<WebSocket>();
  /** Every text frame a client sent, parsed. */
  readonly received: Message[] = [];
  /** The last frames sent, described (size and start), to tell what came before a stall. */
  readonly recent: string[] = [];

  private constructor(
    private readonly server: WebSocketServer,
    private readonly options: HostileLauncherOptions,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  static async start(options: HostileLauncherOptions = {}): Promise<HostileLauncher> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    return new HostileLauncher(server, options);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Send a frame to every client: a string as text, a Buffer as a text frame of those bytes (possibly not UTF-8). */
  sendAll(frame: Frame): void {
    for (const socket of this.sockets) this.send(socket, frame);
  }

  /** Send a text frame in pieces (fragments), `pauseMs` apart: a peer that trickles. */
  async trickle(frame: Frame, pieces: number, pauseMs: number): Promise<void> {
    const bytes = Buffer.isBuffer(frame) ? frame : Buffer.from(frame);
    const size = Math.max(1, Math.ceil(bytes.length / pieces));
    for (const socket of this.sockets) {
      for (let at = 0; at < bytes.length; at += size) {
        if (socket.readyState !== WebSocket.OPEN) break;
        this.note(`fragment ${size} of ${bytes.length}`);
        socket.send(bytes.subarray(at, at + size), { binary: false, fin: at + size >= bytes.length });
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private send(socket: WebSocket, frame: Frame): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    const start = Buffer.isBuffer(frame) ? frame.subarray(0, 40).toString('latin1') : frame.slice(0, 40);
    this.note(`${frame.length} ${Buffer.isBuffer(frame) ? 'bytes' : 'chars'}: ${start}`);
    socket.send(frame, { binary: false });
  }

  private note(what: string): void {
    this.recent.push(`${Math.round(performance.now())} ${what}`);
    if (this.recent.length > 12) this.recent.shift();
  }

  private accept(socket: WebSocket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const reply = (frame: Frame): void => this.send(socket, frame);
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: Message;
      try {
        message = JSON.parse(data.toString()) as Message;
      } catch {
        return;
      }
      this.received.push(message);
      switch (message.type) {
        case 'hello-browser': {
          const hello = this.options.hello ? this.options.hello(message) : JSON.stringify({ type: 'hello-client', version: '1.0.7' });
          if (hello !== undefined) reply(hello);
          return;
        }
        case 'port-list-request':
          reply(JSON.stringify({ type: 'port-list', ports: this.options.ports ?? ['COM3'] }));
          return;
        case 'load-prop':
          this.options.onLoad?.(reply, message, socket);
          return;
        case 'serial-terminal':
          this.options.onTerminal?.(reply, message, socket);
          return;
        default:
          return;
      }
    });
  }
}
