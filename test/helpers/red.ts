import fs from 'node:fs';
import path from 'node:path';
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
  internals.load = (async (testNode: unknown, ...rest: unknown[]) => {
    registered.clear();
    await catalogsLoaded;
    const modules = (Array.isArray(testNode) ? testNode : [testNode]) as Array<(red: unknown) => unknown>;
    return (load as (...args: unknown[]) => Promise<void>)(modules.map(withCatalog), ...rest);
  }) as typeof helper.load;
}

/**
 * Message catalogs as a real runtime has them. The test helper hands every node module a RED._
 * that echoes the key; this gives each of our modules Node-RED's own i18n instead, namespaced to
 * its node type as Node-RED's loader does ("<package>/<type>:<key>"), with this package's
 * catalogs and Node-RED's core messages (node-red:common.status.*) registered. The language is
 * en-US unless a test calls setRuntimeLanguage().
 */
interface I18n {
  init(settings: { lang?: string }): void;
  registerMessageCatalog(namespace: string, dir: string, file: string): Promise<void>;
  _(key: string, substitutions?: Record<string, unknown>): string;
  i: { changeLanguage(lang: string): Promise<unknown>; language: string };
}

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');
const PACKAGE_NAME = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { name: string }).name;
const nodeRedDir = path.dirname(require.resolve('node-red/package.json', { paths: [path.dirname(nodeRedRuntimePath())] }));
const i18n = (require(require.resolve('@node-red/util', { paths: [nodeRedDir] })) as { i18n: I18n }).i18n;
i18n.init({ lang: 'en-US' });
const coreLocales = path.join(path.dirname(require.resolve('@node-red/nodes/package.json', { paths: [nodeRedDir] })), 'locales');
const localesDir = path.join(PACKAGE_ROOT, 'locales');
const catalogsLoaded = Promise.all([
  i18n.registerMessageCatalog('node-red', coreLocales, 'messages.json'),
  ...fs
    .readdirSync(path.join(localesDir, 'en-US'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => i18n.registerMessageCatalog(`${PACKAGE_NAME}/${f.slice(0, -5)}`, localesDir, f)),
]);

/** The node type a module of ours registers (src/nodes/<type>.ts), found from the module's file name. */
function nodeTypeOf(module: unknown): string | undefined {
  for (const cached of Object.values(require.cache)) {
    if (!cached || cached.exports !== module) continue;
    const match = /[\\/]src[\\/]nodes[\\/]([a-z0-9-]+)\.ts$/.exec(cached.filename);
    if (match) return match[1];
  }
  return undefined;
}

function withCatalog(module: (red: unknown) => unknown): (red: unknown) => unknown {
  const type = nodeTypeOf(module);
  if (!type) return module;
  const wrapped = (red: unknown): unknown => {
    const api = Object.create(red as object) as { _: (key: string, substitutions?: Record<string, unknown>) => string };
    api._ = (key, substitutions) => i18n._(key.includes(':') ? key : `${PACKAGE_NAME}/${type}:${key}`, substitutions);
    return module(api);
  };
  return wrapped;
}

/** RED._ as a node of `type` has it in a real runtime (after setRuntimeLanguage, in that language). */
export async function translatorFor(type: string): Promise<(key: string, substitutions?: Record<string, unknown>) => string> {
  await catalogsLoaded;
  return (key, substitutions) => i18n._(key.includes(':') ? key : `${PACKAGE_NAME}/${type}:${key}`, substitutions);
}

/** Switch the runtime's language (Node-RED's `lang` setting) for the nodes' texts; tests restore 'en-US' afterwards. */
export async function setRuntimeLanguage(lang: string): Promise<void> {
  await catalogsLoaded;
  await i18n.i.changeLanguage(lang);
}

/**
 * helper.setFlows() listens for 'flows:started' only after the deploy call returns, and gives up after
 * 300 ms: on a busy machine a redeploy that closes and starts a few nodes takes longer. Listen before
 * deploying and allow 10 s.
 */
{
  type Deploy = (flow: unknown[], credentials: Record<string, unknown>, type: string) => Promise<unknown>;
  const internals = helper as unknown as {
    _redNodes: { setFlows: Deploy };
    _events: { once(event: string, fn: () => void): void; off(event: string, fn: () => void): void };
  };
  helper.setFlows = async (flow, type = 'full', credentials = {}) => {
    let onStarted = (): void => undefined;
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the flows did not start within 10 s of a deploy')), 10_000);
      onStarted = () => {
        clearTimeout(timer);
        resolve();
      };
      internals._events.once('flows:started', onStarted);
    });
    try {
      await internals._redNodes.setFlows(flow, credentials, type);
    } catch (err) {
      internals._events.off('flows:started', onStarted);
      throw err;
    }
    await started;
  };
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

/**
 * Close a deployed node as a redeploy does (its close handlers run; the node object lives on, as
 * it does while a call it started is still in flight) and record every status it sets from then
 * on. A closed node must set none: its redeployed successor with the same id owns the status.
 */
export async function closeAndWatch(id: string): Promise<Array<Record<string, unknown>>> {
  const node = helper.getNode(id) as unknown as {
    on(event: 'call:status', fn: (call: { args: [Record<string, unknown>] }) => void): void;
    close(removed: boolean): Promise<void>;
  };
  const statuses: Array<Record<string, unknown>> = [];
  node.on('call:status', (call) => statuses.push(call.args[0]));
  await node.close(false);
  return statuses;
}
