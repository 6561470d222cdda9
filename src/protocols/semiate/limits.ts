/**
 * How much of what a tester sends the client keeps or passes on. A real Semi-ATE master has a
 * handful of sites, a dozen message types and state names of a few letters; a broken or hostile
 * peer must not be able to grow memory, stall the event loop or flood a status with more.
 */
export const LIMITS = {
  /** Largest message decoded (a full testresults of 1000 parts stays well below). */
  maxMessageBytes: 16 * 1024 * 1024,
  /** Deepest nesting decoded; STDF records in a testresults list are five levels deep. */
  maxDepth: 64,
  /** Sites remembered per tester (further site ids are not recorded). */
  maxSites: 256,
  /** Characters kept of a site id, a state name, a message type. */
  maxNameChars: 64,
  /** Characters kept of the master's error or state message. */
  maxMessageChars: 500,
  /** Part ids remembered for the retest rule of the running yield (the oldest are forgotten first). */
  maxTrackedParts: 100_000,
  /** State-changing commands waiting for the one in progress. */
  maxQueuedCommands: 32,
  /** Warnings about unreadable messages per window, and the window. */
  warningsPerWindow: 5,
  warningWindowMs: 10_000,
} as const;

/** A text cut to `max` characters (with an ellipsis), so no peer-sent string reaches a status or log whole. */
export function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
