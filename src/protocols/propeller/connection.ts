import type { EventEmitter } from 'node:events';

/**
 * What a Propeller connection offers the load and terminal nodes, whichever way it reaches the
 * board: through the BlocklyProp Launcher's websocket, or straight over a serial port. A node picks
 * a connection config; the connection decides how.
 */
export type LoadAction = 'RAM' | 'EEPROM';
export type DebugMode = 'none' | 'term' | 'graph';

export interface LoadRequest {
  /** A loadable .binary image, already validated (see image.ts). */
  image: Buffer;
  action: LoadAction;
  /** Port name; undefined = first available. */
  port?: string;
  debug: DebugMode;
  /** Whole-load limit in ms. */
  timeoutMs?: number;
}

export interface LoadProgress {
  /**
   * Launcher message id (0 milestone, 2 downloading, 3 verifying RAM, 12 EEPROM, 5 success, >= 100 errors;
   * -1 none: queued, or a message without an id).
   */
  id: number;
  text: string;
  /** Short machine-friendly stage, e.g. "queued", "scanning", "downloading", "verifying-ram", "programming-eeprom", "success", "error", "failed". */
  stage: string;
}

export interface LoadResult {
  success: boolean;
  port: string;
  action: LoadAction;
  /** Every progress line, in order. */
  log: LoadProgress[];
  durationMs: number;
  /** Why it failed, when it did. */
  error?: string;
  errorId?: number;
  /**
   * The error behind `error`, when the transport has one (the serial port's, with its catalog reason),
   * so the load node can say it in the runtime's language. Not part of msg.payload: the node strips it.
   * The Launcher sends only its own text, and sets none.
   */
  failure?: Error;
}

export interface TerminalOptions {
  port?: string;
  baudrate: number;
  mode: 'term' | 'graph';
}

/**
 * Events: 'data' (Buffer), 'error' (Error), 'gap' ({expected, received}) where the transport numbers packets, 'close',
 * 'open' when `confirmed` turns true, 'opening' when it turns false again.
 */
export interface TerminalSession extends EventEmitter {
  readonly port: string;
  /**
   * Whether the transport has confirmed that the port is open. A serial port has when it opened. The Launcher
   * answers an open only when it fails, so its first data confirms it; after a reconnect it is asked again.
   */
  readonly confirmed: boolean;
  write(data: Buffer | string): void;
  close(): Promise<void>;
}

export interface PropellerConnection {
  readonly kind: 'launcher' | 'serial';
  /** Current port names (may be cached). */
  listPorts(): Promise<string[]>;
  load(request: LoadRequest, onProgress?: (progress: LoadProgress) => void): Promise<LoadResult>;
  openTerminal(options: TerminalOptions): Promise<TerminalSession>;
  /**
   * Optional: call `listener` with the new list whenever the set of ports changes (the Launcher
   * pushes its list every 5 s). Returns an unsubscribe function. Transports that cannot watch
   * leave it out; the ports node then answers on input only.
   */
  watchPorts?(listener: (ports: string[]) => void): () => void;
}
