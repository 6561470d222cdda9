import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../src/cli/node-red-process';
import { editorForSuite, root, screenshotPath } from './editor-harness';
import './editor-globals';

/** Every text of the package's catalogs in one language, as patterns (a placeholder matches anything). */
function catalogPatterns(lang: string): Array<{ key: string; text: string; pattern: RegExp }> {
  const out: Array<{ key: string; text: string; pattern: RegExp }> = [];
  const walk = (value: unknown, key: string): void => {
    if (typeof value === 'string') {
      const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/__\w+__/g, '.+');
      out.push({ key, text: value, pattern: new RegExp(`^${escaped}$`) });
    } else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, key ? `${key}.${k}` : k);
  };
  const dir = path.join(root, 'locales', lang);
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) walk(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')), '');
  return out;
}

const german = catalogPatterns('de');
const english = catalogPatterns('en-US');

/** A text is German when some German catalog text (or a sentence of it) says it and no English one that differs does. */
function sayWhich(text: string): { german?: string; english?: string } {
  const pieces = [text, ...text.split(/:\s+/)];
  const de = german.find((c) => pieces.some((p) => c.pattern.test(p)));
  const en = english.find((c) => pieces.some((p) => c.pattern.test(p)) && !german.some((g) => g.key === c.key && g.text === c.text));
  return { german: de?.key, english: en?.key };
}

type Red = {
  RED: {
    nodes: { import(flow: unknown[]): unknown; node(id: string): unknown };
    workspaces: { active(): string };
    editor: { editConfig(name: string, type: string, id: string): void };
    view: { redraw(full?: boolean): void };
  };
};

describe('the editor and the runtime in German', function () {
  this.timeout(120_000);
  const editor = editorForSuite({ settings: { lang: 'de' }, locale: 'de-DE' });
  let closedPort = 0;

  before(async function () {
    if (!editor.session) this.skip();
    // Nothing listens here: BPWin "is not running".
    closedPort = await freePort();
    const { page } = editor.session;
    await page.evaluate((port) => {
      const { RED } = window as unknown as Red;
      const z = RED.workspaces.active();
      RED.nodes.import([
        { id: 'de-bpwin', type: 'bpwin-server', name: 'BPWin (aus)', host: '127.0.0.1', port, timeout: 2000 },
        { id: 'de-press', type: 'inject', z, name: 'Start', x: 120, y: 80, wires: [['de-health']], props: [] },
        { id: 'de-health', type: 'bpwin-request', z, server: 'de-bpwin', endpoint: 'health', x: 340, y: 80, wires: [['de-debug']] },
        { id: 'de-debug', type: 'debug', z, active: true, complete: 'payload', x: 560, y: 80, wires: [] },
        { id: 'de-lonely', type: 'semiate-status', z, tester: '', x: 340, y: 180, wires: [] },
      ]);
      RED.view.redraw(true);
    }, closedPort);
    await page.locator('#red-ui-header-button-deploy').click();
    await page.locator('.red-ui-notification').first().waitFor({ timeout: 20_000 });
  });

  it('shows the editor in German', async () => {
    const deploy = (await editor.session.page.locator('#red-ui-header-button-deploy').innerText()).trim();
    assert.match(deploy, /^Übernahme/, 'the Deploy button in German');
  });

  it('shows German status texts under the nodes', async () => {
    const { page } = editor.session;
    const status = (id: string): Promise<string> => page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-node-status-label`).innerText();
    await page.waitForFunction(
      () => document.querySelector('g.red-ui-flow-node-group[id="de-lonely"] .red-ui-flow-node-status-label')?.textContent,
      null,
      {
        timeout: 15_000,
      },
    );
    const lonely = await status('de-lonely');
    assert.deepEqual(sayWhich(lonely), { german: 'labwire.status.notConfigured', english: undefined }, `"${lonely}"`);

    await page.evaluate(() => fetch('inject/de-press', { method: 'POST' }));
    await page.waitForFunction(
      () => document.querySelector('g.red-ui-flow-node-group[id="de-health"] .red-ui-flow-node-status-label')?.textContent,
      null,
      {
        timeout: 15_000,
      },
    );
    const failed = await status('de-health');
    const which = sayWhich(failed);
    assert.ok(which.german && !which.english, `the failed request's status "${failed}" is German (${JSON.stringify(which)})`);
  });

  it('shows the error in the Debug sidebar in German', async () => {
    const { page } = editor.session;
    await page.evaluate(() => window.RED.sidebar.show('debug'));
    const message = page.locator(
      '.red-ui-debug-msg.red-ui-debug-msg-level-20 .red-ui-debug-msg-payload, .red-ui-debug-msg-level-20 .red-ui-debug-msg-row',
    );
    await message.first().waitFor({ timeout: 15_000 });
    const text = (await message.first().innerText()).replace(/^"|"$/g, '').trim();
    await page.screenshot({ path: screenshotPath('german-debug-error') });
    const which = sayWhich(text);
    assert.ok(which.german && !which.english, `the error "${text}" is German (${JSON.stringify(which)})`);
  });

  it('answers Test connection in German', async () => {
    const { page } = editor.session;
    await page.evaluate(() => (window as unknown as Red).RED.editor.editConfig('', 'bpwin-server', 'de-bpwin'));
    const button = page.locator('.labwire-test-connection button');
    await button.waitFor({ timeout: 10_000 });
    const label = (await button.innerText()).trim();
    assert.deepEqual(sayWhich(label), { german: 'bpwin-server.test.button', english: undefined }, `the button says "${label}"`);
    await button.click();
    const result = page.locator('.labwire-test-connection-result');
    await page.waitForFunction(() => /^[✓✗] /.test(document.querySelector('.labwire-test-connection-result')?.textContent ?? ''), null, {
      timeout: 20_000,
    });
    const answer = (await result.innerText()).replace(/^[✓✗] /, '');
    await page.screenshot({ path: screenshotPath('german-test-connection') });
    await page.locator('#node-config-dialog-cancel').click();
    const which = sayWhich(answer);
    assert.ok(which.german && !which.english, `the answer "${answer}" is German (${JSON.stringify(which)})`);
    assert.deepEqual(editor.session.pageErrors, [], 'script errors in the editor');
  });
});
