import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { seededRandom } from '../../src/protocols/common/seeded-random';
import { helper } from './red';

/**
 * What every fuzz suite shares (test/<system>/fuzz.spec.ts and the redeploy test): a hostile peer
 * or careless msgs against a real Node-RED, while the process must live, the event loop must not
 * stall over a second, the heap must stay bounded and every call must end with a result or a clear
 * error.
 *
 * One set of switches for all of them:
 * - LABWIRE_FUZZ=large (`npm run fuzz`): the large scale; `npm test` runs the small one.
 * - LABWIRE_FUZZ_SEED: the seed (each suite has a fixed default), printed with every run so it can be repeated.
 * - LABWIRE_FUZZ_RUNS: the number of cases (other counts of a suite follow in proportion).
 */
export interface FuzzScale {
  large: boolean;
  seed: number;
  /** Cases per property. */
  runs: number;
  /** Stop starting new cases after this long (fast-check's interruptAfterTimeLimit; a suite's budget). */
  timeLimitMs: number;
  /**
   * Another count of the suite (frames per case, writes beside loads): `small` or `large` as the
   * scale says, in proportion when LABWIRE_FUZZ_RUNS changes the number of cases.
   */
  scaled(small: number, large: number): number;
}

export const FUZZ_LARGE = /^(1|true|large)$/i.test(process.env.LABWIRE_FUZZ ?? '');

export function fuzzScale(
  small: { runs: number; timeLimitMs: number },
  large: { runs: number; timeLimitMs: number },
  defaultSeed = 20_240_917,
): FuzzScale {
  const chosen = FUZZ_LARGE ? large : small;
  const seed = envInteger('LABWIRE_FUZZ_SEED') ?? defaultSeed;
  const runs = envInteger('LABWIRE_FUZZ_RUNS') ?? chosen.runs;
  const scaled = (smallCount: number, largeCount: number): number =>
    Math.max(1, Math.round(((FUZZ_LARGE ? largeCount : smallCount) * runs) / chosen.runs));
  return { large: FUZZ_LARGE, seed, runs, timeLimitMs: chosen.timeLimitMs, scaled };
}

function envInteger(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value)) throw new Error(`${name} must be an integer, not ${JSON.stringify(text)}`);
  return value;
}

/** A seeded generator with the picks the suites make; `r()` is a number in [0, 1). */
export interface Random {
  (): number;
  /** An integer from 0 to below - 1. */
  int(below: number): number;
  /** An integer from min to max inclusive. */
  between(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  seed: number;
}

export function fuzzRandom(seed: number): Random {
  const next = seededRandom(seed);
  const r = (() => next()) as Random;
  r.int = (below) => Math.floor(next() * below);
  r.between = (min, max) => min + Math.floor(next() * (max - min + 1));
  r.pick = (items) => items[Math.floor(next() * items.length)]!;
  r.seed = seed;
  return r;
}

/** A suite that draws its cases itself rather than through fast-check: its scale and its generator. */
export interface FuzzPlan extends FuzzScale {
  cases: number;
  random: Random;
  pick<T>(items: readonly T[]): T;
  between(min: number, max: number): number;
}

export function fuzzPlan(smallCases: number, largeCases: number, defaultSeed = 20_261_121): FuzzPlan {
  const scale = fuzzScale({ runs: smallCases, timeLimitMs: 0 }, { runs: largeCases, timeLimitMs: 0 }, defaultSeed);
  const random = fuzzRandom(scale.seed);
  return { ...scale, cases: scale.runs, random, pick: random.pick, between: random.between };
}

/** fast-check's run options for a scale (no shrinking: a case against live sockets is not replayable step by step). */
export function fuzzRunOptions(scale: FuzzScale): { seed: number; numRuns: number; interruptAfterTimeLimit: number; endOnFailure: boolean } {
  return { seed: scale.seed, numRuns: scale.runs, interruptAfterTimeLimit: scale.timeLimitMs, endOnFailure: true };
}

export interface VitalsReport {
  /**
   * Longest time the event loop was blocked by this process's own work, ms: each gap between
   * ticks counts only as long as the process was running (on a busy machine the rest of a
   * wall-clock gap is time the system gave to other processes).
   */
  maxStallMs: number;
  /** Longest wall-clock gap between ticks, ms (for the record). */
  maxGapMs: number;
  /** Memory in use (JS heap and Buffers) after a collection when watching began, MB. */
  baselineHeapMb: number;
  /** At its highest while watching (garbage not yet collected included), MB. */
  peakHeapMb: number;
  /** Still in use after a collection when watching ended, MB: what was kept, not what was passing through. */
  retainedHeapMb: number;
  /** Uncaught exceptions and unhandled rejections seen meanwhile (text). */
  uncaught: string[];
}

/**
 * Watches the process while a fuzz run goes on: event-loop stalls, heap, and errors nobody
 * caught (those would end a real Node-RED; here they are recorded instead).
 */
export class Vitals {
  private readonly ticker: NodeJS.Timeout;
  private lastTick = process.hrtime.bigint();
  private lastCpu = process.cpuUsage();
  private maxStall = 0;
  private maxGap = 0;
  private counting = true;
  private readonly baseline = memoryAfterCollection();
  private peak = this.baseline;
  private readonly uncaught: string[] = [];
  private readonly record = (err: unknown): void => {
    if (this.uncaught.length < 20) this.uncaught.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  };
  private readonly mochaHandlers = process.listeners('uncaughtException');
  private report: VitalsReport | undefined;
  // The helper's spies would otherwise make every msg of a long run part of the peak.
  private readonly forgetting = setInterval(forgetSpiedCalls, 1000);

