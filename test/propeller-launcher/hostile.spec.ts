import assert from 'node:assert/strict';
import type { InstrumentError } from '../../src/protocols/common/errors';
import type { LoadProgress, TerminalSession } from '../../src/protocols/propeller/connection';
import { LAUNCHER_MAX_FRAME, LauncherClient } from '../../src/protocols/propeller/launcher-client';
import { PROGRESS_LIMIT } from '../../src/protocols/propeller/launcher-load';
import { MAX_PORTS, MAX_TEXT, oneLine } from '../../src/protocols/propeller/launcher-messages';
import { GapWarnings, type GapWarning } from '../../src/protocols/propeller/launcher-terminal';
import { MAX_TERMINAL_WRITE } from '../../src/protocols/propeller/terminal-write';
import { HostileLauncher } from '../propeller-fuzz/hostile-launcher';
import { watchEventLoop } from '../helpers/fuzz';
import { waitFor } from '../helpers/red';
import { makeBinary } from './images';

const ui = (msg: string): string => JSON.stringify({ type: 'ui-command', action: 'message-compile', msg });

describe('propeller launcher client against a hostile Launcher', function () {
  this.timeout(20_000);
  let launcher: HostileLauncher;
  let client: LauncherClient | undefined;

  async function connect(launcherOptions: Parameters<typeof HostileLauncher.start>[0] = {}): Promise<LauncherClient> {
    launcher = await HostileLauncher.start(launcherOptions);
    client = new LauncherClient({ url: launcher.url, backoff: { initialMs: 20, maxMs: 50 }, portWaitMs: 2000 });
    client.start();
    await client.whenConnected(5000);
    return client;
  }

  afterEach(async () => {
    await client?.stop();
    client = undefined;
    await launcher?.close();
  });

  it('a terminal error of 200,000 blanks is one short line, without stalling the event loop', async () => {
    const c = await connect({
      onTerminal: (send, message) => {
        if (message.action === 'open') send(JSON.stringify({ type: 'serial-terminal', msg: `Failed ${' '.repeat(200_000)}x\rPlease close` }));
      },
    });
    const watch = watchEventLoop();
    const session = await c.openTerminal({ port: 'COM3', baudrate: 115200, mode: 'term' });
    const error = await new Promise<Error>((resolve) => session.once('error', resolve));
    const stalledMs = watch.stop();
    assert.ok(error.message.length <= MAX_TEXT + 20, `${error.message.length} characters`);
    assert.match(error.message, /^Launcher: Failed/);
    assert.ok(stalledMs < 1000, `the event loop stalled ${stalledMs} ms`);
    await session.close();
  });

  it('a terminal error without text (empty, blank or not a string) says so instead of "Launcher: "', async () => {
    const texts: unknown[] = ['', ' \r\n ', 42, null];
    const c = await connect({
      onTerminal: (send, message) => {
        if (message.action === 'open') for (const msg of texts) send(JSON.stringify({ type: 'serial-terminal', msg }));
      },
    });
    const session = await c.openTerminal({ port: 'COM3', baudrate: 115200, mode: 'term' });
    const errors: InstrumentError[] = [];
    session.on('error', (err: InstrumentError) => errors.push(err));
    await waitFor(() => errors.length === texts.length, 3000, 'an error per message');
    for (const err of errors) {
      assert.equal(err.details.reason, 'launcherTerminalErrorWithoutText');
      assert.match(err.message, /reported an error on the terminal for COM3 without saying what/);
    }
    await session.close();
  });

  it('oneLine joins lines, drops blanks around breaks and cuts what it looks at', () => {
    assert.equal(oneLine('Port COM9 not found.\r  Please close this terminal.\n'), 'Port COM9 not found. Please close this terminal.');
    assert.equal(oneLine(`${'a'.repeat(10_000)}`).length, MAX_TEXT);
    assert.equal(oneLine(`${' \r'.repeat(1_000_000)}end`), '', 'only a bounded head is examined');
  });

  it('endless progress lines: the log and the progress passed on stay bounded, and the load still ends', async () => {
    const c = await connect({
      onLoad: (send) => {
        for (let i = 0; i < 5000; i++) send(ui('\r002-Downloading'));
        send(ui(`\r005-Download successful! ${'!'.repeat(100_000)}`));
      },
    });
    let passedOn = 0;
    const result = await c.load({ image: makeBinary(), action: 'RAM', debug: 'none' }, () => (passedOn += 1));
    assert.equal(result.success, true);
    assert.ok(result.log.length <= PROGRESS_LIMIT, `${result.log.length} lines kept`);
    assert.ok(passedOn <= PROGRESS_LIMIT);
  });

  it('a huge progress text is cut', async () => {
    const c = await connect({ onLoad: (send) => send(ui(`\r199-Error: ${'x'.repeat(200_000)}`)) });
    const progress: LoadProgress[] = [];
    const result = await c.load({ image: makeBinary(), action: 'RAM', debug: 'none', timeoutMs: 5000 }, (p) => progress.push(p));
    assert.equal(result.success, false);
    assert.ok((result.error ?? '').length <= MAX_TEXT, `${(result.error ?? '').length} characters`);
    assert.ok(progress.every((p) => p.text.length <= MAX_TEXT));
  });

  it('a port list of 10,000 names and names of 100 KB: bounded', async () => {
    const ports = ['COM3', 'y'.repeat(100_000), ...Array.from({ length: 10_000 }, (_v, i) => `COM${i + 10}`)];
    const c = await connect({ ports });
    const listed = await c.listPorts();
    assert.equal(listed.length, MAX_PORTS);
    assert.equal(listed[0], 'COM3');
    assert.ok(listed.every((p) => p.length <= MAX_TEXT));
  });

  it('a port list that empties again right after the first port appeared: the load goes to that port, not to "undefined"', async () => {
    const c = await connect({ ports: [], onLoad: (send) => send(ui('\r005-Download successful!')) });
    const pending = c.load({ image: makeBinary(), action: 'RAM', debug: 'none' });
    await new Promise((r) => setTimeout(r, 50));
    launcher.sendAll(JSON.stringify({ type: 'port-list', ports: ['COM3'] }));
    launcher.sendAll(JSON.stringify({ type: 'port-list', ports: [] }));
    const result = await pending;
    assert.equal(result.port, 'COM3');
    assert.equal(launcher.received.find((m) => m.type === 'load-prop')?.portPath, 'COM3');
  });

  it('a version of 100 KB in hello-client is cut before it reaches a status or an error', async () => {
    const c = await connect({ hello: () => JSON.stringify({ type: 'hello-client', version: `9.${'9'.repeat(100_000)}` }) });
    assert.ok((c.info?.version.length ?? 0) <= 40);
  });

  it(`a frame over ${LAUNCHER_MAX_FRAME} bytes drops the connection, which comes back`, async () => {
    const c = await connect();
    launcher.sendAll(JSON.stringify({ type: 'port-list', ports: ['COM3', 'z'.repeat(LAUNCHER_MAX_FRAME)] }));
    await waitFor(() => launcher.received.filter((m) => m.type === 'hello-browser').length === 2, 5000, 'a second hello');
    await c.whenConnected(5000);
    assert.deepEqual(await c.listPorts(), ['COM3']);
  });

  it('refuses a terminal write larger than the limit, sending nothing', async () => {
    const c = await connect();
    const session: TerminalSession = await c.openTerminal({ port: 'COM3', baudrate: 115200, mode: 'term' });
    await waitFor(() => launcher.received.some((m) => m.action === 'open'), 2000, 'the terminal open');
    const before = launcher.received.length;
    assert.throws(
      () => session.write(Buffer.alloc(MAX_TERMINAL_WRITE + 1)),
      (err: InstrumentError) => err.details.reason === 'terminalWriteTooLarge' && err.details.limit === MAX_TERMINAL_WRITE,
    );
    assert.throws(() => session.write('x'.repeat(MAX_TERMINAL_WRITE + 1)), /larger than 1048576 bytes/);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(launcher.received.length, before);
    await session.close();
  });
});

