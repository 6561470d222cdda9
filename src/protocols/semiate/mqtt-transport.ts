import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { InstrumentError, describeSocketError } from '../common/errors';
import type { BaseConnectionEvents, ConnectionStatus } from '../common/reconnecting-connection';
import { withTimeout } from '../common/timers';
import type { JsonObject, TesterEvent } from './types';
import { asString, isObject } from './types';
import { mqttStatusState, parseMqttLog, records } from './wire';
import type { TesterTransportEvents } from './websocket-transport';

export interface MqttTransportOptions {
  /** mqtt://host:1883, mqtts://host:8883, ws://… */
  url: string;
  deviceId: string;
  username?: string;
  password?: string;
  /** Upgrade mqtt:// to mqtts://. */
  tls?: boolean;
  /** With TLS: accept a certificate that does not verify (self-signed lab brokers). */
  tlsInsecure?: boolean;
  reconnectMs?: number;
  connectTimeoutMs?: number;
  /** How often to repeat get-state until the master answers (default 1 s). */
  stateRetryMs?: number;
}

/** MQTT refuses credentials with 4/5 (v3.1.1) or 134/135 (v5): retrying cannot help. */
const AUTH_CODES = new Set([4, 5, 134, 135]);

/** A SUBACK with a failure code (0x80 and above): the broker answered, and said no. */
function refusedBySuback(err: unknown): boolean {
  const granted = isObject(err) && isObject(err.packet) ? err.packet.granted : undefined;
  return Array.isArray(granted) && granted.some((code) => typeof code === 'number' && (code & 0x80) !== 0);
}

/**
 * The handler side of the master's MQTT interface (topics ate/<device_id>/…). The mqtt client
 * reconnects by itself; we translate its events into the same status vocabulary as every other
 * connection, and the topics into the same events as the websocket.
 */
export class SemiAteMqtt extends EventEmitter<BaseConnectionEvents & TesterTransportEvents> {
  readonly kind = 'mqtt' as const;
  private client: MqttClient | undefined;
  private current: ConnectionStatus = { state: 'idle' };
  private attempts = 0;
  private readonly prefix: string;
  private readonly options: MqttTransportOptions;
  private askTimer: NodeJS.Timeout | undefined;

  constructor(options: MqttTransportOptions) {
    super();
    this.options = options;
    this.prefix = `ate/${options.deviceId}/`;
  }

  get endpoint(): string {
    return `${this.brokerUrl()} (${this.options.deviceId})`;
  }

  get status(): ConnectionStatus {
    return this.current;
  }

  get isConnected(): boolean {
    return this.current.state === 'connected';
  }

  start(): void {
    if (this.client) return;
    const options: IClientOptions = {
      username: this.options.username || undefined,
      password: this.options.password || undefined,
      reconnectPeriod: this.options.reconnectMs ?? 2000,
      connectTimeout: this.options.connectTimeoutMs ?? 10_000,
      rejectUnauthorized: !this.options.tlsInsecure,
      clientId: `labwire-semiate-${Math.random().toString(16).slice(2, 10)}`,
      clean: true,
    };
    this.setStatus({ state: 'connecting' });
    const client = mqtt.connect(this.brokerUrl(), options);
    this.client = client;
    client.on('connect', () => void this.onConnect(client));
    client.on('reconnect', () => {
      this.attempts += 1;
      this.setStatus({ state: 'reconnecting', attempt: this.attempts, error: this.current.error });
    });
    client.on('close', () => {
      if (this.client !== client || this.current.state === 'failed') return;
      if (this.current.state === 'connected')
        this.emit('disconnected', new InstrumentError('DISCONNECTED', `lost the MQTT broker ${this.brokerUrl()}`));
      this.setStatus({
        state: 'reconnecting',
        attempt: this.attempts + 1,
        retryInMs: options.reconnectPeriod,
        error: this.current.error ?? 'connection closed',
      });
    });
    client.on('error', (err: Error & { code?: unknown }) => {
      if (typeof err.code === 'number' && AUTH_CODES.has(err.code)) {
        this.client = undefined;
        client.end(true);
        this.setStatus({ state: 'failed', error: `the broker refused the login (${err.message}); check username and password` });
        return;
      }
      this.current = { ...this.current, error: describeSocketError(err) };
    });
    client.on('message', (topic, buffer) => this.onMessage(topic, buffer));
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    client.removeAllListeners('message');
    client.removeAllListeners('connect');
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
    client.removeAllListeners();
    this.setStatus({ state: 'closed' });
  }

