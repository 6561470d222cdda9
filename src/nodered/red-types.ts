/**
 * The slice of Node-RED's runtime API this package uses, typed strictly. Kept local instead of
 * depending on @types/node-red, which lags the runtime and types most things as any.
 */
import type { AdminRequest, Express, RequestHandler } from './express-types';

export type NodeMessage = Record<string, unknown> & { _msgid?: string; payload?: unknown; topic?: unknown };

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export type SendFunction = (msg: NodeMessage | null | Array<NodeMessage | NodeMessage[] | null>) => void;
export type DoneFunction = (err?: Error) => void;

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

export interface RedNode {
  id: string;
  type: string;
  name?: string;
  z?: string;
  credentials?: Record<string, string | undefined>;
  on(event: 'input', listener: (msg: NodeMessage, send: SendFunction, done: DoneFunction) => void): this;
  on(event: 'close', listener: (removed: boolean, done: () => void) => void): this;
  removeAllListeners(event?: string): this;
  send(msg: NodeMessage | null | Array<NodeMessage | NodeMessage[] | null>): void;
  status(status: NodeStatus | Record<string, never>): void;
  log(message: unknown): void;
  warn(message: unknown): void;
  error(message: unknown, msg?: NodeMessage): void;
  debug(message: unknown): void;
  receive(msg?: NodeMessage): void;
}

export interface NodeCredentialsDef {
  [key: string]: { type: 'text' | 'password' };
}

export interface RedAPI {
  nodes: {
    createNode(node: RedNode, def: NodeDef): void;
    registerType(
      type: string,
      constructor: (this: RedNode, def: NodeDef) => void,
      options?: { credentials?: NodeCredentialsDef; settings?: Record<string, { value: unknown; exportable?: boolean }> },
    ): void;
    getNode(id: string): RedNode | null;
    getCredentials(id: string): Record<string, string | undefined> | undefined;
    /** Every deployed node's config (credentials are not in it). */
    eachNode(callback: (def: NodeDef) => void): void;
  };
  settings: Record<string, unknown>;
  httpAdmin: Express;
  auth: { needsPermission(permission: string): RequestHandler };
  util: {
    evaluateNodeProperty(value: unknown, type: string, node: RedNode, msg: NodeMessage, callback: (err: Error | null, result: unknown) => void): void;
    getMessageProperty(msg: NodeMessage, expr: string): unknown;
    setMessageProperty(msg: NodeMessage, prop: string, value: unknown, createMissing?: boolean): boolean;
    cloneMessage<T extends NodeMessage>(msg: T): T;
  };
  _: (key: string, substitutions?: Record<string, string | number>) => string;
  log: {
    info(message: unknown): void;
    warn(message: unknown): void;
    error(message: unknown): void;
    debug(message: unknown): void;
    /** An entry in Node-RED's audit log; with the request, Node-RED adds the user, path and ip. */
    audit(entry: Record<string, unknown>, req?: AdminRequest): void;
  };
}
