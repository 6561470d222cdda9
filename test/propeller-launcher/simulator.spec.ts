import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import { LauncherSimulator, simulator } from '../../src/simulators/launcher';
import { waitFor } from '../helpers/wait-for';

describe('the Launcher simulator', function () {
  let sim: LauncherSimulator;
  let socket: WebSocket | undefined;
  afterEach(async function () {
    socket?.terminate();
    socket = undefined;
    await sim?.close();
  });

  async function connect(): Promise<{ socket: WebSocket; messages: Array<Record<string, unknown>> }> {
    const ws = new WebSocket(sim.url);
    socket = ws;
    const messages: Array<Record<string, unknown>> = [];
    ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
    await once(ws, 'open');
    return { socket: ws, messages };
  }

  it('numbers terminal packets per client, so two flows on one simulator see no gaps', async function () {
    sim = await LauncherSimulator.start({ printIntervalMs: 20 });
    const first = await connect();
    const second = await connect();
    for (const { socket: ws } of [first, second]) {
      ws.send(JSON.stringify({ type: 'hello-browser' }));
      ws.send(JSON.stringify({ type: 'serial-terminal', action: 'open', portPath: 'COM3', baudrate: 115200 }));
    }
    const ids = (messages: Array<Record<string, unknown>>): number[] =>
      messages.filter((m) => typeof m.packetID === 'number').map((m) => m.packetID as number);
    await waitFor(() => ids(first.messages).length >= 4 && ids(second.messages).length >= 4, 3000, 'four packets on each terminal');
    for (const { messages } of [first, second]) {
      const seen = ids(messages).slice(0, 4);
      assert.deepEqual(seen, [0, 1, 2, 3]);
    }
    first.socket.terminate();
  });

  it('never answers a ping, as the real Launcher', async function () {
    sim = await LauncherSimulator.start();
    const { socket: ws } = await connect();
    let pongs = 0;
    ws.on('pong', () => (pongs += 1));
    ws.ping();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(pongs, 0);
    assert.equal(sim.pingsReceived, 1);
  });

  it('answers each port-list-request at once and starts one more repeating timer, as the Launcher does', async function () {
    sim = await LauncherSimulator.start({ portListIntervalMs: 3_600_000 });
    const { socket: ws, messages } = await connect();
    ws.send(JSON.stringify({ type: 'hello-browser' }));
    ws.send(JSON.stringify({ type: 'port-list-request' }));
    ws.send(JSON.stringify({ type: 'port-list-request' }));
    ws.send(JSON.stringify({ type: 'pref-port', portPath: 'COM3' }));
    await waitFor(() => messages.length >= 4, 3000, 'three port lists after the hello');
    assert.deepEqual(messages.slice(1), Array(3).fill({ type: 'port-list', ports: ['COM3', 'wx-1a2b3c'] }));
    assert.equal(sim.portListTimers, 2);
    ws.terminate();
    await waitFor(() => sim.connectionCount === 0, 3000, 'the simulator to see the socket go');
    assert.equal(sim.portListTimers, 0);
  });

  it('pauses port lists during a load and resumes them when the loading client goes away', async function () {
    sim = await LauncherSimulator.start({ stepMs: 60_000 });
    const first = await connect();
    first.socket.send(JSON.stringify({ type: 'load-prop', action: 'RAM', portPath: 'COM3', payload: 'AAAA', debug: 'none' }));
    await waitFor(() => sim.loads.length > 0, 3000, 'the load to arrive');
    first.socket.terminate();
    await waitFor(() => sim.connectionCount === 0, 3000, 'the simulator to see the socket go');
    const second = await connect();
    second.socket.send(JSON.stringify({ type: 'port-list-request' }));
    await waitFor(() => second.messages.length > 0, 3000, 'the port list');
    assert.deepEqual(second.messages[0], { type: 'port-list', ports: ['COM3', 'wx-1a2b3c'] });
  });

  it("says hello with only the version, as today's Launcher", async function () {
    sim = await LauncherSimulator.start();
    const { socket: ws, messages } = await connect();
    ws.send(JSON.stringify({ type: 'hello-browser' }));
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(messages, [{ type: 'hello-client', version: '1.0.7' }]);
  });

  it('points an example propeller-launcher config node at itself via labwire-sim', async function () {
    const running = await simulator.start({ options: { version: '1.0.4', ports: 'COM1,COM2', api: '2', b64: true } });
    try {
      const node: { id: string; type: string; url?: unknown } = { id: 'x', type: 'propeller-launcher', url: 'ws://localhost:6009' };
      assert.deepEqual(running.configure(node), {});
      assert.match(String(node.url), /^ws:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(running.configure({ id: 'y', type: 'propeller-serial' }), undefined);
      const ws = new WebSocket(String(node.url));
      const got: Array<Record<string, unknown>> = [];
      ws.on('message', (d) => got.push(JSON.parse(d.toString()) as Record<string, unknown>));
      await once(ws, 'open');
      ws.send(JSON.stringify({ type: 'hello-browser' }));
      ws.send(JSON.stringify({ type: 'port-list-request' }));
      await new Promise((r) => setTimeout(r, 100));
      ws.terminate();
      assert.deepEqual(got, [
        { type: 'hello-client', version: '1.0.4', api: '2', b64Msg: 'true' },
        { type: 'port-list', ports: ['COM1', 'COM2'] },
      ]);
    } finally {
      await running.close();
    }
    sim = await LauncherSimulator.start();
  });
});
