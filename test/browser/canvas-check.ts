import './editor-globals';
import type { Page } from 'playwright-core';

/**
 * A node or comment on the canvas as the editor drew it, in canvas coordinates: its box, ports and
 * status text (what a person sees of it), not just the node's own rectangle.
 */
export interface DrawnBox {
  id: string;
  type: string;
  label: string;
  left: number;
  top: number;
  right: number;
  bottom: number;
  valid: boolean;
  /** The editor drew the red triangle (invalid properties) on the node. */
  triangle: boolean;
}

/** Show a tab and read every box the editor drew on it, with its size as rendered. */
export async function drawnBoxes(page: Page, workspaceId: string): Promise<DrawnBox[]> {
  await page.evaluate((id) => window.RED.workspaces.show(id), workspaceId);
  // The editor measures labels while drawing; wait until every node of the tab has a width.
  await page.waitForFunction((id) => {
    let ready = true;
    window.RED.nodes.eachNode((n) => {
      if (n.z === id && !(n.w > 0)) ready = false;
    });
    return ready;
  }, workspaceId);
  return page.evaluate((id) => {
    const out: DrawnBox[] = [];
    window.RED.nodes.eachNode((n) => {
      if (n.z !== id) return;
      const label = typeof n._def.label === 'function' ? String(n._def.label.call(n)) : String(n.name || n.type);
      const group = document.getElementById(n.id);
      // The node's group is translated to its top-left corner; its bounding box holds ports and status.
      const drawn = group instanceof SVGGraphicsElement ? group.getBBox() : { x: 0, y: 0, width: n.w, height: n.h };
      const left = n.x - n.w / 2;
      const top = n.y - n.h / 2;
      out.push({
        id: n.id,
        type: n.type,
        label,
        left: left + drawn.x,
        top: top + drawn.y,
        right: left + drawn.x + drawn.width,
        bottom: top + drawn.y + drawn.height,
        valid: n.valid !== false,
        // The editor keeps the badge and hides it with a class while the node is valid.
        triangle: Array.from(group?.querySelectorAll('.red-ui-flow-node-error') ?? []).some((e) => e.closest('.hide') === null),
      });
    });
    return out;
  }, workspaceId);
}

/** Pairs of boxes that overlap (touching counts when closer than `gap` pixels). */
export function overlaps(boxes: DrawnBox[], gap = 0): string[] {
  const out: string[] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      if (a.left < b.right + gap && b.left < a.right + gap && a.top < b.bottom + gap && b.top < a.bottom + gap) {
        out.push(`"${a.label}" (${a.type}) and "${b.label}" (${b.type})`);
      }
    }
  }
  return out;
}

/**
 * Boxes not wholly inside the part of the canvas a person sees when the tab opens (scrolled to the
 * origin, zoom 1): cut by the palette edge or the tab bar, or beyond the visible width or height.
 */
export function outsideView(boxes: DrawnBox[], view: { width: number; height: number }, margin = 10): string[] {
  return boxes
    .filter((b) => b.left < margin || b.top < margin || b.right > view.width - margin || b.bottom > view.height - margin)
    .map((b) => `"${b.label}" (${b.type}) at ${Math.round(b.left)},${Math.round(b.top)}–${Math.round(b.right)},${Math.round(b.bottom)}`);
}

/** The size of the canvas area the editor shows. */
export function visibleCanvas(page: Page): Promise<{ width: number; height: number }> {
  return page.evaluate(() => {
    const chart = document.getElementById('red-ui-workspace-chart')!;
    return { width: chart.clientWidth, height: chart.clientHeight };
  });
}

/** Nodes the editor holds invalid or draws with a red triangle. */
export function invalid(boxes: DrawnBox[]): string[] {
  return boxes.filter((b) => !b.valid || b.triangle).map((b) => `"${b.label}" (${b.type})${b.valid ? ' (triangle drawn)' : ''}`);
}

/** The editor's tabs in order. */
export function workspaces(page: Page): Promise<Array<{ id: string; label: string }>> {
  return page.evaluate(() => {
    const out: Array<{ id: string; label: string }> = [];
    window.RED.nodes.eachWorkspace((w) => out.push({ id: w.id, label: w.label }));
    return out;
  });
}
