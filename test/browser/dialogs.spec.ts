import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { listExamples } from '../../src/cli/example-flows';
import { drawnBoxes, invalid } from './canvas-check';
import { openDialog, pressDone } from './dialog-actions';
import { editorForSuite, packageNodeTypes, root, screenshotPath } from './editor-harness';
import './editor-globals';

type Red = {
  RED: {
    nodes: {
      node(id: string): { id: string; type: string; valid?: boolean; validationErrors?: string[]; z?: string } | null;
      import(flow: unknown[], options?: { generateIds?: boolean; addFlow?: boolean }): unknown;
      getType(type: string): { category?: string; defaults: Record<string, { value: unknown; type?: string }> };
      eachConfig(cb: (n: { id: string; type: string; valid?: boolean; validationErrors?: string[] }) => void): void;
    };
    editor: { edit(node: unknown): void; editConfig(name: string, type: string, id: string): void };
    workspaces: { active(): string; show(id: string): void };
    view: { redraw(full?: boolean): void };
    tray: { close(): void };
  };
  $: ((selector: string) => { length: number; is(s: string): boolean; val(v?: string): unknown; trigger(e: string): unknown }) & {
    fx: { off: boolean };
  };
};

/** What a person does: open the node's dialog (a config node's through the config sidebar's editor), press Done. */
async function openAndDone(page: Page, id: string, config: boolean, options: { screenshot?: string; fill?: boolean } = {}): Promise<void> {
  const type = await openDialog(page, id, config);
  if (options.fill) await fillWhatHasNoDefault(page, type, config);
  if (options.screenshot) await page.screenshot({ path: screenshotPath(options.screenshot) });
  await pressDone(page, config);
}

/** What only the person can say: which config node to use (Node-RED offers "none" first), a serial port or a port number. */
const TYPED_BY_HAND: Record<string, Record<string, string>> = {
  'propeller-serial': { port: '/dev/ttyUSB0' },
  'nebv-server': { port: '5000' },
};

async function fillWhatHasNoDefault(page: Page, type: string, config: boolean): Promise<void> {
  await page.evaluate(
    ({ isConfig, typed }) => {
      const { $ } = window as unknown as Red;
      const prefix = isConfig ? 'node-config-input-' : 'node-input-';
      for (const select of Array.from(document.querySelectorAll<HTMLSelectElement>(`select[id^="${prefix}"]`))) {
        const first = select.options[0]?.value;
        if (select.value === '_ADD_' && first && first !== '_ADD_') $(`#${select.id}`).val(first).trigger('change');
      }
      for (const [field, value] of Object.entries(typed)) {
        const input = $(`#${prefix}${field}`);
        if (input.length && String(input.val() ?? '').trim() === '') input.val(value).trigger('change');
      }
    },
    { isConfig: config, typed: TYPED_BY_HAND[type] ?? {} },
  );
}

/** Validity as the editor holds it, with its reasons, for nodes and config nodes. */
function validity(page: Page, ids: string[]): Promise<Array<{ id: string; type: string; valid: boolean; errors: string[] }>> {
  return page.evaluate(
    (list) =>
      list.flatMap((id) => {
        // An imported singleton (the dashboard's ui-base) merges into the one already there.
        const node = (window as unknown as Red).RED.nodes.node(id);
        return node ? [{ id, type: node.type, valid: node.valid !== false, errors: node.validationErrors ?? [] }] : [];
      }),
    ids,
  );
}

/**
 * Node-RED's code editor (Monaco, in the core function and ui-template dialogs) throws "Model is
 * disposed!" when its dialog closes while it is still loading; the dialog and its node are fine.
 * Every other script error in the editor fails the test.
 */
function notMonacoDisposal(error: string): boolean {
  return !error.startsWith('Model is disposed!');
}

