declare module 'node-red-node-test-helper' {
  import type { EventEmitter } from 'node:events';

  export interface TestNode extends EventEmitter {
    id: string;
    type: string;
    credentials?: Record<string, string | undefined>;
    receive(msg?: Record<string, unknown>): void;
    status(status: Record<string, unknown>): void;
    error: ((...args: unknown[]) => void) & { getCalls?: () => Array<{ args: unknown[] }> };
    warn: ((...args: unknown[]) => void) & { getCalls?: () => Array<{ args: unknown[] }> };
    [key: string]: unknown;
  }

  type NodeModule = (RED: never) => void;

  interface Helper {
    init(nodeRedRuntime: string, userSettings?: Record<string, unknown>): void;
    load(
      nodes: NodeModule | NodeModule[],
      flow: Array<Record<string, unknown>>,
      credentials?: Record<string, Record<string, string>>,
      cb?: () => void,
    ): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): TestNode;
    startServer(done?: (err?: Error) => void): Promise<void>;
    stopServer(done?: (err?: Error) => void): Promise<void>;
    clearFlows(): Promise<void>;
    setFlows(flow: Array<Record<string, unknown>>, type?: string, credentials?: Record<string, unknown>): Promise<void>;
    request(): unknown;
    settings(userSettings: Record<string, unknown>): void;
    url(): string;
    log(): unknown;
  }
  const helper: Helper;
  export = helper;
}
