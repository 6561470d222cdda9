import helper from 'node-red-node-test-helper';

/** The Node-RED 5 lane points this at another Node-RED install (see scripts/node-red-5-lane.mjs). */
export function nodeRedRuntimePath(): string {
  const modules = process.env.LABWIRE_NODE_RED_MODULES;
  return modules ? require.resolve('node-red', { paths: [modules] }) : require.resolve('node-red');
}

helper.init(nodeRedRuntimePath());

/**
 * The helper registers its core catch/status/complete module once per node of that type, so a flow
 * with two Catch nodes fails with "catch already registered". Let each register once per load.
 * (Tests must not pass these modules themselves: under another Node-RED install they are
 * different module objects and would register twice.)
 */
{
  const internals = helper as unknown as { _nodeModules?: Record<string, (red: unknown) => unknown>; load: typeof helper.load };
  const registered = new Set<string>();
  for (const [type, register] of Object.entries(internals._nodeModules ?? {})) {
    internals._nodeModules![type] = (red: unknown) => {
      if (registered.has(type)) return undefined;
      registered.add(type);
      return register(red);
    };
  }
  const load = internals.load.bind(helper);
  internals.load = ((...args: Parameters<typeof helper.load>) => {
    registered.clear();
    return load(...args);
  }) as typeof helper.load;
}

export { helper };
export { waitFor } from './wait-for';

/** Resolve with the next msg a node sends (or reject after `ms`), for use with a helper node. */
export function nextMessage<T = Record<string, unknown>>(
  node: { once(event: 'input', fn: (msg: T) => void): void; removeListener(event: string, fn: (msg: T) => void): void },
  ms = 5000,
  what = 'a message',
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      node.removeListener('input', onInput);
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const onInput = (msg: T): void => {
      clearTimeout(timer);
      resolve(msg);
    };
    node.once('input', onInput);
  });
}

/** Collect every msg a node sends into an array (for asserting order and count). */
export function collect<T = Record<string, unknown>>(node: { on(event: 'input', fn: (msg: T) => void): void }): T[] {
  const seen: T[] = [];
  node.on('input', (msg: T) => seen.push(msg));
  return seen;
}

/** What a config node's "Test connection" button gets back. */
export interface ConnectionTestAnswer {
  ok: boolean;
  message: string;
}

type AdminAgent = { post(path: string): { send(body: unknown): Promise<{ status: number; body: ConnectionTestAnswer }> } };

/**
 * Press a config node's "Test connection" button: POST the dialog's values as the editor does
 * (strings for text inputs, booleans for checkboxes) to the runtime of helper.startServer().
 */
export async function testConnection(
  type: string,
  config: Record<string, unknown>,
  credentials: Record<string, string> = {},
  id?: string,
): Promise<ConnectionTestAnswer> {
  const res = await (helper.request() as AdminAgent).post(`/labwire-instruments/${type}/test`).send({ id, config, credentials });
  if (res.status !== 200) throw new Error(`the ${type} test endpoint answered HTTP ${res.status}`);
  return res.body;
}