  whenConnected(timeoutMs: number): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    if (this.current.state === 'failed')
      return Promise.reject(new InstrumentError('CONNECT_FAILED', `${this.endpoint}: ${this.current.error ?? 'failed'}`));
    this.start();
    let onStatus: ((status: ConnectionStatus) => void) | undefined;
    const waiter = new Promise<void>((resolve, reject) => {
      onStatus = (status) => {
        if (status.state === 'connected') resolve();
        else if (status.state === 'failed' || status.state === 'closed')
          reject(new InstrumentError('CONNECT_FAILED', `${this.endpoint}: ${status.error ?? 'connection closed'}`));
      };
      this.on('status', onStatus);
    });
    const why = (): string => (this.current.error ? ` (last error: ${this.current.error})` : '');
    return withTimeout(
      waiter,
      timeoutMs,
      () => new InstrumentError('TIMEOUT', `not connected to ${this.endpoint} within ${timeoutMs} ms${why()}`),
    ).finally(() => {
      if (onStatus) this.off('status', onStatus);
    });
  }

  /** Publish on Master/cmd, QoS 2 like the master's own clients. */
  sendCommand(name: string, body: JsonObject): void {
    const client = this.client;
    if (!client || !this.isConnected) throw new InstrumentError('DISCONNECTED', `not connected to ${this.endpoint}`);
    client.publish(`${this.prefix}Master/cmd`, JSON.stringify({ type: name, ...body }), { qos: 2 });
  }

  private brokerUrl(): string {
    const url = this.options.url.trim();
    if (!this.options.tls) return url;
    return url
      .replace(/^mqtt:/i, 'mqtts:')
      .replace(/^ws:/i, 'wss:')
      .replace(/^tcp:/i, 'mqtts:');
  }

  private async onConnect(client: MqttClient): Promise<void> {
    const topics = [
      'Master/status',
      'Master/response',
      'TestApp/testresult/+',
      'TestApp/status/+',
      'Control/status/+',
      'Control/log/+',
      'TestApp/log/+',
    ];
    try {
      await client.subscribeAsync(
        topics.map((t) => this.prefix + t),
        { qos: 2 },
      );
    } catch (err) {
      if (this.client !== client) return;
      if (!refusedBySuback(err)) {
        // The connection dropped mid-subscribe: the client reconnects and we subscribe again.
        this.current = { ...this.current, error: `subscribing failed: ${describeSocketError(err)}` };
        return;
      }
      // The broker answered with a refusal (an ACL): every reconnect would be refused the same way.
      this.client = undefined;
      client.end(true);
      const refusal = `the broker refused the subscription to ${this.prefix}… (${describeSocketError(err)})`;
      this.setStatus({ state: 'failed', error: `${refusal}; check the broker's access rules for this user` });
      return;
    }
    if (this.client !== client) return;
    this.attempts = 0;
    this.setStatus({ state: 'connected' });
    this.emit('connected');
    this.askState(client);
  }

  /**
   * Master/status is only published on changes and never retained, so ask with get-state, and
   * ask again until an answer comes: after a broker restart the master may not have
   * resubscribed yet when our first question arrives.
   */
  private askState(client: MqttClient): void {
    clearTimeout(this.askTimer);
    if (this.client !== client || !this.isConnected) return;
    client.publish(`${this.prefix}Master/cmd`, JSON.stringify({ type: 'get-state', payload: {} }), { qos: 2 });
    this.askTimer = setTimeout(() => this.askState(client), this.options.stateRetryMs ?? 1000);
  }

  private onMessage(topic: string, buffer: Buffer): void {
    if (!topic.startsWith(this.prefix)) return;
    let message: unknown;
    try {
      message = JSON.parse(buffer.toString('utf8'));
    } catch {
      return;
    }
    if (!isObject(message)) return;
    const event = this.eventOf(topic.slice(this.prefix.length), message);
    if (event) this.emit('event', event);
  }

  private eventOf(path: string, message: JsonObject): TesterEvent | undefined {
    const [app, channel, siteTopic = ''] = path.split('/');
    const site = siteTopic.replace(/^site/, '');
    if (app === 'Master' && (channel === 'status' || (channel === 'response' && message.type === 'get-state'))) clearTimeout(this.askTimer);
    if (app === 'Master' && channel === 'status') {
      const { state, message: text } = mqttStatusState(message);
      return { kind: 'state', state, message: text, raw: message };
    }
    if (app === 'Master' && channel === 'response') {
      const type = asString(message.type);
      if (type === 'get-state' && isObject(message.payload)) {
        // The answer to get-state doubles as a state report.
        this.emit('event', {
          kind: 'state',
          state: asString(message.payload.state, 'unknown'),
          message: asString(message.payload.message),
          raw: message,
        });
      }
      return { kind: 'response', type, payload: message.payload };
    }
    if (app === 'TestApp' && channel === 'testresult') return { kind: 'part', site, records: records(message.payload) };
    if (channel === 'log') {
      const entry = parseMqttLog(site, message);
      return entry ? { kind: 'logs', entries: [entry] } : undefined;
    }
    if (channel === 'status') {
      const payload = isObject(message.payload) ? message.payload : {};
      const state = asString(payload.state) || asString(message.state);
      return {
        kind: 'data',
        type: 'sitestatus',
        payload: { site, app: app === 'Control' ? 'control' : 'testapp', state, message: asString(payload.error_message ?? payload.message) },
      };
    }
    return undefined;
  }

  private setStatus(status: ConnectionStatus): void {
    if (status.state !== 'connected') clearTimeout(this.askTimer);
    this.current = status;
    this.emit('status', status);
  }
}
