import assert from 'node:assert/strict';
import path from 'node:path';
import { listExamples } from '../../src/cli/example-flows';
import type { ExampleFile } from '../../src/cli/example-flows';
import { simulator } from '../../src/simulators/sfdaq';
import type { RunningSimulator } from '../../src/simulators/simulator';
import { helper, nextMessage, collect, waitFor } from '../helpers/red';
import sfdaqBroker = require('../../src/nodes/sfdaq-broker');
import sfdaqCall = require('../../src/nodes/sfdaq-call');

type Msg = Record<string, unknown> & { payload: Record<string, unknown> };

/** Function nodes build objects in their own realm; compare plain JSON. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
type NodeModule = (RED: never) => void;

const core = (file: string): NodeModule => require(require.resolve(`@node-red/nodes/core/${file}`)) as NodeModule;
const NODES: NodeModule[] = [
  sfdaqBroker,
  sfdaqCall,
  core('common/20-inject.js'),
  core('common/90-comment.js'),
  core('function/10-function.js'),
  core('function/89-delay.js'),
];
const EXAMPLES = listExamples(path.join(__dirname, '..', '..', 'examples')).filter((e) => e.system === 'SwissFEL DAQ');

function example(title: string): ExampleFile {
  const found = EXAMPLES.find((e) => e.title.startsWith(title));
  assert.ok(found, `example ${title}`);
  return found;
}

describe('SwissFEL DAQ examples run against the simulator', () => {
  let running: RunningSimulator;

  beforeEach(async () => {
    running = await simulator.start({ options: { 'pedestal-ms': '300' } });
  });

  afterEach(async () => {
    await helper.unload();
    await running.close();
  });

  /** Deploy an example with its config node pointed at the simulator and debug nodes replaced by helpers. */
  async function deploy(file: ExampleFile): Promise<void> {
    const nodes = structuredClone(file.nodes).map((node) => {
      if (node.type === 'debug') return { id: node.id, z: node.z, type: 'helper' };
      if (node.type === 'sfdaq-broker') assert.deepEqual(running.configure(node), {});
      return node;
    });
    await helper.load(NODES, nodes);
  }

  it('every example uses sfdaq-call and a broker config node', () => {
    assert.equal(EXAMPLES.length, 4);
    for (const file of EXAMPLES) {
      assert.ok(
        file.nodes.some((n) => n.type === 'sfdaq-call'),
        file.title,
      );
      assert.equal(file.nodes.filter((n) => n.type === 'sfdaq-broker' && n.z === undefined).length, 1, file.title);
    }
  });

  it('01: a five-step scan writes every step into the same run', async () => {
    await deploy(example('01'));
    const written = collect<Msg>(helper.getNode('sfdaq_scan_written'));
    const errors = collect<Msg>(helper.getNode('sfdaq_scan_errors'));
    helper.getNode('sfdaq_scan_start').receive({});
    await waitFor(() => written.length === 5, 5000, 'five scan steps');
    assert.deepEqual(
      written.map((m) => [m.payload.step, m.payload.run_number, m.payload.acquisition_number]),
      [
        [1, 1, 1],
        [2, 1, 2],
        [3, 1, 3],
        [4, 1, 4],
        [5, 1, 5],
      ],
    );
    assert.deepEqual(written[4]!.payload.files, ['/sf/alvra/data/p17502/raw/run0001/data/acq0005.PVDATA.h5']);
    assert.equal(errors.length, 0);
  });

  it('02: a pedestal, then polling until the detector runs again', async () => {
    await deploy(example('02'));
    const done = nextMessage<Msg>(helper.getNode('sfdaq_pedestal_done'), 8000, 'pedestal done');
    helper.getNode('sfdaq_pedestal_start').receive({});
    assert.deepEqual(plain((await done).payload), { running: ['JF02T09V03'], pedestal: 'done' });
  });

  it('03: detector settings read, changed and read back', async () => {
    await deploy(example('03'));
    const result = nextMessage<Msg>(helper.getNode('sfdaq_settings_result'));
    helper.getNode('sfdaq_settings_start').receive({});
    const { payload } = await result;
    assert.equal((payload.before as Record<string, unknown>).exptime, 5e-6);
    assert.equal((payload.after as Record<string, unknown>).exptime, 1e-5);
    assert.deepEqual(plain(payload.changed), { exptime: [5e-6, 1e-5] });
  });

  it('04: user files copied after a run, and a partial copy reaches the Catch node with what was copied', async () => {
    await deploy(example('04'));
    const copied = nextMessage<Msg>(helper.getNode('sfdaq_copy_copied'));
    helper.getNode('sfdaq_copy_start').receive({});
    assert.deepEqual((await copied).payload.copied, [
      { source: '/sf/alvra/data/p17502/res/test/test1.json', destination: '/sf/alvra/data/p17502/raw/run0001/aux/test1.json' },
      { source: '/sf/alvra/data/p17502/res/test/test2.json', destination: '/sf/alvra/data/p17502/raw/run0001/aux/test2.json' },
    ]);
    const partial = nextMessage<Msg>(helper.getNode('sfdaq_copy_failed'));
    helper.getNode('sfdaq_copy_startbad').receive({});
    const { payload } = await partial;
    assert.equal((payload.copied as unknown[]).length, 2);
    assert.deepEqual(plain(payload.failed), [
      { file: '/sf/alvra/data/p17502/res/test/missing.json', reason: 'file "/sf/alvra/data/p17502/res/test/missing.json" does not exist' },
    ]);
    assert.match(String(payload.error), /^copy_user_files failed for 1 of 3 file\(s\): \/sf\/alvra\/data\/p17502\/res\/test\/missing\.json/);
  });
});
