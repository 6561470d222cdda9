/**
 * What every simulator offers, so `labwire-sim`, the demo, the tests and the benchmarks can
 * start any of them the same way.
 */
export interface SimulatorStartOptions {
  /** Interface to listen on; loopback by default. */
  host?: string;
  /** Main port; 0 = any free port. */
  port?: number;
  /** Extra command-line options, e.g. { passphrase: "x", mode: "current" }. */
  options?: Record<string, string | boolean>;
  /** Where to write what it does (the CLI passes console.log); silent when absent. */
  log?: (line: string) => void;
}

/** A config node of an example flow, as the demo deploys it. */
export interface FlowConfigNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

export interface RunningSimulator {
  /** Addresses for humans, e.g. ["http://127.0.0.1:8080 (BPWin REST + /ws)"]. */
  readonly endpoints: string[];
  /**
   * Point a config node of this system at the simulator. Returns the credentials to deploy with
   * it, or undefined when the node is not of this system.
   */
  configure(node: FlowConfigNode): { credentials?: Record<string, string> } | undefined;
  close(): Promise<void>;
}

export interface SimulatorDefinition {
  /** Name on the command line: `labwire-sim <name>`. */
  name: string;
  /** One line for `labwire-sim --help`. */
  summary: string;
  /** Option help lines, e.g. ["--passphrase TEXT  require this passphrase"]. */
  optionHelp?: string[];
  start(options: SimulatorStartOptions): Promise<RunningSimulator>;
}
