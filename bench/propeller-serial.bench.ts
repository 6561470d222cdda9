/**
 * Propeller straight over a serial port:
 *  - wire bytes per image byte for full 32 KB images (zeros, random, a program-like layout),
 *    beside plain 3-bits-per-byte packing (2.75) and the 5-bits-per-byte bound (1.6);
 *  - load time of a full image against the fake chip paced at 115200 baud (10 bits per byte), for
 *    the propeller-load node through propeller-serial (which runs the SerialPropellerConnection
 *    client) and a bare `serialport` loader doing the same steps with no queue, checks or budgets,
 *    both beside the time the host's bytes need on the wire (target ≤ 1.1×).
 * Node-RED has no core serial node (node-red-node-serialport is a separate package) and nothing in
 * core can drive the boot loader, so there is no core-node alternative to measure.
 * The paced chip runs in its own process so it does not share the measured event loop.
 */
import path from 'node:path';
import { spawn } from 'node:child_process';
import { SerialPort } from 'serialport';
import { seededRandom } from '../src/protocols/common/seeded-random';
import { fixChecksum } from '../src/protocols/propeller/image';
import { commandBytes, handshakeBytes, HANDSHAKE_REPLY_BYTES, TEMPLATE_BYTE, wireMs } from '../src/protocols/propeller/rom-protocol';
import { collect, helper, nextMessage } from '../test/helpers/red';
import type { BenchRow, BenchRun } from './bench-types';
import serialNode = require('../src/nodes/propeller-serial');
import loadNode = require('../src/nodes/propeller-load');

const BAUD = 115200;
const FULL = 32768;
/** The biggest loadable .binary: vbase + call frame + a long of stack within 32 KB. */
const LOADABLE = 32752;

function random(n: number, seed = 1): Buffer {
  const next = seededRandom(seed);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256)));
}

/** Code, text, small-number tables and zero-filled data, in the proportions of a large Spin program. */
function programLike(n: number): Buffer {
  const text = Buffer.from('Propeller ready. Temperature: %d C, humidity: %d %%\r\n'.repeat(200), 'latin1');
  const table = Buffer.alloc(4096);
  for (let i = 0; i < table.length; i += 4) table.writeUInt32LE(i % 61, i);
  return Buffer.concat([random(n / 2, 7), text.subarray(0, n / 8), table.subarray(0, n / 8), Buffer.alloc(n / 4)]).subarray(0, n);
}

function asImage(body: Buffer): Buffer {
  const image = Buffer.from(body.subarray(0, LOADABLE));
  image.writeUInt32LE(80_000_000, 0);
  image[4] = 0x6f;
  image.writeUInt16LE(0x10, 6);
  image.writeUInt16LE(LOADABLE, 8);
  image.writeUInt16LE(LOADABLE + 8, 10);
  image.writeUInt16LE(0x18, 12);
  image.writeUInt16LE(LOADABLE + 12, 14);
  return fixChecksum(image);
}

interface ChipProcess {
  hostPath: string;
  stop(): Promise<void>;
}

/**
 * The paced chip in its own process (`labwire-sim propeller-chip`), so it does not share the
 * measured event loop. (The serialport binding cannot run in a worker thread beside the main one.)
 */
