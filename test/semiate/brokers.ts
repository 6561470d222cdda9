import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';

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
  /** Follow the number of connected clients the broker reports (the watching client included). */
  watchClients(): Promise<ClientCount>;
}

/** Our own mosquitto on a free port with a temporary config, so tests never share a broker. */
export async function startMosquitto(): Promise<StartedBroker> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semiate-mosquitto-'));
  const config = path.join(dir, 'mosquitto.conf');
  // $SYS every second, so a test can count the broker's clients.
  fs.writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nsys_interval 1\n`);
  let child: ChildProcess = await launch(config, port);
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
      child = await launch(config, port);
    },
    stop: async () => {
      await stopChild();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    watchClients: () => watchClients(`mqtt://127.0.0.1:${port}`),
  };
}

/**
 * Follows mosquitto's $SYS count of connected clients. The count is retained and updated at most once a
 * second, so it includes the watcher itself only from the next report on.
 */
async function watchClients(url: string): Promise<ClientCount> {
  const probe = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  let latest: number | undefined;
  probe.on('message', (_topic, payload) => (latest = Number(payload.toString())));
  await probe.subscribeAsync('$SYS/broker/clients/connected');
  return { latest: () => latest, close: () => probe.endAsync() };
}

export interface ClientCount {
  latest(): number | undefined;
  close(): Promise<void>;
}

async function launch(config: string, port: number): Promise<ChildProcess> {
  const child = spawn('mosquitto', ['-c', config], { stdio: 'ignore' });
  const deadline = Date.now() + 5000;
  while (!(await canConnect(port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`mosquitto did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}