  /** `onStall` hears of each block over `stallMs` as it ends, to find its cause (what the peer sent just before). */
  constructor(private readonly options: { onStall?: (ms: number) => void; stallMs?: number } = {}) {
    this.ticker = setInterval(() => this.tick(), 10);
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', this.record);
    process.on('unhandledRejection', this.record);
  }

  /**
   * Call at the start of each case: stalls from the fuzzer's own work before it (generating a
   * 12 MB frame blocks this process too) do not count. The short wait lets a tick close that gap.
   */
  async caseStarted(): Promise<void> {
    this.counting = false;
    await new Promise((resolve) => setTimeout(resolve, 25));
    this.counting = true;
  }

  /** Call at the end of each case. */
  caseEnded(): void {
    this.tick();
  }

  /**
   * End the watch and measure what is kept at once (a second call, of this or stopSettled, gives
   * the same report). In a `finally` after a failure; a suite that ended well uses stopSettled.
   */
  stop(): VitalsReport {
    if (this.report) return this.report;
    return this.finish();
  }

  /**
   * End the watch and measure what is kept once the last case has wound down: the test helper's
   * recorded calls forgotten, a collection, one turn of the event loop (so callbacks already queued
   * by the last case, and what they hold, are done with), then the measuring collection.
   */
  async stopSettled(): Promise<VitalsReport> {
    if (this.report) return this.report;
    this.tick();
    // The collections are the test's doing: the loop they block is not a stall of the package.
    this.counting = false;
    forgetSpiedCalls();
    collect();
    await new Promise((resolve) => setImmediate(resolve));
    // A stop() meanwhile (a failing suite's finally) made the report already.
    if (this.report) return this.report;
    return this.finish();
  }

  private finish(): VitalsReport {
    this.tick();
    clearInterval(this.ticker);
    clearInterval(this.forgetting);
    process.off('uncaughtException', this.record);
    process.off('unhandledRejection', this.record);
    for (const handler of this.mochaHandlers) process.on('uncaughtException', handler);
    const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024);
    this.report = {
      maxStallMs: Math.round(this.maxStall),
      maxGapMs: Math.round(this.maxGap),
      baselineHeapMb: mb(this.baseline),
      peakHeapMb: mb(this.peak),
      retainedHeapMb: mb(memoryAfterCollection()),
      uncaught: [...this.uncaught],
    };
    return this.report;
  }

