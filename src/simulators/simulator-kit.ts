import type net from 'node:net';
import type { SimulatorStartOptions } from './simulator';

/**
 * What every simulator needs around its protocol: listen without crashing when the port is taken,
 * keep the connections it accepted so it can count them and drop them all, close its servers, and
 * read its `labwire-sim <system> --name value` options with errors that name the option.
 */

/** Listen; resolves with the bound port (0 on a Unix socket), rejects when the address cannot be had (EADDRINUSE…). */
export function listen(server: net.Server, where: net.ListenOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

/** Stop listening; resolves when the server has closed, also when it was not listening. */
export function closeServer(server: { close(callback: () => void): unknown } | undefined): Promise<void> {
  return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
}

/** The sockets a simulator has accepted: counted for leak checks, all dropped at once when it stops or "crashes". */
export class SocketSet {
  private readonly sockets = new Set<net.Socket>();

  /** Track every connection the server accepts from now on. */
  watch(server: net.Server): void {
    server.on('connection', (socket: net.Socket) => this.add(socket));
  }

  add(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    // A client that resets its connection is ordinary, not a reason for the simulator to fall over.
    socket.on('error', () => socket.destroy());
  }

  get size(): number {
    return this.sockets.size;
  }

  /** Destroy every tracked socket, but those `keep` names (e.g. a simulator's own client of its broker). */
  destroyAll(keep: (socket: net.Socket) => boolean = () => false): void {
    for (const socket of this.sockets) {
      if (keep(socket)) continue;
      socket.destroy();
      this.sockets.delete(socket);
    }
  }
}

/** How a number option is checked, and how its error describes what is wanted. */
export interface NumberRule {
  /** Smallest and largest values allowed. */
  min?: number;
  max?: number;
  /** Values must be greater than this. */
  above?: number;
  integer?: boolean;
  /** Words for what is wanted, e.g. "a time in ms" (default "a number" or "a whole number"). */
  what?: string;
}

/** What a simulator is started with: where to listen, where to log, and its `--name value` options (a bare `--name` is true). */
export class SimulatorOptions {
  private readonly values: Record<string, string | boolean>;

  constructor(private readonly start: SimulatorStartOptions = {}) {
    this.values = start.options ?? {};
  }

  /** Host, port and log, passed on as they came. */
  get common(): Pick<SimulatorStartOptions, 'host' | 'port' | 'log'> {
    return { host: this.start.host, port: this.start.port, log: this.start.log };
  }

  /** A text; undefined when absent or empty. */
  text(name: string): string | undefined {
    const value = this.values[name];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw new Error(`--${name} needs a value, e.g. --${name} TEXT`);
    return value;
  }

  number(name: string, rule: NumberRule = {}): number | undefined {
    const raw = this.text(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    const ok =
      raw.trim() !== '' &&
      Number.isFinite(value) &&
      (!rule.integer || Number.isInteger(value)) &&
      (rule.min === undefined || value >= rule.min) &&
      (rule.max === undefined || value <= rule.max) &&
      (rule.above === undefined || value > rule.above);
    if (!ok) {
      const what = rule.what ?? (rule.integer ? 'a whole number' : 'a number');
      throw new Error(`--${name} must be ${what}${describeRange(rule)}, not "${raw}"`);
    }
    return value;
  }

  /** One of a few words; anything else is refused with the list. */
  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    if ((choices as readonly string[]).includes(value)) return value as T;
    const wanted = choices.length <= 2 ? choices.join(' or ') : `one of ${choices.join(', ')}`;
    throw new Error(`--${name} must be ${wanted}, not "${value}"`);
  }

  /** `--name` or `--name true` is true, `--name false` or `--no-name` false; undefined when neither is given. */
  flag(name: string): boolean | undefined {
    if (this.off(name)) return false;
    const value = this.values[name];
    if (value === undefined) return undefined;
    if (value === true || value === 'true') return true;
    throw new Error(`--${name} is a switch: give it alone, or as --${name} true|false`);
  }

  /** True when `--no-name` or `--name false` turned something off. */
  off(name: string): boolean {
    const value = this.values[name];
    return this.values[`no-${name}`] === true || value === false || value === 'false';
  }

  /** A comma-separated list; undefined when absent. */
  list(name: string): string[] | undefined {
    return this.text(name)
      ?.split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  }
}

function describeRange({ min, max, above }: NumberRule): string {
  if (above !== undefined) return ` greater than ${above}`;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  return max === undefined ? '' : ` up to ${max}`;
}
