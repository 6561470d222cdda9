import type { TestNode } from 'node-red-node-test-helper';
import { BpwinSimulator, type BpwinSimulatorOptions } from '../../src/simulators/bpwin';
import { helper } from '../helpers/red';

/** The BPWin node modules, for helper.load (the helper brings the core catch node itself). */
export const BPWIN_NODES = [
  require('../../src/nodes/bpwin-server'),
  require('../../src/nodes/bpwin-request'),
  require('../../src/nodes/bpwin-job-stats'),
  require('../../src/nodes/bpwin-events'),
];

export const SERVER_ID = 'srv';

/** A server config node with fast reconnects (tests must not wait out real backoff). */
export function serverNode(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: SERVER_ID,
    type: 'bpwin-server',
    host: '127.0.0.1',
    port: String(port),
    version: 1,
    timeout: 1,
    reconnectMin: 10,
    reconnectMax: 100,
    ...extra,
  };
}

/** A catch node on tab f1 wired to a helper node "caught". */
export const CATCH = [
  { id: 'catch', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', type: 'helper', z: 'f1' },
];

export const TAB = { id: 'f1', type: 'tab', label: 'bpwin' };

/** Node-RED takes a tab's nodes without x/y for config nodes: place every node that has a tab. */
export function placed(flow: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return flow.map((node) => (node.z && node.x === undefined ? { x: 100, y: 100, ...node } : node));
}

export function credentials(passphrase: string): Record<string, Record<string, string>> {
  return { [SERVER_ID]: { passphrase } };
}

interface SpyCall {
  thisValue: { id: string };
  args: unknown[];
}

/** Every status a node has shown so far (the helper spies on the Node prototype). */
export function statusesOf(id: string): Array<{ fill?: string; shape?: string; text?: string }> {
  const spy = helper.getNode(id).status as unknown as { getCalls(): SpyCall[] };
  return spy
    .getCalls()
    .filter((call) => call.thisValue.id === id)
    .map((call) => call.args[0] as { fill?: string; shape?: string; text?: string });
}

export function lastStatus(id: string): { fill?: string; shape?: string; text?: string } | undefined {
  return statusesOf(id).at(-1);
}

export type { TestNode };

/**
 * Mocha hooks for a suite: one test runtime, and per test a fresh simulator that `onStart` can
 * pick up; flows and simulator are torn down after each test.
 */
export function runtimeWithSimulator(options: BpwinSimulatorOptions, onStart: (sim: BpwinSimulator) => void): void {
  let sim: BpwinSimulator | undefined;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async function () {
    sim = new BpwinSimulator(options);
    await sim.start();
    onStart(sim);
  });
  afterEach(async function () {
    await helper.unload();
    await sim?.close();
  });
}
