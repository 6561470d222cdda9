import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

/** mosquitto when the machine has it (CI installs it), else the simulator's embedded Aedes. */
export function hasMosquitto(): boolean {
  return spawnSync('which', ['mosquitto']).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface StartedBroker {
  url: string;
  /** Stop and start again on the same port (every client loses its connection). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** The ids of the clients connected now, as the broker's own connection log tells them. */
  clients(): string[];
}

/** Our own mosquitto on a free port with a temporary config, so tests never share a broker. */
export async function startMosquitto(): Promise<StartedBroker> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semiate-mosquitto-'));
  const config = path.join(dir, 'mosquitto.conf');
  // The connection log on stderr (unbuffered, unlike a piped stdout) tells which clients are connected the moment
  // they come and go; $SYS counts only every few seconds, and a count cannot tell the tester from a client closing.
  fs.writeFileSync(
    config,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type notice\nconnection_messages true\n`,
  );
  const connected = new Set<string>();
  let child: ChildProcess = await launch(config, port, connected);
  const stopChild = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    restart: async () => {
      await stopChild();
      connected.clear();
      child = await launch(config, port, connected);
    },
    stop: async () => {
      await stopChild();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    clients: () => [...connected],
  };
}

/** mosquitto 2 logs "New client connected from <address> as <id> (…)." and "Client <id> disconnected." or "… closed its connection.". */
function followConnections(child: ChildProcess, connected: Set<string>): void {
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    const joined = / New client connected from \S+ as (\S+) \(/.exec(line);
    if (joined) connected.add(joined[1]!);
    const left = / Client (\S+) (?:disconnected|closed its connection|has exceeded timeout)/.exec(line);
    if (left) connected.delete(left[1]!);
  });
}

async function launch(config: string, port: number, connected: Set<string>): Promise<ChildProcess> {
  const child = spawn('mosquitto', ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  followConnections(child, connected);
  const deadline = Date.now() + 5000;
  while (!(await canConnect(port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`mosquitto did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}
