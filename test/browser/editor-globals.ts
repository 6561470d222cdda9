/** The parts of the Node-RED editor's global API that the browser tests read, typed. */
export interface EditorNode {
  id: string;
  type: string;
  z?: string;
  name?: string;
  x: number;
  y: number;
  w: number;
  h: number;
  valid?: boolean;
  changed?: boolean;
  moved?: boolean;
  _def: { label?: string | ((this: EditorNode) => string) };
}

export interface EditorRed {
  nodes: {
    eachNode(cb: (n: EditorNode) => void): void;
    eachConfig(cb: (n: EditorNode) => void): void;
    eachWorkspace(cb: (w: { id: string; label: string }) => void): void;
    /** Reads whether there is something to deploy, or (with an argument) marks it so. */
    dirty(set?: boolean): boolean;
    getWorkspaceOrder(): string[];
    import(nodes: Array<Record<string, unknown>>): unknown;
  };
  view: { redraw(full?: boolean): void };
  workspaces: { show(id: string): void };
  sidebar: { show(id: string): void };
  history: { depth(): number };
}

declare global {
  interface Window {
    RED: EditorRed;
  }
}
