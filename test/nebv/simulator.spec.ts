import assert from 'node:assert/strict';
import net from 'node:net';
import type { NebvClient } from '../../src/protocols/nebv/client';
import { NebvSimulator, simulator } from '../../src/simulators/nebv';
import { quickClient, rejectionOf } from './fixtures';
import { waitFor } from '../helpers/wait-for';

type Item = { key: string; klass: string; props: Record<string, string>; attrs: Record<string, unknown> };

describe('nebv simulator', function () {
  let sim: NebvSimulator;
  let client: NebvClient;

  beforeEach(async () => {
    sim = await NebvSimulator.start({ seed: 11 });
    client = quickClient(`127.0.0.1:${sim.port}`);
  });
  afterEach(async () => {
    await client.close();
    await sim.close();
  });

  it('answers an unknown method exactly as the spec shows: -32601 with the id as a string', async () => {
    const socket = net.connect(sim.port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.write('{"jsonrpc":"2.0","method":"pynebv.test","id":1001,"params":{"filePath":"/path/to/sample.oas"}}');
    await waitFor(() => text.endsWith('}'), 3000, 'the whole reply');
    socket.destroy();
    assert.equal(text, '{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1001"}');
  });

  it('cuts replies into chunks that split replies and join several in one write', async () => {
    const socket = net.connect(sim.port, '127.0.0.1');
    const chunks: string[] = [];
    socket.on('data', (chunk) => chunks.push(chunk.toString('latin1')));
    await new Promise((r) => socket.once('connect', r));
    socket.write(Array.from({ length: 40 }, (_, id) => JSON.stringify({ jsonrpc: '2.0', method: 'pynebv.MarkList.items', id, params: {} })).join(''));
    const whole = (): string => chunks.join('');
    await waitFor(() => (whole().match(/"result"/g) ?? []).length >= 40, 5000, 'forty replies');
    socket.destroy();
    const replies = (text: string): number => (text.match(/\{"jsonrpc"/g) ?? []).length;
    assert.ok(
      chunks.some((c) => !c.endsWith('}')),
      'some chunk ends inside a reply',
    );
    assert.ok(
      chunks.some((c) => replies(c) >= 2),
      'some chunk carries the starts of two or more replies',
    );
    assert.equal(whole(), Array.from({ length: 40 }, (_, id) => `{"jsonrpc":"2.0","id":${id},"result":[]}`).join(''));
  });

  it('opens a file and adds a mark in the shapes of the spec examples', async () => {
    const file = (await client.call('pynebv.FileList.open', { filePath: '/path/to/sample.oas', opts: { chipline: 'false' } })) as Item;
    assert.equal(file.key, 'sample.oas@1');
    assert.equal(file.klass, 'File');
    assert.equal(file.props['File/Display Name'], 'sample');
    assert.deepEqual(file.attrs.area, [-88.9, -114.3, 4770.12, 4693.92]);
    const mark = (await client.call('pynebv.MarkList.add', { point: [10, 0] })) as Item;
    assert.deepEqual(mark.props, { Color: '80000000', Location: '10.0,0.0', Name: 'Mark 1', Shape: 'Dot' });
    assert.equal(mark.key, 'Marks@1|Mark 1@1');
    assert.deepEqual(mark.attrs.pos, [10, 0]);
  });

  it('resolves item methods through the class hierarchy', async () => {
    const mark = (await client.call('MarkList.add', { point: [1.5, 2] })) as Item;
    for (const klass of ['Mark', 'MarkListItem', 'EbvItem']) {
      assert.deepEqual(await client.call(`${klass}.props`, { item: mark }), mark.props, klass);
    }
    const jobdeck = (await client.call('FileList.open', { filePath: '/decks/wafer.jdc' })) as Item;
    assert.equal(jobdeck.klass, 'Jobdeck');
    assert.deepEqual(await client.call('Jobdeck.layer', { item: jobdeck }), { layers: ['1/0', '2/0', '10/0'], current: '1/0' });
    const file = (await client.call('FileList.open', { filePath: '/a/b.gds' })) as Item;
    const refusals: Array<[string, Record<string, unknown>, number]> = [
      ['File.props', { item: mark }, -32602],
      ['Jobdeck.layer', { item: file }, -32602],
      ['Jobdeck.close', { item: file }, -32602],
      ['EbvListSection.items', {}, -32601],
      ['File.layer', { item: jobdeck }, -32601],
      ['MarkList.add', { point: [1] }, -32602],
      ['FileList.open', { filePath: '/a/readme.txt' }, -32000],
      ['FileList.open', { filePath: '/a/missing.oas' }, -32000],
    ];
    for (const [method, params, code] of refusals) assert.equal((await rejectionOf(client.call(method, params))).rpcCode, code, method);
    assert.deepEqual(await client.call('File.close', { item: jobdeck }), {});
    assert.deepEqual(await client.call('Mark.delete', { item: mark }), {});
    assert.equal((await rejectionOf(client.call('EbvItem.props', { item: mark }))).rpcCode, -32000);
    assert.deepEqual(
      ((await client.call('FileList.items')) as Item[]).map((f) => f.key),
      ['b.gds@1'],
    );
  });

  it('quits: replies, then drops the connection and forgets its state', async () => {
    await client.call('MarkList.add', { point: [0, 0] });
    const quit = Promise.all([new Promise((resolve) => sim.once('quit', resolve)), new Promise((resolve) => client.once('disconnected', resolve))]);
    assert.deepEqual(await client.call('pynebv.quit', { exitCode: '1' }), {});
    await quit;
    assert.deepEqual(await client.call('MarkList.items'), []);
  });

  it('points an example nebv-server config node at itself', async () => {
    const running = await simulator.start({ options: { 'no-unix': true } });
    try {
      const node: Record<string, unknown> & { id: string; type: string } = { id: 'c', type: 'nebv-server', transport: 'unix', host: 'x', port: '1' };
      assert.deepEqual(running.configure(node), {});
      assert.equal(node.transport, 'tcp');
      assert.equal(node.host, '127.0.0.1');
      assert.match(String(node.port), /^\d+$/);
      assert.equal(running.configure({ id: 'o', type: 'other' }), undefined);
      assert.equal(running.endpoints.length, 1);
    } finally {
      await running.close();
    }
  });
});
