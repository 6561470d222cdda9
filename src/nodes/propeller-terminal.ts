import { errorText } from '../nodered/i18n';
import { PROPELLER_CONNECTION_KIND, usePropellerConnection } from '../nodered/propeller-config';
import { configNumber, settingsNumber } from '../nodered/properties';
import type { NodeDef, NodeMessage, RedAPI, RedNode } from '../nodered/red-types';
import { errorDot } from '../nodered/status';
import { StatusOverlay } from '../nodered/status-overlay';
import { userNode } from '../nodered/user-node';
import { InstrumentError, errorMessage } from '../protocols/common/errors';
import type { TerminalSession } from '../protocols/propeller/connection';
import { GapWarnings } from '../protocols/propeller/launcher-terminal';
import { ENCODINGS, TerminalDecoder, type TerminalEncoding } from '../protocols/propeller/terminal-decoder';

/** After a failed open (no connection yet, port missing), try again this often until closed. */
const RETRY_MS = 5_000;

export = function (RED: RedAPI) {
  function PropellerTerminalNode(this: RedNode, config: NodeDef) {
    const node = this;
    const user = userNode(RED, node, config, { migrations: [PROPELLER_CONNECTION_KIND] });
    // The terminal's own port stands for it while the connection is up: a reconnected Launcher's
    // "connected (2 ports)" or a serial "loaded" says nothing about whether this port is open yet.
    const status = new StatusOverlay('state', (s) => user.status(s));
    const def = user.def;
    const options = {
      port: String(def.port ?? '').trim() || undefined,
      baudrate: configNumber(def.baudrate, 115200),
      mode: def.mode === 'graph' ? ('graph' as const) : ('term' as const),
    };
    // Its own state comes first: a connection already up would otherwise show its green
    // ("connected (1 port)") before this node has a port at all.
    status.set({
      fill: 'yellow',
      shape: 'ring',
      text: options.port
        ? user.text('propeller-terminal.status.opening', { port: options.port, baud: options.baudrate })
        : user.text('propeller-terminal.status.findingPort'),
    });
    const link = usePropellerConnection(user, status.target(node.id));
    if (!link) return;
    const { connection } = link;
    const encoding = ENCODINGS.includes(def.encoding as TerminalEncoding) ? (def.encoding as TerminalEncoding) : 'utf8';
    const split = def.split === 'line' || def.split === 'delimiter' ? def.split : 'none';
    const decoder = new TerminalDecoder({ split, delimiter: String(def.delimiter ?? '\\n'), output: def.output === 'buffer' ? 'buffer' : encoding });
    const retryMs = settingsNumber(RED, 'propellerTerminalRetryTime', RETRY_MS);
    let session: TerminalSession | undefined;
    let retry: NodeJS.Timeout | undefined;
    let lastError = '';
    let gap: { expected: number; received: number } | undefined;
    const gapWarnings = new GapWarnings(({ reason, text: _english, ...facts }) =>
      node.warn(user.text(reason === 'terminalPacketsLost' ? 'propeller-terminal.warn.gap' : 'propeller-terminal.warn.gapRepeated', facts)),
    );

    // A problem is reported once; the node keeps trying quietly until it changes or data flows.
    const report = (err: Error): void => {
      status.set(errorDot(RED, err));
      const text = errorText(RED, err);
      if (text === lastError) return;
      lastError = text;
      node.error(text, { topic: options.port ?? '', payload: text });
    };
    const retryLater = (): void => {
      if (!user.closed) retry = setTimeout(() => void open(), retryMs);
    };

    const open = async (): Promise<void> => {
      retry = undefined;
      try {
        const opened = await connection.openTerminal(options);
        if (user.closed) {
          await opened.close();
          return;
        }
        session = opened;
        // Green only once the port is confirmed open. Until then "no data yet", unless the last try failed: a
        // retry on a missing port keeps its error showing instead of flashing back each time.
        const showOpen = (): void => status.set({ fill: 'green', shape: 'dot', text: `${options.mode} ${opened.port} @ ${options.baudrate}` });
        const showWaiting = (): void =>
          status.set({
            fill: 'yellow',
            shape: 'ring',
            text: user.text('propeller-terminal.status.noData', { port: opened.port, baud: options.baudrate }),
          });
        if (opened.confirmed) {
          lastError = '';
          showOpen();
        } else if (!lastError) showWaiting();
        opened.on('open', () => {
          lastError = '';
          showOpen();
        });
        opened.on('opening', showWaiting);
        // Packets that arrive together (a burst read in one go) leave as one msg: a Node-RED msg
        // costs far more than a packet, and the order and bytes are the same.
        let burst: Buffer[] = [];
        const flush = (): void => {
          const data = burst.length === 1 ? burst[0]! : Buffer.concat(burst);
          burst = [];
          lastError = '';
          for (const payload of decoder.push(data)) {
            const msg: NodeMessage = { topic: opened.port, payload, port: opened.port };
            if (gap) msg.gap = gap;
            gap = undefined;
            node.send(msg);
          }
        };
        opened.on('data', (data: Buffer) => {
          if (burst.push(data) === 1) setImmediate(flush);
        });
        opened.on('gap', (g: { expected: number; received: number }) => {
          gap = g;
          gapWarnings.note(opened.port, g);
        });
        // "Port not found" / "failed to connect": let go of the port and try again later (a board may be plugged in).
        opened.on('error', (err: Error) => {
          report(err);
          if (session !== opened) return;
          session = undefined;
          void opened.close().catch(() => undefined);
          retryLater();
        });
      } catch (err) {
        if (user.closed) return;
        report(err instanceof Error ? err : new Error(errorMessage(err)));
        retryLater();
      }
    };
    void open();

    user.onInput((msg) => {
      if (!session) {
        const why = { reason: lastError ? 'terminalNotOpenBecause' : 'terminalNotOpen', error: lastError };
        throw new InstrumentError('DISCONNECTED', `the terminal is not open yet${lastError ? ` (${lastError})` : ''}`, why);
      }
      const payload = msg.payload;
      if (Buffer.isBuffer(payload)) session.write(payload);
      else if (typeof payload === 'string') session.write(Buffer.from(payload, encoding === 'hex' || encoding === 'base64' ? 'utf8' : encoding));
      else if (typeof payload === 'number' || typeof payload === 'boolean') session.write(String(payload));
      else throw new InstrumentError('BAD_INPUT', 'msg.payload must be a string or a Buffer to send to the Propeller', { reason: 'terminalPayload' });
    });

    user.onClose(async () => {
      clearTimeout(retry);
      gapWarnings.dispose();
      decoder.reset();
      const current = session;
      session = undefined;
      await current?.close().catch(() => undefined);
    });
  }

  RED.nodes.registerType('propeller-terminal', PropellerTerminalNode);
};
