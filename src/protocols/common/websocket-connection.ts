import type http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';
import { InstrumentError, socketError } from './errors';
import { ReconnectingConnection, type ReconnectOptions } from './reconnecting-connection';

export interface WebSocketConnectionOptions extends ReconnectOptions {
  url: string;
  /** Evaluated on every dial, so a fresh auth header can be sent after a server restart. */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /** Largest message accepted from the server, in bytes. */
  maxPayload?: number;
}

export type WebSocketEvents = {
  message: [string];
};

/**
 * A reconnecting websocket carrying text messages. No ping-based liveness check: some
 * instruments (the BlocklyProp Launcher) never answer pings, so silence is not death.
 */
export class WebSocketConnection<Extra extends Record<keyof Extra, unknown[]> = Record<never, never>> extends ReconnectingConnection<
  WebSocketEvents & Extra
> {
  protected socket: WebSocket | undefined;
  /** The TCP socket under the websocket: ws leaves it open when terminated mid-handshake, so we destroy it ourselves. */
  private rawSocket: net.Socket | undefined;
  protected readonly options: WebSocketConnectionOptions;

  constructor(options: WebSocketConnectionOptions) {
    super(options);
    this.options = options;
  }

  get endpoint(): string {
    return this.options.url;
  }

  /** Send one text frame; throws a clear error when not connected rather than queueing silently. */
  sendText(text: string): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      throw new InstrumentError('DISCONNECTED', `not connected to ${this.endpoint}`, { reason: 'notConnected', where: this.endpoint });
    }
    socket.send(text);
  }

  sendJson(value: unknown): void {
    this.sendText(JSON.stringify(value));
  }

  protected async dial(): Promise<void> {
    const headers = this.options.headers ? await this.options.headers() : undefined;
    await new Promise<void>((resolve, reject) => {
      const secure = this.options.url.startsWith('wss:');
      const socket = new WebSocket(this.options.url, {
        headers,
        maxPayload: this.options.maxPayload ?? 16 * 1024 * 1024,
        createConnection: (opts: http.ClientRequestArgs) => {
          const raw = secure ? tls.connect(opts as tls.ConnectionOptions) : net.connect(opts as net.NetConnectOpts);
          this.rawSocket = raw;
          return raw;
        },
      });
      this.socket = socket;
      let opened = false;
      socket.on('open', () => {
        opened = true;
        resolve();
      });
      socket.on('message', (data, isBinary) => {
        if (isBinary) return;
        this.onText(data.toString());
      });
      socket.on('unexpected-response', (_req, res) => {
        const err = new InstrumentError('CONNECT_FAILED', `${this.endpoint} answered the websocket upgrade with HTTP ${res.statusCode}`, {
          reason: 'upgradeRefused',
          where: this.endpoint,
          statusCode: res.statusCode,
        });
        res.resume();
        socket.terminate();
        reject(this.upgradeRefused(res.statusCode ?? 0, err));
      });
      socket.on('error', (err) => {
        if (!opened) reject(socketError('CONNECT_FAILED', this.endpoint, err));
      });
      socket.on('close', (code, reason) => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        if (opened) {
          const text = reason.toString();
          this.lost(
            new InstrumentError('DISCONNECTED', `${this.endpoint} closed the connection (code ${code}${text ? `: ${text}` : ''})`, {
              reason: text ? 'peerClosedSaying' : 'peerClosed',
              where: this.endpoint,
              closeCode: code,
              text,
            }),
          );
        } else {
          reject(
            new InstrumentError('CONNECT_FAILED', `${this.endpoint} closed before the websocket opened`, {
              reason: 'closedBeforeOpen',
              where: this.endpoint,
            }),
          );
        }
      });
    });
  }

  /** Subclasses may turn an upgrade status (401/403) into an AUTH_FAILED error that stops retries. */
  protected upgradeRefused(_statusCode: number, err: InstrumentError): InstrumentError {
    return err;
  }

  /** Hook for subclasses; the default re-emits the text. */
  protected onText(text: string): void {
    (this as unknown as { emit(name: 'message', text: string): boolean }).emit('message', text);
  }

  protected hangUp(): void {
    const socket = this.socket;
    const raw = this.rawSocket;
    this.socket = undefined;
    this.rawSocket = undefined;
    if (socket) {
      socket.removeAllListeners('message');
      socket.on('error', () => undefined);
      socket.terminate();
    }
    raw?.destroy();
  }
}
