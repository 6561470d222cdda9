import assert from 'node:assert/strict';
import type { RunningSimulator } from '../../src/simulators/simulator';
import { simulator } from '../../src/simulators/nebv';
import { coreNode as core, exampleFlow, examplesOf } from '../helpers/examples';
import { helper, nextMessage } from '../helpers/red';
import serverNode = require('../../src/nodes/nebv-server');
import rpcNode = require('../../src/nodes/nebv-rpc');

const modules = [
  serverNode,
  rpcNode,
  core('common/20-inject.js'),
  core('common/90-comment.js'),
  core('function/15-change.js'),
  core('sequence/17-split.js'),
  core('parsers/70-CSV.js'),
] as never[];

type Msg = { payload: unknown; rpcError?: { code: number; message: string } };

describe('nebv example flows', function () {
  const examples = examplesOf('neoEBV');
  let running: RunningSimulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    running = await simulator.start({ options: { 'no-unix': true } });
  });
  afterEach(async () => {
    await helper.unload();
    await running.close();
  });

  /** The example as deployed by `npm start`: config nodes pointed at the simulator, debug nodes replaced by helpers to observe. */
  async function load(title: string): Promise<void> {
    await helper.load(modules, exampleFlow(examples, title, running) as never);
  }

  it('uses every neoEBV node type somewhere', () => {
    const types = new Set(examples.flatMap((e) => e.nodes.map((n) => n.type)));
    assert.ok(types.has('nebv-rpc') && types.has('nebv-server'));
    assert.equal(examples.length, 2);
  });

  it('01: opens a layout, places marks from a list of points, reads their properties and closes the file', async () => {
    await load('01 - Marks from a list of points');
    const result = nextMessage<Msg>(helper.getNode('nebv-ex1-debug'), 8000, 'the mark properties');
    let errors = 0;
    helper.getNode('nebv-ex1-errors').on('input', () => (errors += 1));
    helper.getNode('nebv-ex1-start').receive({});
    const props = (await result).payload as Array<Record<string, string>>;
    assert.deepEqual(
      props.map((p) => p.Location),
      ['10.0,0.0', '20.0,5.0', '30.0,10.0'],
    );
    assert.deepEqual(props[0], { Color: '80000000', Location: '10.0,0.0', Name: 'Mark 1', Shape: 'Dot' });
    assert.equal(errors, 0);
  });

  it('02: places one mark per CSV row, lists them via msg.topic, and routes a misspelt method to the error output', async () => {
    await load('02 - Batch marks from CSV');
    const placed = nextMessage<Msg>(helper.getNode('nebv-ex2-debug'), 8000, 'the placed marks');
    helper.getNode('nebv-ex2-csv').receive({});
    assert.deepEqual((await placed).payload, [
      { name: 'Mark 1', location: '0.0,0.0' },
      { name: 'Mark 2', location: '1500.5,0.0' },
      { name: 'Mark 3', location: '1500.5,2000.0' },
      { name: 'Mark 4', location: '0.0,2000.0' },
    ]);
    const count = nextMessage<Msg>(helper.getNode('nebv-ex2-debug2'));
    helper.getNode('nebv-ex2-list').receive({});
    assert.equal((await count).payload, 4);
    const failed = nextMessage<Msg>(helper.getNode('nebv-ex2-rpcerr'));
    helper.getNode('nebv-ex2-bad').receive({});
    assert.equal((await failed).rpcError!.code, -32601);
  });
});
