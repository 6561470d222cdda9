import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { startDemo, type RunningDemo } from '../../src/cli/demo';
import { freePort } from '../../src/cli/node-red-process';
import { chromiumPath, launchChromium } from '../helpers/chromium';
import { waitFor } from '../helpers/wait-for';
import { drawnBoxes, invalid, outsideView, overlaps, visibleCanvas, workspaces } from './canvas-check';
import { artifacts, root, screenshotPath } from './editor-harness';

/** What a newcomer's first minutes look like: `npm start`, then the editor and the dashboard on a common desktop screen. */
describe('the demo as a person first sees it (npm start)', function () {
  this.timeout(300_000);
  const screen = { width: 1920, height: 1080 };
  let demo: RunningDemo;
  let browser: Browser;
  let editor: Page;
  let userDir: string;
  let openedAt = 0;
  const pageErrors: string[] = [];

  before(async function () {
    const executable = await chromiumPath();
    if (!executable) this.skip();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labwire-first-contact-'));
    demo = await startDemo({ packageRoot: root, userDir, port: await freePort(), quiet: true });
    browser = await launchChromium(executable);
    editor = await browser.newPage({ viewport: screen });
    editor.on('pageerror', (err) => pageErrors.push(err.message));
    await editor.goto(`${demo.url}/`);
    await editor.waitForSelector('.red-ui-tab', { timeout: 60_000 });
    openedAt = Date.now();
    fs.mkdirSync(artifacts, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await demo?.stop();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('opens with nothing to deploy: the Deploy button is not lit', async () => {
    await editor.waitForTimeout(2000);
    assert.equal(await editor.evaluate(() => window.RED.nodes.dirty()), false, 'the editor thinks the deployed flows have changes');
    assert.ok(await editor.locator('#red-ui-header-button-deploy.disabled').count(), 'the Deploy button is lit');
  });

  const whole = 'no red triangle, nothing cut by the palette or beyond the screen, nothing drawn over anything else';
  it(`shows every example tab whole: ${whole}`, async () => {
    // Statuses arrive in the first seconds; they are part of what a person sees.
    await editor.waitForTimeout(Math.max(0, openedAt + 8000 - Date.now()));
    const view = await visibleCanvas(editor);
    const problems: string[] = [];
    for (const tab of await workspaces(editor)) {
      const boxes = await drawnBoxes(editor, tab.id);
      await editor.screenshot({ path: path.join(artifacts, `demo-tab-${tab.label}.png`.replace(/[^\w.-]+/g, '_')) });
      assert.ok(boxes.length > 0, `${tab.label}: the tab shows nodes`);
      for (const p of invalid(boxes)) problems.push(`${tab.label}: red triangle on ${p}`);
      for (const p of outsideView(boxes, view)) problems.push(`${tab.label}: outside the visible canvas: ${p}`);
      for (const p of overlaps(boxes)) problems.push(`${tab.label}: drawn over each other: ${p}`);
    }
    assert.deepEqual(problems, []);
    assert.deepEqual(pageErrors, [], 'script errors in the editor');
  });

  it('shows both example dashboards live at /dashboard, with no Deploy pressed', async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    try {
      await page.goto(`${demo.url}/dashboard/bpwin`);
      const body = page.locator('body');
      await page.waitForFunction(() => /Machine/.test(document.body.innerText), null, { timeout: 30_000 });
      assert.doesNotMatch((await body.innerText()) ?? '', /do not support multiple ui-base/i);
      // Live: the job's elapsed time moves on while we watch.
      const elapsed = (): Promise<string> => page.evaluate(() => /Elapsed time\s*([0-9:]+)/.exec(document.body.innerText)?.[1] ?? '');
      await page.waitForFunction(() => /Elapsed time\s*\d\d:\d\d:\d\d/.test(document.body.innerText), null, { timeout: 30_000 });
      const before = await elapsed();
      await page.waitForFunction((was) => (/Elapsed time\s*([0-9:]+)/.exec(document.body.innerText)?.[1] ?? was) !== was, before, {
        timeout: 30_000,
      });
      assert.match(await body.innerText(), /Machine\s+\S+/);
      // Both throughput charts draw what they show: the pie has its passed slice, and the DPH trend
      // its actual line (it once hid under the potential line, drawn later with equal values).
      const [pie, trend] = [page.locator('canvas').nth(0), page.locator('canvas').nth(1)];
      await page.waitForFunction(() => document.querySelectorAll('canvas').length >= 2, null, { timeout: 30_000 });
      // A line needs two points: on a fast start the trend may have only one yet, so give it time to draw.
      let [pieGreen, trendGreen] = [0, 0];
      await waitFor(async () => (pieGreen = await greenInPlot(pie)) > 500, 30_000).catch(() => undefined);
      await waitFor(async () => (trendGreen = await greenInPlot(trend)) > 100, 30_000).catch(() => undefined);
      assert.ok(pieGreen > 500, 'the Devices pie shows no passed slice');
      assert.ok(trendGreen > 100, 'the Devices per hour chart shows no Actual DPH line');
      await page.screenshot({ path: screenshotPath('dashboard-bpwin'), fullPage: true });

      await page.goto(`${demo.url}/dashboard/propeller`);
      await page.waitForFunction(() => /Graph/.test(document.body.innerText), null, { timeout: 30_000 });
      // The chart is drawn on a canvas: live means points arrive, i.e. the chart's canvas changes.
      const chart = page.locator('canvas').first();
      await chart.waitFor({ timeout: 30_000 });
      const shot1 = await chart.screenshot();
      let changed = false;
      await waitFor(async () => (changed = !shot1.equals(await chart.screenshot())), 15_000).catch(() => undefined);
      assert.ok(changed, 'the Propeller chart did not change in 15 s: no data is arriving');
      await page.screenshot({ path: screenshotPath('dashboard-propeller'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('keeps the Debug sidebar readable: fewer than 10 messages in 60 s with no button pressed, and a button press shows', async () => {
    await editor.evaluate(() => window.RED.sidebar.show('debug'));
    await editor.waitForTimeout(Math.max(0, openedAt + 60_000 - Date.now()));
    const messages = await editor.locator('.red-ui-debug-msg').count();
    const names = await editor.locator('.red-ui-debug-msg-name').allInnerTexts();
    await editor.screenshot({ path: path.join(artifacts, 'demo-debug-after-60s.png') });
    assert.ok(messages < 10, `${messages} debug messages in the first minute: ${[...new Set(names)].join(', ')}`);

    // The count is of what the sidebar shows: a button press must appear in it.
    const health = await editor.evaluate(() => {
      let id = '';
      window.RED.nodes.eachNode((n) => {
        if (n.type === 'inject' && n.name === 'health') id = n.id;
      });
      return id;
    });
    assert.ok(health, 'the BPWin health button is in the demo');
    await editor.evaluate((id) => fetch(`inject/${id}`, { method: 'POST' }), health);
    await editor.waitForFunction((before) => document.querySelectorAll('.red-ui-debug-msg').length > before, messages, { timeout: 15_000 });
  });

  it('after a Deploy from the editor and a restart, keeps the example tab the person changed and renews the others', async () => {
    // A note added on one example tab, then the editor's own full Deploy, which sends every node as the editor writes it.
    const tab = await editor.evaluate(() => {
      const first = window.RED.nodes.getWorkspaceOrder()[0]!;
      // As a person does it: open the tab, then add to it (the editor puts what it imports on the open tab).
      window.RED.workspaces.show(first);
      window.RED.nodes.import([{ id: 'a-note-of-mine', type: 'comment', z: first, name: 'my note', info: '', x: 1400, y: 900, wires: [] }]);
      window.RED.nodes.dirty(true);
      window.RED.view.redraw(true);
      return first;
    });
    await editor.locator('#red-ui-header-button-deploy').click();
    await editor.waitForFunction(() => !window.RED.nodes.dirty(), null, { timeout: 15_000 });

    const noteOn = async (url: string): Promise<boolean> =>
      ((await fetch(`${url}/flows`).then(async (r) => (await r.json()) as Array<{ id: string; z?: string }>)) ?? []).some(
        (n) => n.id === 'a-note-of-mine' && n.z === tab,
      );
    assert.ok(await noteOn(demo.url), 'the note was deployed');
    await demo.stop();
    demo = await startDemo({ packageRoot: root, userDir, port: await freePort(), quiet: true });
    assert.ok(await noteOn(demo.url), 'the note is still on its tab after the restart');
    const record = JSON.parse(fs.readFileSync(path.join(userDir, 'labwire-example-tabs.json'), 'utf8')) as Record<string, string>;
    const kept = Object.keys(record).filter((id) => !/^[0-9a-f]{64}$/.test(record[id]!));
    assert.deepEqual(kept, [tab], 'only the changed tab is kept as the person left it; the editor rewriting the others is no change');
  });
});

/** Pixels of the dashboard's "passed / actual" green (#43a047) below the chart's title and legend. */
function greenInPlot(canvas: Locator): Promise<number> {
  return canvas.evaluate((element) => {
    const c = element as HTMLCanvasElement;
    const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
    let count = 0;
    for (let i = Math.floor(c.height * 0.25) * c.width * 4; i < data.length; i += 4) {
      if (Math.abs(data[i] - 0x43) < 24 && Math.abs(data[i + 1] - 0xa0) < 24 && Math.abs(data[i + 2] - 0x47) < 24) count += 1;
    }
    return count;
  });
}
