import type { ConnectionStatus } from '../protocols/common/reconnecting-connection';
import type { NodeStatus } from './red-types';

/** Status texts are short (the editor truncates long ones): clip error text. */
export function shortText(text: string, max = 20): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

/** The usual dot for a connection state; protocol-specific nodes may refine it. */
export function connectionDot(status: ConnectionStatus): NodeStatus {
  switch (status.state) {
    case 'idle':
      return { fill: 'grey', shape: 'ring', text: 'idle' };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: 'connecting' };
    case 'connected':
      return { fill: 'green', shape: 'dot', text: 'connected' };
    case 'reconnecting':
      return status.retryInMs !== undefined
        ? { fill: 'yellow', shape: 'ring', text: `reconnecting in ${Math.max(1, Math.round(status.retryInMs / 1000))} s` }
        : { fill: 'yellow', shape: 'ring', text: 'reconnecting' };
    case 'failed':
      return { fill: 'red', shape: 'dot', text: shortText(status.error ?? 'failed') };
    case 'closed':
      return { fill: 'grey', shape: 'ring', text: 'closed' };
  }
}

export function errorDot(text: string): NodeStatus {
  return { fill: 'red', shape: 'ring', text: shortText(text) };
}
