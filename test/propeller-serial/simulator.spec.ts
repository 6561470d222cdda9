import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerialPropellerConnection } from '../../src/protocols/propeller/serial-connection';
import { loadSimulators } from '../../src/simulators';
import { simulator, type RunningPropellerChips } from '../../src/simulators/propeller-chip';
import { makeBinary } from './image-fixtures';

describe('labwire-sim propeller-chip', function () {
  this.timeout(20_000);

  it('is discovered by labwire-sim', () => {
    assert.ok(loadSimulators().some((s) => s.name === 'propeller-chip'));
  });

  it('gives each propeller-serial config node a board of its own, with reset none, and leaves other nodes alone', async () => {
    const running = (await simulator.start({ options: { chips: '2' } })) as RunningPropellerChips;
    try {
      assert.equal(running.endpoints.length, 2);
      const a = { id: 'a', type: 'propeller-serial', port: '/dev/ttyUSB0', resetMode: 'dtr' };
      const b = { id: 'b', type: 'propeller-serial', port: '/dev/ttyUSB0', resetMode: 'dtr' };
      const again: { id: string; type: string; port?: unknown } = { id: 'a', type: 'propeller-serial' };
      assert.deepEqual(running.configure(a), {});
      running.configure(b);
      running.configure(again);
      assert.deepEqual([a.port, b.port, again.port], [running.boards[0].hostPath, running.boards[1].hostPath, running.boards[0].hostPath]);
      assert.equal(a.resetMode, 'none');
      assert.equal(running.configure({ id: 'l', type: 'propeller-launcher' }), undefined);
    } finally {
      await running.close();
    }
  });

  it('applies --fault to its boards, refuses an unknown fault, and makes a --link path that loads', async () => {
    await assert.rejects(simulator.start({ options: { fault: 'gremlins' } }), /--fault must be one of/);
    const link = path.join(os.tmpdir(), `propeller-link-${process.pid}`);
    const running = (await simulator.start({ options: { chips: '1', link } })) as RunningPropellerChips;
    const hostPath = running.boards[0].hostPath;
    try {
      assert.equal(hostPath, link);
      const connection = new SerialPropellerConnection({ path: link, baudRate: 115200, resetMode: 'none' });
      const result = await connection.load({ image: makeBinary(64), action: 'RAM', debug: 'none' });
      await connection.close();
      assert.equal(result.success, true, result.error);
    } finally {
      await running.close();
    }
    assert.equal(fs.existsSync(link), false, 'the --link path is removed when the simulator stops');

    const faulty = (await simulator.start({ options: { chips: '1', fault: 'bad-checksum' } })) as RunningPropellerChips;
    try {
      const connection = new SerialPropellerConnection({ path: faulty.boards[0].hostPath, baudRate: 115200, resetMode: 'none' });
      const result = await connection.load({ image: makeBinary(64), action: 'RAM', debug: 'none' });
      await connection.close();
      assert.equal(result.errorId, 125);
    } finally {
      await faulty.close();
    }
  });
});
