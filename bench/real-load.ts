import { helper } from '../test/helpers/red';

const SPIED = ['log', 'status', 'warn', 'error', 'debug', 'trace', 'send'];

/**
 * helper.load() as a real Node-RED would run the flow. The test helper wraps Node.prototype's
 * send/status/log… and the runtime log in sinon spies that record every call with its msg: a
 * million events would be measured as a million spy records (and run out of memory), and the spies
 * cost more than the delivery they wrap. After the load, the original methods go back on the
 * prototype, and on each node, which Node-RED gave its own copy of `send` when the flow started
 * (helper.unload() restores the sandbox as usual). A spy left anywhere fails the benchmark.
 */
export async function load(
  nodes: unknown[],
  flow: Array<Record<string, unknown>>,
  credentials?: Record<string, Record<string, string>>,
): Promise<void> {
  await helper.load(nodes as never, flow, credentials ?? {});
  const proto = (helper as unknown as { _NodePrototype: Record<string, unknown> })._NodePrototype;
  const original = (method: unknown): unknown => (method as { wrappedMethod?: unknown } | undefined)?.wrappedMethod ?? method;
  for (const name of SPIED) proto[name] = original(proto[name]);
  // The runtime log is spied too, and message metrics go through it.
  (helper as unknown as { _logSpy?: { restore(): void } })._logSpy?.restore();
  for (const { id } of flow) {
    const node = helper.getNode(String(id)) as unknown as Record<string, unknown> | null;
    if (node && Object.prototype.hasOwnProperty.call(node, 'send')) node.send = original(node.send);
    const left = SPIED.filter((name) => (node?.[name] as { wrappedMethod?: unknown } | undefined)?.wrappedMethod);
    if (left.length) throw new Error(`node ${String(id)} still has test spies on ${left.join(', ')}: the benchmark would measure them`);
  }
}
