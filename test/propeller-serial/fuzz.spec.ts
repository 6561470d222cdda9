import { createPtyPair, type PtyPair } from '../../src/simulators/pty-pair';
import { describeVitals, fuzzRandom, fuzzScale } from '../helpers/fuzz';
import { helper } from '../helpers/red';
import { fuzzFlow, hostileMsgValues, propellerTargets, runFuzz } from '../propeller-fuzz/flow-harness';
import { HostileChip } from '../propeller-fuzz/hostile-chip';
import { makeBinary } from './image-fixtures';
import serialNode = require('../../src/nodes/propeller-serial');
import loadNode = require('../../src/nodes/propeller-load');
import terminalNode = require('../../src/nodes/propeller-terminal');

const nodes = [serialNode, loadNode, terminalNode] as never[];

describe('propeller fuzz: a hostile board on a serial port through a real Node-RED', function () {
  const scale = fuzzScale({ runs: 6, timeLimitMs: 30_000 }, { runs: 200, timeLimitMs: 900_000 }, 0x5e71);
  const seed = scale.seed;
  const loads = scale.runs;
  const writes = scale.scaled(30, 2000);
  const huge = scale.large ? 8 * 1024 * 1024 : 1024 * 1024;
  this.timeout(scale.timeLimitMs * 2 + 30_000);
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
    const r = fuzzRandom(seed);
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
        const budgetMs = scale.timeLimitMs;
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
      { endWithinMs: scale.large ? 900_000 : 60_000, memoryLimitMb: scale.large ? 128 : 64 },
    );
    console.log(
      describeVitals(`serial fuzz (seed ${seed}${scale.large ? ', large' : ''})`, report.vitals, {
        msgs: report.sent,
        outputs: report.outputs,
        completed: report.completed,
        caught: report.caught,
        'bytes from the board': chip.sent,
      }),
    );
  });
});
