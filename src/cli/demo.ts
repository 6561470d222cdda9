#!/usr/bin/env node
import path from 'node:path';
import { loadSimulators } from '../simulators';
import type { RunningSimulator } from '../simulators/simulator';
import { assembleDemoFlows, keepUserFlows, listExamples, type FlowNode } from './example-flows';
import { readRecord, recordAfterDeploy, storedExampleTabs, writeRecord } from './example-tab-record';
import { asThisEdge, brokerFromUrl } from './uns-broker';
import { freePort, getJson, portIsFree, prepareUserDir, requestJson, startNodeRed, type NodeRedProcess } from './node-red-process';

export interface DemoOptions {
  packageRoot: string;
  userDir: string;
  /** Editor port; 0 picks 1880 when free, else any free port. */
  port?: number;
  quiet?: boolean;
  /** A real MQTT broker for the Unified Namespace examples (MQTT_URL), instead of the embedded one. */
  mqttUrl?: string;
}

export interface RunningDemo {
  url: string;
  nodeRed: NodeRedProcess;
  simulators: Array<{ name: string; running: RunningSimulator }>;
  stop(): Promise<void>;
}

/** Simulators on free loopback ports, Node-RED with the package, every example deployed against them. */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const log = options.quiet ? (): void => undefined : (line: string): void => console.log(line);
  const simulators: Array<{ name: string; running: RunningSimulator }> = [];
  const stopSimulators = async (): Promise<void> => {
    await Promise.all(simulators.map((s) => s.running.close().catch(() => undefined)));
  };
  try {
    // The Unified Namespace examples need a broker: the user's own (MQTT_URL), else the embedded one below.
    const ownBroker = options.mqttUrl ? brokerFromUrl(options.mqttUrl) : undefined;
    if (ownBroker) {
      simulators.push({ name: 'mqtt', running: ownBroker });
      log(`MQTT broker: ${ownBroker.endpoints.join(', ')}`);
    }
    for (const definition of loadSimulators()) {
      if (ownBroker && definition.name === 'mqtt') continue;
      // One simulator that cannot start (no pseudo-terminals for the fake Propeller, say) must not stop the demo.
      try {
        const running = await definition.start({ host: '127.0.0.1', port: 0 });
        simulators.push({ name: definition.name, running });
        log(`simulator ${definition.name}: ${running.endpoints.join(', ')}`);
      } catch (err) {
        console.warn(
          `simulator ${definition.name} did not start (${err instanceof Error ? err.message : String(err)}); ` +
            `its examples are deployed but will show it unreachable`,
        );
      }
    }
    prepareUserDir(options.userDir, options.packageRoot);
    const port = options.port || ((await portIsFree(1880)) ? 1880 : await freePort());
    const nodeRed = await startNodeRed(options.userDir, port, { quiet: options.quiet, stoppedUntilDeploy: true });
    const examples = assembleDemoFlows(
      listExamples(path.join(options.packageRoot, 'examples')),
      simulators.map((s) => (s.name === 'mqtt' ? asThisEdge(s.running) : s.running)),
    );
    // Node-RED loaded the flows of the last run without starting them: the user's own tabs stay, and
    // so does an example tab the user changed; the other example tabs are renewed.
    const userFlows = await storedFlows(nodeRed.url);
    const exampleTabs = examples.filter((n) => n.type === 'tab');
    const exampleTabIds = new Set(exampleTabs.map((t) => t.id));
    const { changed, stale } = storedExampleTabs(userFlows, recordOf(options.userDir, userFlows), exampleTabIds);
    const flows = keepUserFlows(userFlows, examples, changed, stale);
    const own = flows.filter((n) => !examples.some((e) => e.id === n.id) && !(n.z !== undefined && changed.has(n.z)) && !changed.has(n.id)).length;
    const deployed = await requestJson('POST', `${nodeRed.url}/flows`, flows, { 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v1' });
    if (deployed.status >= 300) {
      await nodeRed.stop();
      throw new Error(`deploying the example flows failed (HTTP ${deployed.status}): ${deployed.body}`);
    }
    writeRecord(options.userDir, recordAfterDeploy(await storedFlows(nodeRed.url), exampleTabIds, changed));
    const keptExamples = exampleTabs.filter((t) => changed.has(t.id));
    log(`deployed ${exampleTabs.length - keptExamples.length} example tabs${own > 0 ? ` and kept ${own} nodes of your own` : ''}`);
    for (const tab of keptExamples)
      log(`kept example tab "${String(tab.label)}" as you changed it (delete the tab and restart to get the example back)`);
    return {
      url: nodeRed.url,
      nodeRed,
      simulators,
      stop: async () => {
        await nodeRed.stop();
        await stopSimulators();
      },
    };
  } catch (err) {
    await stopSimulators();
    throw err;
  }
}

/** The flows Node-RED holds now. Anything but an answer stops the demo: deploying over "nothing" would delete the user's flows. */
async function storedFlows(url: string): Promise<FlowNode[]> {
  const res = await getJson(`${url}/flows`, 10_000);
  if (res.status !== 200) throw new Error(`Node-RED did not give its flows (HTTP ${res.status}); nothing was deployed`);
  return JSON.parse(res.body) as FlowNode[];
}

/**
 * The record of the example tabs deployed last time. One that cannot be read must not cost the user
 * their changes: every stored tab then counts as changed, and the console says how to renew one.
 */
function recordOf(userDir: string, stored: FlowNode[]): Record<string, string> {
  try {
    return readRecord(userDir) ?? {};
  } catch (err) {
    console.warn(
      `could not read the record of the example tabs (${err instanceof Error ? err.message : String(err)}): every example tab is kept as it is`,
    );
    return Object.fromEntries(stored.filter((n) => n.type === 'tab').map((t) => [t.id, 'unreadable record']));
  }
}

async function main(): Promise<void> {
  const packageRoot = path.resolve(__dirname, '..', '..');
  const requested = Number(process.env.PORT ?? 0);
  const demo = await startDemo({
    packageRoot,
    userDir: path.join(packageRoot, '.demo'),
    port: Number.isInteger(requested) ? requested : 0,
    mqttUrl: process.env.MQTT_URL || undefined,
  });
  console.log(`\nNode-RED editor: ${demo.url}/\nPress Ctrl-C to stop Node-RED and the simulators.`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    demo.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  demo.nodeRed.child.once('exit', () => {
    if (!stopping) {
      console.error('Node-RED stopped; stopping the simulators.');
      stop();
    }
  });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
