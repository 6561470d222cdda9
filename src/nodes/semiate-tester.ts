import type { ConnectionStatus } from '../protocols/common/reconnecting-connection';
import { SemiAteTester, FAILURE_STATES, type TesterOptions } from '../protocols/semiate';
import { ConnectionRegistry } from '../nodered/connection-registry';
import { onClose } from '../nodered/lifecycle';
import { settingsNumber } from '../nodered/properties';
import type { NodeDef, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import { connectionDot } from '../nodered/status';

/** Busy states show a ring, failures red, everything else settled (ready, initialized) a green dot. */
function stateDot(connection: ConnectionStatus, state: string | undefined): NodeStatus {
  if (connection.state !== 'connected' || state === undefined) return connectionDot(connection);
  if (FAILURE_STATES.includes(state)) return { fill: 'red', shape: 'dot', text: state };
  if (state === 'ready' || state === 'initialized') return { fill: 'green', shape: 'dot', text: state };
  if (state === 'testing') return { fill: 'blue', shape: 'dot', text: state };
  return { fill: 'yellow', shape: 'ring', text: state };
}

function semiateTester(RED: RedAPI): void {
  function SemiAteTesterNode(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this as semiateTester.TesterConfigNode;
    const credentials = this.credentials ?? {};
    const reconnectMs = settingsNumber(RED, 'semiateTesterReconnectTime', 2000);
    const options: TesterOptions =
      def.transport === 'mqtt'
        ? {
            transport: 'mqtt',
            url: String(def.broker ?? ''),
            deviceId: String(def.deviceId ?? ''),
            username: credentials.username,
            password: credentials.password,
            tls: def.tls === true,
            tlsInsecure: def.tlsInsecure === true,
            reconnectMs,
          }
        : { transport: 'websocket', url: String(def.url ?? ''), reconnectMs };
    node.transport = options.transport;
    const registry = new ConnectionRegistry<SemiAteTester>({
      open: () => {
        const tester = new SemiAteTester(options);
        const show = (): void => registry.setStatus(stateDot(tester.status, tester.state));
        tester.on('status', show);
        tester.on('state', show);
        tester.start();
        return tester;
      },
      close: async (tester) => {
        await tester.stop();
        tester.removeAllListeners();
      },
    });
    node.registry = registry;
    onClose(this, () => registry.closeAll());
  }
  RED.nodes.registerType('semiate-tester', SemiAteTesterNode, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
    settings: { semiateTesterReconnectTime: { value: 2000, exportable: false } },
  });
}

// The user nodes import these types (type-only) to reach the shared connection.
// eslint-disable-next-line @typescript-eslint/no-namespace
namespace semiateTester {
  export interface TesterConfigNode extends RedNode {
    registry: ConnectionRegistry<SemiAteTester>;
    transport: 'websocket' | 'mqtt';
  }
}

export = semiateTester;
