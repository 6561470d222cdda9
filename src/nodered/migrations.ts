import type { NodeDef } from './red-types';

/**
 * One step in the history of a node type's configuration. A node's `version` says which steps its
 * config already has (none when absent: saved before versions existed); the runtime applies the
 * missing ones in order before the node reads its config, so the adapter reads the current shape
 * only and keeps no compatibility shims. A new node gets the current version from its editor
 * defaults (`version: { value: N }`), so it skips them.
 */
export interface Migration {
  /** The version this step produces: 1, 2, … */
  version: number;
  /** The config of the version before, as a new object of this version's shape (`version` is set by migrate()). */
  up(config: NodeDef): NodeDef;
}

/** The version a config says it has: a number, or a number in a string (hand-edited flows); 0 when absent. */
export function configVersion(config: NodeDef): number {
  const value = typeof config.version === 'string' ? Number(config.version) : config.version;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 0;
}

/** The newest version a list of migrations produces (0 for none). */
export function currentVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((newest, m) => Math.max(newest, m.version), 0);
}

/** `config` brought up to the current version; the object Node-RED passed is left as it is (it compares it on the next deploy). */
export function migrate(config: NodeDef, migrations: readonly Migration[]): NodeDef {
  const from = configVersion(config);
  let out: NodeDef = config;
  for (const step of [...migrations].sort((a, b) => a.version - b.version)) {
    if (step.version <= from) continue;
    out = { ...step.up({ ...out }), version: step.version };
  }
  return out;
}
