import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { httpJson } from '../protocols/common/http-json';
import { delay } from '../protocols/common/timers';

export interface NodeRedProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** What Node-RED printed (for error reports). */
  output(): string;
  stop(): Promise<void>;
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Node packages that example flows use besides Node-RED's core nodes (dev dependencies of ours). */
export const EXAMPLE_NODE_PACKAGES = ['@flowfuse/node-red-dashboard'];

/**
 * A Node-RED user directory with this package installed the way a user's ~/.node-red has it
 * (node_modules/<name> pointing at the package), tours and telemetry off.
 */
export function prepareUserDir(userDir: string, packageRoot: string, settings: Record<string, unknown> = {}): void {
  fs.mkdirSync(path.join(userDir, 'node_modules', '@labwire'), { recursive: true });
  const link = path.join(userDir, 'node_modules', '@labwire', 'node-red-instruments');
  try {
    fs.rmSync(link, { recursive: true, force: true });
  } catch {
    // nothing there
  }
  fs.symlinkSync(path.resolve(packageRoot), link, 'dir');
  // Some examples show their data on a dashboard; the demo brings that node package along.
  for (const name of EXAMPLE_NODE_PACKAGES) {
    const installed = path.join(packageRoot, 'node_modules', name);
    const target = path.join(userDir, 'node_modules', name);
    if (!fs.existsSync(installed)) continue;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.rmSync(target, { recursive: true, force: true });
    fs.symlinkSync(installed, target, 'dir');
  }
  fs.writeFileSync(
    path.join(userDir, 'package.json'),
    JSON.stringify(
      { name: 'labwire-demo', private: true, dependencies: { '@labwire/node-red-instruments': `file:${path.resolve(packageRoot)}` } },
      null,
      2,
    ),
  );
  writeSettings(userDir, settings);
}

