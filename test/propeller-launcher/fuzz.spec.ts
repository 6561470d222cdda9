import type WebSocket from 'ws';
import { describeVitals, fuzzRandom, fuzzScale, type Random } from '../helpers/fuzz';
import { helper } from '../helpers/red';
import { fuzzFlow, hostileMsgValues, propellerTargets, runFuzz } from '../propeller-fuzz/flow-harness';
import { hostileFrame } from '../propeller-fuzz/frames';
import { HostileLauncher, type Frame } from '../propeller-fuzz/hostile-launcher';
import { makeBinary } from './images';
import launcherNode = require('../../src/nodes/propeller-launcher');
import loadNode = require('../../src/nodes/propeller-load');
import terminalNode = require('../../src/nodes/propeller-terminal');
import portsNode = require('../../src/nodes/propeller-ports');

const nodes = [launcherNode, loadNode, terminalNode, portsNode] as never[];
const ui = (msg: string): string => JSON.stringify({ type: 'ui-command', action: 'message-compile', msg });

/** Texts of the real protocol, for the generator to mutate. */
const VALID = [
  JSON.stringify({ type: 'hello-client', version: '1.0.7' }),
  JSON.stringify({ type: 'port-list', ports: ['COM3', 'wx-1a2b3c'] }),
  ui('\r002-Downloading'),
  ui('\r005-Download successful!'),
  ui('\r125-Error: RAM checksum failed'),
  ui('\r102-Error: Download failed!'),
  JSON.stringify({ type: 'ui-command', action: 'close-compile' }),
  JSON.stringify({ type: 'serial-terminal', packetID: 4, msg: Buffer.from('count = 4\r\n').toString('base64') }),
  JSON.stringify({ type: 'serial-terminal', msg: 'Port COM3 not found.\rPlease close this terminal and select an existing port.' }),
];

/** How a hostile Launcher answers one load-prop. */
function answerLoad(r: Random, huge: number, send: (frame: Frame) => void, socket: WebSocket): void {
  const noise = (n: number): void => {
    for (let i = 0; i < n; i++) send(hostileFrame(r, VALID, huge));
  };
  switch (r.int(7)) {
    case 0:
      send(ui('\r000-Scanning port COM3'));
      noise(r.int(4));
      send(ui('\r005-Download successful!'));
      return;
    case 1:
      noise(1 + r.int(6));
      send(ui(`\r${100 + r.int(100)}-Error: ${'e'.repeat(r.int(huge))}`));
      send(ui('\r102-Error: Download failed!'));
      return;
    case 2:
      noise(r.int(3));
      return; // silence: the node's time limit ends the load
    case 3:
      for (let i = 0; i < 200 + r.int(5000); i++) send(ui('\r002-Downloading'));
      send(ui(r.pick(['\r005-Download successful!', '\rError: Invalid checksum in .binary or .eeprom data'])));
      return;
    case 4:
      noise(r.int(3));
      socket.terminate();
      return;
    case 5:
      send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])); // invalid UTF-8: the client closes the socket
      return;
    default:
      noise(r.int(10));
      send(ui(`\r005-Download successful!`));
  }
}

describe('propeller fuzz: hostile BlocklyProp Launcher frames through a real Node-RED', function () {
  const scale = fuzzScale({ runs: 8, timeLimitMs: 30_000 }, { runs: 300, timeLimitMs: 900_000 }, 0x1a5e);
  const seed = scale.seed;
  const loads = scale.runs;
  const writes = scale.scaled(30, 3000);
  const huge = scale.large ? 2_000_000 : 300_000;
  this.timeout(scale.timeLimitMs * 2 + 30_000);
  let launcher: HostileLauncher | undefined;
  let noiseTimer: NodeJS.Timeout | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    clearInterval(noiseTimer);
    await helper.unload();
    helper.settings({});
    await launcher?.close();
  });

  const promise = 'loads, terminal writes and port lists each end with a result or a clear error; Node-RED stays responsive and bounded';
  it(`seed ${seed}: ${promise}`, async () => {
    const r = fuzzRandom(seed);
    launcher = await HostileLauncher.start({
      onLoad: (send, _message, socket) => answerLoad(r, huge, send, socket),
      onTerminal: (send, message) => {
        if (message.action === 'open') for (let i = 0; i < r.int(20); i++) send(hostileFrame(r, VALID, huge));
      },
    });
    const hostile = launcher;
    helper.settings({ propellerLauncherReconnectTime: 200 });
    await helper.load(
      nodes,
      fuzzFlow({ id: 'launcher', type: 'propeller-launcher', url: hostile.url }, [
        ...propellerTargets('launcher', 'launcher', 'COM3', 'none'),
        { id: 'fz-ports', node: { type: 'propeller-ports', connectionType: 'launcher', launcher: 'launcher', watch: true } },
      ]),
    );
    // Frames arrive at any moment, whole or trickled in fragments.
    noiseTimer = setInterval(() => {
      // Mostly frames the connection survives, so loads and terminals get to run among them.
      const fatal = r() < 0.05;
      if (r() < 0.2) void hostile.trickle(hostileFrame(r, VALID, 10_000, fatal), 2 + r.int(20), 5);
      else hostile.sendAll(hostileFrame(r, VALID, fatal ? huge : 100_000, fatal));
    }, 40);
    const report = await runFuzz(
      async (send) => {
        const started = Date.now();
        const budgetMs = scale.timeLimitMs;
        for (let i = 0; i < Math.max(loads, writes) && Date.now() - started < budgetMs; i++) {
          if (i < loads) send('fz-load', { payload: r() < 0.8 ? makeBinary(64 + 4 * r.int(64)) : hostileMsgValues(r.pick, r.int) });
          if (i < writes) send('fz-term', { payload: hostileMsgValues(r.pick, r.int) });
          if (r() < 0.3) send('fz-ports', {});
          await new Promise((resolve) => setTimeout(resolve, r.int(300)));
        }
      },
      { endWithinMs: scale.large ? 900_000 : 45_000, memoryLimitMb: scale.large ? 128 : 64, recent: () => hostile.recent },
    );
    console.log(
      describeVitals(`Launcher fuzz (seed ${seed}${scale.large ? ', large' : ''})`, report.vitals, {
        msgs: report.sent,
        outputs: report.outputs,
        completed: report.completed,
        caught: report.caught,
      }),
    );
  });
});
