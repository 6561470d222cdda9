import assert from 'node:assert/strict';
import os from 'node:os';
import { FakeChipBench } from '../../src/simulators/propeller-chip';
import { helper, testConnection } from '../helpers/red';
import serialNode = require('../../src/nodes/propeller-serial');

/** The dialog's values as the editor sends them: text inputs are strings. */
function dialog(port: string): Record<string, unknown> {
  return { name: '', port, baudRate: '115200', resetMode: 'dtr' };
}

describe('propeller-serial "Test connection" (fake chip on a pseudo-terminal)', function () {
  this.timeout(20_000);
  let bench: FakeChipBench;

  before(async () => {
    await helper.startServer();
    bench = await FakeChipBench.start({ printIntervalMs: 50 });
  });
  after(async () => {
    await bench.close();
    await helper.stopServer();
  });
  beforeEach(() =>
    helper.load([serialNode] as never[], [{ id: 'serial', type: 'propeller-serial', port: bench.hostPath, baudRate: 115200, resetMode: 'none' }]),
  );
  afterEach(() => helper.unload());

  it('finds the port without opening it (opening would reset the board)', async function () {
    const answer = await testConnection('propeller-serial', dialog(bench.hostPath), {}, 'serial');
    assert.deepEqual(answer, { ok: true, message: `${bench.hostPath} exists (not opened, so the board was not reset)` });
    assert.equal(bench.chip.loads.length, 0, 'nothing reached the chip');
  });

  it('says a missing port does not exist', async function () {
    const missing = `/dev/ttyLABWIRE-missing-${process.pid}`;
    const answer = await testConnection('propeller-serial', dialog(missing), {}, 'serial');
    assert.equal(answer.ok, false);
    assert.match(answer.message, new RegExp(`^${missing} does not exist; is the board plugged in\\? \\(`));
  });

  it('refuses a directory and an empty path', async function () {
    const directory = await testConnection('propeller-serial', dialog(os.tmpdir()), {}, 'serial');
    assert.deepEqual(directory, { ok: false, message: `${os.tmpdir()} exists but is a directory; choose the serial port itself, e.g. /dev/ttyUSB0` });
    const empty = await testConnection('propeller-serial', dialog('  '), {}, 'serial');
    assert.equal(empty.ok, false);
    assert.match(empty.message, /^no port set/);
  });
});
