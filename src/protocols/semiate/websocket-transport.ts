import { InstrumentError } from '../common/errors';
import { WebSocketConnection, type WebSocketConnectionOptions } from '../common/websocket-connection';
import { decodeMessage, droppedMessage } from './decode';
import { LIMITS, bounded } from './limits';
import type { TesterEvent, JsonObject } from './types';
import { asString, isObject } from './types';
import { websocketEvent } from './wire';

export type TesterTransportEvents = {
  event: [TesterEvent];
  /** A message the transport could not use (not JSON, too large or deep, not a message object). */
  warning: [InstrumentError];
};

/**
 * The master's UI websocket (ws://host:8081/ws). The greeting is the connection id; we wait for
 * it so a wrong URL (some other websocket) fails the handshake instead of looking connected.
 */
/** Sent after every part; parsed only when someone asked for them (they cost a third of the parsing). */
const OPTIONAL_TYPES = /^\s*\{\s*"type"\s*:\s*"(yield|bintable)"/;

export class SemiAteWebSocket extends WebSocketConnection<TesterTransportEvents> {
  readonly kind = 'websocket' as const;
  private id: string | undefined;
  private greeted: (() => void) | undefined;
  private readonly wanted: (type: string) => boolean;

  constructor(options: WebSocketConnectionOptions & { wanted?: (type: string) => boolean }) {
    super(options);
    this.wanted = options.wanted ?? (() => true);
  }

  get connectionId(): string | undefined {
    return this.id;
  }

  /** Send a command; the master addresses replies to get* commands by our connection id. */
  sendCommand(name: string, body: JsonObject): void {
    this.sendJson({ type: 'cmd', command: name, ...body, connectionid: this.id ?? '' });
  }

  protected override dial(): Promise<void> {
    this.id = undefined;
    return super.dial();
  }

  protected override handshake(): Promise<void> {
    if (this.id !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.greeted = resolve;
    });
  }

  protected override hangUp(): void {
    this.greeted = undefined;
    super.hangUp();
  }

  protected override onText(text: string): void {
    const optional = OPTIONAL_TYPES.exec(text);
    if (optional && !this.wanted(optional[1]!)) return;
    // The socket already refuses frames above its maxPayload; the decoder bounds the nesting.
    const decoded = decodeMessage(text);
    const type = decoded.ok ? decoded.message.type : undefined;
    if (!decoded.ok || typeof type !== 'string') {
      const failure = decoded.ok ? { ok: false as const, cause: 'noType' as const, text: 'it has no "type"', details: {} } : decoded;
      this.emit('warning', droppedMessage(this.endpoint, failure));
      return;
    }
    const message = decoded.message;
    if (type === 'connectionid') {
      this.id = asString(isObject(message.payload) ? message.payload.connectionid : undefined) || undefined;
      if (this.id === undefined) {
        this.lost(
          new InstrumentError('PROTOCOL', `${this.endpoint} sent an empty connection id`, { reason: 'emptyConnectionId', where: this.endpoint }),
        );
        return;
      }
      const greeted = this.greeted;
      this.greeted = undefined;
      greeted?.();
      return;
    }
    this.emit('event', websocketEvent(bounded(type, LIMITS.maxNameChars), message.payload));
  }
}
