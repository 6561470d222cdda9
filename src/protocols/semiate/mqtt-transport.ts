import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { InstrumentError, describeSocketError, failureAt, socketCause } from '../common/errors';
import { notConnectedWithin, type BaseConnectionEvents, type ConnectionStatus } from '../common/reconnecting-connection';
import { withTimeout } from '../common/timers';
import { decodeMessage, droppedMessage, resultWithoutPart } from './decode';
import { LIMITS, bounded } from './limits';
import type { JsonObject, TesterEvent } from './types';
import { asString, isObject } from './types';
import { mqttStatusState, parseMqttLog, records, stateMessage, stateName } from './wire';

/** How the package's MQTT client ids begin, so a broker's log tells them from the tester's own clients. */
export const MQTT_CLIENT_ID_PREFIX = 'labwire-semiate-';
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
/** Of those, the ones that mean "not this user name and password" rather than "this user may not connect". */
const BAD_CREDENTIALS = new Set([4, 134]);

/** The broker's refusal in words, with what to do; never the credentials themselves. */
export function loginRefused(returnCode: number): InstrumentError {
  const credentials = BAD_CREDENTIALS.has(returnCode);
  const why = credentials ? 'bad username or password' : 'this user is not authorized to connect';
  const fix = credentials ? 'check username and password' : "check the broker's access rules for this user";
  return new InstrumentError('AUTH_FAILED', `the broker refused the login (${why}, MQTT return code ${returnCode}); ${fix}`, {
    reason: credentials ? 'loginRefusedCredentials' : 'loginRefusedNotAuthorized',
    returnCode,
  });
}

