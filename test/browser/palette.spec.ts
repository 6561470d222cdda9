import assert from 'node:assert/strict';
import { categoryId, editorForSuite, packageNodeTypes, screenshotPath } from './editor-harness';

/** The five systems: the name a person knows each by, and its node types (by prefix). */
const SYSTEMS = [
  { name: 'BPWin', prefix: 'bpwin-' },
  { name: 'Propeller', prefix: 'propeller-' },
  { name: 'neoEBV', prefix: 'nebv-' },
  { name: 'Semi-ATE', prefix: 'semiate-' },
  { name: 'sf-daq', prefix: 'sfdaq-' },
];

const userTypes = packageNodeTypes().filter((t) => !t.isConfig);
const configTypes = packageNodeTypes().filter((t) => t.isConfig);
const ofSystem = (prefix: string): string[] => userTypes.filter((t) => t.type.startsWith(prefix)).map((t) => t.type);
/** The Propeller nodes that talk to a board (through the BlocklyProp Launcher or a serial port). */
const propellerLinks = ['propeller-load', 'propeller-ports', 'propeller-terminal'];

/** What a person types into the palette filter, and the package's nodes they expect to see. */
const SEARCHES: Array<{ text: string; finds: string[] }> = [
  { text: 'semi-ate', finds: ofSystem('semiate-') },
  { text: 'Semi-ATE', finds: ofSystem('semiate-') },
  { text: 'tester', finds: ofSystem('semiate-') },
  { text: 'sf-daq', finds: ofSystem('sfdaq-') },
  { text: 'SwissFEL', finds: ofSystem('sfdaq-') },
  { text: 'BPWin', finds: ofSystem('bpwin-') },
  { text: 'Propeller', finds: ofSystem('propeller-') },
  { text: 'launcher', finds: propellerLinks },
  { text: 'serial', finds: propellerLinks },
  { text: 'neoEBV', finds: ofSystem('nebv-') },
];

/** Hue in degrees of a CSS colour as the browser reports it ("rgb(r, g, b)"). */
function hue(css: string): number {
  const [r, g, b] = (/rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(css) ?? []).slice(1, 4).map((v) => Number(v) / 255) as [number, number, number];
  const max = Math.max(r, g, b);
  const span = max - Math.min(r, g, b);
  if (span === 0) return 0;
  const h = max === r ? ((g - b) / span) % 6 : max === g ? (b - r) / span + 2 : (r - g) / span + 4;
  return (h * 60 + 360) % 360;
}

