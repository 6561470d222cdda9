import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Locator } from 'playwright-core';
import './editor-globals';
import { artifacts, chromiumPath, openEditor, root, type EditorSession } from './editor-harness';
import { waitFor } from '../helpers/wait-for';

interface ExampleRef {
  system: string;
  title: string;
}

function examples(): ExampleRef[] {
  const dir = path.join(root, 'examples');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .sort()
    .flatMap((system) =>
      fs
        .readdirSync(path.join(dir, system))
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((file) => ({ system, title: file.slice(0, -'.json'.length) })),
    );
}

const UNREACHABLE = new RegExp(
  [
    'connection (closed|refused)',
    'not connected',
    'ECONNREFUSED',
    'ENOENT',
    'no such file',
    'timed out',
    'no reply within',
    'could not (open|reach)',
    'cannot open',
    'port .*not found',
    'does not exist',
    'unreachable',
  ].join('|'),
  'i',
);

describe('every example imports from Import › Examples and deploys', function () {
  this.timeout(300_000);
  let session: EditorSession;

  before(async function () {
    const browserPath = await chromiumPath();
    if (!browserPath) this.skip();
    session = await openEditor(browserPath);
  });

  after(async () => {
    await session?.close();
  });

  afterEach(async () => {
    // A failed step must not leave a dialog open over the next example.
    await session?.page.keyboard.press('Escape').catch(() => undefined);
    const cancel = session?.page.locator('.ui-dialog:visible button', { hasText: /^cancel$/i });
    if (cancel && (await cancel.count()))
      await cancel
        .first()
        .click()
        .catch(() => undefined);
  });

  for (const example of examples()) {
    it(`${example.system} › ${example.title}`, async () => {
      const { page } = session;
      await page.click('#red-ui-header-button-sidemenu');
      await page.click('#menu-item-import');
      await page.click('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples');
      const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
      // The dialog remembers which folders are open; clicking an open folder would close it.
      const trail = ['@labwire/node-red-instruments', example.system, example.title];
      // A folder seen closed may only be drawing or sliding open: a click then closes it again. So each
      // folder is clicked until what is inside shows, and the example itself once.
      const label = (text: string): Locator => tree.locator('.red-ui-treeList-label', { hasText: text }).first();
      for (let i = 0; i < trail.length - 1; i += 1) {
        await label(trail[i]!).waitFor({ timeout: 10_000 });
        for (let attempt = 0; attempt < 4 && !(await label(trail[i + 1]!).isVisible()); attempt += 1) {
          await label(trail[i]!).click();
          await label(trail[i + 1]!)
            .waitFor({ timeout: 2000 })
            .catch(() => undefined);
        }
      }
      await label(example.title).waitFor({ timeout: 10_000 });
      await label(example.title).click();
      // A click that lands while the folder is still sliding open selects nothing (Import stays disabled):
      // click the example again, as a person would, until it is selected.
      const importEnabled = page.locator('#red-ui-clipboard-dialog-ok:not(.ui-state-disabled)');
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const selected = await importEnabled.waitFor({ timeout: 1000 }).then(
          () => true,
          () => false,
        );
        if (selected) break;
        await label(example.title).click();
      }
      await page.click('#red-ui-clipboard-dialog-import-opt-new');
      const logBefore = session.nodeRed.output().length;
      const historyBefore = await page.evaluate(() => window.RED.history.depth());
      await page.click('#red-ui-clipboard-dialog-ok');
      // The editor fetches the example after the click: it is in once it is on the undo history,
      // or Node-RED is asking what to do with nodes that already exist.
      await page.waitForFunction(
        (before) =>
          window.RED.history.depth() > before ||
          [...document.querySelectorAll<HTMLElement>('.red-ui-notification')].some(
            (n) => n.offsetParent !== null && /already exist/.test(n.textContent ?? ''),
          ),
        historyBefore,
        { timeout: 10_000 },
      );
      // Imported nodes may be attached to the pointer: a click places them.
      const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
      await page.mouse.click(chart!.x + 60, chart!.y + 60);
      const conflict = page.locator('.red-ui-notification', { hasText: 'already exist' });
      if (await conflict.count()) await conflict.locator('button', { hasText: /import copy/i }).click();

      await page.click('#red-ui-header-button-deploy');
      const confirm = page.locator('#red-ui-header-button-deploy-confirm, .red-ui-deploy-dialog-confirm-list, #node-dialog-confirm-deploy');
      const deployed = page.locator('.red-ui-notification', { hasText: /successfully deployed/i }).first();
      await Promise.race([deployed.waitFor({ timeout: 20_000 }), confirm.first().waitFor({ timeout: 20_000 })]);
      await page.screenshot({ path: path.join(artifacts, `example-${example.system}-${example.title}.png`.replace(/[^\w.-]+/g, '_')) });
      if (await confirm.count()) {
        const text = (await page.locator('.ui-dialog:visible').first().textContent()) ?? '';
        assert.fail(`deploying asked for confirmation instead of deploying: ${text.replace(/\s+/g, ' ').trim()}`);
      }
      // The runtime logs this once every node of the new flows has been started, so errors from starting are in the log.
      await waitFor(
        () => /Started (modified )?(flows|nodes)/.test(session.nodeRed.output().slice(logBefore)),
        30_000,
        'Node-RED to start the deployed flows',
      ).catch((err: Error) => {
        // Say what the runtime logged instead, so a failure here explains itself.
        throw new Error(`${err.message}; Node-RED logged since the deploy: ${session.nodeRed.output().slice(logBefore).slice(-1500)}`);
      });
      // No instrument or simulator listens at the examples' default addresses here, so a node saying
      // it cannot reach one is expected; any other error means the flow itself is broken.
      const errors = session.nodeRed
        .output()
        .slice(logBefore)
        .split('\n')
        .filter((line) => /\[error\]/.test(line) && !UNREACHABLE.test(line));
      assert.deepEqual(errors, [], 'Node-RED logged errors after deploying the example');
      assert.deepEqual(session.pageErrors, [], 'no script errors in the editor');
    });
  }

  it("imported every system's examples onto one config node per instrument (Import copy reuses it)", async () => {
    const counts = await session.page.evaluate(() => {
      const out: Record<string, number> = {};
      window.RED.nodes.eachConfig((n) => {
        out[n.type] = (out[n.type] ?? 0) + 1;
      });
      return out;
    });
    // Semi-ATE has two instruments in the examples: one tester over its UI websocket, one over MQTT. The Launcher has
    // two connections: its terminal data does not say its port, so the graph board is watched over a second one.
    const expected: Record<string, number> = {
      'bpwin-server': 1,
      'propeller-launcher': 2,
      'propeller-serial': 1,
      'semiate-tester': 2,
      'sfdaq-broker': 1,
      'nebv-server': 1,
      'ui-base': 1,
    };
    for (const [type, count] of Object.entries(expected)) assert.equal(counts[type], count, `${type} config nodes after importing every example`);
  });
});
