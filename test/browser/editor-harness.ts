import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromiumPath, launchChromium } from '../helpers/chromium';
import { freePort, prepareUserDir, startNodeRed, type NodeRedProcess } from '../../src/cli/node-red-process';

export const root = path.resolve(__dirname, '..', '..');
export const artifacts = path.join(root, 'test-artifacts', 'browser');
/** Pictures of what a person sees (palette, dialogs, dashboards), kept by CI for a human to look at. */
export const screenshots = path.join(root, 'test-artifacts', 'screenshots');

/** A file name for a screenshot: anything but letters, digits, '.', '_' and '-' becomes '_'. */
export function screenshotPath(name: string): string {
  fs.mkdirSync(screenshots, { recursive: true });
  return path.join(screenshots, `${name.replace(/[^\w.-]+/g, '_')}.png`);
}

export interface NodeTypeInfo {
  type: string;
  category: string;
  isConfig: boolean;
  /** The palette icon the editor file names (config nodes have none). */
  icon: string | undefined;
}

/** The package's node types and their palette categories, read from the editor files. */
export function packageNodeTypes(): NodeTypeInfo[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  return Object.keys(pkg['node-red'].nodes)
    .sort()
    .map((type) => {
      const html = fs.readFileSync(path.join(root, 'nodes', `${type}.html`), 'utf8');
      const at = html.search(new RegExp(`registerType\\(\\s*['"]${type}['"]`));
      const category = /category\s*:\s*['"]([^'"]+)['"]/.exec(html.slice(at))?.[1] ?? '';
      const icon = /\bicon\s*:\s*['"]([^'"]+)['"]/.exec(html.slice(at))?.[1];
      return { type, category, isConfig: category === 'config', icon };
    });
}

/** Node-RED's own id for a palette category container. */
export function categoryId(category: string): string {
  // The same character class as the editor's escapeCategory(): everything but letters, digits and '-'.
  // eslint-disable-next-line no-control-regex
  return `red-ui-palette-container-${category.replace(/[\x00-\x2c\x2e-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/g, '_')}`;
}

import { chromiumPath } from '../helpers/chromium';
export { chromiumPath };

export interface EditorSession {
  nodeRed: NodeRedProcess;
  browser: Browser;
  page: Page;
  pageErrors: string[];
  close(): Promise<void>;
}

export interface EditorOptions {
  /** More Node-RED settings, e.g. { lang: 'de' } for the runtime's language. */
  settings?: Record<string, unknown>;
  /** The browser's language, which the editor follows (e.g. 'de-DE'). */
  locale?: string;
}

/** Node-RED with the package in a temporary userDir on a free port, and Chromium on its editor. */
export async function openEditor(executablePath: string, options: EditorOptions = {}): Promise<EditorSession> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labwire-editor-'));
  prepareUserDir(userDir, root, options.settings);
  const nodeRed = await startNodeRed(userDir, await freePort(), { quiet: true });
  const browser = await launchChromium(executablePath);
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 }, locale: options.locale ?? 'en-US' });
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${nodeRed.url}/`);
  await page.waitForFunction(() => document.querySelector('.red-ui-palette-node[data-palette-type="inject"]') !== null, null, { timeout: 60_000 });
  // The editor loads node modules one after another, core first: wait for this package's node types too.
  await page.waitForFunction(
    (types) => {
      const RED = (window as unknown as { RED: { nodes: { getType(t: string): unknown } } }).RED;
      return types.every((t) => RED.nodes.getType(t) !== undefined);
    },
    packageNodeTypes().map((t) => t.type),
    { timeout: 60_000 },
  );
  fs.mkdirSync(artifacts, { recursive: true });
  return {
    nodeRed,
    browser,
    page,
    pageErrors,
    close: async () => {
      await browser.close().catch(() => undefined);
      await nodeRed.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** Drag a palette entry onto the workspace like a user; returns the new node's id. */
export async function dragFromPalette(page: Page, type: string, x: number, y: number): Promise<string> {
  const before = await nodeIdsOfType(page, type);
  const entry = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
  await entry.scrollIntoViewIfNeeded();
  const from = await entry.boundingBox();
  const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
  if (!from || !chart) throw new Error(`cannot see the palette entry of ${type} or the workspace`);
  const start = { x: from.x + from.width / 2, y: from.y + from.height / 2 };
  const end = { x: chart.x + x, y: chart.y + y };
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  for (let i = 1; i <= 12; i += 1) await page.mouse.move(start.x + ((end.x - start.x) * i) / 12, start.y + ((end.y - start.y) * i) / 12);
  await page.mouse.up();
  const after = await nodeIdsOfType(page, type);
  const added = after.filter((id) => !before.includes(id));
  if (added.length !== 1) throw new Error(`dragging ${type} onto the workspace added ${added.length} nodes`);
  return added[0]!;
}

export function nodeIdsOfType(page: Page, type: string): Promise<string[]> {
  return page.evaluate((t) => {
    const RED = (window as unknown as { RED: { nodes: { filterNodes(f: { type: string }): Array<{ id: string }> } } }).RED;
    return RED.nodes.filterNodes({ type: t }).map((n) => n.id);
  }, type);
}

/** The editor of a describe block: opened before its tests (skipping them without Chromium), closed after. */
export function editorForSuite(options: EditorOptions = {}): { session: EditorSession } {
  const holder = {} as { session: EditorSession };
  before(async function () {
    const browserPath = await chromiumPath();
    if (!browserPath) this.skip();
    holder.session = await openEditor(browserPath, options);
  });
  after(async () => {
    await holder.session?.close();
  });
  return holder;
}
