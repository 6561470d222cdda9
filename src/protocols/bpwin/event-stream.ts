import { InstrumentError } from '../common/errors';
import type { ReconnectOptions } from '../common/reconnecting-connection';
import { WebSocketConnection } from '../common/websocket-connection';
import type { BpwinClient } from './client';
import { decodeEventText, type BpwinEvent } from './events';

export interface BpwinEventStreamOptions extends ReconnectOptions {
  /** Supplies the challenge headers; its refusal state is shared with every other user. */
  client: BpwinClient;
}

export type BpwinEventStreamEvents = {
  event: [BpwinEvent];
  /** A text that could not be read as an event (kept so a flow can log it). */
  invalid: [InstrumentError, string];
};

function isForbidden(err: unknown): boolean {
  return err instanceof InstrumentError && err.details.statusCode === 403;
}

/** BPWin's events are a few hundred bytes; a frame this large is not one, and is refused by the socket. */
export const MAX_EVENT_BYTES = 1024 * 1024;

/** The longest text of an unreadable frame passed on with its error (a flow logs it; megabytes would only burden it). */
export const MAX_INVALID_TEXT = 1000;

/**
 * BPWin's /ws push channel. The upgrade carries the same challenge headers as REST calls; a 403
 * upgrade gets one fresh challenge and one retry, a second 403 stops the stream (the reconnect
 * loop must not hammer BPWin with a wrong passphrase) until the client's slow re-check finds
 * BPWin accepting again: then the stream opens by itself.
 */
export class BpwinEventStream extends WebSocketConnection<BpwinEventStreamEvents> {
  /** The stream's own REST client, used for /auth; the owner closes it after stop(). */
  readonly client: BpwinClient;

  private readonly resume = (): void => {
    if (this.status.state === 'failed') this.start();
  };

  constructor(options: BpwinEventStreamOptions) {
    const url = `${options.client.baseUrl.replace(/^http/, 'ws')}/ws`;
    super({ maxPayload: MAX_EVENT_BYTES, ...options, url, headers: () => options.client.authHeaders() });
    this.client = options.client;
    this.client.on('authenticated', this.resume);
  }

  override async stop(): Promise<void> {
    this.client.off('authenticated', this.resume);
    await super.stop();
  }

  protected override async dial(): Promise<void> {
    try {
      await super.dial();
    } catch (err) {
      if (!isForbidden(err)) throw err;
      this.client.forgetChallenge();
      try {
        await super.dial();
      } catch (again) {
        if (isForbidden(again)) throw this.client.markRefused();
        throw again;
      }
    }
  }

  protected override onText(text: string): void {
    let event: BpwinEvent;
    try {
      event = decodeEventText(text);
    } catch (err) {
      const error = err instanceof InstrumentError ? err : new InstrumentError('PROTOCOL', String(err));
      this.emit('invalid', error, text.length > MAX_INVALID_TEXT ? `${text.slice(0, MAX_INVALID_TEXT)}…` : text);
      return;
    }
    this.emit('event', event);
  }
}