describe('terminal packet-gap warnings', () => {
  it('warn of the first gap at once, then sum up the rest once per interval', async () => {
    const warnings: GapWarning[] = [];
    const gaps = new GapWarnings((w) => warnings.push(w), 100);
    for (let i = 0; i < 2000; i++) gaps.note('COM3', { expected: 2 * i, received: 2 * i + 1 });
    assert.equal(warnings.length, 1);
    assert.deepEqual(
      { ...warnings[0], text: undefined },
      { reason: 'terminalPacketsLost', port: 'COM3', lost: 1, gaps: 1, expected: 0, received: 1, seconds: 0, text: undefined },
    );
    await waitFor(() => warnings.length === 2, 2000, 'the summary');
    assert.equal(warnings[1]!.reason, 'terminalPacketsLostRepeatedly');
    assert.equal(warnings[1]!.gaps, 1999);
    assert.equal(warnings[1]!.lost, 1999);
    assert.match(warnings[1]!.text, /lost 1999 terminal packets from COM3 in 1999 gaps/);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(warnings.length, 2, 'nothing more without new gaps');
    gaps.note('COM3', { expected: 10, received: 12 });
    assert.equal(warnings.length, 3, 'after a quiet interval a gap is told at once');
    gaps.note('COM3', { expected: 20, received: 22 });
    gaps.dispose();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(warnings.length, 3, 'dispose drops the pending summary');
  });
});
