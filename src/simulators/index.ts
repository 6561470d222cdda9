import fs from 'node:fs';
import path from 'node:path';
import type { SimulatorDefinition } from './simulator';

/**
 * Every simulator module in this folder that exports `simulator`. Discovered rather than listed,
 * so adding a system does not mean editing a shared file.
 */
export function loadSimulators(): SimulatorDefinition[] {
  const found: SimulatorDefinition[] = [];
  const extension = path.extname(__filename);
  for (const file of fs.readdirSync(__dirname).sort()) {
    if (!file.endsWith(extension) || file.endsWith('.d.ts')) continue;
    const base = path.basename(file, extension);
    if (base === 'index' || base === 'simulator') continue;
    const loaded = require(path.join(__dirname, file)) as { simulator?: SimulatorDefinition };
    if (loaded.simulator && typeof loaded.simulator.start === 'function') found.push(loaded.simulator);
  }
  return found;
}