  private tick(): void {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.lastCpu);
    const gapMs = Number(now - this.lastTick) / 1e6;
    const ranMs = (cpu.user + cpu.system) / 1000;
    this.lastTick = now;
    this.lastCpu = process.cpuUsage();
    this.peak = Math.max(this.peak, memoryInUse());
    if (!this.counting) return;
    this.maxGap = Math.max(this.maxGap, gapMs);
    // GC helper threads add CPU time while the loop is blocked; the gap itself is the upper bound.
    const stallMs = Math.min(gapMs, ranMs);
    this.maxStall = Math.max(this.maxStall, stallMs);
    if (this.options.onStall && stallMs > (this.options.stallMs ?? 300)) this.options.onStall(stallMs);
  }
}

/**
 * The process lived, its own work never blocked the event loop for `maxStallMs`, no wall-clock
 * gap reached `maxGapMs` (a blocking system call uses no CPU, so only the gap shows it), memory
 * kept after the run grew by less than `maxRetainedGrowthMb`, and at its peak by less than
 * `maxPeakGrowthMb`.
 */
export function assertHealthy(
  report: VitalsReport,
  limits: { maxStallMs?: number; maxGapMs?: number; maxRetainedGrowthMb?: number; maxPeakGrowthMb?: number } = {},
): void {
  const { maxStallMs = 1000, maxGapMs = 5000, maxRetainedGrowthMb = 128, maxPeakGrowthMb = 1024 } = limits;
  assert.deepEqual(report.uncaught, [], 'nothing uncaught (it would end Node-RED)');
  assert.ok(report.maxStallMs < maxStallMs, `the event loop was blocked for ${report.maxStallMs} ms`);
  assert.ok(report.maxGapMs < maxGapMs, `the event loop did not turn for ${report.maxGapMs} ms`);
  assert.ok(
    report.retainedHeapMb - report.baselineHeapMb < maxRetainedGrowthMb,
    `memory kept grew from ${report.baselineHeapMb} MB to ${report.retainedHeapMb} MB`,
  );
  assert.ok(
    report.peakHeapMb - report.baselineHeapMb < maxPeakGrowthMb,
    `memory peaked at ${report.peakHeapMb} MB (from ${report.baselineHeapMb} MB)`,
  );
}

/** One line for a run's log: what the suite did (`counts`) and the vitals. */
export function describeVitals(what: string, report: VitalsReport, counts: Record<string, number | string> = {}): string {
  const done = Object.entries(counts)
    .map(([name, count]) => `${count} ${name}`)
    .join(', ');
  return (
    `      ${what}${done ? `: ${done}` : ''}; max stall ${report.maxStallMs} ms (wall-clock gap ${report.maxGapMs} ms), ` +
    `memory ${report.baselineHeapMb} MB, peak ${report.peakHeapMb} MB, kept ${report.retainedHeapMb} MB`
  );
}

/**
 * The longest the event loop was blocked while the watch ran, in ms (wall clock): for a single
 * exchange in an ordinary test, where a whole Vitals watch would be too much.
 */
export function watchEventLoop(): { stop(): number } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      return histogram.max / 1e6;
    },
  };
}

/**
 * node-red-node-test-helper spies (sinon, one sandbox) on every node's send, status, log, warn and
 * error, and on the runtime log: each call is kept with its arguments (every msg sent) until the
 * flow is unloaded. In a long run that is the test's memory, not the package's, and it looks like
 * a leak (the large Semi-ATE MQTT fuzz: 44 MB at the start, over 700 MB kept). Forget those calls
 * while watching and before memory is measured; the spies stay in place.
 */
function forgetSpiedCalls(): void {
  (helper as unknown as { _sandbox?: { resetHistory(): void } })._sandbox?.resetHistory();
}

