import type { CommandName, TransportKind } from './commands';
import { partsFromRecords } from './stdf';
import type { CommandOutcome } from './tester';
import type { PartResult, StdfRecord, TesterEvent } from './types';

/** States from which a command can no longer succeed. */
export const FAILURE_STATES: readonly string[] = ['softerror', 'error', 'crash'];

/** The master's own timeouts (load 180 s, unload 60 s, test 30 s) plus a margin, so its verdict arrives first. */
export const DEFAULT_WAIT_MS: Partial<Record<CommandName, number>> = { load: 190_000, next: 35_000, unload: 65_000, reset: 30_000 };

export interface WaitTarget {
  describe: string;
  accept(event: TesterEvent): boolean;
  /** A reason when the event means the command failed. */
  fail(event: TesterEvent): string | undefined;
  result(): Partial<CommandOutcome>;
}

/**
 * A failure state fails the command, except while the master still reports the state it was in
 * when we sent it (the websocket repeats its status every second, so a report from before the
 * command may still arrive; reset is sent in softerror).
 */
function failedState(command: string, before: string | undefined) {
  let moved = false;
  return (event: TesterEvent): string | undefined => {
    if (event.kind !== 'state') return undefined;
    if (event.state !== before) moved = true;
    if (!moved || !FAILURE_STATES.includes(event.state)) return undefined;
    return `${command} failed: the tester went to ${event.state}${event.message ? ` (${event.message})` : ''}`;
  };
}

function stateTarget(command: string, wanted: string, before: string | undefined): WaitTarget {
  return {
    describe: `state ${wanted} after ${command}`,
    accept: (e) => e.kind === 'state' && e.state === wanted,
    fail: failedState(command, before),
    result: () => ({}),
  };
}

function nextTarget(kind: TransportKind, sites: readonly string[], before: string | undefined): WaitTarget {
  const parts: PartResult[] = [];
  const records: StdfRecord[][] = [];
  let response: unknown;
  const complete = (): boolean =>
    kind === 'mqtt' ? response !== undefined && sites.every((s) => parts.some((p) => p.site === s)) : parts.length >= sites.length;
  return {
    describe: `results of ${sites.length} site(s) after next`,
    accept(event) {
      if (event.kind === 'part') {
        parts.push(...partsFromRecords(event.records, event.site || '0'));
        records.push(event.records);
      } else if (event.kind === 'response' && event.type === 'next') {
        response = event.payload;
      }
      return complete();
    },
    fail: failedState('next', before),
    result: () => (response === undefined ? { parts, records } : { parts, records, response }),
  };
}

/** What to wait for after a command, or undefined when it is only sent. Queries always wait for their answer. */
export function waitTarget(
  kind: TransportKind,
  name: CommandName,
  waitUntilDone: boolean,
  sites: readonly string[],
  before: string | undefined,
): WaitTarget | undefined {
  let captured: Partial<CommandOutcome> = {};
  const reply = (describe: string, match: (e: TesterEvent) => Partial<CommandOutcome> | undefined): WaitTarget => ({
    describe,
    accept(event) {
      const found = match(event);
      if (found) captured = found;
      return found !== undefined;
    },
    fail: () => undefined,
    result: () => captured,
  });
  switch (name) {
    case 'getresults':
      return reply('test results', (e) =>
        e.kind === 'parts' ? { records: e.parts, parts: e.parts.flatMap((r) => partsFromRecords(r)) } : undefined,
      );
    case 'getlogs':
      return reply('logs', (e) => (e.kind === 'logs' ? { logs: e.entries } : undefined));
    case 'getlogfile':
      return reply('the log file', (e) => (e.kind === 'data' && e.type === 'logfile' ? { logfile: e.payload } : undefined));
    case 'identify':
    case 'get-state':
    case 'get-host':
      return reply(`the answer to ${name}`, (e) => (e.kind === 'response' && e.type === name ? { response: e.payload } : undefined));
    default:
      break;
  }
  if (!waitUntilDone) return undefined;
  switch (name) {
    case 'load':
      return stateTarget('load', 'ready', before);
    case 'unload':
    case 'reset':
      return stateTarget(name, 'initialized', before);
    case 'next':
      return nextTarget(kind, sites, before);
    default:
      return undefined;
  }
}
