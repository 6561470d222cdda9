import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FlowNode } from './example-flows';

/**
 * What the demo deployed on each example tab, kept in the demo's user directory. At the next
 * start, a stored example tab that no longer matches it was changed by the user (a node added,
 * moved, edited or removed): that tab is kept as the user left it instead of being renewed.
 */
const RECORD_FILE = 'labwire-example-tabs.json';
/** A tab the user changed stays theirs at every later start, until they delete it. */
const CHANGED = 'changed by the user';

type Fingerprints = Record<string, string>;

/** A value with its object keys in one order, so two serialisations of the same node compare equal. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
  );
}

/** One fingerprint per tab among `tabIds`: the tab and every node on it. */
export function tabFingerprints(flows: FlowNode[], tabIds: Iterable<string>): Fingerprints {
  const out: Fingerprints = {};
  for (const tab of tabIds) {
    const nodes = flows.filter((n) => n.id === tab || n.z === tab).sort((a, b) => a.id.localeCompare(b.id));
    if (nodes.length === 0) continue;
    out[tab] = crypto
      .createHash('sha256')
      .update(JSON.stringify(canonical(nodes)))
      .digest('hex');
  }
  return out;
}

export function readRecord(userDir: string): Fingerprints {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(path.join(userDir, RECORD_FILE), 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    // No record yet (a first start, or a demo directory from before this record existed).
    return {};
  }
}

export function writeRecord(userDir: string, fingerprints: Fingerprints): void {
  fs.writeFileSync(path.join(userDir, RECORD_FILE), `${JSON.stringify(fingerprints, null, 2)}\n`);
}

/** The example tabs in `stored` the user changed since the demo deployed them (per the record). */
export function changedExampleTabs(stored: FlowNode[], record: Fingerprints): Set<string> {
  const now = tabFingerprints(stored, Object.keys(record));
  return new Set(Object.keys(now).filter((tab) => record[tab] === CHANGED || now[tab] !== record[tab]));
}

/** The record after a deploy: the fingerprint of each renewed example tab, and the changed ones marked as the user's. */
export function recordAfterDeploy(deployed: FlowNode[], exampleTabs: Iterable<string>, changed: ReadonlySet<string>): Fingerprints {
  const record = tabFingerprints(deployed, exampleTabs);
  for (const tab of changed) if (record[tab] !== undefined) record[tab] = CHANGED;
  return record;
}
