import assert from 'node:assert/strict';
import path from 'node:path';
import { dialogSettled, pressDone as pressDialogDone } from './dialog-actions';
import { artifacts, dragFromPalette, editorForSuite, type EditorSession } from './editor-harness';

type Page = EditorSession['page'];

interface DialogRed {
  RED: {
    nodes: { import(flow: unknown[]): unknown; node(id: string): Record<string, unknown> | null };
    view: { importNodes(nodes: unknown[], options?: Record<string, unknown>): void; redraw(full: boolean): void };
    editor: { edit(node: unknown): void };
    workspaces: { active(): string };
  };
  $: (selector: string) => {
    length: number;
    val(v?: string): unknown;
    trigger(e: string): unknown;
    is(s: string): boolean;
    prop(name: string): unknown;
  };
}

const USERS = ['propeller-load', 'propeller-terminal', 'propeller-ports'];

/** The node's box on the workspace. */
const nodeBox = (id: string): string => `#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"]`;

/** Whether the editor shows the node's red triangle (its error badge), and what it holds of its validity. */
async function triangle(page: Page, id: string): Promise<{ valid: unknown; shown: boolean }> {
  await page.evaluate(() => (window as unknown as DialogRed).RED.view.redraw(true));
  const valid = await page.evaluate((nodeId) => (window as unknown as DialogRed).RED.nodes.node(nodeId)!.valid, id);
  const badges = page.locator(`${nodeBox(id)} .red-ui-flow-node-error`);
  const shown = (await badges.count()) > 0 && (await badges.first().isVisible());
  return { valid, shown };
}

async function openDialog(page: Page, id: string): Promise<void> {
  await page.locator(`${nodeBox(id)} rect.red-ui-flow-node`).dblclick();
  await dialogSettled(page, false);
}

const pressDone = (page: Page): Promise<void> => pressDialogDone(page, false);

/** Set a select or input of the open dialog as a user would, and let the dialog react. */
async function choose(page: Page, selector: string, value: string): Promise<void> {
  await page.evaluate(
    ({ s, v }) => {
      const { $ } = window as unknown as DialogRed;
      $(s).val(v);
      $(s).trigger('change');
    },
    { s: selector, v: value },
  );
}

