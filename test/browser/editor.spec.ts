import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dialogSettled } from './dialog-actions';
import { artifacts, categoryId, chromiumPath, dragFromPalette, openEditor, packageNodeTypes, root, type EditorSession } from './editor-harness';

/** The first sentence of a node's en-US help, as the sidebar should show it. */
function helpSnippet(type: string): string {
  const html = fs.readFileSync(path.join(root, 'locales', 'en-US', `${type}.html`), 'utf8');
  const text = (/<p>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '')
    .replace(/<[^>]+>/g, '')
    .replace(/&[a-z]+;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.split(' ').slice(0, 4).join(' ');
}

type PageRed = {
  RED: {
    nodes: {
      getType(t: string): { defaults: Record<string, { required?: boolean; validate?: unknown; type?: string }> };
      node(id: string): Record<string, unknown> | null;
      filterConfigNodes?(f: { type: string }): Array<{ id: string; name?: string }>;
      eachConfig(cb: (n: { id: string; type: string; name?: string }) => void): void;
    };
    editor: { editConfig(name: string, type: string, id: string, prefix?: string): void };
    sidebar: { help: { show(type: string): void } };
  };
  $: (selector: string) => {
    length: number;
    val(v?: string): unknown;
    trigger(e: string): unknown;
    is(s: string): boolean;
    find(s: string): { length: number };
  };
};

/** Blank the first required field that is a plain input or select in the open dialog; report whether the editor flagged it. */
async function blankRequiredField(session: EditorSession, type: string, prefix: string): Promise<{ field?: string; flagged: boolean }> {
  return session.page.evaluate(
    ({ t, p }) => {
      const w = window as unknown as PageRed;
      const defaults = w.RED.nodes.getType(t).defaults;
      for (const [prop, def] of Object.entries(defaults)) {
        if (!def.required && !def.validate) continue;
        const input = w.$(`#${p}${prop}`);
        if (!input.length || !input.is(':visible')) continue;
        input.val(def.type ? '_ADD_' : '');
        input.trigger('change');
        input.trigger('keyup');
        const flagged = w.$('.red-ui-tray:last-of-type .input-error').length > 0 || input.is('.input-error');
        if (flagged) return { field: prop, flagged };
      }
      return { flagged: false };
    },
    { t: type, p: prefix },
  );
}

describe('the editor in Chromium', function () {
  this.timeout(180_000);
  let session: EditorSession;
  const types = packageNodeTypes();

  before(async function () {
    const browserPath = await chromiumPath();
    if (!browserPath) this.skip();
    session = await openEditor(browserPath);
  });

  after(async () => {
    await session?.close();
  });

  it('lists every package node type in the editor, in its category', async () => {
    assert.ok(types.length > 0);
    for (const info of types.filter((t) => !t.isConfig)) {
      // Node-RED files a category "A-B" under "A" (sub-categories), so find the container it chose and read its header.
      const container = session.page.locator(`#${categoryId(info.category.split('-')[0]!)}`);
      const inCategory = await container.locator(`.red-ui-palette-node[data-palette-type="${info.type}"]`).count();
      assert.equal(inCategory, 1, `${info.type} appears once in its palette category`);
      const header = (await container.locator('.red-ui-palette-header span').first().textContent())?.trim();
      assert.equal(header, info.category, `${info.type}: the palette shows the category users look for`);
    }
    const registered = await session.page.evaluate(
      (list) => list.filter((t) => (window as unknown as PageRed).RED.nodes.getType(t) !== undefined),
      types.map((t) => t.type),
    );
    assert.deepEqual(
      registered,
      types.map((t) => t.type),
    );
  });

  it("shows every package node in the palette with the package's own icon, and every icon loads", async () => {
    const { page } = session;
    const userNodes = types.filter((t) => !t.isConfig);
    const selector = (type: string): string => `.red-ui-palette-node[data-palette-type="${type}"]`;
    // Node-RED's palette sets each icon as an inline background image (a missing file shows nothing, no broken image).
    const icons = await page.evaluate(
      (list) =>
        list.map(({ type, selector }) => {
          const css = document.querySelector<HTMLElement>(`${selector} .red-ui-palette-icon`)?.style.backgroundImage ?? '';
          const url = /url\("?(.*?)"?\)/.exec(css)?.[1];
          return { type, url: url ? new URL(url, location.href).href : '' };
        }),
      userNodes.map((t) => ({ type: t.type, selector: selector(t.type) })),
    );
    for (const { type, url } of icons) {
      const named = userNodes.find((t) => t.type === type)!.icon;
      assert.ok(named && fs.existsSync(path.join(root, 'icons', named)), `${type} names an icon of the package's icons/ folder (${named})`);
      // Node-RED falls back to a core icon when it does not find the named one among the package's icons.
      assert.ok(url.endsWith(`/icons/@labwire/node-red-instruments/${named}`), `${type}: the palette shows ${named}, not ${url}`);
    }
    const loaded = await page.evaluate(
      (urls) =>
        Promise.all(
          urls.map(
            (url) =>
              new Promise<{ url: string; width: number }>((resolve) => {
                const image = new Image();
                image.onload = () => resolve({ url, width: image.naturalWidth });
                image.onerror = () => resolve({ url, width: 0 });
                image.src = url;
              }),
          ),
        ),
      [...new Set(icons.map((i) => i.url))],
    );
    for (const { url, width } of loaded) assert.ok(width > 0, `${url} loads as an image`);

    // A picture of the package's palette categories for a human to look at: the others hidden for the
    // shot, then shown as Node-RED had them (it shows categories with an inline display over a hide class).
    const categories = [...new Set(userNodes.map((t) => categoryId(t.category.split('-')[0]!)))];
    await page.evaluate((ids) => {
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('.red-ui-palette-category'))) {
        if (ids.includes(el.id)) continue;
        el.dataset.shownAs = el.style.display;
        el.style.display = 'none';
      }
    }, categories);
    const viewport = page.viewportSize();
    await page.setViewportSize({ width: 1500, height: 1400 });
    await page.locator('#red-ui-palette').screenshot({ path: path.join(artifacts, 'palette.png') });
    if (viewport) await page.setViewportSize(viewport);
    await page.evaluate(() => {
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('.red-ui-palette-category[data-shown-as]'))) {
        el.style.display = el.dataset.shownAs ?? '';
        delete el.dataset.shownAs;
      }
    });
  });

  let column = 0;
  for (const info of types) {
    const opening = info.isConfig ? 'config dialog' : 'drags onto the workspace, dialog';
    it(`${info.type}: ${opening} opens, flags a missing required field, saves; help renders`, async () => {
      const { page } = session;
      const prefix = info.isConfig ? 'node-config-input-' : 'node-input-';
      const okButton = info.isConfig ? '#node-config-dialog-ok' : '#node-dialog-ok';
      let nodeId: string | undefined;
      if (info.isConfig) {
        await page.evaluate((t) => (window as unknown as PageRed).RED.editor.editConfig('', t, '_ADD_'), info.type);
      } else {
        column += 1;
        nodeId = await dragFromPalette(page, info.type, 150 + (column % 4) * 200, 80 + Math.floor(column / 4) * 80);
        await page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${nodeId}"] rect.red-ui-flow-node`).dblclick();
      }
      await dialogSettled(page, info.isConfig);
      await page.screenshot({ path: path.join(artifacts, `${info.type}.png`) });

      const blank = await blankRequiredField(session, info.type, prefix);
      const hasRequired = await page.evaluate(
        (t) => Object.values((window as unknown as PageRed).RED.nodes.getType(t).defaults).some((d) => d.required || d.validate),
        info.type,
      );
      if (hasRequired) assert.ok(blank.flagged, `${info.type}: blanking a required field is flagged in the dialog`);
      await page.screenshot({ path: path.join(artifacts, `${info.type}-invalid.png`) });

      const nameInput = page.locator(`#${prefix}name`);
      const hasName = (await nameInput.count()) > 0 && (await nameInput.isVisible());
      if (hasName) await nameInput.fill(`saved ${info.type}`);
      await page.locator(okButton).click();
      await page.locator(okButton).waitFor({ state: 'detached', timeout: 10_000 });
      if (hasName) {
        const names = await page.evaluate(
          ({ t, id }) => {
            const w = window as unknown as PageRed;
            if (id) return [String(w.RED.nodes.node(id)?.name ?? '')];
            const found: string[] = [];
            w.RED.nodes.eachConfig((n) => {
              if (n.type === t) found.push(String(n.name ?? ''));
            });
            return found;
          },
          { t: info.type, id: nodeId },
        );
        assert.ok(names.includes(`saved ${info.type}`), `${info.type} saved its name (found ${JSON.stringify(names)})`);
      }

      const snippet = helpSnippet(info.type);
      assert.ok(snippet.length > 0, `${info.type} has a help summary paragraph`);
      await page.evaluate((t) => (window as unknown as PageRed).RED.sidebar.help.show(t), info.type);
      await page.locator('.red-ui-help').filter({ hasText: snippet }).first().waitFor({ timeout: 10_000 });
      assert.deepEqual(session.pageErrors, [], 'no script errors in the editor');
    });
  }

  describe('the Propeller connection rows shared by load, terminal and ports', function () {
    const users = ['propeller-load', 'propeller-terminal', 'propeller-ports'];
    type Red = {
      RED: {
        nodes: {
          import(flow: unknown[]): unknown;
          node(id: string): Record<string, unknown> | null;
          getType(type: string): { defaults: Record<string, { value: unknown }> };
        };
        view: { redraw(full: boolean): void };
        editor: { edit(node: unknown): void };
        workspaces: { active(): string };
      };
      $: (selector: string) => { length: number; val(v?: string): unknown; trigger(e: string): unknown; is(s: string): boolean; text(): string };
    };

    /** What the open dialog shows of the connection. */
    function connectionRows(session: EditorSession): Promise<Record<string, unknown>> {
      return session.page.evaluate(() => {
        const { $ } = window as unknown as Red;
        return {
          kinds: $('#node-input-connectionType').length,
          label: $('label[for="node-input-connectionType"] span').text(),
          kind: $('#node-input-connectionType').val(),
          launcherShown: $('.propeller-launcher-row').is(':visible'),
          serialShown: $('.propeller-serial-row').is(':visible'),
          // Node-RED turns the inputs of config node properties into its own select of config nodes.
          launcher: $('select#node-input-launcher').val(),
          serial: $('select#node-input-serial').val(),
        };
      });
    }

    async function openDialog(session: EditorSession, id: string): Promise<void> {
      await session.page.evaluate((nodeId) => {
        const { RED } = window as unknown as Red;
        RED.editor.edit(RED.nodes.node(nodeId));
      }, id);
      await session.page.locator('#node-dialog-ok').waitFor({ state: 'visible', timeout: 10_000 });
    }

    /** Press Done and read back what the node saved. */
    async function pressDone(session: EditorSession, id: string): Promise<Record<string, unknown>> {
      await session.page.locator('#node-dialog-ok').click();
      await session.page.locator('#node-dialog-ok').waitFor({ state: 'detached', timeout: 10_000 });
      return session.page.evaluate((nodeId) => {
        const node = (window as unknown as Red).RED.nodes.node(nodeId)!;
        return { valid: node.valid, connectionType: node.connectionType, launcher: node.launcher, serial: node.serial };
      }, id);
    }

    before(async () => {
      await session.page.evaluate((types) => {
        const { RED } = window as unknown as Red;
        const z = RED.workspaces.active();
        // Each user node as dragged from the palette (every default), on the Launcher config node. (No named
        // functions in here: the test runner's compiler wraps them in a helper the page does not have.)
        RED.nodes.import([
          { id: 'conn-launcher', type: 'propeller-launcher', url: 'ws://127.0.0.1:6009' },
          { id: 'conn-serial', type: 'propeller-serial', port: '/dev/ttyUSB0', baudRate: 115200, resetMode: 'dtr' },
          ...types.map((type, i) => ({
            ...Object.fromEntries(Object.entries(RED.nodes.getType(type).defaults).map(([key, def]) => [key, def.value])),
            id: `conn-${type}`,
            type,
            z,
            x: 900,
            y: 80 + i * 60,
            launcher: 'conn-launcher',
            wires: [],
          })),
        ]);
        RED.view.redraw(true);
      }, users);
    });

    for (const type of users) {
      it(`${type}: shows the rows in its own words, toggles them, and stays valid after Done`, async () => {
        const { page } = session;
        const catalog = JSON.parse(fs.readFileSync(path.join(root, 'locales', 'en-US', `${type}.json`), 'utf8')) as Record<
          string,
          { label: Record<string, string> }
        >;
        await openDialog(session, `conn-${type}`);
        assert.deepEqual(await connectionRows(session), {
          kinds: 1,
          label: catalog[type]!.label.connectionType,
          kind: 'launcher',
          launcherShown: true,
          serialShown: false,
          launcher: 'conn-launcher',
          serial: '_ADD_',
        });
        await page.screenshot({ path: path.join(artifacts, `${type}-connection.png`) });
        const unchanged = await pressDone(session, `conn-${type}`);
        assert.deepEqual(unchanged, { valid: true, connectionType: 'launcher', launcher: 'conn-launcher', serial: '' }, 'Done without changes');

        await openDialog(session, `conn-${type}`);
        await page.evaluate(() => {
          const { $ } = window as unknown as Red;
          $('#node-input-connectionType').val('serial');
          $('#node-input-connectionType').trigger('change');
        });
        const serialRows = await connectionRows(session);
        assert.equal(serialRows.launcherShown, false, 'serial hides the Launcher row');
        assert.equal(serialRows.serialShown, true, 'serial shows the serial port row');
        await page.evaluate(() => {
          const { $ } = window as unknown as Red;
          $('select#node-input-serial').val('conn-serial');
          $('select#node-input-serial').trigger('change');
        });
        const switched = await pressDone(session, `conn-${type}`);
        assert.deepEqual(switched, { valid: true, connectionType: 'serial', launcher: 'conn-launcher', serial: 'conn-serial' });

        await openDialog(session, `conn-${type}`);
        const reopened = await connectionRows(session);
        assert.deepEqual([reopened.kind, reopened.launcherShown, reopened.serialShown, reopened.serial], ['serial', false, true, 'conn-serial']);
        await page.locator('#node-dialog-cancel').click();
        await page.locator('#node-dialog-cancel').waitFor({ state: 'detached', timeout: 10_000 });
        assert.deepEqual(session.pageErrors, [], 'no script errors in the editor');
      });
    }
  });
});
