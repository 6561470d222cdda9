import type { StatusTarget } from './connection-registry';
import type { NodeStatus } from './red-types';

/**
 * What a terminal node shows, from two sources: its config node's connection (pushed to every user
 * node) and its own terminal. While the connection is not up (reconnecting, failed, a load running on
 * the serial port) that is the news; once it is, the node shows its own port: its error, "no data yet"
 * until the port is confirmed open, then green. So a reconnected Launcher's "connected (2 ports)"
 * does not stand in for a terminal that is still being reopened.
 */
export class TerminalStatus {
  private connection: NodeStatus | undefined;
  private own: NodeStatus | undefined;

  constructor(private readonly show: (status: NodeStatus) => void) {}

  /** The target to register with the config node instead of the node's own. */
  target(id: string): StatusTarget {
    return {
      id,
      status: (status) => {
        // {} clears: the connection has nothing to say.
        this.connection = Object.keys(status).length > 0 ? status : undefined;
        this.render();
      },
    };
  }

  /** The terminal's own state. */
  set(status: NodeStatus): void {
    this.own = status;
    this.render();
  }

  private render(): void {
    const connection = this.connection;
    const connectionUp = connection === undefined || connection.fill === 'green';
    const shown = connectionUp ? (this.own ?? connection) : connection;
    if (shown) this.show(shown);
  }
}