function startPacedChip(): Promise<ChipProcess> {
  const cli = path.join(__dirname, '..', 'src', 'cli', 'labwire-sim.ts');
  const child = spawn(
    process.execPath,
    ['--require', 'tsx/cjs', cli, 'propeller-chip', '--pace', String(BAUD), '--chips', '1', '--print-interval', '3600000'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`labwire-sim propeller-chip exited (${code}): ${out}`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      out += text;
      const match = /^\s+(\S+) \(serial port of fake Propeller 1/m.exec(out);
      if (!match) return;
      child.removeAllListeners('exit');
      child.stdout.resume();
      resolve({
        hostPath: match[1],
        stop: () =>
          new Promise((done) => {
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** The least a loader can do with `serialport`: handshake, image in one write, poll until the RAM answer. */
async function bareLoad(hostPath: string, image: Buffer): Promise<number> {
  const port = new SerialPort({ path: hostPath, baudRate: BAUD, autoOpen: false, hupcl: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  let received = Buffer.alloc(0);
  port.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
  const until = async (n: number): Promise<void> => {
    while (received.length < n) await new Promise((r) => setTimeout(r, 1));
  };
  const started = performance.now();
  port.write(handshakeBytes());
  await until(HANDSHAKE_REPLY_BYTES);
  received = Buffer.alloc(0);
  const payload = commandBytes(1, image);
  port.write(payload);
  await new Promise((r) => setTimeout(r, wireMs(payload.length, BAUD)));
  while (received.length === 0) {
    port.write(Buffer.from([TEMPLATE_BYTE]));
    await new Promise((r) => setTimeout(r, 10));
  }
  const ms = performance.now() - started;
  if (received[0] !== 0xfe) throw new Error(`bare loader: RAM answer 0x${received[0].toString(16)}`);
  await new Promise<void>((resolve) => port.close(() => resolve()));
  return ms;
}

export const run: BenchRun = async () => {
  const rows: BenchRow[] = [];
  const kinds: Array<[string, Buffer]> = [
    ['zeros', Buffer.alloc(FULL)],
    ['random', random(FULL)],
    ['program layout', programLike(FULL)],
  ];
  for (const [kind, body] of kinds) {
    const perByte = commandBytes(1, body).length / FULL;
    rows.push({
      name: `wire bytes per image byte, ${kind} 32 KB`,
      value: perByte,
      unit: 'B/B',
      ratio: { against: 'plain 3-bit packing (2.75)', value: 2.75 / perByte, target: '≥ 1 (never more than greedy)' },
    });
  }
  rows.push({ name: 'bound: 5 bits per byte', value: 1.6, unit: 'B/B' });

  const t0 = performance.now();
  for (let i = 0; i < 20; i++) commandBytes(1, kinds[1][1]);
  rows.push({ name: 'encoder speed (random 32 KB)', value: (20 * FULL) / ((performance.now() - t0) / 1000) / 1e6, unit: 'MB/s' });

  const image = asImage(programLike(FULL));
  const hostBytes = handshakeBytes().length + commandBytes(1, image).length;
  const ideal = wireMs(hostBytes, BAUD);
  rows.push({ name: 'host bytes on the wire for a full load', value: hostBytes, unit: 'bytes' });
  rows.push({ name: 'their time at 115200 baud', value: ideal, unit: 'ms' });

  const chip = await startPacedChip();
  let nodeLoadMs: number | undefined;
  try {
    await helper.startServer();
    try {
      await helper.load([serialNode, loadNode] as never[], [
        { id: 't', type: 'tab' },
        { id: 'serial', type: 'propeller-serial', port: chip.hostPath, baudRate: BAUD, resetMode: 'none' },
        {
          id: 'load',
          type: 'propeller-load',
          z: 't',
          connectionType: 'serial',
          serial: 'serial',
          launcher: '',
          source: 'payload',
          action: 'RAM',
          debug: 'none',
          timeout: 60,
          wires: [['out'], []],
        },
        { id: 'out', type: 'helper', z: 't' },
      ]);
      collect(helper.getNode('out'));
      const done = nextMessage<{ payload: { success: boolean } }>(helper.getNode('out'), 30_000, 'the load result');
      const started = performance.now();
      helper.getNode('load').receive({ payload: image });
      const msg = await done;
      const nodeMs = performance.now() - started;
      if (!msg.payload.success) throw new Error('node load failed');
      rows.push({
        name: 'load time, propeller-load node',
        value: nodeMs,
        unit: 'ms',
        ratio: { against: 'wire time', value: nodeMs / ideal, target: '≤ 1.1' },
      });
      nodeLoadMs = nodeMs;
      await helper.unload();
    } finally {
      await helper.stopServer();
    }

    const bareMs = await bareLoad(chip.hostPath, image);
    rows.push({ name: 'load time, bare serialport loader', value: bareMs, unit: 'ms', ratio: { against: 'wire time', value: bareMs / ideal } });
    rows.push({
      name: 'propeller-load node vs bare serialport',
      value: nodeLoadMs!,
      unit: 'ms',
      ratio: { against: 'bare serialport loader', value: nodeLoadMs! / bareMs, target: '≤ 1.1' },
    });
  } finally {
    await chip.stop();
  }
  return {
    title: 'Propeller over a serial port (pulse-model packing, paced fake chip at 115200 baud)',
    rows,
    notes: [
      'The greedy packer is optimal for byte-aligned pulses (a property test checks it against dynamic programming), ' +
        'so "never more than greedy" holds by construction.',
      'Load times include the handshake; reset is "none" (pseudo-terminals have no DTR). A real reset adds about 105 ms.',
      'No Node-RED core node can drive the boot loader, so there is no core-node row.',
    ],
  };
};
