import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

/**
 * A master's UI websocket that sends whatever a test tells it to — broken, huge, deeply nested,
 * trickled — after the greeting every client expects. Commands it receives are counted, not obeyed.
 */
export class FakeMaster {
  url = '';
  commands = 0;
  /** The status sent after the connection id (none when undefined). */
  greeting: Record<string, unknown> | undefined;
  /** Called with each command a client sends (parsed), e.g. to answer it with something hostile. */
  onCommand: ((command: Record<string, unknown>) => void) | undefined;
  private server: http.Server | undefined;
  private wss: WebSocketServer | undefined;

  static async start(): Promise<FakeMaster> {
    const master = new FakeMaster();
    master.server = http.createServer((_req, res) => res.writeHead(404).end());
    master.wss = new WebSocketServer({ server: master.server, path: '/ws', maxPayload: 64 * 1024 });
    master.wss.on('connection', (socket) => {
      socket.on('error', () => socket.terminate());
      socket.on('message', (data) => {
        master.commands += 1;
        let command: unknown;
        try {
          command = JSON.parse(data.toString());
        } catch {
          return;
        }
        if (typeof command === 'object' && command !== null) master.onCommand?.(command as Record<string, unknown>);
      });
      socket.send(JSON.stringify({ type: 'connectionid', payload: { connectionid: '00000000-0000-4000-8000-000000000000' } }));
      // Like the real master's greeting, which ends with its status.
      if (master.greeting) socket.send(JSON.stringify({ type: 'status', payload: master.greeting }));
    });
    await new Promise<void>((resolve) => master.server!.listen(0, '127.0.0.1', resolve));
    master.url = `ws://127.0.0.1:${(master.server.address() as AddressInfo).port}/ws`;
    return master;
  }

  get clients(): number {
    return this.wss?.clients.size ?? 0;
  }

  /** A text frame (or bytes sent as a text frame, e.g. invalid UTF-8) to every client. */
  send(data: string | Buffer): void {
    for (const client of this.wss?.clients ?? []) if (client.readyState === WebSocket.OPEN) client.send(data, { binary: false });
  }

  sendMessage(type: string, payload: unknown): void {
    this.send(JSON.stringify({ type, payload }));
  }

  /** One message in `pieces` websocket fragments, `gapMs` apart. */
  async trickle(text: string | Buffer, pieces: number, gapMs: number): Promise<void> {
    const size = Math.ceil(text.length / pieces);
    for (let i = 0; i < text.length; i += size) {
      const fin = i + size >= text.length;
      const piece = text.slice(i, i + size);
      for (const client of this.wss?.clients ?? []) if (client.readyState === WebSocket.OPEN) client.send(piece, { fin, binary: false });
      if (!fin) await new Promise((r) => setTimeout(r, gapMs));
    }
  }

  dropClients(): void {
    for (const client of this.wss?.clients ?? []) client.terminate();
  }

  async close(): Promise<void> {
    this.dropClients();
    this.wss?.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A JSON text nested `depth` levels deep: [[[…]]]. */
export function nested(depth: number, inner = '0'): string {
  return '['.repeat(depth) + inner + ']'.repeat(depth);
}