describe('the palette as a person uses it', function () {
  this.timeout(120_000);
  const editor = editorForSuite();

  /** Type into the palette's filter box like a person and read which package nodes stay visible. */
  async function filterPalette(text: string, expected: string[]): Promise<{ visible: string[]; all: number }> {
    const { page } = editor.session;
    const box = page.locator('#red-ui-palette-search input');
    // Node-RED slides a category shut when a filter leaves it empty, and a show() during that slide is
    // undone when it ends: like a person reading the result, let the palette settle before typing again.
    await page.waitForFunction(() => (window as unknown as { $: (s: string) => { length: number } }).$(':animated').length === 0);
    await box.fill('');
    await box.pressSequentially(text);
    const ours = userTypes.map((t) => t.type);
    // The filter applies after a short pause in typing, and categories slide open or shut: wait until the
    // palette shows what it will show, with no animation left that could still hide a category.
    await page
      .waitForFunction(
        ({ types, want }) => {
          if ((window as unknown as { $: (s: string) => { length: number } }).$(':animated').length > 0) return false;
          const shown = types.filter((t) => {
            const el = document.querySelector<HTMLElement>(`.red-ui-palette-node[data-palette-type="${t}"]`);
            return el !== null && el.offsetParent !== null;
          });
          return JSON.stringify(shown) === JSON.stringify(want);
        },
        { types: ours, want: [...expected].sort() },
        { timeout: 3000 },
      )
      .catch(() => undefined);
    await page.waitForFunction(() => (window as unknown as { $: (s: string) => { length: number } }).$(':animated').length === 0);
    // (No named functions in page code: the test runner's compiler wraps them in a helper the page does not have.)
    return page.evaluate(
      (types) => ({
        visible: types.filter((t) => document.querySelector<HTMLElement>(`.red-ui-palette-node[data-palette-type="${t}"]`)?.offsetParent),
        all: Array.from(document.querySelectorAll<HTMLElement>('.red-ui-palette-node')).filter((el) => el.offsetParent !== null).length,
      }),
      ours,
    );
  }

  for (const search of SEARCHES) {
    it(`filtering the palette for "${search.text}" shows ${search.finds.join(', ')}`, async () => {
      const found = await filterPalette(search.text, search.finds);
      assert.deepEqual(found.visible, [...search.finds].sort());
      assert.ok(found.all >= search.finds.length);
    });
  }

  it('clears the filter: every package node is back', async () => {
    const found = await filterPalette('', userTypes.map((t) => t.type).sort());
    assert.deepEqual(found.visible, userTypes.map((t) => t.type).sort());
  });

  it("labels every node with its system's name, in one style, and gives every config node a friendly name", async () => {
    const labels = await editor.session.page.evaluate(
      (types) =>
        types.map((t) => {
          const def = (window as unknown as { RED: { nodes: { getType(t: string): { paletteLabel?: unknown } } } }).RED.nodes.getType(t);
          const label = typeof def.paletteLabel === 'function' ? String((def.paletteLabel as () => unknown).call(def)) : String(def.paletteLabel);
          return {
            type: t,
            label,
            shown: document.querySelector(`.red-ui-palette-node[data-palette-type="${t}"] .red-ui-palette-label`)?.textContent,
          };
        }),
      packageNodeTypes().map((t) => t.type),
    );
    const problems: string[] = [];
    for (const { type, label, shown } of labels) {
      const system = SYSTEMS.find((s) => type.startsWith(s.prefix))!;
      // "<System> <what>": the system's name as people write it (a palette label may join it with a
      // non-breaking hyphen, see below), then the words.
      if (!new RegExp(`^${system.name} [a-zA-Z]`).test(label.replace(/\u2011/g, '-')))
        problems.push(`${type}: "${label}" does not read "${system.name} <what>"`);
      if (label === type) problems.push(`${type}: no friendly name`);
      const isConfig = configTypes.some((c) => c.type === type);
      // The palette breaks lines at hyphens and joins the pieces with spaces ("Semi - ATE"): what it shows must read as the label.
      if (!isConfig && shown?.replace(/\s+/g, ' ') !== label) problems.push(`${type}: the palette shows "${shown}" for "${label}"`);
    }
    assert.deepEqual(problems, []);
  });

  it('gives each system one colour, clearly apart from the others', async () => {
    const colours = await editor.session.page.evaluate(
      (types) =>
        types.map((t) => ({
          type: t,
          css: getComputedStyle(document.querySelector(`.red-ui-palette-node[data-palette-type="${t}"]`)!).backgroundColor,
        })),
      userTypes.map((t) => t.type),
    );
    const bySystem = new Map<string, Set<string>>();
    for (const { type, css } of colours) {
      const system = SYSTEMS.find((s) => type.startsWith(s.prefix))!.name;
      bySystem.set(system, (bySystem.get(system) ?? new Set()).add(css));
    }
    for (const [system, set] of bySystem) assert.equal(set.size, 1, `${system}: one colour for all its nodes (${[...set].join(', ')})`);
    const hues = [...bySystem].map(([system, set]) => ({ system, hue: hue([...set][0]!) }));
    for (let i = 0; i < hues.length; i++) {
      for (let j = i + 1; j < hues.length; j++) {
        const apart = Math.abs(hues[i]!.hue - hues[j]!.hue);
        const distance = Math.min(apart, 360 - apart);
        assert.ok(
          distance >= 40,
          `${hues[i]!.system} and ${hues[j]!.system} look alike (hues ${Math.round(hues[i]!.hue)}° and ${Math.round(hues[j]!.hue)}°)`,
        );
      }
    }
  });

  it("shows the package's categories, all open, for a screenshot", async () => {
    const { page } = editor.session;
    await filterPalette('', userTypes.map((t) => t.type).sort());
    // Only the package's categories in the picture: the others are hidden for the shot.
    const categories = [...new Set(userTypes.map((t) => categoryId(t.category.split('-')[0]!)))];
    await page.evaluate((ids) => {
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('.red-ui-palette-category'))) {
        if (!ids.includes(el.id)) el.style.display = 'none';
        else if (!el.classList.contains('red-ui-palette-open')) el.querySelector<HTMLElement>('.red-ui-palette-header')?.click();
      }
    }, categories);
    await page.setViewportSize({ width: 1500, height: 1400 });
    await page.waitForFunction((ids) => ids.every((id) => document.getElementById(id)?.classList.contains('red-ui-palette-open')), categories, {
      timeout: 15_000,
    });
    await page.locator('#red-ui-palette').screenshot({ path: screenshotPath('palette') });
    const hidden = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('.red-ui-palette-node .red-ui-palette-label'))
        .filter((el) => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
        .map((el) => el.textContent),
    );
    assert.deepEqual(hidden, [], 'palette labels cut off');
  });
});
