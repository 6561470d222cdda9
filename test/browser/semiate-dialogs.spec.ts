import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openDialog, pressDone } from './dialog-actions';
import { artifacts, chromiumPath, dragFromPalette, openEditor, root, type EditorSession } from './editor-harness';

type Page = EditorSession['page'];

interface DialogRed {
  RED: {
    nodes: { node(id: string): (Record<string, unknown> & { valid?: boolean; validationErrors?: string[] }) | null };
    editor: { edit(node: unknown): void; editConfig(name: string, type: string, id: string): void };
    workspaces: { show(id: string): void };
    view: { importNodes(nodes: unknown[], options?: Record<string, unknown>): void; redraw(updateActive?: boolean, syncRedraw?: boolean): void };
  };
  $: (selector: string) => { val(v?: string): unknown; trigger(e: string): unknown };
}

interface Seen {
  valid: boolean | undefined;
  errors: string[];
  /** Red triangles drawn on the node on the canvas. */
  triangles: number;
}

const TAB = 'semiate-dialogs-tab';

/** The Semi-ATE examples as they ship, each file's nodes. */
function semiAteExamples(): Array<{ title: string; nodes: Array<Record<string, unknown>> }> {
  const dir = path.join(root, 'examples', 'Semi-ATE');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ title: file.slice(0, -'.json'.length), nodes: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as never }));
}

/** What the editor and the canvas say about a node: its validity, the reasons, and the red triangles drawn on it. */
function seen(page: Page, id: string): Promise<Seen> {
  return page.evaluate((nodeId) => {
    const RED = (window as unknown as DialogRed).RED;
    // Draw now what the editor would draw on its next frame.
    RED.view.redraw(true, true);
    const node = RED.nodes.node(nodeId);
    const group = document.getElementById(nodeId);
    const triangles = group
      ? Array.from(group.querySelectorAll<SVGGraphicsElement>('.red-ui-flow-node-error')).filter(
          (el) => getComputedStyle(el).display !== 'none' && el.closest('.hide') === null,
        ).length
      : 0;
    // A node the editor never found invalid may have no valid flag yet (config nodes): that is valid.
    return { valid: node ? node.valid !== false : undefined, errors: node?.validationErrors ?? [], triangles };
  }, id);
}

/** Open a node's dialog as a double click does, optionally change fields, and press Done. */
async function openAndDone(page: Page, id: string, isConfig: boolean, change?: (page: Page) => Promise<void>): Promise<void> {
  await openDialog(page, id, isConfig);
  if (change) await change(page);
  await pressDone(page, isConfig);
}

