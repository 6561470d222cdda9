import { helper } from '../helpers/red';
import { makeBinary } from '../propeller-serial/image-fixtures';
import { createPtyPair, type PtyPair } from '../../src/simulators/pty-pair';
import { HostileChip } from './hostile-chip';
import { fuzzFlow, hostileMsgValues, propellerTargets, runFuzz } from './flow-harness';
import { FUZZ_LARGE, FUZZ_VERBOSE, fuzzBudgetMs, fuzzCount, fuzzSeed, random } from './kit';
import serialNode = require('../../src/nodes/propeller-serial');
import loadNode = require('../../src/nodes/propeller-load');
import terminalNode = require('../../src/nodes/propeller-terminal');

const nodes = [serialNode, loadNode, terminalNode] as never[];

describe('propeller fuzz: a hostile board on a serial port through a real Node-RED', function () {
  const seed = fuzzSeed(0x5e71);
  const loads = fuzzCount(6, 200);
  const writes = fuzzCount(30, 2000);
  const huge = FUZZ_LARGE ? 8 * 1024 * 1024 : 1024 * 1024;
  this.timeout(FUZZ_LARGE ? 1_800_000 : 90_000);
  let pair: PtyPair | undefined;
  let chip: HostileChip | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    chip?.close();
    await pair?.close();
  });

  it(`seed ${seed}: loads and terminal writes each end with a result or a clear error; Node-RED stays responsive and bounded`, async () => {
    const r = random(seed);
    pair = await createPtyPair();
    chip = new HostileChip(pair.chip, r, huge);
    await helper.load(
      nodes,
      fuzzFlow(
        { id: 'serial', type: 'propeller-serial', port: pair.hostPath, baudRate: 115200, resetMode: 'none' },
        propellerTargets('serial', 'serial', '', 'term'),
      ),
    );
    const report = await runFuzz(
      async (send) => {
        const started = Date.now();
        const budgetMs = fuzzBudgetMs(30, 900);
        for (let i = 0; i < Math.max(loads, writes) && Date.now() - started < budgetMs; i++) {
          if (i < loads)
            send('fz-load', {
              payload: r() < 0.85 ? makeBinary(16 + 4 * r.int(400)) : hostileMsgValues(r.pick, r.int),
              action: r.pick(['RAM', 'EEPROM']),
            });
          if (i < writes) send('fz-term', { payload: hostileMsgValues(r.pick, r.int) });
          await new Promise((resolve) => setTimeout(resolve, r.int(300)));
        }
      },
      { endWithinMs: FUZZ_LARGE ? 900_000 : 60_000, memoryLimitBytes: (FUZZ_LARGE ? 128 : 64) * 1024 * 1024 },
    );
    if (FUZZ_VERBOSE) console.log({ ...report, chipSentBytes: chip.sent });
  });
});
