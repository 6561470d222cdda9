import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pressDone as pressDialogDone } from './dialog-actions';
import { artifacts, chromiumPath, openEditor, root, type EditorSession } from './editor-harness';

type Page = EditorSession['page'];

interface DialogRed {
  RED: {
    nodes: {
      node(id: string): Record<string, unknown> | null;
      eachConfig(cb: (n: Record<string, unknown>) => void): void;
    };
    editor: { editConfig(name: string, type: string, id: string): void };
    view: { importNodes(nodes: unknown[], options?: Record<string, unknown>): void };
  };
  $: (selector: string) => { val(v?: string): unknown; trigger(e: string): unknown };
}

type ConfigType = 'bpwin-server' | 'nebv-server' | 'sfdaq-broker';

/** The reason a field should show, in the editor's language (English unless a test opens a German editor). */
function reasonText(type: ConfigType, key: string, lang = 'en-US'): string {
  const catalog = JSON.parse(fs.readFileSync(path.join(root, 'locales', lang, `${type}.json`), 'utf8')) as Record<
    string,
    { validate: Record<string, string> }
  >;
  const text = catalog[type]!.validate[key];
  assert.ok(text, `${type}.validate.${key} is in the catalog`);
  return text;
}

const input = (field: string): string => `#node-config-input-${field}`;

/** Open the config dialog of a new node (id undefined) or an existing one. */
async function openConfig(page: Page, type: ConfigType, id = '_ADD_'): Promise<void> {
  await page.evaluate(({ t, i }) => (window as unknown as DialogRed).RED.editor.editConfig('', t, i), { t: type, i: id });
  await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible', timeout: 10_000 });
  // The buttons show before the dialog's own script ran (it may wait for the stored credentials); its last step adds Test connection.
  await page.locator('#node-config-dialog-edit-form .labwire-test-connection').waitFor({ state: 'attached', timeout: 10_000 });
}

/** Type into a field as a person does and leave it (Tab), which is when the editor validates and the dialog tidies the value. */
async function typeInto(page: Page, field: string, text: string): Promise<void> {
  const box = page.locator(input(field));
  await box.click();
  await box.fill(text);
  await box.press('Tab');
}

/** What the field shows a person: its red border, and the reason in the tooltip that hovering it opens. */
async function shownReason(page: Page, field: string): Promise<{ flagged: boolean; reason: string }> {
  const box = page.locator(input(field));
  const flagged = await box.evaluate((el) => el.classList.contains('input-error'));
  if (!flagged) return { flagged, reason: '' };
  // The tooltip of a field hovered before must be gone, or its text would be read instead.
  await page.mouse.move(0, 0);
  await page.waitForFunction(
    () => Array.from(document.querySelectorAll<HTMLElement>('.red-ui-popover')).every((el) => el.offsetParent === null),
    null,
    {
      timeout: 15_000,
    },
  );
  await box.hover();
  const tooltip = page.locator('.red-ui-popover:visible').last();
  await tooltip.waitFor({ state: 'visible', timeout: 15_000 });
  const reason = ((await tooltip.textContent()) ?? '').trim();
  await page.mouse.move(0, 0);
  return { flagged, reason };
}

const pressDone = (page: Page): Promise<void> => pressDialogDone(page, true);

async function cancel(page: Page): Promise<void> {
  await page.locator('#node-config-dialog-cancel').click();
  await page.locator('#node-config-dialog-cancel').waitFor({ state: 'detached', timeout: 10_000 });
}

/** The saved config nodes of a type whose `field` is `value`. */
function configsWhere(page: Page, type: ConfigType, field: string, value: string): Promise<Array<Record<string, unknown>>> {
  return page.evaluate(
    ({ t, f, v }) => {
      const found: Array<Record<string, unknown>> = [];
      (window as unknown as DialogRed).RED.nodes.eachConfig((n) => {
        if (n.type === t && String(n[f]) === v) found.push({ id: n.id, valid: n.valid, host: n.host, port: n.port, fastUrl: n.fastUrl });
      });
      return found;
    },
    { t: type, f: field, v: value },
  );
}

/**
 * Type an address into `field` of a new config node's dialog and leave it: the fields then read `expected`, none
 * of them is flagged, and Done saves a valid node. The saved node, found by the first expected field.
 */
