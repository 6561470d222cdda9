import { monitorEventLoopDelay } from 'node:perf_hooks';
import { seededRandom } from '../../src/protocols/common/seeded-random';

/**
 * What the fuzz tests of the instrument peers share: how many cases to run (few in `npm test`, many
 * with LABWIRE_FUZZ=large), a replayable seed (LABWIRE_FUZZ_SEED), and a watch over the process:
 * the longest event-loop stall, the growth of memory, and rejections nobody handled.
 */
export interface FuzzPlan {
  seed: number;
  cases: number;
  random: () => number;
  pick<T>(items: readonly T[]): T;
  /** An integer from min to max inclusive. */
  between(min: number, max: number): number;
}

export function fuzzPlan(smallCases: number, largeCases: number): FuzzPlan {
  const seed = Number(process.env.LABWIRE_FUZZ_SEED ?? 20_261_121);
  const large = process.env.LABWIRE_FUZZ === 'large';
  const random = seededRandom(seed);
  const between = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  return { seed, cases: large ? largeCases : smallCases, random, between, pick: (items) => items[between(0, items.length - 1)]! };
}

export interface WatchReport {
  /** Longest event-loop delay seen, in ms. */
  maxStallMs: number;
  /** Largest memory use seen (JS heap and Buffers), less the use at the start, in MB. */
  heapGrowthMb: number;
  unhandledRejections: unknown[];
}

export function watchProcess(): { stop(): WatchReport } {
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  // Buffers live outside the JS heap: a reply held whole would show only there.
  const used = (): number => {
    const memory = process.memoryUsage();
    return memory.heapUsed + memory.external;
  };
  const baseline = used();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, used());
  }, 50);
  const unhandledRejections: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    unhandledRejections.push(reason);
  };
  process.on('unhandledRejection', onRejection);
  return {
    stop() {
      delay.disable();
      clearInterval(sampler);
      process.off('unhandledRejection', onRejection);
      return { maxStallMs: delay.max / 1e6, heapGrowthMb: (peak - baseline) / 1024 / 1024, unhandledRejections };
    },
  };
}

/** The limits every fuzz run is held to. */
export const MAX_STALL_MS = 1000;
export const MAX_HEAP_GROWTH_MB = 512;
