import type { ConnectionStatus } from '../protocols/common/reconnecting-connection';
import { coreStatusText, errorText, reasonText, sharedText } from './i18n';
import type { NodeStatus, RedAPI } from './red-types';

/** The longest status text the editor shows without crowding the node. */
export const STATUS_TEXT_MAX = 32;

/** One line of at most `max` characters, cut at a word boundary (a long word such as a URL is cut inside). */
export function shortText(text: string, max = STATUS_TEXT_MAX): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  if (oneLine.length <= max) return oneLine;
  const room = oneLine.slice(0, max - 1);
  const space = room.lastIndexOf(' ');
  const cut = space >= max / 2 ? room.slice(0, space) : room;
  return `${cut.replace(/[\s,;:(-]+$/, '')}…`;
}

/**
 * A status text for an error: the short form of its reason when the catalog has one ("passphrase
 * refused"), else of its cause's ("<where>: <socket failure>" shows the failure), else its
 * sentence in the runtime's language, cut at a word boundary.
 */
export function errorStatusText(RED: RedAPI, err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const short = reasonText(RED, current, 'short');
    if (short !== undefined) return shortText(short);
    current = current.cause;
  }
  return shortText(errorText(RED, err));
}

/** The usual dot for a connection state, in Node-RED's own words where it has them; protocol-specific nodes may refine it. */
export function connectionDot(RED: RedAPI, status: ConnectionStatus): NodeStatus {
  switch (status.state) {
    case 'idle':
      return { fill: 'grey', shape: 'ring', text: sharedText(RED, 'status.idle') };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: coreStatusText(RED, 'connecting') };
    case 'connected':
      return { fill: 'green', shape: 'dot', text: coreStatusText(RED, 'connected') };
    case 'reconnecting':
      return status.retryInMs !== undefined
        ? {
            fill: 'yellow',
            shape: 'ring',
            text: sharedText(RED, 'status.reconnectingIn', { seconds: Math.max(1, Math.round(status.retryInMs / 1000)) }),
          }
        : { fill: 'yellow', shape: 'ring', text: sharedText(RED, 'status.reconnecting') };
    case 'failed':
      return errorDot(RED, status.failure ?? status.error ?? coreStatusText(RED, 'error'), 'dot');
    case 'closed':
      return { fill: 'grey', shape: 'ring', text: coreStatusText(RED, 'disconnected') };
  }
}

/** A red status for an error (or a text already in the runtime's language). */
export function errorDot(RED: RedAPI, err: unknown, shape: 'ring' | 'dot' = 'ring'): NodeStatus {
  return { fill: 'red', shape, text: typeof err === 'string' ? shortText(err) : errorStatusText(RED, err) };
}
