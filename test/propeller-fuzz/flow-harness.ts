import assert from 'node:assert/strict';
import { Vitals, assertHealthy, type VitalsReport } from '../helpers/fuzz';
import { helper, waitFor } from '../helpers/red';

type Msg = Record<string, unknown> & { _msgid?: string; error?: { message?: unknown } };
type Flow = Array<Record<string, unknown>>;

/** The user nodes a fuzz run sends msgs to; each has its outputs wired to two helper nodes. */
export interface FuzzTarget {
  id: string;
  node: Record<string, unknown>;
}

/** The load and terminal nodes every fuzz run drives, on the config node `configId` of `kind`. */
export function propellerTargets(kind: 'launcher' | 'serial', configId: string, port: string, debug: string): FuzzTarget[] {
  const connection = { connectionType: kind, launcher: kind === 'launcher' ? configId : '', serial: kind === 'serial' ? configId : '' };
  return [
    {
      id: 'fz-load',
      node: {
        type: 'propeller-load',
        ...connection,
        source: 'payload',
        action: 'RAM',
        port: '',
        debug,
        timeout: 2,
        version: 2,
        allowMsgEeprom: true,
      },
    },
    {
      id: 'fz-term',
      node: {
        type: 'propeller-terminal',
        ...connection,
        port,
        baudrate: 115200,
        mode: 'term',
        output: 'string',
        encoding: 'utf8',
        split: 'line',
        delimiter: '\\n',
      },
    },
  ];
}

/**
 * A flow around the nodes under test: every output goes to two helper nodes (so Node-RED clones
 * each msg), a Catch node and a Complete node report how every input ended.
 */
export function fuzzFlow(config: Record<string, unknown>, targets: FuzzTarget[]): Flow {
  const ids = targets.map((t) => t.id);
  return [
    { id: 'fz', type: 'tab', label: 'fuzz' },
    config,
    ...targets.map((t) => {
      const outputs = t.node.type === 'propeller-load' ? 2 : 1;
      return { ...t.node, id: t.id, z: 'fz', wires: Array.from({ length: outputs }, () => ['out1', 'out2']) };
    }),
    { id: 'out1', type: 'helper', z: 'fz' },
    { id: 'out2', type: 'helper', z: 'fz' },
    { id: 'catcher', type: 'catch', z: 'fz', scope: ids, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'fz' },
    { id: 'completer', type: 'complete', z: 'fz', scope: ids, uncaught: false, wires: [['completed']] },
    { id: 'completed', type: 'helper', z: 'fz' },
  ];
}

/** How a run ended, for its assertions and for the report. */
export interface FuzzReport {
  sent: number;
  /** Msgs that came out of an output (a load result, a port list, terminal data). */
  outputs: number;
  completed: number;
  caught: number;
  vitals: VitalsReport;
  errorTexts: Map<string, number>;
}

/** Why a caught error is not a clear one, or undefined when it is. */
function unclear(error: { message?: unknown } | undefined): string | undefined {
  const text = typeof error?.message === 'string' ? error.message : undefined;
  if (text === undefined) return `an error without a text: ${JSON.stringify(error)?.slice(0, 200)}`;
  if (/^[A-Za-z]*Error\b|\[object Object\]|undefined/.test(text)) return `a bare or garbled error: ${text.slice(0, 200)}`;
  if (text.length <= 10 || text.length >= 1000) return `an error text of ${text.length} characters: ${text.slice(0, 200)}`;
  return undefined;
}

/**
 * With the flow deployed (fuzzFlow), let `drive` send msgs through `send`; wait until every msg has
 * ended (Complete or Catch), and watch the event loop, memory and the process-level failure events
 * all along (a stall is told as it ends, with what the peer sent just before). Msgs are counted,
 * not kept, so the run's own bookkeeping does not grow.
 */
export async function runFuzz(
  drive: (send: (target: string, msg: Msg) => void) => Promise<void>,
  options: { endWithinMs: number; memoryLimitMb: number; recent?: () => string[] },
): Promise<FuzzReport> {
  const sent = new Set<string>();
  const ended = new Set<string>();
  const errorTexts = new Map<string, number>();
  const problems: string[] = [];
  const counts = { outputs: 0, completed: 0, caught: 0 };
  helper.getNode('out1').on('input', () => (counts.outputs += 1));
  helper.getNode('completed').on('input', (m: Msg) => {
    counts.completed += 1;
    ended.add(String(m._msgid));
  });
  helper.getNode('caught').on('input', (m: Msg) => {
    counts.caught += 1;
    ended.add(String(m._msgid));
    const problem = unclear(m.error);
    if (problem && problems.length < 20) problems.push(problem);
    const key = String(m.error?.message).replace(/\d+/g, 'N').slice(0, 120);
    errorTexts.set(key, (errorTexts.get(key) ?? 0) + 1);
  });
  const vitals = new Vitals({ onStall: (ms) => console.log(`      stall ${Math.round(ms)} ms after: ${(options.recent?.() ?? []).join(' | ')}`) });
  let counter = 0;
  const open = (): string[] => [...sent].filter((id) => !ended.has(id));
  try {
    await drive((target, msg) => {
      const id = `fuzz-${++counter}`;
      sent.add(id);
      helper.getNode(target).receive({ ...msg, _msgid: id });
    });
    await waitFor(() => ended.size >= sent.size && open().length === 0, options.endWithinMs, 'every msg to end').catch((err: Error) => {
      const left = open();
      throw new Error(`${err.message}: ${left.length} of ${sent.size} did not end with a result or an error (${left.slice(0, 5).join(', ')})`);
    });
  } catch (err) {
    vitals.stop();
    throw err;
  }
  const report = await vitals.stopSettled();
  assert.deepEqual(problems, [], 'every error is a clear one');
  assertHealthy(report, { maxRetainedGrowthMb: options.memoryLimitMb });
  return { sent: sent.size, ...counts, vitals: report, errorTexts };
}

/** Random msg values a careless flow may send to any node. */
export function hostileMsgValues(pick: <T>(items: readonly T[]) => T, int: (below: number) => number): unknown {
  return pick<unknown>([
    undefined,
    null,
    Number.NaN,
    Infinity,
    -1,
    true,
    '',
    'hello\r\n',
    '\ud800',
    'x'.repeat(int(200_000)),
    Buffer.alloc(int(70_000), int(256)),
    [1, 2, 3],
    { a: { b: { c: 1 } } },
    JSON.parse('['.repeat(1000) + ']'.repeat(1000)) as unknown,
  ]);
}