/** settings.js for a user directory the package's tools start Node-RED in: tours, telemetry and installs off. */
export function writeSettings(userDir: string, settings: Record<string, unknown> = {}): void {
  fs.writeFileSync(
    path.join(userDir, 'settings.js'),
    [
      '// Written by the demo on every start; edit scripts, not this file.',
      'module.exports = {',
      "  flowFile: 'flows.json',",
      // Example flows write files with relative names: keep them in the user directory, not the checkout.
      `  fileWorkingDirectory: ${JSON.stringify(path.resolve(userDir))},`,
      // Credentials (the simulators' passwords, and whatever the user adds) encrypted at rest with a key of this directory.
      `  credentialSecret: ${JSON.stringify(credentialSecret(userDir))},`,
      // Projects stay off when `enabled` is left out; `enabled: false` would log a warning on every start.
      '  editorTheme: { tours: false, projects: {} },',
      '  telemetry: { enabled: false },',
      "  logging: { console: { level: 'info', metrics: false, audit: false } },",
      '  diagnostics: { enabled: false },',
      '  externalModules: { autoInstall: false, palette: { allowInstall: false } },',
      // More settings from the caller, e.g. a shorter mqttReconnectTime for tests.
      ...Object.entries(settings).map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)},`),
      '};',
      '',
    ].join('\n'),
  );
}

/**
 * The user directory's own credential key, made once and kept beside the flows (readable by the owner only),
 * so the credentials file stays readable across restarts and Node-RED has no unencrypted file to warn about.
 */
function credentialSecret(userDir: string): string {
  const file = path.join(userDir, '.credential-secret');
  try {
    const kept = fs.readFileSync(file, 'utf8').trim();
    if (kept) return kept;
  } catch {
    // Not made yet.
  }
  const secret = crypto.randomBytes(24).toString('hex');
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  // A new directory starts with no credentials: store none, encrypted as Node-RED does (AES-256-CTR with the
  // SHA-256 of the secret, the IV in hex before the base64 text), so its first start does not warn that the
  // encrypted credentials are missing.
  const credentials = path.join(userDir, 'flows_cred.json');
  if (!fs.existsSync(credentials)) {
    const iv = crypto.randomBytes(16);
    const cipher = crypto.createCipheriv('aes-256-ctr', crypto.createHash('sha256').update(secret).digest(), iv);
    fs.writeFileSync(credentials, JSON.stringify({ $: iv.toString('hex') + cipher.update('{}', 'utf8', 'base64') + cipher.final('base64') }));
  }
  return secret;
}

/** GET a Node-RED admin URL; the body as text (the editor page is HTML). */
/**
 * A new connection for every admin call. A kept-alive one can be closed by Node-RED (after its 5 s
 * keep-alive) just as the next request goes out on it, which fails that request with "socket hang
 * up"; a loaded machine, where the client's own idle timer runs late, makes that likely. Admin calls
 * are few, so a connection each costs nothing.
 */
const adminAgent = new http.Agent({ keepAlive: false });

export async function getJson(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  const res = await httpJson({ method: 'GET', url, timeoutMs, agent: adminAgent });
  return { status: res.status, body: res.text };
}

/** Send JSON to a Node-RED admin URL (deploys). */
export async function requestJson(
  method: 'POST' | 'PUT',
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const res = await httpJson({ method, url, body, headers, timeoutMs: 60_000, agent: adminAgent });
  return { status: res.status, body: res.text };
}

/**
 * Start Node-RED from its package as a child process and wait until the admin API answers with the
 * stored flows: Node-RED listens before it has read them, and a deploy before that is replaced by them.
 */
export async function startNodeRed(
  userDir: string,
  port: number,
  options: {
    quiet?: boolean;
    timeoutMs?: number;
    env?: Record<string, string>;
    /**
     * Load the stored flows without starting them, until the first full deploy (Node-RED's safe
     * mode). The demo deploys renewed examples at once: the stored ones point at the last run's
     * simulator ports and pseudo-terminals, and starting them logs errors a user cannot act on.
     */
    stoppedUntilDeploy?: boolean;
  } = {},
): Promise<NodeRedProcess> {
  // LABWIRE_NODE_RED_MODULES selects another Node-RED install (the Node-RED 5 test lane).
  const modules = process.env.LABWIRE_NODE_RED_MODULES;
  const redJs = modules ? require.resolve('node-red/red.js', { paths: [modules] }) : require.resolve('node-red/red.js');
  let output = '';
  const args = [redJs, '--userDir', userDir, '--port', String(port), ...(options.stoppedUntilDeploy ? ['--safe'] : [])];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_RED_ENABLE_TOURS: 'false', ...options.env },
  });
  // Node-RED's safe-mode banner says "Deploy to start"; the demo deploys by itself, so a person is not told to.
  const shown = options.stoppedUntilDeploy ? withoutSafeModeBanner() : (text: string): string => text;
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString();
    output = (output + text).slice(-200_000);
    if (!options.quiet) process.stdout.write(shown(text));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited with code ${child.exitCode} before it was ready:\n${output.slice(-4000)}`);
    try {
      // GET /flows fails (500) until the stored flows are loaded; 401 when the admin API needs a login.
      const res = await getJson(`${url}/flows`, 2000);
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Node-RED did not answer on ${url} in time:\n${output.slice(-4000)}`);
    }
    await delay(250);
  }
  return {
    url,
    port,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A filter for Node-RED's console output that drops its safe-mode banner: a sentence (in the
 * runtime's language) between two [info] rows of asterisks, the only such rows the runtime logs.
 * Output comes in chunks, so a partial line waits for the rest.
 */
export function withoutSafeModeBanner(): (text: string) => string {
  let partial = '';
  let inBanner = false;
  return (text) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    const kept = lines.filter((line) => {
      if (/\[info\] \*{20,}\s*$/.test(line)) {
        inBanner = !inBanner;
        return false;
      }
      // The banner holds [info] lines only: anything else means it ended (a guard against hiding output).
      if (inBanner && !line.includes('[info]')) inBanner = false;
      return !inBanner;
    });
    return kept.length > 0 ? `${kept.join('\n')}\n` : '';
  };
}
