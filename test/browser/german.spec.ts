import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, requestJson } from '../../src/cli/node-red-process';
import { editorForSuite, root, screenshotPath } from './editor-harness';
import './editor-globals';

/** Every text of the package's catalogs in one language, as patterns (a placeholder matches anything). */
function catalogPatterns(lang: string): Array<{ key: string; text: string; pattern: RegExp }> {
  const out: Array<{ key: string; text: string; pattern: RegExp }> = [];
  const walk = (value: unknown, key: string): void => {
    // A text that is only placeholders ("__error__") says nothing of its language.
    if (typeof value === 'string' && /[A-Za-zÄÖÜäöüß]/.test(value.replace(/__\w+__/g, ''))) {
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
  // The Debug sidebar cuts long texts with "…": such a piece says the start of a catalog text.
  const says = (c: { text: string; pattern: RegExp }, piece: string): boolean =>
    piece.endsWith('…') ? piece.length > 6 && c.text.startsWith(piece.slice(0, -1)) : c.pattern.test(piece);
  const de = german.find((c) => pieces.some((p) => says(c, p)));
  const en = english.find((c) => pieces.some((p) => says(c, p)) && !german.some((g) => g.key === c.key && g.text === c.text));
  return { german: de?.key, english: en?.key };
}

type Red = {
  RED: {
    nodes: { import(flow: unknown[]): unknown; node(id: string): unknown; dirty(d: boolean): void };
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
    const { page, nodeRed } = editor.session;
    // Every property as the palette gives it, so the nodes are valid; deployed through the admin API, then the
    // editor is opened again, as a person finds it after a deploy.
    const flow = await page.evaluate((port) => {
      const { RED } = window as unknown as Red;
      const z = 'de-tab';
      const nodes: Array<{ type: string } & Record<string, unknown>> = [
        { id: 'de-bpwin', type: 'bpwin-server', name: 'BPWin (aus)', host: '127.0.0.1', port },
        { id: 'de-press', type: 'inject', z, name: 'Start', x: 120, y: 80, wires: [['de-health', 'de-version']] },
        { id: 'de-health', type: 'bpwin-request', z, server: 'de-bpwin', endpoint: 'health', x: 340, y: 80, wires: [['de-debug']] },
        // Health answers "not ready" as a reply; the version request fails with an error.
        { id: 'de-version', type: 'bpwin-request', z, server: 'de-bpwin', endpoint: 'version', x: 340, y: 160, wires: [['de-debug']] },
        { id: 'de-debug', type: 'debug', z, x: 560, y: 80, wires: [] },
      ];
      return [
        { id: z, type: 'tab', label: 'Deutsch' },
        ...nodes.map((n) => ({ ...Object.fromEntries(Object.entries(RED.nodes.getType(n.type).defaults).map(([k, d]) => [k, d.value])), ...n })),
      ];
    }, closedPort);
    const deployed = await requestJson('POST', `${nodeRed.url}/flows`, flow, { 'Node-RED-Deployment-Type': 'full' });
    assert.equal(deployed.status, 204, deployed.body);
    await page.reload();
    await page.waitForFunction(() => document.querySelector('g.red-ui-flow-node-group[id="de-health"]') !== null, null, { timeout: 60_000 });
  });

  it('shows the editor in German', async () => {
    const deploy = (await editor.session.page.locator('#red-ui-header-button-deploy').innerText()).trim();
    assert.match(deploy, /^Übernahme/, 'the Deploy button in German');
  });

  it('shows German status texts under the nodes', async () => {
    const { page } = editor.session;
    const status = (id: string): Promise<string> =>
      page
        .locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-node-status-label`)
        .textContent()
        .then((t) => t ?? '');
    const answer = await page.evaluate(() => fetch('inject/de-press', { method: 'POST' }).then((r) => r.status));
    assert.equal(answer, 200, `pressing the inject button: ${editor.session.nodeRed.output().slice(-1500)}`);
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
    // An error shows as a message of level 20; its text is one line of what the entry shows (name, topic, text).
    const message = page.locator('.red-ui-debug-msg-level-20');
    await message
      .first()
      .waitFor({ timeout: 15_000 })
      .catch(async (err: Error) => {
        const shown = await page.evaluate(() =>
          Array.from(document.querySelectorAll('.red-ui-debug-msg')).map((e) => `${e.className}: ${(e as HTMLElement).innerText}`),
        );
        throw new Error(`${err.message.split('\n')[0]}; the Debug sidebar shows ${JSON.stringify(shown)}`);
      });
    const lines = (await message.first().innerText()).split('\n').map((l) => l.replace(/^"|"$/g, '').trim());
    // The entry shows the error object: its message is what a person reads.
    const entry = [...lines].sort((a, b) => b.length - a.length)[0] ?? '';
    const text = /message: "([^"]*)"/.exec(entry)?.[1] ?? entry;
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
    const which = sayWhich(answer);
    assert.ok(which.german && !which.english, `the answer "${answer}" is German (${JSON.stringify(which)})`);
    await page.locator('#node-config-dialog-cancel').click();
    assert.deepEqual(editor.session.pageErrors, [], 'script errors in the editor');
  });
});