async function takesApart(
  page: Page,
  type: ConfigType,
  field: string,
  typed: string,
  expected: Record<string, string>,
): Promise<Record<string, unknown>> {
  await openConfig(page, type);
  await typeInto(page, field, typed);
  for (const [name, value] of Object.entries(expected)) {
    assert.equal(await page.locator(input(name)).inputValue(), value, `${type} ${name} after typing ${typed}`);
    assert.deepEqual(await shownReason(page, name), { flagged: false, reason: '' }, `${type} ${name} is not flagged`);
  }
  await page.screenshot({ path: path.join(artifacts, `${type}-address-taken-apart.png`) });
  await pressDone(page);
  const [key, value] = Object.entries(expected)[0]!;
  const saved = await configsWhere(page, type, key, value);
  assert.equal(saved.length, 1, `one ${type} saved with ${key} ${value}`);
  assert.equal(saved[0]!.valid, true, `the ${type} is valid`);
  return saved[0]!;
}

describe('config dialogs say why a field is refused, and take a pasted address apart', function () {
  this.timeout(180_000);
  let session: EditorSession;

  before(async function () {
    const browserPath = await chromiumPath();
    if (!browserPath) this.skip();
    session = await openEditor(browserPath);
  });

  afterEach(async () => {
    // A failed step must not leave a dialog open over the next test.
    const open = session?.page.locator('#node-config-dialog-cancel');
    if (open && (await open.count()) > 0) await cancel(session.page);
  });

  after(async () => {
    await session?.close();
  });

  it('bpwin-server: http://192.168.0.121:8080 typed into Host becomes Host and Port, with no red border; Done leaves the node valid', async () => {
    await takesApart(session.page, 'bpwin-server', 'host', 'http://192.168.0.121:8080', { host: '192.168.0.121', port: '8080' });
  });

  it('bpwin-server: a URL pasted into Host is taken apart as well, and a host with a port of its own sets Port', async () => {
    const { page } = session;
    await openConfig(page, 'bpwin-server');
    // A paste event with the text already in the field, as Chromium delivers it after a clipboard paste.
    await page.evaluate(
      ([host]) => {
        const { $ } = window as unknown as DialogRed;
        $(host!).val('http://10.1.2.3:9090/data/health');
        $(host!).trigger('paste');
      },
      [input('host')],
    );
    await page.waitForFunction((sel) => document.querySelector<HTMLInputElement>(sel)?.value === '10.1.2.3', input('host'));
    assert.equal(await page.locator(input('port')).inputValue(), '9090');
    await typeInto(page, 'host', 'bpwin-pc:8081');
    assert.equal(await page.locator(input('host')).inputValue(), 'bpwin-pc');
    assert.equal(await page.locator(input('port')).inputValue(), '8081');
    await pressDone(page);
    const saved = await configsWhere(page, 'bpwin-server', 'host', 'bpwin-pc');
    assert.equal(saved[0]?.valid, true);
  });

  /** setup: selects to choose first; advanced: the field sits in the dialog's folded reconnect settings. */
  const refusals: Array<{ type: ConfigType; setup?: Array<[string, string]>; advanced?: boolean; field: string; value: string; reason: string }> = [
    { type: 'bpwin-server', field: 'port', value: '70000', reason: 'port' },
    { type: 'bpwin-server', field: 'port', value: '', reason: 'port' },
    { type: 'bpwin-server', field: 'host', value: '', reason: 'hostRequired' },
    { type: 'bpwin-server', field: 'host', value: 'https://192.168.0.121:8080', reason: 'hostOnly' },
    { type: 'bpwin-server', field: 'timeout', value: '0', reason: 'timeout' },
    { type: 'bpwin-server', field: 'timeout', value: '100000', reason: 'timeout' },
    { type: 'bpwin-server', advanced: true, field: 'reconnectMin', value: '5', reason: 'reconnectMin' },
    { type: 'bpwin-server', advanced: true, field: 'reconnectMax', value: '50', reason: 'reconnectMax' },
    { type: 'nebv-server', field: 'port', value: '', reason: 'portRequired' },
    { type: 'nebv-server', field: 'port', value: '5000-4000', reason: 'portReversed' },
    { type: 'nebv-server', field: 'port', value: '5000-7000', reason: 'portRangeWide' },
    { type: 'nebv-server', field: 'port', value: '99999', reason: 'port' },
    { type: 'nebv-server', field: 'host', value: 'neo ebv', reason: 'host' },
    { type: 'nebv-server', setup: [['transport', 'unix']], field: 'path', value: '', reason: 'path' },
    { type: 'nebv-server', field: 'timeout', value: '-1', reason: 'timeout' },
    { type: 'nebv-server', field: 'maxReply', value: '0', reason: 'maxReply' },
    { type: 'sfdaq-broker', field: 'fastUrl', value: '', reason: 'fastUrlRequired' },
    { type: 'sfdaq-broker', field: 'fastUrl', value: 'ftp://sf-daq:10002', reason: 'url' },
    { type: 'sfdaq-broker', field: 'slowUrl', value: 'http://sf daq:10003', reason: 'url' },
    { type: 'sfdaq-broker', field: 'timeout', value: '86401', reason: 'timeout' },
  ];
  for (const { type, setup, advanced, field, value, reason } of refusals) {
    it(`${type}: ${field} "${value}" shows "${reasonText(type, reason).slice(0, 40)}…"`, async () => {
      const { page } = session;
      await openConfig(page, type);
      for (const [name, choice] of setup ?? []) await page.locator(input(name)).selectOption(choice);
      if (advanced) await page.locator('#node-config-input-advanced-toggle').click();
      await typeInto(page, field, value);
      assert.deepEqual(await shownReason(page, field), { flagged: true, reason: reasonText(type, reason) });
      await cancel(page);
    });
  }

  it('nebv-server: 192.168.0.7:5000-5010 typed into Host becomes Host and a port range', async () => {
    await takesApart(session.page, 'nebv-server', 'host', '192.168.0.7:5000-5010', { host: '192.168.0.7', port: '5000-5010' });
  });

  it('sfdaq-broker: sf-daq-alvra:10002 typed without a scheme gets http://', async () => {
    await takesApart(session.page, 'sfdaq-broker', 'fastUrl', 'sf-daq-alvra:10002', { fastUrl: 'http://sf-daq-alvra:10002' });
  });

  it('bpwin-server saved with a timeout in milliseconds (no version): the dialog shows seconds, Done saves version 1', async () => {
    const { page } = session;
    await page.evaluate(() =>
      (window as unknown as DialogRed).RED.view.importNodes(
        [{ id: 'old-bpwin', type: 'bpwin-server', host: '10.0.0.5', port: 8080, timeout: 3000 }],
        {
          generateIds: false,
          touchImport: true,
        },
      ),
    );
    await openConfig(page, 'bpwin-server', 'old-bpwin');
    assert.equal(await page.locator(input('timeout')).inputValue(), '3');
    assert.deepEqual(await shownReason(page, 'timeout'), { flagged: false, reason: '' });
    await pressDone(page);
    const saved = await page.evaluate(() => {
      const node = (window as unknown as DialogRed).RED.nodes.node('old-bpwin')!;
      return { version: node.version, timeout: Number(node.timeout), valid: node.valid };
    });
    assert.deepEqual(saved, { version: 1, timeout: 3, valid: true });
  });

  it('a German editor gives the reasons in German', async () => {
    const page = await session.browser.newPage({ locale: 'de-DE', viewport: { width: 1500, height: 950 } });
    try {
      await page.goto(`${session.nodeRed.url}/`);
      await page.waitForFunction(
        () => (window as unknown as { RED?: { nodes: { getType(t: string): unknown } } }).RED?.nodes.getType('bpwin-server'),
        null,
        {
          timeout: 60_000,
        },
      );
      await openConfig(page, 'bpwin-server');
      await typeInto(page, 'port', '0');
      assert.deepEqual(await shownReason(page, 'port'), { flagged: true, reason: reasonText('bpwin-server', 'port', 'de') });
      await page.screenshot({ path: path.join(artifacts, 'bpwin-server-reason-de.png') });
    } finally {
      await page.close();
    }
  });

  it('leaves the page without script errors', () => {
    assert.deepEqual(session.pageErrors, []);
  });
});
