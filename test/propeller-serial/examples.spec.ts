import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startPropellerChips, type RunningPropellerChips } from '../../src/simulators/propeller-chip';
import { coreNode as core, exampleFlow, examplesOf, ownDemoFile } from '../helpers/examples';
import { collect, helper, nextMessage, waitFor } from '../helpers/red';
import serialNode = require('../../src/nodes/propeller-serial');
import imageNode = require('../../src/nodes/propeller-image');
import loadNode = require('../../src/nodes/propeller-load');
import terminalNode = require('../../src/nodes/propeller-terminal');

const modules = [
  serialNode,
  imageNode,
  loadNode,
  terminalNode,
  core('common/20-inject.js'),
  core('common/90-comment.js'),
  core('function/10-function.js'),
  core('storage/10-file.js'),
] as never[];

type Msg = Record<string, unknown> & { payload?: unknown; topic?: unknown; error?: { message: string } };

describe('propeller serial example flows', function () {
  this.timeout(20_000);
  // 1x are the direct-serial examples; 0x belong to the Launcher.
  const examples = examplesOf('Propeller', (e) => e.title.startsWith('1'));
  let running: RunningPropellerChips;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    running = await startPropellerChips({ options: { 'print-interval': '50' } });
  });
  afterEach(async () => {
    await helper.unload();
    await running.close();
  });

  /** As `npm start` deploys it: config nodes pointed at the fake chips; debug nodes replaced by helpers. */
  async function load(title: string): Promise<void> {
    await helper.load(modules, exampleFlow(examples, title, running) as never);
  }

  it('uses every serial node type, and both examples talk to one board through one shared config node', () => {
    const types = new Set(examples.flatMap((e) => e.nodes.map((n) => n.type)));
    for (const type of ['propeller-serial', 'propeller-image', 'propeller-load', 'propeller-terminal']) assert.ok(types.has(type), type);
    assert.equal(examples.length, 2);
    const ports = examples
      .flatMap((e) => e.nodes.filter((n) => n.type === 'propeller-serial'))
      .map((n) => {
        const copy = { ...n };
        running.configure(copy as never);
        return copy.port;
      });
    assert.equal(ports.length, 2);
    assert.equal(new Set(ports).size, 1, 'one board on one port');
    const ids = examples.flatMap((e) => e.nodes.filter((n) => n.type === 'propeller-serial').map((n) => n.id));
    assert.deepEqual([...new Set(ids)], ['labwire-propeller-serial']);
  });

  it('10: checks the image, loads it into RAM over serial, and logs the running program', async () => {
    await load('10 - Load over serial, then log the terminal');
    const lines = collect<Msg>(helper.getNode('ex10-lines'));
    const facts = await nextMessage<Msg>(helper.getNode('ex10-facts'), 8000, 'the image facts');
    assert.deepEqual((facts.image as { clockModeText: string; size: number }).clockModeText, 'XTAL1 + PLL16X');
    const result = await nextMessage<Msg>(helper.getNode('ex10-result'), 8000, 'the load result');
    const payload = result.payload as { success: boolean; action: string; port: string };
    assert.deepEqual([payload.success, payload.action, payload.port], [true, 'RAM', running.boards[0].hostPath]);
    await waitFor(() => lines.some((m) => m.payload === 'tick 2'), 5000, 'printed lines');
    assert.equal(lines[0].payload, 'Propeller running: 8 longs loaded, clock 80000000 Hz');
    helper.getNode('ex10-hello').receive({});
    await waitFor(() => lines.some((m) => m.payload === 'echo: hello'), 5000, 'the echo of hello');
    assert.equal(running.boards[0].chip.loads.length, 1);
  });

  it('11: programs the EEPROM from the file and reports the verification; a damaged file reaches the Catch node', async () => {
    const file = ownDemoFile('/tmp/labwire-propeller-serial-demo.binary');
    fs.rmSync(file, { force: true });
    await load('11 - Program the EEPROM from a file with verification');
    await waitFor(() => fs.existsSync(file) && fs.statSync(file).size === 32, 5000, 'the demo program file');
    const board = running.boards[0];
    let verdict = nextMessage<Msg>(helper.getNode('ex11-verdict'), 8000, 'the verdict');
    helper.getNode('ex11-program').receive({});
    const first = await verdict;
    assert.equal(first.topic, 'EEPROM programmed and verified');
    assert.deepEqual([(first.payload as { programmed: boolean }).programmed, (first.payload as { verified: boolean }).verified], [true, true]);
    assert.deepEqual(board.chip.chip.eeprom.subarray(0, 32), fs.readFileSync(file));

    board.chip.fault = 'eeprom-verify';
    const failed = nextMessage<Msg>(helper.getNode('ex11-failed'), 8000, 'the caught load error');
    helper.getNode('ex11-program').receive({});
    assert.match((await failed).error!.message, /EEPROM verify failed/);

    board.chip.fault = 'none';
    const damaged = fs.readFileSync(file);
    damaged[20] ^= 0xff;
    fs.writeFileSync(file, damaged);
    const refused = nextMessage<Msg>(helper.getNode('ex11-failed'), 8000, 'the caught image error');
    const loadsBefore = board.chip.loads.length;
    helper.getNode('ex11-program').receive({});
    assert.match((await refused).error!.message, /rule "checksum"/);
    assert.equal(board.chip.loads.length, loadsBefore, 'nothing was sent to the chip');
    verdict = nextMessage<Msg>(helper.getNode('ex11-verdict'), 300, 'no verdict');
    await assert.rejects(verdict, /timed out/);
    fs.rmSync(file, { force: true });
  });
});
