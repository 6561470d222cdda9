import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/cli/node-red-process';
import { EmbeddedMqttBroker } from '../../src/simulators/mqtt';

/** The broker the edges share: mosquitto with persistence when the machine has it (CI), else the embedded Aedes. */
export interface SharedBroker {
  kind: 'mosquitto' | 'aedes';
  host: string;
  port: number;
  url: string;
  /** Stop and start on the same port, keeping what it stored (retained messages). */
  restart(): Promise<void>;
  /** Stop and start on the same port with nothing stored, as after a crash without persistence. */
  restartEmpty(): Promise<void>;
  stop(): Promise<void>;
}

/** LABWIRE_UNS_BROKER=aedes runs the Aedes path on a machine that has mosquitto (CI's first lane has none). */
export async function startSharedBroker(): Promise<SharedBroker> {
  const mosquitto = process.env.LABWIRE_UNS_BROKER !== 'aedes' && spawnSync('which', ['mosquitto']).status === 0;
  return mosquitto ? startMosquitto() : startAedes();
}

async function startAedes(): Promise<SharedBroker> {
  const broker = new EmbeddedMqttBroker();
  await broker.start();
  return {
    kind: 'aedes',
    host: broker.host,
    port: broker.port,
    url: broker.url,
    restart: () => broker.restart(),
    restartEmpty: () => broker.restartEmpty(),
    stop: () => broker.stop(),
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** mosquitto with persistence on: it writes its store when stopped (SIGTERM) and reads it when started. */
async function startMosquitto(): Promise<SharedBroker> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uns-mosquitto-'));
  // Started as root, mosquitto drops to its own user: that user writes the store here.
  fs.chmodSync(dir, 0o777);
  const config = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(config, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${dir}/`, ''].join('\n'));
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const started = spawn('mosquitto', ['-c', config], { stdio: 'ignore' });
    child = started;
    const deadline = Date.now() + 10_000;
    while (!(await listening(port))) {
      if (started.exitCode !== null || Date.now() > deadline) throw new Error(`mosquitto did not start on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    kind: 'mosquitto',
    host: '127.0.0.1',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    restart: async () => {
      await stop();
      await start();
    },
    restartEmpty: async () => {
      await stop();
      fs.rmSync(path.join(dir, 'mosquitto.db'), { force: true });
      await start();
    },
    stop: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
