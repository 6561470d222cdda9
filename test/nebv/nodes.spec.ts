import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { helper, nextMessage, setRuntimeLanguage, waitFor } from '../helpers/red';
import { NebvSimulator } from '../../src/simulators/nebv';
import { freePortBlock, rawServer, requestsIn } from './fixtures';
import serverNode = require('../../src/nodes/nebv-server');
import rpcNode = require('../../src/nodes/nebv-rpc');

type Msg = Record<string, unknown> & { payload?: unknown; error?: { message: string; code?: unknown; source?: { type: string } } };
type Flow = Array<Record<string, unknown>>;
const nodes = [serverNode, rpcNode] as never[];

/** server + one rpc node (extra properties override) wired to a helper, plus a Catch node wired to another helper. */
function flow(server: Record<string, unknown>, rpc: Record<string, unknown> = {}): Flow {
  const outputs = rpc.errorOutput ? [['out'], ['errors']] : [['out']];
  return [
    { id: 'f1', type: 'tab', label: 'nebv' },
    {
      id: 'srv',
      type: 'nebv-server',
      name: 'sim',
      transport: 'tcp',
      host: '127.0.0.1',
      port: '',
      timeout: 5,
      maxReply: 16384,
      newline: false,
      ...server,
    },
    {
      id: 'rpc',
      type: 'nebv-rpc',
      z: 'f1',
      server: 'srv',
      method: 'pynebv.FileList.open',
      params: '{"filePath":"/data/sample.oas"}',
      paramsFrom: 'field',
      timeout: '',
      errorOutput: false,
      wires: outputs,
      ...rpc,
    },
    { id: 'out', type: 'helper', z: 'f1' },
    { id: 'errors', type: 'helper', z: 'f1' },
    { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1' },
  ];
}

describe('nebv nodes', function () {
  let sim: NebvSimulator;
  const tcp = (): Record<string, unknown> => ({ port: String(sim.port) });

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await NebvSimulator.start({ seed: 5 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  async function call(msg: Msg, target = 'out'): Promise<Msg> {
    const reply = nextMessage<Msg>(helper.getNode(target), 5000, `a message on ${target}`);
    helper.getNode('rpc').receive(msg);
    return reply;
  }

  it('calls the method of the dialog with its JSON params and sends the result in msg.payload', async () => {
    await helper.load(nodes, flow(tcp()));
    const msg = await call({ payload: 'ignored' });
    assert.equal((msg.payload as { key: string }).key, 'sample.oas@1');
    assert.equal((msg.payload as { klass: string }).klass, 'File');
    assert.deepEqual(msg.rpc, { method: 'pynebv.FileList.open' });
  });

  it('takes the method from msg.method, then msg.topic, when the dialog leaves it empty, adding "pynebv."', async () => {
    await helper.load(nodes, flow(tcp(), { method: '', params: '{"point":[3,4]}' }));
    const first = await call({ method: 'MarkList.add', topic: 'pynebv.Nothing.here' });
    assert.deepEqual(first.rpc, { method: 'pynebv.MarkList.add' });
    assert.equal((first.payload as { props: { Location: string } }).props.Location, '3.0,4.0');
    const second = await call({ topic: 'pynebv.MarkList.items' });
    assert.equal((second.payload as unknown[]).length, 1);
  });

  it('takes params from msg.payload, or merges them over the dialog JSON', async () => {
    await helper.load(nodes, flow(tcp(), { method: 'MarkList.add', params: '{"point":[1,1],"name":"from field"}', paramsFrom: 'payload' }));
    const fromPayload = (await call({ payload: { point: [5, 6] } })).payload as { props: Record<string, string> };
    assert.equal(fromPayload.props.Location, '5.0,6.0');
    assert.equal(fromPayload.props.Name, 'Mark 1');
    await helper.unload();
    await helper.load(nodes, flow(tcp(), { method: 'MarkList.add', params: '{"point":[1,1],"name":"from field"}', paramsFrom: 'both' }));
    const merged = (await call({ payload: { point: [7, 8] } })).payload as { props: Record<string, string> };
    assert.equal(merged.props.Location, '7.0,8.0');
    assert.equal(merged.props.Name, 'from field');
  });

  it('passes msg.item and msg.itemList into the params exactly as received', async () => {
    const server = await rawServer((socket, chunk) => {
      for (const r of requestsIn(chunk)) socket.write(JSON.stringify({ jsonrpc: '2.0', id: r.id, result: { got: r.params } }));
    });
    try {
      await helper.load(nodes, flow({ port: String(server.port) }, { method: 'Mark.delete', params: '{"force":true}' }));
      const item = { key: 'Marks@1|Mark 1@1', klass: 'Mark', props: { Name: 'Mark 1' }, attrs: { pos: [1, 2] } };
      const list = [item, { key: 'Marks@1|Mark 2@2', klass: 'Mark' }];
      const msg = await call({ item, itemList: list });
      assert.deepEqual(msg.payload, { got: { force: true, item, itemList: list } });
    } finally {
      await helper.unload();
      await server.close();
    }
  });

  it('reads a mark through every class of its hierarchy with msg.item', async () => {
    await helper.load(nodes, flow(tcp(), { method: '', params: '{"point":[2,3]}' }));
    const mark = (await call({ method: 'MarkList.add' })).payload as { props: Record<string, string> };
    for (const klass of ['Mark', 'MarkListItem', 'EbvItem']) {
      assert.deepEqual((await call({ method: `${klass}.props`, item: mark })).payload, mark.props, klass);
    }
  });

  it('refuses params that are not an object before sending, and the Catch node sees why', async () => {
    await helper.load(nodes, flow(tcp(), { method: 'MarkList.add', paramsFrom: 'payload' }));
    const refusals: Array<[Msg, RegExp]> = [
      [{ payload: [10, 0] }, /msg\.payload \(the params\) must be a JSON object .* not an array/],
      [{ payload: 'point' }, /not a string/],
      [{ payload: {}, item: { name: 'x' } }, /params\.item must be an EbvItem/],
      [{ payload: {}, itemList: 'all' }, /params\.itemList must be an array of EbvItems/],
    ];
    for (const [msg, message] of refusals) {
      const caught = await call(msg, 'caught');
      assert.match(caught.error!.message, message);
      assert.equal(caught.error!.code, 'BAD_INPUT');
      assert.equal(caught.error!.source!.type, 'nebv-rpc');
    }
    await helper.unload();
    await helper.load(nodes, flow(tcp(), { method: 'MarkList.add', params: '[1,2]' }));
    assert.match((await call({}, 'caught')).error!.message, /the params field must be a JSON object/);
    await helper.unload();
    await helper.load(nodes, flow(tcp(), { method: 'Mark list', params: '{}' }));
    assert.match((await call({}, 'caught')).error!.message, /"Mark list" is not a pynebv method name/);
    assert.equal(sim.requestCount, 0);
  });

  it('turns a JSON-RPC error into a catchable error with the code and message', async () => {
    await helper.load(nodes, flow(tcp(), { method: 'pynebv.test' }));
    const caught = await call({ payload: 1 }, 'caught');
    assert.equal(caught.error!.code, -32601);
    // The sentence itself, like every other error of the package: no "Error: " in front.
    assert.match(caught.error!.message, /^neoEBV refused pynebv\.test: Method not found \(code -32601\)/);
    assert.deepEqual(caught.rpcError, { code: -32601, message: 'Method not found', data: undefined, method: 'pynebv.test' });
  });

  it('says its errors in the runtime language (German): to the Catch node and, short, in its status', async () => {
    // A server that answers every call with neither result nor error.
    const server = await rawServer((socket, chunk) => {
      for (const r of requestsIn(chunk)) socket.write(JSON.stringify({ jsonrpc: '2.0', id: r.id }));
    });
    await setRuntimeLanguage('de');
    try {
      await helper.load(nodes, flow({ port: String(server.port) }, { method: 'MarkList.items', params: '{}' }));
      const rpc = helper.getNode('rpc');
      const seen: Array<{ fill?: string; text?: string }> = [];
      rpc.on('call:status', (c: { args: Array<{ fill?: string; text?: string }> }) => seen.push(c.args[0]!));
      const caught = await call({}, 'caught');
      assert.equal(caught.error!.message, 'pynebv.MarkList.items: neoEBV hat weder mit result noch mit error geantwortet');
      assert.equal(caught.error!.code, 'PROTOCOL');
      await waitFor(() => seen.at(-1)?.text === 'ungültige Antwort', 3000, 'the short German status');
      assert.equal(seen.at(-1)!.fill, 'red');
      // A refusal before anything is sent, too.
      await helper.unload();
      await helper.load(nodes, flow({ port: String(server.port) }, { method: 'Mark list', params: '{}' }));
      assert.equal(
        (await call({}, 'caught')).error!.message,
        '„Mark list“ ist kein pynebv-Methodenname (erwartet z. B. pynebv.FileList.open oder MarkList.add)',
      );
    } finally {
      await setRuntimeLanguage('en-US');
      await helper.unload();
      await server.close();
    }
  });

  it('sends a JSON-RPC error to the second output when asked, and nothing to Catch', async () => {
    await helper.load(nodes, flow(tcp(), { method: 'Mark.props', params: '{}', errorOutput: true }));
    let caught = 0;
    helper.getNode('caught').on('input', () => (caught += 1));
    const failed = await call({ item: { key: 'Marks@1|Gone@9', klass: 'Mark' } }, 'errors');
    assert.equal((failed.rpcError as { code: number }).code, -32000);
    assert.match((failed.rpcError as { message: string }).message, /does not exist/);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(caught, 0);
  });

  it('shows the calls in flight in its status', async () => {
    await helper.load(nodes, flow(tcp(), { method: 'MarkList.items', params: '{}' }));
    const rpc = helper.getNode('rpc');
    const seen: Array<{ fill?: string; text?: string }> = [];
    rpc.on('call:status', (c: { args: Array<{ fill?: string; text?: string }> }) => seen.push(c.args[0]!));
    await call({});
    sim.silent = true;
    for (let i = 0; i < 3; i += 1) rpc.receive({});
    await waitFor(() => seen.some((s) => s.text === '3 in flight'), 3000, 'status "3 in flight"');
    assert.equal(seen.find((s) => s.text === '3 in flight')!.fill, 'blue');
    sim.dropConnections();
    await waitFor(() => seen.length > 0 && !/in flight/.test(seen[seen.length - 1]!.text ?? ''), 3000, 'the in-flight status to clear');
  });

  it('sets no status once closed, even when a call it sent finishes later on the shared connection', async () => {
    const server = await rawServer((socket, chunk) => {
      for (const r of requestsIn(chunk)) setTimeout(() => socket.write(JSON.stringify({ jsonrpc: '2.0', id: r.id, result: [] })), 200);
    });
    try {
      const f = flow({ port: String(server.port) }, { method: 'MarkList.items', params: '{}' });
      f.push({ id: 'rpc2', type: 'nebv-rpc', z: 'f1', server: 'srv', method: 'MarkList.items', params: '{}', paramsFrom: 'field', wires: [['out']] });
      await helper.load(nodes, f);
      const rpc = helper.getNode('rpc');
      await call({});
      rpc.receive({});
      await waitFor(() => requestsIn(Buffer.concat(server.received)).length === 2, 3000, 'the second request to arrive');
      await (rpc as unknown as { close(removed: boolean): Promise<void> }).close(true);
      const after: unknown[] = [];
      rpc.on('call:status', (c: { args: unknown[] }) => after.push(c.args[0]));
      const shared = (helper.getNode('srv') as unknown as { clients: { current?: { inFlight: number } } }).clients.current!;
      await waitFor(() => shared.inFlight === 0, 3000, "the closed node's call to finish");
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(after, [], 'no status from a closed node');
    } finally {
      await helper.unload();
      await server.close();
    }
  });

  it('shows the last error in its status until a call succeeds', async () => {
    await helper.load(nodes, flow(tcp(), { method: '', params: '{}' }));
    const rpc = helper.getNode('rpc');
    const seen: Array<{ fill?: string; shape?: string; text?: string }> = [];
    rpc.on('call:status', (c: { args: Array<{ fill?: string; text?: string }> }) => seen.push(c.args[0]!));
    await call({ method: 'pynebv.test' }, 'caught');
    await waitFor(() => seen.length > 0 && seen[seen.length - 1]!.fill === 'red', 2000, 'a red status');
    assert.deepEqual(seen[seen.length - 1], { fill: 'red', shape: 'ring', text: 'neoEBV refused pynebv.test…' });
    await call({ method: 'MarkList.items' });
    await waitFor(() => seen[seen.length - 1]!.fill === 'green', 2000, 'the status back to connected');
    assert.equal(seen[seen.length - 1]!.text, 'connected');
  });

  it('fails calls in flight with DISCONNECTED when neoEBV drops the socket, then works again', async () => {
    await helper.load(nodes, flow(tcp(), { method: 'MarkList.items', params: '{}' }));
    await call({});
    sim.silent = true;
    const caught = nextMessage<Msg>(helper.getNode('caught'));
    helper.getNode('rpc').receive({});
    await waitFor(() => sim.requestCount === 2, 3000, 'the request to arrive');
    sim.dropConnections();
    const err = (await caught).error!;
    assert.equal(err.code, 'DISCONNECTED');
    assert.match(err.message, /closed with 1 call\(s\) in flight/);
    sim.silent = false;
    assert.deepEqual((await call({})).payload, []);
  });

  it('takes the first reconnect delay from settings.js (nebvServerReconnectTime)', async () => {
    helper.settings({ nebvServerReconnectTime: 20_000 });
    try {
      await helper.load(nodes, flow(tcp(), { method: 'MarkList.items', params: '{}' }));
      const seen: Array<{ text?: string }> = [];
      helper.getNode('rpc').on('call:status', (c: { args: Array<{ text?: string }> }) => seen.push(c.args[0]!));
      await call({});
      sim.dropConnections();
      await waitFor(() => seen.some((s) => /^reconnecting in/.test(s.text ?? '')), 3000, 'a reconnecting status');
      // 20 s less at most 25 % jitter; the default (0.5 s) would say "reconnecting in 1 s".
      assert.match(seen.find((s) => /^reconnecting in/.test(s.text ?? ''))!.text!, /^reconnecting in (1[5-9]|20) s$/);
    } finally {
      helper.settings({});
    }
  });

  it('times out with the node timeout', async () => {
    await helper.load(nodes, flow(tcp(), { method: 'MarkList.items', params: '{}', timeout: '0.2' }));
    sim.silent = true;
    const caught = await call({}, 'caught');
    assert.equal(caught.error!.code, 'TIMEOUT');
    assert.match(caught.error!.message, /no reply within 0\.2 s/);
  });

  it('times out with the server timeout when the node leaves its own empty', async () => {
    await helper.load(nodes, flow({ ...tcp(), timeout: '0.3' }, { method: 'MarkList.items', params: '{}', timeout: '' }));
    await call({});
    sim.silent = true;
    const caught = await call({}, 'caught');
    assert.equal(caught.error!.code, 'TIMEOUT');
    assert.match(caught.error!.message, /no reply within 0\.3 s/);
  });

  it('takes msg.timeout in seconds over the node and server timeouts', async () => {
    await helper.load(nodes, flow(tcp(), { method: 'MarkList.items', params: '{}', timeout: '30' }));
    await call({});
    sim.silent = true;
    const caught = await call({ timeout: 0.25 }, 'caught');
    assert.equal(caught.error!.code, 'TIMEOUT');
    assert.match(caught.error!.message, /no reply within 0\.25 s$/);
  });

  it('refuses a msg.timeout that is not a number of seconds in range, naming it, and sends nothing', async () => {
    await helper.load(nodes, flow(tcp(), { method: 'MarkList.items', params: '{}' }));
    await call({});
    const before = sim.requestCount;
    for (const timeout of [1e12, Number.POSITIVE_INFINITY, Number.NaN, -1, 0, '5', '5000 ms']) {
      const caught = await call({ timeout }, 'caught');
      assert.equal(caught.error!.code, 'BAD_INPUT', String(timeout));
      assert.match(caught.error!.message, /^msg\.timeout must be a number of seconds from 0\.001 to 86400 \(fractions allowed, e\.g\. 2\.5\), not /);
    }
    assert.equal(sim.requestCount, before, 'nothing sent');
  });

  it('refuses a node timeout that is not a number of seconds, with the reason', async () => {
    await helper.load(nodes, flow(tcp(), { method: 'MarkList.items', params: '{}', timeout: '5000 ms' }));
    const caught = await call({}, 'caught');
    assert.match(caught.error!.message, /^the timeout of the node must be a number of seconds/);
    assert.equal(sim.requestCount, 0);
  });

  it('refuses a server timeout that is not a number of seconds, with the reason on its rpc nodes', async () => {
    await helper.load(nodes, flow({ ...tcp(), timeout: '1e12' }, { method: 'MarkList.items', params: '{}' }));
    const caught = await call({}, 'caught');
    assert.match(caught.error!.message, /^the neoEBV server timeout must be a number of seconds from 0\.001 to 86400/);
    assert.equal(sim.requestCount, 0);
  });

  it('connects over a Unix socket and over a port range', async () => {
    const socketPath = path.join(os.tmpdir(), `nebv-node-${process.pid}-${Date.now()}.sock`);
    const unixSim = await NebvSimulator.start({ unixPath: socketPath });
    try {
      await helper.load(nodes, flow({ transport: 'unix', path: socketPath, port: '' }));
      assert.equal((await call({})).payload && unixSim.files.size, 1);
    } finally {
      await helper.unload();
      await unixSim.close();
    }
    const base = await freePortBlock(3);
    const rangeSim = await NebvSimulator.start({ portRange: [base, base + 2], portIndex: 1 });
    try {
      await helper.load(nodes, flow({ port: `${base}-${base + 2}` }));
      assert.equal(((await call({})).payload as { klass: string }).klass, 'File');
      assert.equal(rangeSim.files.size, 1);
    } finally {
      await helper.unload();
      await rangeSim.close();
    }
  });

  it('reports a missing server or a bad address to the Catch node', async () => {
    await helper.load(nodes, flow(tcp(), { server: 'nope' }));
    assert.equal(
      (await call({}, 'caught')).error!.message,
      'the chosen nebv-server configuration (nope) is missing or disabled: open the node and choose another',
    );
    await helper.unload();
    await helper.load(nodes, flow({ port: '70000' }));
    assert.match((await call({}, 'caught')).error!.message, /ports must be whole numbers from 1 to 65535/);
  });

  it('applies the server options: newline after each request, maximum reply size', async () => {
    const server = await rawServer((socket, chunk) => {
      for (const r of requestsIn(chunk))
        socket.write(JSON.stringify({ jsonrpc: '2.0', id: r.id, result: { blob: 'x'.repeat(r.method.endsWith('big') ? 4000 : 10) } }));
    });
    try {
      await helper.load(nodes, flow({ port: String(server.port), newline: true, maxReply: 2 }, { method: 'Test.small', params: '{}' }));
      assert.deepEqual((await call({})).payload, { blob: 'x'.repeat(10) });
      assert.match(Buffer.concat(server.received).toString(), /^\{"jsonrpc":"2\.0","method":"pynebv\.Test\.small","id":1,"params":\{\}\}\n$/);
      const dialogWins = await call({ method: 'Test.big' });
      assert.deepEqual(dialogWins.payload, { blob: 'x'.repeat(10) }, 'the dialog method wins over msg.method');
    } finally {
      await helper.unload();
    }
    try {
      await helper.load(nodes, flow({ port: String(server.port), maxReply: 2 }, { method: 'Test.big', params: '{}' }));
      const caught = await call({}, 'caught');
      assert.equal(caught.error!.code, 'TOO_LARGE');
      assert.match(caught.error!.message, /exceeded the 2048-byte limit/);
    } finally {
      await helper.unload();
      await server.close();
    }
  });

  it('refuses a Unix transport without a socket path', async () => {
    await helper.load(nodes, flow({ transport: 'unix', path: ' ' }));
    assert.match((await call({}, 'caught')).error!.message, /a Unix socket path is required/);
  });

  it('shares one connection between rpc nodes and leaves nothing behind across redeploys', async () => {
    const twoNodes = (): Flow => {
      const f = flow(tcp(), { method: 'MarkList.items', params: '{}' });
      f.push({ id: 'rpc2', type: 'nebv-rpc', z: 'f1', server: 'srv', method: 'MarkList.items', params: '{}', paramsFrom: 'field', wires: [['out']] });
      return f;
    };
    const handles = (): number => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    let baseline = -1;
    for (let round = 0; round < 4; round += 1) {
      await helper.load(nodes, twoNodes());
      await call({});
      helper.getNode('rpc2').receive({});
      await nextMessage(helper.getNode('out'));
      assert.equal(sim.connectionCount, 1, `round ${round}: one shared connection`);
      await helper.unload();
      await waitFor(() => sim.connectionCount === 0, 3000, 'the connection to close on redeploy');
      if (round === 0) {
        await new Promise((r) => setTimeout(r, 50));
        baseline = handles();
      } else {
        // Sockets finish closing asynchronously; a leak would keep the count above the first round's for good.
        await waitFor(() => handles() <= baseline, 3000, `round ${round}: active handles back to ${baseline}`);
      }
    }
  });

  it('reports NOT_CONNECTED to the Catch node at once when neoEBV is not running, naming the address once', async () => {
    const port = await freePortBlock(1);
    // A 60 s timeout: waiting it out, as before, would fail this test.
    await helper.load(nodes, flow({ port: String(port), timeout: 60 }, { method: 'MarkList.items', params: '{}' }));
    const caught = await call({}, 'caught');
    assert.equal(caught.error!.code, 'NOT_CONNECTED');
    assert.match(
      caught.error!.message,
      new RegExp(`^pynebv\\.MarkList\\.items was not sent, neoEBV is not connected: 127\\.0\\.0\\.1:${port}: connection refused`),
    );
    assert.equal(caught.error!.message.split(String(port)).length, 2, 'the address once');
  });

  describe('a reply nested thousands deep', () => {
    /** The rpc node's result output wired to two nodes (Node-RED then clones the msg) besides the Catch node. */
    function twoOutputs(): Flow {
      const f = flow(tcp(), { method: 'MarkList.items', params: '{}', wires: [['out', 'out2']] });
      f.push({ id: 'out2', type: 'helper', z: 'f1' });
      return f;
    }

    it('reaches the Catch node as a clear error, and the next call works', async () => {
      await helper.load(nodes, twoOutputs());
      sim.rawReply = ({ id }) => {
        sim.rawReply = undefined;
        return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${'['.repeat(2500)}${']'.repeat(2500)}}`;
      };
      const caught = await call({}, 'caught');
      assert.equal(caught.error!.code, 'TOO_LARGE');
      assert.match(caught.error!.message, /nested more than 64 levels deep/);
      const both = Promise.all([nextMessage<Msg>(helper.getNode('out')), nextMessage<Msg>(helper.getNode('out2'))]);
      helper.getNode('rpc').receive({});
      assert.deepEqual(
        (await both).map((m) => m.payload),
        [[], []],
      );
    });

    it('with an id no call waits for: a short warning, no crash', async () => {
      await helper.load(nodes, twoOutputs());
      const warnings: string[] = [];
      helper.getNode('srv').on('call:warn', (c: { args: unknown[] }) => warnings.push(String(c.args[0])));
      await call({});
      sim.writeRaw(`{"jsonrpc":"2.0","id":424242,"result":${'{"a":'.repeat(6000)}1${'}'.repeat(6000)}}`);
      await waitFor(() => warnings.length > 0, 3000, 'a warning');
      assert.match(warnings[0]!, /nested more than 64 levels deep/);
      await waitFor(() => sim.connectionCount === 1, 3000, 'the reconnect');
      assert.deepEqual((await call({})).payload, []);
      // A foreign id within the limits is warned about (cut short: see describeReply) and the node goes on.
      sim.writeRaw(`{"jsonrpc":"2.0","id":515151,"result":{"blob":"${'x'.repeat(100_000)}"}}`);
      await waitFor(() => warnings.length > 1, 3000, 'a second warning');
      assert.deepEqual((await call({})).payload, []);
    });
  });
});
