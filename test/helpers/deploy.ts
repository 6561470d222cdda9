import WebSocket from 'ws';
import { requestJson } from '../../src/cli/node-red-process';

/**
 * Deploys to a Node-RED started as a child process, and knows when the flows run.
 *
 * Node-RED answers a deploy before its nodes exist (it starts them after replying), and it loads
 * the stored flows after its admin API already listens: a deploy in that window is replaced by
 * the stored (empty) flows. A test that then presses an inject button gets 404. The runtime tells
 * both moments on its editor channel (/comms): "runtime-state" start when the flows run, and
 * "runtime-deploy" with the revision once a deploy's nodes have started.
 */
export class RuntimeEvents {
  private readonly socket: WebSocket;
  private readonly seen: { topic: string; data: Record<string, unknown> }[] = [];
  private readonly waiters = new Set<() => void>();
  private ended = false;
  private readonly handlers = new Set<(topic: string, data: Record<string, unknown>) => void>();

  private constructor(readonly url: string) {
    this.socket = new WebSocket(`${url.replace(/^http/, 'ws')}/comms`);
    this.socket.on('message', (raw: WebSocket.RawData) => {
      const parsed = JSON.parse(raw.toString()) as unknown;
      for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
        const { topic, data } = item as { topic?: unknown; data?: unknown };
        if (typeof topic !== 'string') continue;
        const body = (data ?? {}) as Record<string, unknown>;
        if (topic.startsWith('notification/')) this.seen.push({ topic, data: body });
        for (const handler of this.handlers) handler(topic, body);
      }
      if (this.seen.length > 200) this.seen.splice(0, this.seen.length - 200);
      for (const wake of [...this.waiters]) wake();
    });
    // A Node-RED that ended (or was killed by the test) closes the channel: waits end at once with their reason.
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.ended = true;
      for (const wake of [...this.waiters]) wake();
    });
  }

  /** Connect to the editor channel of the Node-RED at `url`; the retained runtime state comes first. */
  static async open(url: string): Promise<RuntimeEvents> {
    const events = new RuntimeEvents(url);
    await new Promise<void>((resolve, reject) => {
      events.socket.once('open', () => resolve());
      events.socket.once('error', reject);
    });
    events.socket.send(JSON.stringify({ subscribe: 'notification/#' }));
    return events;
  }

  /** Wait until the runtime has started its stored flows (before that, a deploy may be overwritten). */
  async started(ms = 60_000): Promise<void> {
    await this.until((e) => e.topic === 'notification/runtime-state' && e.data.state === 'start', ms, 'Node-RED to start its flows');
  }

  /**
   * Deploy `flows` (a full deployment) and wait until their nodes have started. `seen` is cleared
   * first, so the revision of an identical earlier deploy does not count.
   */
  async deploy(flows: unknown[], ms = 60_000): Promise<string> {
    this.seen.length = 0;
    const res = await requestJson('POST', `${this.url}/flows`, { flows }, { 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v2' });
    if (res.status !== 200) throw new Error(`deploy to ${this.url} answered ${res.status}: ${res.body.slice(0, 500)}`);
    const { rev } = JSON.parse(res.body) as { rev: string };
    await this.until((e) => e.topic === 'notification/runtime-deploy' && e.data.revision === rev, ms, `the flows of revision ${rev} to start`);
    return rev;
  }

  /**
   * Every event the runtime publishes from now on ("status/<node id>", "notification/runtime-deploy", …),
   * in the order it emitted them: a status that comes after a deploy's event was set after that deploy.
   */
  onEvent(handler: (topic: string, data: Record<string, unknown>) => void): void {
    this.handlers.add(handler);
  }

  close(): void {
    this.socket.terminate();
  }

  private until(match: (event: { topic: string; data: Record<string, unknown> }) => boolean, ms: number, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.seen.some(match)) {
          finish();
          resolve();
        } else if (this.ended) {
          finish();
          reject(new Error(`the editor channel of ${this.url} closed while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${ms} ms waiting for ${what} at ${this.url}`));
      }, ms);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }
}
