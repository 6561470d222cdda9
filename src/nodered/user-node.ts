import { InstrumentError } from '../protocols/common/errors';
import type { StatusTarget } from './connection-registry';
import type { ConfigType, Registrar } from './config-nodes';
import { localizedError, sharedText } from './i18n';
import { onClose, onInput } from './lifecycle';
import { migrate, type Migration } from './migrations';
import type { NodeDef, NodeMessage, NodeStatus, RedAPI, RedNode, SendFunction } from './red-types';

export interface UserNodeOptions {
  /** The node type's config migrations; `def` is the config after them. */
  migrations?: readonly Migration[];
  /** The node has no input: a setup problem is also reported once with node.error, as nothing can be refused. */
  noInput?: boolean;
}

/** A config node found and registered with: the node and the connection it shares. */
export interface ConfigLink<C extends RedNode, Conn> {
  config: C;
  connection: Conn;
}

/**
 * What every user node (non-config) does alike: its config brought to the current version, a
 * status that does nothing once the node is closed (a call finishing after a redeploy must not
 * paint over its successor), errors for Catch nodes in the runtime's language, the config node
 * found by a real check and registered with (deregistered on close), and one "not configured"
 * behaviour: a red ring, and every input refused with the reason.
 */
export class UserNode {
  readonly RED: RedAPI;
  readonly node: RedNode;
  /** The node's config after migrations. */
  readonly def: NodeDef;
  /** Hand this to a ConnectionRegistry: it shows what the connection reports, while the node is open. */
  readonly target: StatusTarget;
  private isClosed = false;
  private readonly closers: Array<(removed: boolean) => Promise<void> | void> = [];
  private readonly noInput: boolean;

  constructor(RED: RedAPI, node: RedNode, def: NodeDef, options: UserNodeOptions = {}) {
    RED.nodes.createNode(node, def);
    this.RED = RED;
    this.node = node;
    this.def = migrate(def, options.migrations ?? []);
    this.noInput = options.noInput === true;
    this.target = { id: node.id, status: (status) => this.status(status) };
    onClose(
      node,
      async (removed) => {
        this.isClosed = true;
        // Last registered first: the node's own clean-up runs before it leaves its config node.
        for (const close of this.closers.reverse()) {
          try {
            await close(removed);
          } catch (err) {
            node.warn(sharedText(RED, 'warn.closeFailed', { error: localizedError(RED, err).message }));
          }
        }
      },
      { RED },
    );
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** node.status while the node is open; nothing after close. */
  status(status: NodeStatus | Record<string, never>): void {
    if (!this.isClosed) this.node.status(status);
  }

  /** An input handler whose errors reach Catch nodes in the runtime's language (code and details kept). */
  onInput(handler: (msg: NodeMessage, send: SendFunction) => Promise<void> | void): void {
    onInput(this.node, handler, (err) => localizedError(this.RED, err));
  }

  /** Work to do on close (remove listeners, stop timers); runs before the node leaves its config node. */
  onClose(work: (removed: boolean) => Promise<void> | void): void {
    this.closers.push(work);
  }

  /** node.error with the error in the runtime's language. */
  error(err: unknown, msg?: NodeMessage): void {
    const localized = localizedError(this.RED, err);
    if (msg) this.node.error(localized, msg);
    else this.node.error(localized);
  }

  /** A text from the node type's own catalog. */
  text(key: string, substitutions?: Record<string, string | number>): string {
    return this.RED._(key, substitutions);
  }

  /**
   * The node cannot work: show it (a red ring, "not configured" unless `statusKey` names another
   * shared status text) and refuse every input with `reason`, which a Catch node sees.
   */
  refuse(reason: unknown, statusKey = 'status.notConfigured'): void {
    const error = localizedError(this.RED, reason);
    this.status({ fill: 'red', shape: 'ring', text: sharedText(this.RED, statusKey) });
    onInput(this.node, () => {
      throw error;
    });
    if (this.noInput) this.node.error(error);
  }

  /**
   * Find the config node `id` names, check it is of `type`, and register with the connection
   * `registrar` picks on it (deregistered on close). When that fails the node refuses (see
   * refuse()) and this returns undefined: the adapter returns at once.
   */
  use<C extends RedNode, Conn>(
    type: ConfigType<C>,
    id: unknown,
    registrar: (config: C) => Registrar<Conn>,
    target: StatusTarget = this.target,
  ): ConfigLink<C, Conn> | undefined {
    const found = findConfig(this.RED, type, id);
    if (!('config' in found)) {
      this.refuse(found.error);
      return undefined;
    }
    const config = found.config;
    const shared = registrar(config);
    let connection: Conn;
    try {
      connection = shared.register(target);
    } catch (err) {
      // The config's options are unusable (no host…), or it has just closed.
      this.refuse(err, 'status.invalidConfig');
      return undefined;
    }
    this.closers.push(() => shared.deregister(target));
    return { config, connection };
  }
}

/** Create the node (RED.nodes.createNode) and its scaffold; call first in a user node's constructor. */
export function userNode(RED: RedAPI, node: RedNode, def: NodeDef, options?: UserNodeOptions): UserNode {
  return new UserNode(RED, node, def, options);
}

/** The config node `id` names, checked against `type`, or why there is none (an error with a reason). */
export function findConfig<C extends RedNode>(RED: RedAPI, type: ConfigType<C>, id: unknown): { config: C } | { error: InstrumentError } {
  const configType = type.types.join(' / ');
  if (typeof id !== 'string' || id === '' || id === '_ADD_') {
    return {
      error: new InstrumentError('BAD_INPUT', `no ${configType} configuration is chosen: open the node and choose one`, {
        reason: 'configNotChosen',
        configType,
      }),
    };
  }
  const node = RED.nodes.getNode(id);
  if (!type.is(node)) {
    return {
      error: new InstrumentError(
        'BAD_INPUT',
        `the chosen ${configType} configuration (${id}) is missing or disabled: open the node and choose another`,
        {
          reason: 'configMissing',
          configType,
          id,
        },
      ),
    };
  }
  return { config: node };
}
