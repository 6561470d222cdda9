import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { listExamples, type ExampleFile, type FlowNode } from '../../src/cli/example-flows';
import type { FlowConfigNode } from '../../src/simulators/simulator';

/** A Node-RED core node module by its file under @node-red/nodes/core, e.g. "common/20-inject.js". */
export function coreNode(file: string): unknown {
  return require(path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core', file));
}

/** The example flows of one examples/<system>/ folder, optionally narrowed (e.g. by number prefix). */
export function examplesOf(system: string, keep: (example: ExampleFile) => boolean = () => true): ExampleFile[] {
  return listExamples(path.join(__dirname, '..', '..', 'examples')).filter((e) => e.system === system && keep(e));
}

/**
 * The examples write demo files to fixed paths (/tmp/labwire-…). npm test runs the suites that deploy them in
 * several processes at once, and one would overwrite or remove the file another is reading: each process
 * gets a file of its own. Other values are returned as they are.
 */
export function ownDemoFile(value: string): string {
  const match = /^\/tmp\/(labwire-[^/]+?)(\.[A-Za-z0-9]+)?$/.exec(value);
  return match ? path.join(os.tmpdir(), `${match[1]}-${process.pid}${match[2] ?? ''}`) : value;
}

export interface ExampleFlowOptions {
  /** Node types to swap for test-helper nodes with the same id, so a test can watch what reaches them. Default: debug. */
  observe?: string[];
  /** Node types to leave out (e.g. dashboard widgets the test runtime does not load). */
  drop?: (type: string) => boolean;
}

/**
 * An example as `npm start` deploys it, for the test-helper runtime: config nodes pointed at the
 * running simulator, observed nodes replaced by helper nodes, demo files in /tmp made this process's own.
 */
export function exampleFlow(
  examples: ExampleFile[],
  title: string,
  simulator: { configure(node: FlowConfigNode): unknown },
  options: ExampleFlowOptions = {},
): FlowNode[] {
  const example = examples.find((e) => e.title === title);
  assert.ok(example, `example "${title}" exists`);
  const observe = options.observe ?? ['debug'];
  const flow: FlowNode[] = [];
  for (const original of example.nodes) {
    const node = Object.fromEntries(
      Object.entries(original).map(([key, value]) => [key, typeof value === 'string' ? ownDemoFile(value) : value]),
    ) as FlowNode;
    if (simulator.configure(node as FlowConfigNode)) flow.push(node);
    else if (observe.includes(node.type)) flow.push({ id: node.id, type: 'helper', z: node.z });
    else if (!options.drop?.(node.type)) flow.push(node);
  }
  return flow;
}
