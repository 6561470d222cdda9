/**
 * What user nodes see of each config node, and a real check that a node found by id is one: the
 * config node's constructor sets these members, so a missing, disabled or foreign node fails the
 * check instead of being cast. Type-only imports: no protocol code is loaded from here.
 */
import type { BpwinClient } from '../protocols/bpwin/client';
import type { BpwinEventStream } from '../protocols/bpwin/event-stream';
import type { BackoffOptions } from '../protocols/common/backoff';
import type { NebvClient } from '../protocols/nebv/client';
import type { PropellerConnection } from '../protocols/propeller/connection';
import type { LauncherClient } from '../protocols/propeller/launcher-client';
import type { SemiAteTester } from '../protocols/semiate';
import type { SfdaqClient } from '../protocols/sfdaq/client';
import type { ConnectionRegistry, StatusTarget } from './connection-registry';
import type { RedNode } from './red-types';

/** A config node's shared connection as its users see it: register (opens it on the first) and deregister. */
export interface Registrar<C> {
  register(user: StatusTarget): C;
  deregister(user: StatusTarget): Promise<void>;
}

/** The node types a config field may point at, and the check that a node is one of them, set up. */
export interface ConfigType<N extends RedNode> {
  readonly types: readonly string[];
  is(node: RedNode | null | undefined): node is N;
}

/** A ConfigType from its node types and what a constructed node of those types offers. */
export function configType<N extends RedNode>(types: readonly string[], offers: (node: Readonly<Record<string, unknown>>) => boolean): ConfigType<N> {
  return {
    types,
    is: (node): node is N => !!node && types.includes(node.type) && offers(node as unknown as Record<string, unknown>),
  };
}

export function isRegistrar(value: unknown): value is Registrar<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Registrar<unknown>>;
  return typeof candidate.register === 'function' && typeof candidate.deregister === 'function';
}

export interface BpwinServerNode extends RedNode {
  /** Request and job-stats nodes share one REST client (one challenge, one keep-alive pool). */
  requests: ConnectionRegistry<BpwinClient>;
  /** Event nodes share one /ws connection. */
  events: ConnectionRegistry<BpwinEventStream>;
  backoff: BackoffOptions;
}

export const BPWIN_SERVER = configType<BpwinServerNode>(['bpwin-server'], (n) => isRegistrar(n.requests) && isRegistrar(n.events));

export interface NebvServerNode extends RedNode {
  clients: ConnectionRegistry<NebvClient>;
}

export const NEBV_SERVER = configType<NebvServerNode>(['nebv-server'], (n) => isRegistrar(n.clients));

export interface SfdaqBrokerNode extends RedNode {
  /** One client per config node; calls take turns through the client's queue per broker address. */
  clients: ConnectionRegistry<SfdaqClient>;
}

export const SFDAQ_BROKER = configType<SfdaqBrokerNode>(['sfdaq-broker'], (n) => isRegistrar(n.clients));

export interface TesterConfigNode extends RedNode {
  registry: ConnectionRegistry<SemiAteTester>;
  transport: 'websocket' | 'mqtt';
}

export const SEMIATE_TESTER = configType<TesterConfigNode>(['semiate-tester'], (n) => isRegistrar(n.registry));

/**
 * How a Propeller user node (load, terminal, ports) reaches a board without knowing the transport:
 * `propeller-launcher` and `propeller-serial` both hand out a shared PropellerConnection.
 */
export interface PropellerConfigNode extends RedNode {
  /** Register `user` (status is pushed to it, replayed if it registers late) and return the shared connection. Idempotent per user id. */
  acquire(user: StatusTarget): PropellerConnection;
  /** Deregister `user`; the connection closes with the last user. Safe to call twice. */
  release(user: StatusTarget): Promise<void>;
}

const offersPropeller = (n: Readonly<Record<string, unknown>>): boolean => typeof n.acquire === 'function' && typeof n.release === 'function';

export const PROPELLER_LAUNCHER = configType<PropellerConfigNode>(['propeller-launcher'], offersPropeller);
export const PROPELLER_SERIAL = configType<PropellerConfigNode>(['propeller-serial'], offersPropeller);

/** The Launcher config node as its own admin endpoint (port listing) sees it. */
export interface LauncherConfigNode extends PropellerConfigNode {
  url: string;
  client(): LauncherClient | undefined;
}

export const LAUNCHER_CONFIG = configType<LauncherConfigNode>(
  ['propeller-launcher'],
  (n) => offersPropeller(n) && typeof n.url === 'string' && typeof n.client === 'function',
);
