import type { StatusTarget } from './connection-registry';
import type { NodeStatus } from './red-types';

type Shown = NodeStatus | Record<string, never>;

/**
 * How a node weighs its own news against its connection's:
 * - 'state': the node has a state of its own that stands for it while the connection is up (a
 *   terminal's port: "no data yet", open, or why it is not). The connection's green says nothing
 *   about that port ("connected (2 ports)", "loaded"), so it never stands in for it; while the
 *   connection is not up, that is the news.
 * - 'outcome': the node's news is how its last command ended. A failure stays until a command
 *   succeeds, whatever the connection reports while up, so a flow never looks fine after a
 *   refusal; a lost connection is bigger news and replaces the failure for good.
 */
export type OverlayMode = 'state' | 'outcome';

/** A connection whose last status is green (or that has none) is up, unless the node says how to tell. */
const greenIsUp = (status: NodeStatus | undefined): boolean => status === undefined || status.fill === 'green';

/** Owns a node's status dot, given its connection's status (through target()) and the node's own overlay (set()). */
export class StatusOverlay {
  private connection: NodeStatus | undefined;
  private own: NodeStatus | undefined;
  private isUp: (connection: NodeStatus | undefined) => boolean = greenIsUp;

  constructor(
    private readonly mode: OverlayMode,
    private readonly show: (status: Shown) => void,
  ) {}

  /** The target to register with the config node instead of the node's own. */
  target(id: string): StatusTarget {
    return {
      id,
      status: (status) => {
        // {} clears: the connection has nothing to say.
        this.connection = Object.keys(status).length > 0 ? status : undefined;
        if (this.mode === 'outcome' && !this.isUp(this.connection)) this.own = undefined;
        this.render();
      },
    };
  }

  /**
   * Where the connection's colours do not tell whether it is up (a tester's alarm is red while
   * connected, its "testing" blue), the node asks the connection itself.
   */
  upWhen(isUp: () => boolean): void {
    this.isUp = isUp;
  }

  /** The node's own state ('state') or a command's failure ('outcome'). */
  set(status: NodeStatus): void {
    this.own = status;
    this.render();
  }

  /** The node has no news of its own (a command succeeded): the connection's status shows. */
  clear(): void {
    if (this.own === undefined) return;
    this.own = undefined;
    this.render();
  }

  private render(): void {
    // An outcome overlay is dropped when the connection goes down (see target()), so it never hides that.
    const shown = this.mode === 'state' && !this.isUp(this.connection) ? this.connection : (this.own ?? this.connection);
    this.show(shown ?? {});
  }
}
