import assert from 'node:assert/strict';
import { dialogSettled } from './dialog-actions';
import { chromiumPath, openEditor, packageNodeTypes, type EditorSession } from './editor-harness';

type Page = EditorSession['page'];

interface EditorRed {
  RED: {
    view: { importNodes(nodes: unknown[], options?: Record<string, unknown>): void };
    nodes: { node(id: string): Record<string, unknown> | null };
    editor: { edit(node: unknown): void };
  };
  $: (selector: string) => { val(): unknown; prop(name: string): unknown };
}

/** Import nodes as an older release saved them, open one's dialog, read fields, press Done; the node afterwards. */
async function openOld(
  page: Page,
  flow: Array<Record<string, unknown>>,
  id: string,
  fields: string[],
): Promise<{ dialog: Record<string, unknown>; saved: Record<string, unknown> }> {
  await page.evaluate((nodes) => (window as unknown as EditorRed).RED.view.importNodes(nodes, { generateIds: false, touchImport: true }), flow);
  await page.evaluate((nodeId) => {
    const w = window as unknown as EditorRed;
    w.RED.editor.edit(w.RED.nodes.node(nodeId));
  }, id);
  // Its oneditprepare has filled the fields once the tray has settled.
  await dialogSettled(page, false);
  const dialog = await page.evaluate(
    (names) =>
      Object.fromEntries(
        names.map((name) => {
          const input = (window as unknown as EditorRed).$(`#node-input-${name}`);
          return [name, name.startsWith('note') ? input.prop('checked') : input.val()];
        }),
      ),
    fields,
  );
  await page.locator('#node-dialog-ok').click();
  await page.locator('#node-dialog-ok').waitFor({ state: 'hidden', timeout: 10_000 });
  const saved = await page.evaluate((nodeId) => {
    const node = (window as unknown as EditorRed).RED.nodes.node(nodeId)!;
    return JSON.parse(JSON.stringify(node, (key, value: unknown) => (key.startsWith('_') ? undefined : value))) as Record<string, unknown>;
  }, id);
  return { dialog, saved };
}

describe('the editor brings an old node’s dialog to its current config version', function () {
  this.timeout(180_000);
  let session: EditorSession;

  before(async function () {
    const browserPath = await chromiumPath();
    if (!browserPath) this.skip();
    session = await openEditor(browserPath);
    // The package's node types register after the core ones, one node set at a time.
    await session.page.waitForFunction(
      (types) => types.every((t) => (window as unknown as { RED: { nodes: { getType(t: string): unknown } } }).RED.nodes.getType(t) !== undefined),
      packageNodeTypes().map((t) => t.type),
      { timeout: 60_000 },
    );
    await session.page.evaluate(() =>
      (window as unknown as EditorRed).RED.view.importNodes([{ id: 'mig-tab', type: 'tab', label: 'old flows' }], {
        generateIds: false,
        touchImport: true,
      }),
    );
  });

  after(async () => {
    await session?.close();
  });

  it('propeller-load saved with only a serial port, "eeprom" in lower case and a path without fileType', async () => {
    const { dialog, saved } = await openOld(
      session.page,
      [
        { id: 'mig-ser', type: 'propeller-serial', port: '/dev/ttyUSB0' },
        {
          id: 'mig-load',
          type: 'propeller-load',
          z: 'mig-tab',
          x: 200,
          y: 100,
          serial: 'mig-ser',
          source: 'file',
          file: '/tmp/a.binary',
          action: 'eeprom',
          debug: 'TERM',
          wires: [[], []],
        },
      ],
      'mig-load',
      ['connectionType', 'action', 'debug', 'fileType'],
    );
    assert.deepEqual(dialog, { connectionType: 'serial', action: 'EEPROM', debug: 'term', fileType: 'str' });
    assert.equal(saved.version, 2);
    assert.equal(saved.connectionType, 'serial');
    assert.equal(saved.serial, 'mig-ser');
    assert.equal(saved.action, 'EEPROM');
  });

  it('propeller-terminal and propeller-ports saved before the connection kind existed', async () => {
    for (const type of ['propeller-terminal', 'propeller-ports']) {
      const id = `mig-${type}`;
      const { dialog, saved } = await openOld(
        session.page,
        [{ id, type, z: 'mig-tab', x: 200, y: 200, launcher: '', serial: 'mig-ser', wires: [[]] }],
        id,
        ['connectionType'],
      );
      assert.deepEqual(dialog, { connectionType: 'serial' }, type);
      assert.equal(saved.version, 1, type);
      assert.equal(saved.connectionType, 'serial', type);
    }
  });

  it('bpwin-events saved before the Note checkboxes: every Note ticked, as the node behaved', async () => {
    const { dialog, saved } = await openOld(
      session.page,
      [
        { id: 'mig-srv', type: 'bpwin-server', host: '10.0.0.5', port: '8080' },
        { id: 'mig-ev', type: 'bpwin-events', z: 'mig-tab', x: 200, y: 300, server: 'mig-srv', wires: [[]] },
      ],
      'mig-ev',
      ['noteDataPattern', 'noteJobFile', 'noteJob', 'noteSocketStatus', 'noteOther'],
    );
    assert.deepEqual(Object.values(dialog), [true, true, true, true, true]);
    assert.equal(saved.version, 1);
    assert.equal(saved.noteJob, true);
  });

  it('leaves the page without script errors', () => {
    assert.deepEqual(session.pageErrors, []);
  });
});
