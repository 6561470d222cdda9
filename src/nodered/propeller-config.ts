import type { PropellerConnection } from '../protocols/propeller/connection';
import { PROPELLER_LAUNCHER, PROPELLER_SERIAL, type PropellerConfigNode } from './config-nodes';
import type { Migration } from './migrations';
import type { NodeDef } from './red-types';
import type { StatusTarget } from './connection-registry';
import type { ConfigLink, UserNode } from './user-node';

export type { PropellerConfigNode } from './config-nodes';

/**
 * Version 1 of the Propeller user nodes' config (load, terminal, ports): the dialogs' "connection
 * kind" select (`connectionType`: "launcher" or "serial") picks which of the two config fields
 * counts, because Node-RED types a config field to one node type. Flows saved before the select
 * existed have no `connectionType`: they used whichever field was set, the Launcher first.
 */
export const PROPELLER_CONNECTION_KIND: Migration = {
  version: 1,
  up: (config: NodeDef): NodeDef => {
    if (config.connectionType === 'launcher' || config.connectionType === 'serial') return config;
    const launcher = typeof config.launcher === 'string' && config.launcher !== '';
    const serial = typeof config.serial === 'string' && config.serial !== '';
    return { ...config, connectionType: !launcher && serial ? 'serial' : 'launcher' };
  },
};

/**
 * What every Propeller user node does first: find the config node of the chosen kind and register
 * with it. When none is usable the node refuses (see UserNode.refuse) and this returns undefined.
 * `target` receives the connection's statuses instead of the node (a terminal weighs them against its own).
 */
export function usePropellerConnection(user: UserNode, target?: StatusTarget): ConfigLink<PropellerConfigNode, PropellerConnection> | undefined {
  const serial = user.def.connectionType === 'serial';
  return user.use(
    serial ? PROPELLER_SERIAL : PROPELLER_LAUNCHER,
    serial ? user.def.serial : user.def.launcher,
    (config) => ({
      register: (t) => config.acquire(t),
      deregister: (t) => config.release(t),
    }),
    target,
  );
}