/** JS heap and Buffers (a message held whole as bytes shows only in the latter). */
function memoryInUse(): number {
  const memory = process.memoryUsage();
  return memory.heapUsed + memory.external;
}

/**
 * Node's garbage collector, reachable without --expose-gc: the flag can be set at run time, and a
 * fresh context then has gc().
 */
const collect: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/** What is kept: the test helper's records of calls do not count (see forgetSpiedCalls). */
function memoryAfterCollection(): number {
  forgetSpiedCalls();
  collect();
  return memoryInUse();
}

export type FlowNode = Record<string, unknown> & { id: string; type: string };

/** Ids of the nodes fuzzFlow adds. */
export const FUZZ_OUT = ['fuzz-out-a', 'fuzz-out-b'] as const;
export const FUZZ_CAUGHT = 'fuzz-caught';

/**
 * A flow around the nodes under test: every output of each wired to two nodes (so Node-RED copies
 * each msg, as it does for a real flow with a branch) and a Catch node for the tab.
 */
export function fuzzFlow(underTest: FlowNode[], configs: FlowNode[] = []): FlowNode[] {
  const z = 'fuzz-tab';
  return [
    { id: z, type: 'tab', label: 'fuzz' },
    ...configs,
    ...underTest.map((node) => {
      const outputs = typeof node.outputs === 'number' ? node.outputs : 1;
      return { ...node, z, wires: Array.from({ length: outputs }, () => [...FUZZ_OUT]) };
    }),
    ...FUZZ_OUT.map((id) => ({ id, type: 'helper', z })),
    { id: 'fuzz-catch', type: 'catch', z, scope: null, uncaught: false, wires: [[FUZZ_CAUGHT]] },
    { id: FUZZ_CAUGHT, type: 'helper', z },
  ];
}

/** A thrown programming error, not a message for a user. */
const UNCLEAR =
  /^(TypeError|RangeError|ReferenceError|SyntaxError|Error)\b|Cannot read propert|is not a function|is not iterable|undefined is not|Maximum call stack|\[object Object\]/;

export function isClearError(message: unknown): boolean {
  return typeof message === 'string' && message.length >= 10 && message.length <= 2000 && !UNCLEAR.test(message);
}

export type CallEnd = { kind: 'result'; msg: Record<string, unknown> } | { kind: 'error'; message: string };

/**
 * Sends msgs into a node of a fuzzFlow and follows each to its end: a msg out of the node (the
 * node passes the msg on, so its _msgid is kept) or an error at the Catch node.
 */
export class CallTracker {
  private readonly waiting = new Map<string, (end: CallEnd) => void>();
  private counter = 0;

  constructor(private readonly nodeId: string) {
    helper.getNode(FUZZ_OUT[0]).on('input', (msg: Record<string, unknown>) => this.end(msg._msgid, { kind: 'result', msg }));
    helper
      .getNode(FUZZ_CAUGHT)
      .on('input', (msg: Record<string, unknown> & { error?: { message?: unknown } }) =>
        this.end(msg._msgid, { kind: 'error', message: String(msg.error?.message) }),
      );
  }

  /** Resolve with how the call ended, or reject when it has not ended within `deadlineMs`. */
  call(msg: Record<string, unknown>, deadlineMs: number): Promise<CallEnd> {
    const id = `fuzz-${++this.counter}`;
    return new Promise<CallEnd>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(
          new Error(
            `call ${JSON.stringify(msg, (_k, v: unknown) => (typeof v === 'string' && v.length > 80 ? `${v.slice(0, 80)}…` : v))} did not end within ${deadlineMs} ms`,
          ),
        );
      }, deadlineMs);
      this.waiting.set(id, (end) => {
        clearTimeout(timer);
        resolve(end);
      });
      helper.getNode(this.nodeId).receive({ ...msg, _msgid: id });
    });
  }

  private end(id: unknown, end: CallEnd): void {
    const done = typeof id === 'string' ? this.waiting.get(id) : undefined;
    if (!done) return;
    this.waiting.delete(id as string);
    done(end);
  }
}
