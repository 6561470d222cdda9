import type { CommandName } from './commands';
import { partsFromRecords } from './stdf';
import type { CommandOutcome } from './tester';
import type { TesterEvent } from './types';

/** States from which a command can no longer succeed. */
export const FAILURE_STATES: readonly string[] = ['softerror', 'error', 'crash'];

/** The master's own timeouts (load 180 s, unload 60 s, test 30 s) plus a margin, so its verdict arrives first. */
export const DEFAULT_WAIT_MS: Partial<Record<CommandName, number>> = { load: 190_000, next: 35_000, unload: 65_000, reset: 30_000 };

export interface WaitTarget {
  accept(event: TesterEvent): boolean;
  result(): Partial<CommandOutcome>;
}

/**
 * What to wait for after a query, or undefined for a command that is only sent. (Commands that
 * move the master — load, next, unload, reset — are followed by PendingCommand.)
 */
export function waitTarget(name: CommandName): WaitTarget | undefined {
  let captured: Partial<CommandOutcome> = {};
  const reply = (match: (e: TesterEvent) => Partial<CommandOutcome> | undefined): WaitTarget => ({
    accept(event) {
      const found = match(event);
      if (found) captured = found;
      return found !== undefined;
    },
    result: () => captured,
  });
  switch (name) {
    case 'getresults':
      return reply((e) => (e.kind === 'parts' ? { records: e.parts, parts: e.parts.flatMap((r) => partsFromRecords(r)) } : undefined));
    case 'getlogs':
      return reply((e) => (e.kind === 'logs' ? { logs: e.entries } : undefined));
    case 'getlogfile':
      return reply((e) => (e.kind === 'data' && e.type === 'logfile' ? { logfile: e.payload } : undefined));
    case 'identify':
    case 'get-state':
    case 'get-host':
      return reply((e) => (e.kind === 'response' && e.type === name ? { response: e.payload } : undefined));
    default:
      break;
  }
  return undefined;
}
