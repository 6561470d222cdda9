import { InstrumentError } from '../protocols/common/errors';
import type { NodeStatus } from './red-types';

export interface StatusTarget {
  id: string;
  status(status: NodeStatus | Record<string, never>): void;
}

export interface ConnectionRegistryOptions<C> {
  /** Create and start the shared connection; called when the first user registers. */
  open: () => C;
  /** Tear the connection down; called when the last user leaves or the config node closes. */
  close: (connection: C) => Promise<void> | void;
}

/**
 * A config node's shared connection and its users. The connection opens lazily on the first
 * user and closes on the last; status is broadcast to every user and replayed to one that
 * registers late. Register and deregister are idempotent because Node-RED closes config and
 * user nodes in parallel, in either order.
 */
export class ConnectionRegistry<C> {
  private readonly users = new Map<string, StatusTarget>();
  private connection: C | undefined;
  private lastStatus: NodeStatus | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;
  private readonly options: ConnectionRegistryOptions<C>;

  constructor(options: ConnectionRegistryOptions<C>) {
    this.options = options;
  }

  get userCount(): number {
    return this.users.size;
  }

  /** The open connection, if any user holds it. */
  get current(): C | undefined {
    return this.connection;
  }

  get status(): NodeStatus | undefined {
    return this.lastStatus;
  }

  /** Add a user and return the shared connection (opening it if this is the first user). */
  register(user: StatusTarget): C {
    if (this.closed) {
      throw new InstrumentError('CLOSED', 'the configuration node has been closed; redeploy the flow', { reason: 'configClosed' });
    }
    this.users.set(user.id, user);
    if (this.connection === undefined) this.connection = this.options.open();
    const replay = this.lastStatus;
    if (replay) {
      // After the user's constructor has returned, or Node-RED would overwrite it with its own clear.
      setImmediate(() => {
        if (this.users.get(user.id) === user && this.lastStatus === replay) user.status(replay);
      });
    }
    return this.connection;
  }

  /** Remove a user; when none remain the connection closes. Safe to call twice. */
  async deregister(user: StatusTarget): Promise<void> {
    if (!this.users.delete(user.id)) return this.closing;
    if (this.users.size === 0) await this.shutdown();
  }

  /** Tell every user; remembered for late registrants. */
  setStatus(status: NodeStatus): void {
    this.lastStatus = status;
    for (const user of this.users.values()) user.status(status);
  }

  /** The config node is going away: close the connection whatever the users do. */
  async closeAll(): Promise<void> {
    this.closed = true;
    this.users.clear();
    await this.shutdown();
  }

  private shutdown(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.lastStatus = undefined;
    if (connection === undefined) return this.closing ?? Promise.resolve();
    this.closing = Promise.resolve()
      .then(() => this.options.close(connection))
      .catch(() => undefined);
    return this.closing;
  }
}
