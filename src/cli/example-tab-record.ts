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
function tabFingerprints(flows: FlowNode[], tabIds: Iterable<string>): Fingerprints {
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

/** The record of the last start; undefined when there is none (a first start, or a demo directory from before it). */
export function readRecord(userDir: string): Fingerprints | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(userDir, RECORD_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${RECORD_FILE} is not an object`);
  return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** Written whole or not at all (a new file renamed over the old): a stop halfway must not lose the marks of changed tabs. */
export function writeRecord(userDir: string, fingerprints: Fingerprints): void {
  const file = path.join(userDir, RECORD_FILE);
  fs.writeFileSync(`${file}.new`, `${JSON.stringify(fingerprints, null, 2)}\n`);
  fs.renameSync(`${file}.new`, file);
}

export interface StoredExampleTabs {
  /** Example tabs the user changed: kept as they are. */
  changed: Set<string>;
  /** Tabs the demo deployed as examples that are no examples any more (a file renamed or removed), untouched since: dropped. */
  stale: Set<string>;
}

/** What became of the example tabs the record lists, in `stored`, given the example tabs of this start. */
export function storedExampleTabs(stored: FlowNode[], record: Fingerprints, exampleTabs: ReadonlySet<string>): StoredExampleTabs {
  const now = tabFingerprints(stored, Object.keys(record));
  const changed = new Set<string>();
  const stale = new Set<string>();
  for (const [tab, fingerprint] of Object.entries(now)) {
    if (record[tab] === CHANGED || fingerprint !== record[tab]) changed.add(tab);
    else if (!exampleTabs.has(tab)) stale.add(tab);
  }
  return { changed, stale };
}

/** The record after a deploy: the fingerprint of each renewed example tab, and the changed ones marked as the user's. */
export function recordAfterDeploy(deployed: FlowNode[], exampleTabs: Iterable<string>, changed: ReadonlySet<string>): Fingerprints {
  const record = tabFingerprints(deployed, exampleTabs);
  for (const tab of changed) if (record[tab] !== undefined) record[tab] = CHANGED;
  return record;
}
