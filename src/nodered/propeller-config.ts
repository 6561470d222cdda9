import { InstrumentError } from '../protocols/common/errors';
import type { PropellerConnection } from '../protocols/propeller/connection';
import type { StatusTarget } from './connection-registry';
import { onInput } from './lifecycle';
import type { NodeDef, RedAPI, RedNode } from './red-types';
import { errorDot } from './status';

/**
 * How a Propeller user node (load, terminal, ports) reaches a board without knowing the transport:
 * it picks a config node of either type below, and that config node hands out the shared
 * PropellerConnection. Both `propeller-launcher` and `propeller-serial` implement this.
 */
export const PROPELLER_CONFIG_TYPES = ['propeller-launcher', 'propeller-serial'] as const;
export type PropellerConfigType = (typeof PROPELLER_CONFIG_TYPES)[number];

export interface PropellerConfigNode extends RedNode {
  /**
   * Register `user` (status is pushed to it, replayed if it registers late) and return the shared
   * connection, opening it on the first user. Idempotent per user id.
   */
  acquire(user: StatusTarget): PropellerConnection;
  /** Deregister `user`; the connection closes with the last user. Safe to call twice. */
  release(user: StatusTarget): Promise<void>;
}

export function isPropellerConfigNode(node: RedNode | null | undefined): node is PropellerConfigNode {
  if (!node || !(PROPELLER_CONFIG_TYPES as readonly string[]).includes(node.type)) return false;
  const candidate = node as Partial<PropellerConfigNode>;
  return typeof candidate.acquire === 'function' && typeof candidate.release === 'function';
}

/**
 * The user nodes' dialogs have a "connection kind" select (`connectionType`: "launcher" or
 * "serial") and one config field per kind (`launcher`, `serial`), because Node-RED types a config
 * field to one node type. Only the field of the chosen kind counts; flows written before the
 * select existed (no `connectionType`) use whichever field is set, Launcher first.
 */
export interface PropellerConfigFields {
  connectionType?: unknown;
  launcher?: unknown;
  serial?: unknown;
}

export type PropellerConfigLookup = { config: PropellerConfigNode } | { error: string };

export function findPropellerConfig(RED: RedAPI, def: NodeDef & PropellerConfigFields): PropellerConfigLookup {
  const kind = def.connectionType === 'serial' || def.connectionType === 'launcher' ? def.connectionType : undefined;
  const launcherId = typeof def.launcher === 'string' ? def.launcher : '';
  const serialId = typeof def.serial === 'string' ? def.serial : '';
  const id = kind === 'serial' ? serialId : kind === 'launcher' ? launcherId : launcherId || serialId;
  if (!id) {
    const which =
      kind === 'serial'
        ? 'a Propeller serial port (propeller-serial)'
        : kind === 'launcher'
          ? 'a BlocklyProp Launcher (propeller-launcher)'
          : 'a Propeller connection';
    return { error: `no connection chosen: open the node and pick ${which}` };
  }
  const node = RED.nodes.getNode(id);
  if (!isPropellerConfigNode(node))
    return { error: `the chosen Propeller connection (${id}) is missing or disabled; open the node and pick another` };
  return { config: node };
}

/**
 * What every Propeller user node does first: find its config node and register with it. When no
 * usable config is chosen, the node shows that and refuses every input with the reason (so a
 * Catch node sees it), and this returns undefined.
 */
export function acquirePropellerConnection(
  RED: RedAPI,
  node: RedNode,
  def: NodeDef & PropellerConfigFields,
): { config: PropellerConfigNode; connection: PropellerConnection } | undefined {
  const lookup = findPropellerConfig(RED, def);
  if ('error' in lookup) {
    node.status(errorDot('no connection'));
    onInput(node, () => {
      throw new InstrumentError('BAD_INPUT', lookup.error);
    });
    return undefined;
  }
  return { config: lookup.config, connection: lookup.config.acquire(node) };
}
