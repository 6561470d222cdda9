import assert from 'node:assert/strict';
import { keepUserFlows, type FlowNode } from '../../src/cli/example-flows';
import { recordAfterDeploy, storedExampleTabs } from '../../src/cli/example-tab-record';

/** Two example tabs (a, b) with a node each, and a shared config node. */
const examples = (): FlowNode[] => [
  { id: 'a', type: 'tab', label: 'A' },
  { id: 'a1', type: 'inject', z: 'a', x: 100, y: 40, wires: [] },
  { id: 'b', type: 'tab', label: 'B' },
  { id: 'b1', type: 'debug', z: 'b', x: 100, y: 40, wires: [] },
  { id: 'cfg', type: 'bpwin-server', host: '127.0.0.1', port: 1 },
];

const BOTH = new Set(['a', 'b']);
const changedIn = (stored: FlowNode[], record: Record<string, string>): string[] => [...storedExampleTabs(stored, record, BOTH).changed];

describe('npm start after a restart: which example tabs the person changed', function () {
  it('sees no change in a tab written again with its keys in another order', () => {
    const record = recordAfterDeploy(examples(), ['a', 'b'], new Set());
    const rewritten = examples().map((n) => Object.fromEntries(Object.entries(n).reverse()) as FlowNode);
    assert.deepEqual(changedIn(rewritten, record), []);
  });

  it('keeps a changed tab in its place, with the renewed config node, and the changed mark at every later start', () => {
    const record = recordAfterDeploy(examples(), ['a', 'b'], new Set());
    const stored = [...examples(), { id: 'mine', type: 'comment', z: 'a', x: 300, y: 40 }];
    const changed = storedExampleTabs(stored, record, BOTH).changed;
    assert.deepEqual([...changed], ['a']);
    const renewed = examples().map((n) => (n.id === 'cfg' ? { ...n, port: 2 } : n));
    const flows = keepUserFlows(stored, renewed, changed);
    assert.deepEqual(
      flows.map((n) => n.id),
      ['a', 'a1', 'mine', 'b', 'b1', 'cfg'],
    );
    assert.equal(flows.find((n) => n.id === 'cfg')!.port, 2);
    // The next start: the tab matches what was deployed, yet it stays the person's.
    const next = recordAfterDeploy(flows, ['a', 'b'], changed);
    assert.deepEqual(changedIn(flows, next), ['a']);
  });

  it('brings an example back when the person deleted its tab', () => {
    const record = recordAfterDeploy(examples(), ['a', 'b'], new Set(['a']));
    const stored = examples().filter((n) => n.id !== 'a' && n.z !== 'a');
    const changed = storedExampleTabs(stored, record, BOTH).changed;
    assert.deepEqual([...changed], []);
    assert.deepEqual(
      keepUserFlows(stored, examples(), changed).map((n) => n.id),
      examples().map((n) => n.id),
    );
  });

  it('drops a tab that was an example and is none any more (a file renamed in a new version), unless the person changed it', () => {
    const record = recordAfterDeploy(examples(), ['a', 'b'], new Set());
    const onlyB = examples().filter((n) => n.id !== 'a' && n.z !== 'a');
    const { changed, stale } = storedExampleTabs(examples(), record, new Set(['b']));
    assert.deepEqual([...stale], ['a']);
    assert.deepEqual(
      keepUserFlows(examples(), onlyB, changed, stale).map((n) => n.id),
      ['b', 'b1', 'cfg'],
    );
    const touched = [...examples(), { id: 'mine', type: 'comment', z: 'a', x: 300, y: 40 }];
    const after = storedExampleTabs(touched, record, new Set(['b']));
    assert.deepEqual([[...after.changed], [...after.stale]], [['a'], []]);
    assert.ok(
      keepUserFlows(touched, onlyB, after.changed, after.stale).some((n) => n.id === 'mine'),
      'the changed tab stays',
    );
  });
});
