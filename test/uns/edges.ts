import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assembleDemoFlows, listExamples, type FlowNode } from '../../src/cli/example-flows';
import { freePort, getJson, prepareUserDir, requestJson, startNodeRed, type NodeRedProcess } from '../../src/cli/node-red-process';
import type { FlowConfigNode, RunningSimulator } from '../../src/simulators/simulator';
import { RuntimeEvents } from '../helpers/deploy';

const root = path.resolve(__dirname, '..', '..');

/** The site prefix the edges are started with: not the default, so the test sees the environment at work. */
export const PREFIX = 'test-co/site-7';

export interface EdgeOptions {
  /** The instance id (UNS_EDGE), e.g. "edge-a". */
  name: string;
  /** Area and line (UNS_LINE), e.g. "floor-1/line-1". */
  line: string;
  /** Titles of the examples/UNS files this instance runs. */
  examples: string[];
  simulators: RunningSimulator[];
  broker: { host: string; port: number };
  /** MQTT keep-alive in seconds: the broker sends the last will after 1.5 times this without a packet. */
  keepalive: number;
  /** Start Node-RED but deploy the flows only when deploy() is called (to connect at a chosen moment). */
  deployLater?: boolean;
}

/** A Node-RED process that runs some of the UNS examples, as one instance ("edge") of a site would. */
export interface Edge {
  name: string;
  url: string;
  nodeRed: NodeRedProcess;
  flows: FlowNode[];
  /** Deploy the flows and wait until their nodes run (done by startEdge unless deployLater). */
  deploy(): Promise<void>;
  /** The deployed id of a node, found by its type and name. */
  idOf(type: string, name: string): string;
  /** Press an inject node's button, found by its name. */
  inject(name: string): Promise<void>;
  /** A flow-context value of a tab, found by its label. */
  flowContext(tabLabel: string, key: string): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * The README's recipe for several instances: the shared MQTT broker node takes its client id and
 * its birth, close and last-will topic from the environment (Node-RED replaces a property that is
 * exactly ${NAME}), and each instance is started with its own UNS_EDGE and UNS_EDGE_TOPIC.
 */
function brokerFor(options: EdgeOptions): RunningSimulator {
  return {
    endpoints: [],
    configure(node: FlowConfigNode) {
      if (node.type !== 'mqtt-broker') return undefined;
      Object.assign(node, {
        broker: options.broker.host,
        port: options.broker.port,
        keepalive: options.keepalive,
        clientid: '${UNS_EDGE}',
        birthTopic: '${UNS_EDGE_TOPIC}',
        closeTopic: '${UNS_EDGE_TOPIC}',
        willTopic: '${UNS_EDGE_TOPIC}',
      });
      return {};
    },
    close: async () => undefined,
  };
}

/** Ports given to edges in this run: edges start side by side, and a port just let go may be offered twice. */
const given = new Set<number>();
async function edgePort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (given.has(port)) continue;
    given.add(port);
    return port;
  }
}

/** A flow-context value of a deployed tab, through the admin API of the Node-RED at `url`; undefined when not set. */
export async function flowContext(url: string, tabId: string, key: string): Promise<unknown> {
  const res = await getJson(`${url}/context/flow/${tabId}/${key}?store=memory`, 5000);
  if (res.status !== 200) return undefined;
  // Node-RED's encoding of a context value: the value as JSON text and its format ("undefined" when not set).
  const encoded = JSON.parse(res.body) as { msg?: string; format?: string };
  return encoded.msg === undefined || encoded.format === 'undefined' ? undefined : (JSON.parse(encoded.msg) as unknown);
}

export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const examples = listExamples(path.join(root, 'examples')).filter((e) => e.system === 'UNS' && options.examples.includes(e.title));
  assert.equal(examples.length, options.examples.length, `examples ${options.examples.join(', ')} exist`);
  const flows = assembleDemoFlows(examples, [brokerFor(options), ...options.simulators]);
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), `uns-${options.name}-`));
  // Reconnect soon after the broker comes back (Node-RED's default is 5 s).
  prepareUserDir(userDir, root, { mqttReconnectTime: 500 });
  const env = { UNS_PREFIX: PREFIX, UNS_LINE: options.line, UNS_EDGE: options.name, UNS_EDGE_TOPIC: `${PREFIX}/_edge/${options.name}/status` };
  const nodeRed = await startNodeRed(userDir, await edgePort(), { quiet: true, env });
  const events = await RuntimeEvents.open(nodeRed.url);
  await events.started();
  const deploy = async (): Promise<void> => {
    await events.deploy(flows);
  };
  if (!options.deployLater) await deploy();
  const idOf = (type: string, name: string): string => {
    const node = flows.find((n) => n.type === type && (n.name === name || n.label === name));
    assert.ok(node, `${options.name} has a ${type} named ${name}`);
    return node.id;
  };
  return {
    name: options.name,
    url: nodeRed.url,
    nodeRed,
    flows,
    deploy,
    idOf,
    async inject(name) {
      const res = await requestJson('POST', `${nodeRed.url}/inject/${idOf('inject', name)}`, {});
      assert.equal(res.status, 200, `inject ${name}: ${res.body}`);
    },
    flowContext: (tabLabel, key) => flowContext(nodeRed.url, idOf('tab', tabLabel), key),
    async stop() {
      events.close();
      await nodeRed.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}
