import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { loadSimulators } from '../../src/simulators';
import { SimulatorOptions, SocketSet, closeServer, listen } from '../../src/simulators/simulator-kit';
import { waitFor } from '../helpers/wait-for';

describe('the simulator kit', function () {
  describe('listen and closeServer', function () {
    it('resolve with the bound port, and a taken port rejects instead of throwing an unhandled error', async function () {
      const first = net.createServer();
      const port = await listen(first, { host: '127.0.0.1', port: 0 });
      assert.ok(port > 0);
      const second = net.createServer();
      await assert.rejects(listen(second, { host: '127.0.0.1', port }), /EADDRINUSE/);
      await closeServer(first);
      await closeServer(second); // never listened: resolves all the same
      await closeServer(undefined);
    });

    it('every simulator refuses to start on a taken port with the reason, and the process lives on', async function () {
      const blocker = net.createServer();
      const port = await listen(blocker, { host: '127.0.0.1', port: 0 });
      try {
        for (const definition of loadSimulators().filter((s) => s.name !== 'propeller-chip')) {
          await assert.rejects(
            definition.start({ port, options: definition.name === 'nebv' ? { 'no-unix': true } : {} }),
            /EADDRINUSE/,
            `${definition.name} on a taken port`,
          );
        }
        // The embedded MQTT broker of the Semi-ATE tester had no error handler on its own port.
        const semiate = loadSimulators().find((s) => s.name === 'semiate')!;
        await assert.rejects(semiate.start({ options: { 'mqtt-port': String(port) } }), /EADDRINUSE/);
      } finally {
        await closeServer(blocker);
      }
    });
  });

  describe('SocketSet', function () {
    it('counts what a server accepted, survives a client that resets, and drops the rest at once', async function () {
      const sockets = new SocketSet();
      const server = net.createServer();
      sockets.watch(server);
      const port = await listen(server, { host: '127.0.0.1', port: 0 });
      const clients = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
      await Promise.all(clients.map((c) => once(c, 'connect')));
      await waitFor(() => sockets.size === 3, 2000, 'three accepted connections');
      clients[0]!.resetAndDestroy();
      await waitFor(() => sockets.size === 2, 2000, 'the reset connection to be forgotten');
      const kept = clients[1]!.localPort;
      const closed = once(clients[2]!, 'close');
      sockets.destroyAll((socket) => socket.remotePort === kept);
      assert.equal(sockets.size, 1, 'the one kept');
      await closed;
      sockets.destroyAll();
      assert.equal(sockets.size, 0);
      for (const c of clients) c.destroy();
      await closeServer(server);
    });
  });

  describe('SimulatorOptions', function () {
    const of = (options: Record<string, string | boolean>): SimulatorOptions => new SimulatorOptions({ options });

    it('reads texts, numbers, choices, switches and lists', function () {
      const opts = of({ name: 'x', n: '5', mode: 'b', on: true, off: 'false', 'no-gone': true, list: 'a, b,,c' });
      assert.equal(opts.text('name'), 'x');
      assert.equal(opts.text('absent'), undefined);
      assert.equal(opts.number('n', { integer: true, min: 1, max: 9 }), 5);
      assert.equal(opts.choice('mode', ['a', 'b'] as const), 'b');
      assert.deepEqual([opts.flag('on'), opts.flag('off'), opts.flag('gone'), opts.flag('absent')], [true, false, false, undefined]);
      assert.deepEqual(opts.list('list'), ['a', 'b', 'c']);
      assert.deepEqual(new SimulatorOptions({ host: 'h', port: 1, options: {} }).common, { host: 'h', port: 1, log: undefined });
    });

    it('refuses a bad value, naming the option, what it wants and what it got', function () {
      assert.throws(() => of({ n: 'abc' }).number('n'), /^Error: --n must be a number, not "abc"$/);
      assert.equal(of({ n: '' }).number('n'), undefined, 'an empty value is no value');
      assert.throws(() => of({ n: '0' }).number('n', { above: 0, what: 'a time in ms' }), /--n must be a time in ms greater than 0, not "0"/);
      assert.throws(() => of({ n: '17' }).number('n', { integer: true, min: 1, max: 16 }), /--n must be a whole number from 1 to 16, not "17"/);
      assert.throws(() => of({ n: '1.5' }).number('n', { integer: true }), /--n must be a whole number, not "1.5"/);
      assert.throws(() => of({ mode: 'c' }).choice('mode', ['a', 'b'] as const), /--mode must be a or b, not "c"/);
      assert.throws(() => of({ mode: 'd' }).choice('mode', ['a', 'b', 'c'] as const), /--mode must be one of a, b, c, not "d"/);
      assert.throws(() => of({ name: true }).text('name'), /--name needs a value/);
      assert.throws(() => of({ on: 'maybe' }).flag('on'), /--on is a switch/);
    });

    it('a simulator refuses a number it cannot use instead of running on NaN', async function () {
      const sfdaq = loadSimulators().find((s) => s.name === 'sfdaq')!;
      await assert.rejects(sfdaq.start({ options: { 'pedestal-ms': 'soon' } }), /--pedestal-ms must be a time in ms of at least 0, not "soon"/);
      const chips = loadSimulators().find((s) => s.name === 'propeller-chip')!;
      await assert.rejects(chips.start({ options: { chips: '40' } }), /--chips must be a whole number from 1 to 16, not "40"/);
    });
  });
});
