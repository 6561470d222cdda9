import type { EditorSession } from './editor-harness';

type Page = EditorSession['page'];

interface TrayRed {
  RED: {
    nodes: { node(id: string): { type: string } | null };
    editor: { edit(node: unknown): void; editConfig(name: string, type: string, id: string): void };
  };
  $: (selector: string) => { length: number; is(s: string): boolean };
}

/** The Done button of a node's dialog or of a config node's dialog. */
export const doneButton = (config: boolean): string => (config ? '#node-config-dialog-ok' : '#node-dialog-ok');

/**
 * Wait until the open dialog has settled: its Done button shows and the tray has raised itself, its last step after
 * the dialog's script and code editors are laid out. A person cannot press Done sooner, and closing it earlier makes
 * Node-RED's own timers fail on a removed editor. Polled on every frame: tests open hundreds of dialogs.
 */
export async function dialogSettled(page: Page, config: boolean): Promise<void> {
  await page.waitForFunction(
    (button) => {
      const { $ } = window as unknown as TrayRed;
      return $(button).is(':visible') && document.getElementById('red-ui-editor-stack')?.style.zIndex === '13';
    },
    doneButton(config),
    // Generous: on a loaded machine Node-RED's own tray timers run late; a settled dialog returns at once.
    { polling: 'raf', timeout: 30_000 },
  );
}

/** Open a node's dialog as a double click does (a config node's through the config editor) and wait until it has settled. */
export async function openDialog(page: Page, id: string, config: boolean): Promise<string> {
  const type = await page.evaluate(
    ({ nodeId, isConfig }) => {
      const { RED } = window as unknown as TrayRed;
      const node = RED.nodes.node(nodeId)!;
      if (isConfig) RED.editor.editConfig('', node.type, nodeId);
      else RED.editor.edit(node);
      return node.type;
    },
    { nodeId: id, isConfig: config },
  );
  await dialogSettled(page, config);
  return type;
}

/** Press Done and wait until the dialog is gone. */
export async function pressDone(page: Page, config: boolean): Promise<void> {
  const ok = doneButton(config);
  await page.locator(ok).click();
  await page.locator(ok).waitFor({ state: 'detached', timeout: 10_000 });
}