/** Errors of a client we have ended: nothing to report any more, but they must not go uncaught. */
function ignoreLateError(): void {
  // deliberately empty
}

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
  private lastFailure: InstrumentError | undefined;

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

  /** Why the connection gave up for good (a refused login or subscription), with its reason key. */
  get failure(): InstrumentError | undefined {
    return this.lastFailure;
  }

  start(): void {
    if (this.client) return;
    const options: IClientOptions = {
      username: this.options.username || undefined,
      password: this.options.password || undefined,
      reconnectPeriod: this.options.reconnectMs ?? 2000,
      connectTimeout: this.options.connectTimeoutMs ?? 10_000,
      rejectUnauthorized: !this.options.tlsInsecure,
      clientId: `${MQTT_CLIENT_ID_PREFIX}${Math.random().toString(16).slice(2, 10)}`,
      clean: true,
    };
    this.setStatus({ state: 'connecting' });
    const client = mqtt.connect(this.brokerUrl(), options);
    this.client = client;
    client.on('connect', () => void this.onConnect(client));
    client.on('reconnect', () => {
      if (this.client !== client) return;
      this.attempts += 1;
      this.setStatus({ state: 'reconnecting', attempt: this.attempts, error: this.current.error, failure: this.current.failure });
    });
    client.on('close', () => {
      if (this.client !== client || this.current.state === 'failed') return;
      if (this.current.state === 'connected')
        this.emit(
          'disconnected',
          new InstrumentError('DISCONNECTED', `lost the MQTT broker ${this.brokerUrl()}`, { reason: 'mqttBrokerLost', where: this.brokerUrl() }),
        );
      this.setStatus({
        state: 'reconnecting',
        attempt: this.attempts + 1,
        retryInMs: options.reconnectPeriod,
        error: this.current.error ?? 'connection closed',
        failure: this.current.failure ?? new InstrumentError('DISCONNECTED', 'connection closed', { reason: 'connectionClosed' }),
      });
    });
    client.on('error', (err: Error & { code?: unknown }) => {
      if (this.client !== client) return;
      if (typeof err.code === 'number' && AUTH_CODES.has(err.code)) {
        this.client = undefined;
        client.end(true);
        this.lastFailure = loginRefused(err.code);
        this.setStatus({ state: 'failed', error: this.lastFailure.message, failure: this.lastFailure });
        return;
      }
      // The failure in words with its reason, so a wait that runs out can say it in the user's language.
      const failure = socketCause(err);
      this.current = { ...this.current, error: failure.message, failure };
    });
    client.on('message', (topic, buffer) => this.onMessage(topic, buffer));
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    clearTimeout(this.askTimer);
    this.askTimer = undefined;
    if (!client) return;
    // Only our own listeners go: mqtt.js keeps its internal ones (its 'close' handler clears the
    // CONNACK timer), and an 'error' listener stays for good, because that timer or a late socket
    // error may still fire after end() has called back, and an 'error' without a listener throws.
    client.on('error', ignoreLateError);
    client.removeAllListeners('message');
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
    this.setStatus({ state: 'closed' });
  }

  /** Like ReconnectingConnection.whenConnected, with the same errors (reasons, seconds, the endpoint named once). */
  whenConnected(timeoutMs: number): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    if (this.current.state === 'failed') return Promise.reject(this.connectFailed(this.current, 'failed'));
    this.start();
    let onStatus: ((status: ConnectionStatus) => void) | undefined;
    const waiter = new Promise<void>((resolve, reject) => {
      onStatus = (status) => {
        if (status.state === 'connected') resolve();
        else if (status.state === 'failed' || status.state === 'closed') reject(this.connectFailed(status, 'connection closed'));
      };
      this.on('status', onStatus);
    });
    return withTimeout(waiter, timeoutMs, () => notConnectedWithin(this.endpoint, timeoutMs, this.current)).finally(() => {
      if (onStatus) this.off('status', onStatus);
    });
  }

  /** Publish on Master/cmd, QoS 2 like the master's own clients. */
  sendCommand(name: string, body: JsonObject): void {
    const client = this.client;
    if (!client || !this.isConnected)
      throw new InstrumentError('DISCONNECTED', `not connected to ${this.endpoint}`, { reason: 'notConnected', where: this.endpoint });
    client.publish(`${this.prefix}Master/cmd`, JSON.stringify({ type: name, ...body }), { qos: 2 });
  }

  private connectFailed(status: ConnectionStatus, fallback: string): InstrumentError {
    return failureAt('CONNECT_FAILED', this.endpoint, status.failure ?? new Error(status.error ?? fallback));
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
        this.current = { ...this.current, error: `subscribing failed: ${describeSocketError(err)}`, failure: undefined };
        return;
      }
      // The broker answered with a refusal (an ACL): every reconnect would be refused the same way.
      this.client = undefined;
      client.end(true);
      const error = describeSocketError(err);
      this.lastFailure = new InstrumentError(
        'AUTH_FAILED',
        `the broker refused the subscription to ${this.prefix}… (${error}); check the broker's access rules for this user`,
        { reason: 'subscriptionRefused', topics: `${this.prefix}…`, error },
      );
      this.setStatus({ state: 'failed', error: this.lastFailure.message, failure: this.lastFailure });
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
   * resubscribed yet when our first question arrives. The same after its last will ("crash"):
   * a master that comes back does not announce itself, but answers.
   */
  private askState(client: MqttClient): void {
    clearTimeout(this.askTimer);
    if (this.client !== client || !this.isConnected) return;
    client.publish(`${this.prefix}Master/cmd`, JSON.stringify({ type: 'get-state', payload: {} }), { qos: 2 });
    this.askTimer = setTimeout(() => this.askState(client), this.options.stateRetryMs ?? 1000);
  }

  /** A state report ends the asking; a crash (re)starts it, unless it is already going. */
  private stateReported(state: string): void {
    if (state !== 'crash') {
      clearTimeout(this.askTimer);
      this.askTimer = undefined;
    } else if (this.askTimer === undefined && this.client) {
      this.askState(this.client);
    }
  }

  private onMessage(topic: string, buffer: Buffer): void {
    if (!topic.startsWith(this.prefix)) return;
    const decoded = decodeMessage(buffer.length > LIMITS.maxMessageBytes ? '' : buffer.toString('utf8'), buffer.length);
    if (!decoded.ok) {
      this.emit('warning', droppedMessage(bounded(topic, 200), decoded));
      return;
    }
    const event = this.eventOf(topic, decoded.message);
    if (event) this.emit('event', event);
  }

  private eventOf(topic: string, message: JsonObject): TesterEvent | undefined {
    const path = topic.slice(this.prefix.length);
    const [app, channel, siteTopic = ''] = path.split('/', 3);
    const site = bounded(siteTopic.replace(/^site/, ''), LIMITS.maxNameChars);
    if (app === 'Master' && channel === 'status') {
      const { state, message: text } = mqttStatusState(message);
      this.stateReported(state);
      return { kind: 'state', state, message: text, raw: message };
    }
    if (app === 'Master' && channel === 'response') {
      const type = bounded(asString(message.type), LIMITS.maxNameChars);
      if (type === 'get-state' && isObject(message.payload)) {
        // The answer to get-state doubles as a state report.
        const state = stateName(message.payload.state);
        this.stateReported(state);
        this.emit('event', { kind: 'state', state, message: stateMessage(message.payload.message), raw: message });
      }
      return { kind: 'response', type, payload: message.payload };
    }
    if (app === 'TestApp' && channel === 'testresult') {
      const unusable = resultWithoutPart(message.payload);
      if (unusable) {
        this.emit('warning', droppedMessage(bounded(topic, 200), unusable));
        return undefined;
      }
      return { kind: 'part', site, records: records(message.payload) };
    }
    if (channel === 'log') {
      // An empty log line says nothing: there is nothing to warn about either.
      const entry = parseMqttLog(site, message);
      return entry ? { kind: 'logs', entries: [entry] } : undefined;
    }
    if (channel === 'status') {
      const payload = isObject(message.payload) ? message.payload : {};
      const state = stateName(payload.state, '') || stateName(message.state, '');
      return {
        kind: 'data',
        type: 'sitestatus',
        payload: { site, app: app === 'Control' ? 'control' : 'testapp', state, message: stateMessage(payload.error_message ?? payload.message) },
      };
    }
    // Only the topics above are subscribed to, so anything else under our prefix is the broker
    // delivering a topic we did not ask for (an overlapping subscription of a shared client): the
    // tester's own traffic that this package has no use for, not a message of ours gone wrong.
    return undefined;
  }

  private setStatus(status: ConnectionStatus): void {
    if (status.state !== 'connected') {
      clearTimeout(this.askTimer);
      this.askTimer = undefined;
    }
    this.current = status;
    this.emit('status', status);
  }
}
