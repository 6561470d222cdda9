import type { FlowConfigNode, RunningSimulator } from '../simulators/simulator';

const PROTOCOLS = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'];

/**
 * The broker MQTT_URL names, in the shape the demo gives its simulators: it points the examples'
 * MQTT broker config node at that broker. A user name and password in the URL go into the node's
 * credentials, never into the flow, the node's name or the log.
 */
export function brokerFromUrl(text: string): RunningSimulator {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    // The text may hold a password: it is not repeated here.
    throw new Error('MQTT_URL is not a URL: write it as mqtt://host:1883 (or mqtts://, ws://, wss://)');
  }
  if (!PROTOCOLS.includes(url.protocol))
    throw new Error(`MQTT_URL must start with mqtt://, mqtts://, ws:// or wss:// (it starts with ${url.protocol}//), e.g. mqtt://host:1883`);
  if (url.hostname === '') throw new Error('MQTT_URL names no host: write it as mqtt://host:1883');
  const credentials = url.username ? { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : undefined;
  url.username = '';
  url.password = '';
  const address = url.toString();
  return {
    endpoints: [`${address} (MQTT broker from MQTT_URL)`],
    configure(node: FlowConfigNode) {
      if (node.type !== 'mqtt-broker') return undefined;
      // A whole URL in the broker field is used as it is; the port field is then ignored.
      node.broker = address;
      node.usetls = false;
      return credentials ? { credentials } : {};
    },
    close: async () => undefined,
  };
}

/**
 * The demo is one edge of the namespace: the MQTT broker node's birth, close and last-will topic
 * follows UNS_PREFIX and UNS_EDGE as the example flows do, with the same defaults, so
 * `UNS_EDGE=bench-2 MQTT_URL=… npm start` on a second machine joins the same overview.
 *
 * With UNS_EDGE set, its client id is fixed per edge too (labwire-uns/<prefix>/<edge>): an edge that restarts while
 * its old connection still hangs then takes that connection over, and the old will comes before
 * the new birth instead of a keep-alive later over it. The prefix is part of it because an edge
 * is named within its site, and sites may share a broker.
 */
export function asThisEdge(broker: RunningSimulator, env: NodeJS.ProcessEnv = process.env): RunningSimulator {
  return {
    ...broker,
    configure(node: FlowConfigNode) {
      const result = broker.configure(node);
      if (result) {
        const prefix = env.UNS_PREFIX || 'labwire/lab';
        const edge = env.UNS_EDGE || 'edge-1';
        const topic = `${prefix}/_edge/${edge}/status`;
        Object.assign(node, { birthTopic: topic, closeTopic: topic, willTopic: topic });
        // Only a chosen edge name gets a fixed id: two demos left at the default edge would otherwise
        // take the connection from each other in turn on a shared broker.
        if (env.UNS_EDGE) node.clientid = `labwire-uns/${prefix}/${edge}`;
      }
      return result;
    },
  };
}
