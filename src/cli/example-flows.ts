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
function isConfigNode(node: FlowNode): boolean {
  return node.type !== 'tab' && node.type !== 'group' && node.x === undefined && node.wires === undefined;
}

/**
 * All examples as one deployable flow: each example on its own tab with fresh ids (examples may
 * reuse ids), config nodes pointed at the running simulators and given their credentials.
 */
export function assembleDemoFlows(examples: ExampleFile[], simulators: RunningSimulator[]): FlowNode[] {
  const flows: FlowNode[] = [];
  for (const example of examples) {
    const ids = new Map<string, string>();
    for (const node of example.nodes) ids.set(node.id, stableId(`${example.file}:${node.id}`));
    const tabs = example.nodes.filter((n) => n.type === 'tab');
    const tabId = tabs[0] ? ids.get(tabs[0].id)! : stableId(`${example.file}:tab`);
    if (tabs.length === 0) flows.push({ id: tabId, type: 'tab', label: `${example.system}: ${example.title}`, disabled: false, info: '' });
    for (const original of example.nodes) {
      const node = remap(original, ids) as FlowNode;
      if (node.type === 'tab') {
        flows.push(node);
        continue;
      }
      if (isConfigNode(node)) {
        delete node.z;
        for (const sim of simulators) {
          const result = sim.configure(node as FlowConfigNode);
          if (result) {
            if (result.credentials) node.credentials = result.credentials;
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
