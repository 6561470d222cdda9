import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FlowConfigNode, RunningSimulator } from '../simulators/simulator';

export interface ExampleFile {
  /** Folder under examples/, e.g. "BPWin". */
  system: string;
  /** File name without .json, e.g. "01 - Read job stats". */
  title: string;
  file: string;
  nodes: FlowNode[];
}

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  [key: string]: unknown;
}

export function listExamples(examplesDir: string): ExampleFile[] {
  if (!fs.existsSync(examplesDir)) return [];
  const out: ExampleFile[] = [];
  for (const system of fs.readdirSync(examplesDir).sort()) {
    const dir = path.join(examplesDir, system);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      if (!name.endsWith('.json')) continue;
      const file = path.join(dir, name);
      const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (!Array.isArray(parsed)) throw new Error(`${file}: an example flow must be a JSON array of nodes`);
      out.push({ system, title: name.slice(0, -'.json'.length), file, nodes: parsed as FlowNode[] });
    }
  }
  return out;
}

/** Replace every string equal to a key of `ids`, however deep (wires, z, g, links, scope, config refs). */
function remap(value: unknown, ids: Map<string, string>): unknown {
  if (typeof value === 'string') return ids.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => remap(v, ids));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = remap(v, ids);
    return out;
  }
  return value;
}

function stableId(seed: string): string {
  return crypto.createHash('sha1').update(seed).digest('hex').slice(0, 16);
}

/** Node types that are config nodes: they have no z in an export, or no wires/x/y. */
export function isConfigNode(node: FlowNode): boolean {
  return node.type !== 'tab' && node.type !== 'group' && node.x === undefined && node.wires === undefined;
}

/** Where a config node points, from the fields our config nodes use, for its name in the demo. */
function target(node: FlowNode): string | undefined {
  const text = (key: string): string | undefined => (typeof node[key] === 'string' && node[key] !== '' ? String(node[key]) : undefined);
  if (node.type === 'semiate-tester') return node.transport === 'mqtt' ? text('broker') : text('url');
  // Node-RED's MQTT broker node takes a host and port, or a whole URL in its broker field.
  if (node.type === 'mqtt-broker')
    return text('broker')?.includes('://') ? text('broker') : `${text('broker') ?? 'localhost'}:${String(node.port ?? 1883)}`;
  if (node.type === 'nebv-server' && node.transport === 'unix') return text('path');
  if (text('host') && node.port !== undefined) return `${text('host')}:${String(node.port)}`;
  return text('url') ?? text('fastUrl') ?? text('port');
}

/**
 * All examples as one deployable flow: each example on its own tab with fresh ids (examples may
 * reuse ids), config nodes pointed at the running simulators and given their credentials. Config
 * nodes keep their ids: the examples of a system share one (one per instrument), so it is
 * deployed once, and Import › Examples of another example reuses it.
 */
export function assembleDemoFlows(examples: ExampleFile[], simulators: RunningSimulator[]): FlowNode[] {
  const flows: FlowNode[] = [];
  const configs = new Set<string>();
  for (const example of examples) {
    const ids = new Map<string, string>();
    for (const node of example.nodes) if (!isConfigNode(node)) ids.set(node.id, stableId(`${example.system}/${example.title}:${node.id}`));
    const tabs = example.nodes.filter((n) => n.type === 'tab');
    const tabId = tabs[0] ? ids.get(tabs[0].id)! : stableId(`${example.system}/${example.title}:tab`);
    if (tabs.length === 0) flows.push({ id: tabId, type: 'tab', label: `${example.system}: ${example.title}`, disabled: false, info: '' });
    for (const original of example.nodes) {
      const node = remap(original, ids) as FlowNode;
      if (node.type === 'tab') {
        flows.push(node);
        continue;
      }
      if (isConfigNode(node)) {
        if (configs.has(node.id)) continue;
        configs.add(node.id);
        delete node.z;
        for (const sim of simulators) {
          const result = sim.configure(node as FlowConfigNode);
          if (result) {
            if (result.credentials) node.credentials = result.credentials;
            const where = target(node);
            // "BPWin on localhost:8080" becomes "BPWin simulator on 127.0.0.1:40655": the name says where it points.
            // An MQTT broker is a real one (embedded, or the user's own), not a simulator.
            const kind = node.type === 'mqtt-broker' ? '' : ' simulator';
            if (where && typeof node.name === 'string') node.name = `${node.name.split(' on ')[0]}${kind} on ${where}`;
            break;
          }
        }
      } else if (!node.z || !ids.has(String(original.z))) {
        node.z = tabId;
      }
      flows.push(node);
    }
  }
  return flows;
}

/**
 * The demo's flows after a restart: the examples as assembled now, and everything the user added
 * (own tabs, own config nodes) kept as it was. An example tab is replaced, unless the user changed
 * it (`changedTabs`): then their version of it stays, and the renewed config nodes serve it. Tabs
 * that were examples once and are no more (`staleTabs`, untouched since) go.
 */
export function keepUserFlows(
  deployed: FlowNode[],
  examples: FlowNode[],
  changedTabs: ReadonlySet<string> = new Set(),
  staleTabs: ReadonlySet<string> = new Set(),
): FlowNode[] {
  const onTab = (tabs: ReadonlySet<string>, n: FlowNode): boolean => tabs.has(n.id) || (n.z !== undefined && tabs.has(n.z));
  const flows: FlowNode[] = [];
  for (const node of examples) {
    // A changed tab takes the place of its example, so the tab order stays as the user knows it.
    if (node.type === 'tab' && changedTabs.has(node.id)) flows.push(...deployed.filter((n) => n.id === node.id || n.z === node.id));
    else if (!onTab(changedTabs, node)) flows.push(node);
  }
  const included = new Set(flows.map((n) => n.id));
  const renewedTabs = new Set(examples.filter((n) => n.type === 'tab' && !changedTabs.has(n.id)).map((n) => n.id));
  const kept = deployed.filter((n) => !included.has(n.id) && !onTab(renewedTabs, n) && !onTab(staleTabs, n));
  return [...flows, ...kept];
}