describe('the Propeller dialogs in Chromium', function () {
  this.timeout(180_000);
  const editor = editorForSuite();

  it('load, terminal and ports fresh from the palette: a red triangle and a deploy warning until a connection is chosen', async () => {
    const { page } = editor.session;
    const ids: Record<string, string> = {};
    for (const [i, type] of USERS.entries()) ids[type] = await dragFromPalette(page, type, 200, 80 + i * 80);
    for (const type of USERS) assert.deepEqual(await triangle(page, ids[type]!), { valid: false, shown: true }, `${type} with no connection`);
    await page.screenshot({ path: path.join(artifacts, 'propeller-no-connection.png') });

    // Deploy: Node-RED's warning lists the nodes that cannot work.
    await page.locator('#red-ui-header-button-deploy').click();
    const warning = page.locator('.red-ui-notification').filter({ hasText: 'propeller-load' });
    await warning.waitFor({ state: 'visible', timeout: 10_000 });
    const listed = await warning.locator('.red-ui-deploy-dialog-confirm-list li').allTextContents();
    for (const type of USERS)
      assert.ok(
        listed.some((line) => line.includes(`(${type})`)),
        `the deploy warning lists ${type}: ${listed.join(' | ')}`,
      );
    await warning.locator('button', { hasText: 'Cancel' }).click();
    await warning.waitFor({ state: 'detached', timeout: 10_000 });

    await page.evaluate(() => {
      const { RED } = window as unknown as DialogRed;
      RED.nodes.import([
        { id: 'dlg-launcher', type: 'propeller-launcher', url: 'ws://127.0.0.1:6009' },
        { id: 'dlg-serial', type: 'propeller-serial', port: '/dev/ttyUSB0', baudRate: 115200, resetMode: 'dtr' },
      ]);
    });
    for (const type of USERS) {
      const id = ids[type]!;
      await openDialog(page, id);
      // The serial kind with no serial configuration chosen is as invalid as the Launcher kind without one.
      await choose(page, '#node-input-connectionType', 'serial');
      await choose(page, 'select#node-input-serial', '_ADD_');
      await pressDone(page);
      assert.deepEqual(await triangle(page, id), { valid: false, shown: true }, `${type}: serial chosen, no serial configuration`);
      await openDialog(page, id);
      await choose(page, '#node-input-connectionType', 'launcher');
      await choose(page, 'select#node-input-launcher', 'dlg-launcher');
      await pressDone(page);
      assert.deepEqual(await triangle(page, id), { valid: true, shown: false }, `${type}: a Launcher chosen and Done`);
    }
    assert.deepEqual(editor.session.pageErrors, [], 'no script errors in the editor');
  });

  it('propeller-load: "msg.action may choose EEPROM" unticked for a node saved before it existed, kept when ticked, hidden for EEPROM', async () => {
    const { page } = editor.session;
    const z = await page.evaluate(() => (window as unknown as DialogRed).RED.workspaces.active());
    // As release 1 saved a node: every field of the time, no allowMsgEeprom.
    const base = {
      type: 'propeller-load',
      z,
      name: '',
      connectionType: 'launcher',
      launcher: 'dlg-launcher',
      serial: '',
      source: 'payload',
      file: '',
      fileType: 'str',
      action: 'RAM',
      port: '',
      debug: 'none',
      timeout: 120,
      wires: [[], []],
    };
    await page.evaluate(
      (nodes) => (window as unknown as DialogRed).RED.view.importNodes(nodes, { generateIds: false, touchImport: true }),
      [
        { ...base, id: 'dlg-v1', x: 500, y: 80, version: 1 },
        { ...base, id: 'dlg-v2', x: 500, y: 160, version: 2, allowMsgEeprom: true },
      ],
    );
    const box = async (): Promise<{ checked: unknown; shown: boolean }> =>
      page.evaluate(() => {
        const { $ } = window as unknown as DialogRed;
        return { checked: $('#node-input-allowMsgEeprom').prop('checked'), shown: $('#node-input-allowMsgEeprom').is(':visible') };
      });
    await openDialog(page, 'dlg-v1');
    assert.deepEqual(await box(), { checked: false, shown: true }, 'version 1: unticked');
    await choose(page, '#node-input-action', 'EEPROM');
    assert.equal((await box()).shown, false, 'a node that stores in EEPROM has nothing to allow');
    await choose(page, '#node-input-action', 'RAM');
    await page.screenshot({ path: path.join(artifacts, 'propeller-load-allow-eeprom.png') });
    await pressDone(page);
    const saved = await page.evaluate(() => {
      const node = (window as unknown as DialogRed).RED.nodes.node('dlg-v1')!;
      return { version: node.version, allowMsgEeprom: node.allowMsgEeprom, valid: node.valid };
    });
    assert.deepEqual(saved, { version: 2, allowMsgEeprom: false, valid: true });
    await openDialog(page, 'dlg-v2');
    assert.deepEqual(await box(), { checked: true, shown: true }, 'version 2, ticked: stays ticked');
    await pressDone(page);
    assert.equal(await page.evaluate(() => (window as unknown as DialogRed).RED.nodes.node('dlg-v2')!.allowMsgEeprom), true);
  });

  it('propeller-terminal says which port and baud rate count over a serial port, and only there', async () => {
    const { page } = editor.session;
    const z = await page.evaluate(() => (window as unknown as DialogRed).RED.workspaces.active());
    await page.evaluate(
      (nodes) => (window as unknown as DialogRed).RED.view.importNodes(nodes, { generateIds: false, touchImport: true }),
      [{ id: 'dlg-term', type: 'propeller-terminal', z, x: 700, y: 80, connectionType: 'launcher', launcher: 'dlg-launcher', wires: [[]] }],
    );
    const hint = async (): Promise<{ shown: boolean; text: string; placeholder: unknown }> =>
      page.evaluate(() => {
        const w = window as unknown as DialogRed & { $: (s: string) => { is(s: string): boolean; text(): string; attr(n: string): unknown } };
        return {
          shown: w.$('.propeller-terminal-serial-hint').is(':visible'),
          text: w.$('.propeller-terminal-serial-hint').text(),
          placeholder: w.$('#node-input-port').attr('placeholder'),
        };
      });
    await openDialog(page, 'dlg-term');
    assert.deepEqual(await hint().then((h) => [h.shown, h.placeholder]), [false, 'first available'], 'no hint over the Launcher');
    await choose(page, '#node-input-connectionType', 'serial');
    const serial = await hint();
    assert.equal(serial.shown, true);
    assert.equal(serial.placeholder, "the serial configuration's port");
    assert.match(serial.text, /the port is the one of the propeller-serial configuration/);
    assert.match(serial.text, /the configuration's baud rate is used for downloads only/);
    await page.screenshot({ path: path.join(artifacts, 'propeller-terminal-serial.png') });
    await page.locator('#node-dialog-cancel').click();
    await page.locator('#node-dialog-cancel').waitFor({ state: 'detached', timeout: 10_000 });
  });
});