describe('every dialog closed with Done leaves its node valid', function () {
  this.timeout(180_000);
  const editor = editorForSuite();
  const types = packageNodeTypes();

  before(async function () {
    if (!editor.session) this.skip();
    // The trays slide in and out with jQuery animations; a person waits for them, the test need not.
    await editor.session.page.evaluate(() => {
      (window as unknown as Red).$.fx.off = true;
    });
  });

  describe('a fresh node of each type (one config node of each kind exists, as after adding one)', () => {
    before(async () => {
      await editor.session.page.evaluate(
        ({ configs, typed }) => {
          const { RED } = window as unknown as Red;
          RED.nodes.import(
            configs.map((type) => ({
              ...Object.fromEntries(Object.entries(RED.nodes.getType(type).defaults).map(([key, def]) => [key, def.value])),
              ...typed[type],
              id: `fresh-${type}`,
              type,
            })),
          );
        },
        { configs: types.filter((t) => t.isConfig).map((t) => t.type), typed: TYPED_BY_HAND },
      );
    });

    types.forEach((info, index) => {
      it(`${info.type}: ${info.isConfig ? 'a new config node' : 'dropped on the canvas'}, opened and closed with Done, is valid`, async function () {
        const { page } = editor.session;
        const id = info.isConfig
          ? `fresh-${info.type}`
          : await page.evaluate(
              ({ type, i }) => {
                const { RED } = window as unknown as Red;
                // As the palette drops it: every default, no config chosen yet (the dialog offers the existing one).
                const defaults = Object.fromEntries(Object.entries(RED.nodes.getType(type).defaults).map(([key, def]) => [key, def.value]));
                const node = {
                  ...defaults,
                  id: `fresh-node-${type}`,
                  type,
                  z: RED.workspaces.active(),
                  x: 150 + (i % 4) * 220,
                  y: 60 + Math.floor(i / 4) * 70,
                  wires: [],
                };
                RED.nodes.import([node]);
                RED.view.redraw(true);
                return node.id;
              },
              { type: info.type, i: index },
            );
        await openAndDone(page, id, info.isConfig, { screenshot: `dialog-${info.type}`, fill: true });
        const [state] = await validity(page, [id]);
        const boxes = info.isConfig ? [] : await drawnBoxes(page, await page.evaluate(() => (window as unknown as Red).RED.workspaces.active()));
        const drawn = invalid(boxes.filter((b) => b.id === id));
        assert.deepEqual({ valid: state!.valid, errors: state!.errors, drawn }, { valid: true, errors: [], drawn: [] }, info.type);
        assert.deepEqual(editor.session.pageErrors.filter(notMonacoDisposal), [], 'script errors in the editor');
      });
    });
  });

  describe('every node of every example', () => {
    // Node-RED's own timers make a dialog take most of a second to open and close: the package's nodes and
    // config nodes are opened in every example, a core node type (inject, debug, function…) in the first
    // example that has it.
    const coreTypesOpened = new Set<string>();
    for (const example of listExamples(path.join(root, 'examples'))) {
      it(`${example.system} › ${example.title}: every node and config node stays valid through its dialog`, async function () {
        const { page } = editor.session;
        const errorsBefore = editor.session.pageErrors.length;
        // Imported with new ids: the examples share config nodes (one per instrument) and go side by side here.
        const imported = await page.evaluate((flow) => {
          const { RED } = window as unknown as Red;
          const result = RED.nodes.import(flow, { generateIds: true }) as {
            nodeMap: Record<string, { id: string; type: string }>;
            workspaces?: Array<{ id: string }>;
          };
          const nodes: Array<{ id: string; type: string }> = [];
          const configs: Array<{ id: string; type: string }> = [];
          for (const original of flow) {
            const node = result.nodeMap[original.id];
            if (!node || original.type === 'tab') continue;
            (RED.nodes.getType(node.type).category === 'config' ? configs : nodes).push({ id: node.id, type: node.type });
          }
          return { nodes, configs, tabs: (result.workspaces ?? []).map((w) => w.id) };
        }, example.nodes);
        assert.ok(imported.nodes.length > 0, 'the example imported');
        const all = [...imported.configs, ...imported.nodes];
        const ids = all.map((n) => n.id);
        const problems: string[] = [];
        for (const s of await validity(page, ids)) if (!s.valid) problems.push(`invalid as imported: ${s.type} ${s.errors.join(', ')}`);
        const present = new Set((await validity(page, ids)).map((s) => s.id));
        const attempt = async (node: { id: string; type: string }, config: boolean): Promise<void> => {
          await openAndDone(page, node.id, config).catch(async (err: Error) => {
            problems.push(`${node.type}: the dialog failed: ${err.message.split('\n')[0]}`);
            // Leave no dialog open over the next node.
            await page.evaluate(() => (window as unknown as Red).RED.tray.close());
          });
        };
        // Dashboard 2 keeps one ui-base per Node-RED: an imported copy can be merged away while the test runs.
        for (const node of imported.configs) if (present.has(node.id) && node.type !== 'ui-base') await attempt(node, true);
        for (const node of imported.nodes) {
          const ours = types.some((t) => t.type === node.type);
          if (!ours && coreTypesOpened.has(node.type)) continue;
          coreTypesOpened.add(node.type);
          await attempt(node, false);
        }
        for (const s of await validity(page, ids)) if (!s.valid) problems.push(`invalid after Done: ${s.type} ${s.errors.join(', ')}`);
        for (const tab of imported.tabs) for (const p of invalid(await drawnBoxes(page, tab))) problems.push(`red triangle on ${p}`);
        assert.deepEqual(problems, []);
        assert.deepEqual(editor.session.pageErrors.slice(errorsBefore).filter(notMonacoDisposal), [], 'script errors in the editor');
      });
    }
  });
});
