import type { SemiAteSimulatorOptions } from '../../src/simulators/semiate';

/** A simulator that takes milliseconds, not seconds, for every phase. */
export const FAST: SemiAteSimulatorOptions = { statusIntervalMs: 100, startupMs: 30, loadMs: 40, testMs: 10, unloadMs: 30 };