describe('Semi-ATE dialogs: opened and closed with Done, every node stays valid', function () {
  this.timeout(300_000);
  let session: EditorSession;

  before(async function () {
    const browserPath = await chromiumPath();
    if (!browserPath) this.skip();
    session = await openEditor(browserPath);
    await session.page.evaluate(
      (tab) => (window as unknown as DialogRed).RED.view.importNodes([{ id: tab, type: 'tab', label: 'Semi-ATE dialogs' }], { generateIds: false }),
      TAB,
    );
  });

  after(async () => {
    await session?.close();
  });

  afterEach(async () => {
    // A failed step must not leave a dialog open over the next test.
    await session?.page.keyboard.press('Escape').catch(() => undefined);
  });

  it('a fresh semiate-command from the palette, with each command chosen in turn', async () => {
    const { page } = session;
    // A tester to pick: the dialog chooses the only one by itself.
    await page.evaluate((tab) => {
      const w = window as unknown as DialogRed;
      w.RED.view.importNodes([{ id: 'dlg-tester', type: 'semiate-tester', name: 'tester', transport: 'websocket', url: 'ws://127.0.0.1:8081/ws' }], {
        generateIds: false,
      });
      w.RED.workspaces.show(tab);
    }, TAB);
    const id = await dragFromPalette(page, 'semiate-command', 300, 200);
    await openAndDone(page, id, false, async (p) => {
      await p.evaluate(() => {
        const w = window as unknown as DialogRed;
        w.$('#node-input-tester').val('dlg-tester');
        w.$('#node-input-tester').trigger('change');
      });
    });
    const fresh = await seen(page, id);
    await page.screenshot({ path: path.join(artifacts, 'semiate-command-fresh-done.png') });
    assert.deepEqual(fresh, { valid: true, errors: [], triangles: 0 }, 'a fresh semiate-command after Done');
    const commands = ['', 'load', 'next', 'unload', 'reset', 'usersettings', 'getresults', 'identify', 'get-state'];
    for (const command of commands) {
      await openAndDone(page, id, false, async (p) => {
        await p.evaluate((value) => {
          const w = window as unknown as DialogRed;
          w.$('#node-input-command').val(value);
          w.$('#node-input-command').trigger('change');
        }, command);
      });
      assert.deepEqual(await seen(page, id), { valid: true, errors: [], triangles: 0 }, `semiate-command set to "${command || 'from msg.command'}"`);
    }
  });

  it('a semiate-command saved before config versions: the dialog brings it to version 1 (Sites msg.sites) and it stays valid', async () => {
    const { page } = session;
    await page.evaluate((tab) => {
      const w = window as unknown as DialogRed;
      w.RED.view.importNodes([{ id: 'dlg-old-tester', type: 'semiate-tester', name: 'old', transport: 'websocket', url: 'ws://127.0.0.1:8081/ws' }], {
        generateIds: false,
      });
      w.RED.view.importNodes(
        [
          {
            id: 'dlg-old',
            type: 'semiate-command',
            z: tab,
            tester: 'dlg-old-tester',
            command: 'next',
            lotNumber: 'payload',
            lotNumberType: 'msg',
            sites: '',
            sitesType: 'json',
            x: 300,
            y: 300,
            wires: [[]],
          },
          {
            id: 'dlg-list',
            type: 'semiate-command',
            z: tab,
            tester: 'dlg-old-tester',
            command: 'next',
            lotNumber: 'payload',
            lotNumberType: 'msg',
            sites: '["1"]',
            sitesType: 'json',
            version: 1,
            x: 300,
            y: 380,
            wires: [[]],
          },
        ],
        { generateIds: false, touchImport: true },
      );
      w.RED.workspaces.show(tab);
    }, TAB);
    const fields = (): Promise<unknown[]> =>
      page.evaluate(() => {
        const w = window as unknown as DialogRed;
        return [w.$('#node-input-sitesType').val(), w.$('#node-input-sites').val()];
      });
    let shown: unknown[] = [];
    await openAndDone(page, 'dlg-old', false, async () => {
      shown = await fields();
    });
    assert.deepEqual(shown, ['msg', 'sites'], 'the dialog shows msg.sites');
    const saved = await page.evaluate(() => {
      const node = (window as unknown as DialogRed).RED.nodes.node('dlg-old')!;
      return [node.version, node.sitesType, node.sites];
    });
    assert.deepEqual(saved, [1, 'msg', 'sites']);
    assert.deepEqual(await seen(page, 'dlg-old'), { valid: true, errors: [], triangles: 0 });
    await openAndDone(page, 'dlg-list', false, async () => {
      shown = await fields();
    });
    assert.deepEqual(shown, ['json', '["1"]'], 'a version-1 list stays as it is');
    assert.deepEqual(await seen(page, 'dlg-list'), { valid: true, errors: [], triangles: 0 });
  });

  for (const example of semiAteExamples()) {
    it(`every Semi-ATE node of "${example.title}"`, async () => {
      const { page } = session;
      const known = await page.evaluate(
        (ids) => ids.filter((id) => Boolean((window as unknown as DialogRed).RED.nodes.node(id))),
        example.nodes.map((n) => String(n.id)),
      );
      // Config nodes the examples share are imported once.
      const nodes = example.nodes.filter((n) => !known.includes(String(n.id)));
      const tab = String(example.nodes.find((n) => n.type === 'tab')?.id);
      await page.evaluate(
        ({ list, show }) => {
          const w = window as unknown as DialogRed;
          w.RED.view.importNodes(list, { generateIds: false, touchImport: true });
          w.RED.workspaces.show(show);
        },
        { list: nodes, show: tab },
      );
      const semiate = example.nodes.filter((n) => String(n.type).startsWith('semiate-'));
      assert.ok(semiate.length > 0);
      for (const node of semiate) {
        const id = String(node.id);
        const isConfig = node.type === 'semiate-tester';
        assert.deepEqual(await seen(page, id), { valid: true, errors: [], triangles: 0 }, `${id} as imported`);
        await openAndDone(page, id, isConfig);
        const after = await seen(page, id);
        if (after.triangles > 0 || after.valid !== true) {
          await page.screenshot({ path: path.join(artifacts, `semiate-${id}-after-done.png`) });
        }
        assert.deepEqual(after, { valid: true, errors: [], triangles: 0 }, `${id} (${String(node.type)}) after Done`);
      }
    });
  }
});
