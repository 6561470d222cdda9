import { ConnectionRegistry } from '../nodered/connection-registry';
import { registerConnectionTest } from '../nodered/connection-test';
import { onClose } from '../nodered/lifecycle';
import { configNumber, configTimeoutMs, settingsNumber } from '../nodered/properties';
import type { NebvServerNode } from '../nodered/config-nodes';
import { errorText } from '../nodered/i18n';
import type { NodeDef, RedAPI, RedNode } from '../nodered/red-types';
import { connectionDot } from '../nodered/status';
import { InstrumentError } from '../protocols/common/errors';
import { describeTarget, parseSocketTarget, type SocketTarget } from '../protocols/common/tcp-connection';
import { DEFAULT_MAX_REPLY_BYTES, DEFAULT_TIMEOUT_MS, NebvClient, describeReply, type NebvClientOptions } from '../protocols/nebv/client';

/** The dialog's fields as a socket target; throws a message naming the bad field. */
function targetOf(def: Record<string, unknown>): SocketTarget {
  if (def.transport === 'unix') {
    const socketPath = String(def.path ?? '').trim();
    if (socketPath === '') {
      throw new InstrumentError('BAD_INPUT', 'a Unix socket path is required (the --json-rpc-unix-server=<path> neoEBV was started with)', {
        reason: 'nebvSocketPathMissing',
      });
    }
    return { kind: 'unix', path: socketPath };
  }
  const host = String(def.host ?? '').trim() || '127.0.0.1';
  const port = String(def.port ?? '').trim();
  return parseSocketTarget(`${host.includes(':') ? `[${host}]` : host}:${port}`);
}

/** Time allowed per call in ms; the dialog says seconds. A value out of range is refused by name. */
function callTimeoutMs(config: Record<string, unknown>): number {
  return configTimeoutMs(config.timeout, DEFAULT_TIMEOUT_MS, 'the neoEBV server timeout');
}

/**
 * The dialog's fields (strings from the editor, numbers and booleans from a flow file) as client
 * options, reconnect backoff aside. Throws on a bad address, so call it where that error is reported.
 */
function clientOptionsOf(config: Record<string, unknown>): NebvClientOptions & { timeoutMs: number } {
  const timeoutMs = callTimeoutMs(config);
  const maxReplyKiB = configNumber(config.maxReply, DEFAULT_MAX_REPLY_BYTES / 1024);
  return {
    target: targetOf(config),
    timeoutMs,
    connectTimeoutMs: timeoutMs,
    newline: config.newline === true || config.newline === 'true',
    maxReplyBytes: Math.round(maxReplyKiB * 1024),
  };
}

/** neoEBV binds one port of its range, and several viewers on one PC take neighbouring ports: a test tries no more than this. */
const TEST_PORTS_MAX = 16;

/** The "Test connection" button: one connection attempt (every port of a short range, in order), no retries. */
async function probeNebv(RED: RedAPI, options: NebvClientOptions & { timeoutMs: number }): Promise<string> {
  const target = typeof options.target === 'string' ? parseSocketTarget(options.target) : options.target;
  if (target.kind === 'tcp' && target.ports.length > TEST_PORTS_MAX) {
    throw new InstrumentError(
      'BAD_INPUT',
      `Test connection tries at most ${TEST_PORTS_MAX} ports, not ${target.ports.length}: narrow the port range`,
      {
        reason: 'testTooManyPorts',
        max: TEST_PORTS_MAX,
        count: target.ports.length,
      },
    );
  }
  const timeoutMs = Math.min(options.timeoutMs, 5000);
  const client = new NebvClient({ ...options, reconnect: false, connectTimeoutMs: timeoutMs });
  try {
    // The dial's own failure names the address once, and whenConnected passes it on as it is.
    await client.whenConnected(timeoutMs + 500);
    return RED._('nebv-server.test.connected', { endpoint: client.endpoint });
  } finally {
    await client.close();
  }
}

export = function (RED: RedAPI): void {
  function NebvServer(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this as NebvServerNode;

    node.clients = new ConnectionRegistry<NebvClient>({
      open: () => {
        const client = new NebvClient({
          ...clientOptionsOf(def),
          backoff: { initialMs: settingsNumber(RED, 'nebvServerReconnectTime', 500), maxMs: 30_000 },
        });
        client.on('status', (status) => node.clients.setStatus(connectionDot(RED, status)));
        // A reply nobody waits for is usually a late answer to a call that timed out; after a burst of
        // timeouts there may be hundreds, so say it at most every 10 s.
        let lastWarned = 0;
        client.on('unmatched', (reply) => {
          if (Date.now() - lastWarned < 10_000) return;
          lastWarned = Date.now();
          node.warn(RED._('nebv-server.warn.unmatched', { reply: describeReply(reply) }));
        });
        client.on('streamError', (err) => node.warn(errorText(RED, err)));
        client.start();
        return client;
      },
      close: (client) => client.close(),
    });

    onClose(node, () => node.clients.closeAll(), { RED });
  }

  RED.nodes.registerType('nebv-server', NebvServer);
  registerConnectionTest(RED, 'nebv-server', async (config) => probeNebv(RED, clientOptionsOf(config)), {
    address: (config) => describeTarget(targetOf(config)),
  });
};
