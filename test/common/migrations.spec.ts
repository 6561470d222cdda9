import assert from 'node:assert/strict';
import { configVersion, currentVersion, migrate, type Migration } from '../../src/nodered/migrations';
import { PROPELLER_CONNECTION_KIND } from '../../src/nodered/propeller-config';
import type { NodeDef } from '../../src/nodered/red-types';

const def = (extra: Record<string, unknown>): NodeDef => ({ id: 'n1', type: 'some-node', ...extra });

describe('config migrations', () => {
  const steps: Migration[] = [
    { version: 2, up: (c) => ({ ...c, steps: [...(c.steps as string[]), 'two'] }) },
    { version: 1, up: (c) => ({ ...c, steps: ['one'] }) },
  ];

  it('applies the steps a config lacks, in order, and says which version it now has', () => {
    assert.deepEqual(migrate(def({}), steps), def({ steps: ['one', 'two'], version: 2 }));
    assert.deepEqual(migrate(def({ version: 1, steps: [] }), steps), def({ steps: ['two'], version: 2 }));
    assert.deepEqual(
      migrate(def({ version: '1', steps: [] }), steps),
      def({ steps: ['two'], version: 2 }),
      'a version in a string (hand-edited flow)',
    );
  });

  it('leaves a current config alone, and the object Node-RED passed unchanged', () => {
    const current = def({ version: 2, steps: [] });
    assert.equal(migrate(current, steps), current);
    const old = def({});
    migrate(old, steps);
    assert.deepEqual(old, def({}), 'Node-RED compares it on the next deploy');
    assert.equal(currentVersion(steps), 2);
    assert.equal(currentVersion([]), 0);
    for (const [version, expected] of [
      [undefined, 0],
      [0, 0],
      [3, 3],
      ['2', 2],
      ['x', 0],
      [-1, 0],
      [1.5, 0],
    ] as const) {
      assert.equal(configVersion(def({ version })), expected, String(version));
    }
  });

  it('Propeller connection kind: the field that is set, the Launcher when both or none are; a chosen kind stays', () => {
    const kind = (extra: Record<string, unknown>): unknown => migrate(def(extra), [PROPELLER_CONNECTION_KIND]).connectionType;
    assert.equal(kind({ launcher: 'l1' }), 'launcher');
    assert.equal(kind({ serial: 's1' }), 'serial');
    assert.equal(kind({ launcher: '', serial: 's1' }), 'serial');
    assert.equal(kind({ launcher: 'l1', serial: 's1' }), 'launcher');
    assert.equal(kind({}), 'launcher');
    assert.equal(kind({ connectionType: 'serial', launcher: 'l1' }), 'serial');
    assert.equal(kind({ version: 1, launcher: '', serial: 's1' }), undefined, 'a current config is not touched');
  });
});
