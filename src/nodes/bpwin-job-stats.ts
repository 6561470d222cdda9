import { onClose, onInput } from '../nodered/lifecycle';
import { configNumber } from '../nodered/properties';
import type { NodeDef, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import type { BpwinClient } from '../protocols/bpwin/client';
import { errorKind } from '../protocols/bpwin/error-kind';
import { DEFAULT_POLL_MS, JobStatsPoller, MIN_POLL_MS, type EmitPolicy, type PollerState } from '../protocols/bpwin/job-stats-poller';
import { InstrumentError } from '../protocols/common/errors';
import type { BpwinServerNode } from './bpwin-server';

const POLICIES: EmitPolicy[] = ['change', 'counts', 'always'];

export = function (RED: RedAPI): void {
  function BpwinJobStats(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const server = RED.nodes.getNode(String(def.server ?? '')) as BpwinServerNode | null;
    const intervalMs = Math.max(MIN_POLL_MS, configNumber(def.interval, DEFAULT_POLL_MS));
    const emit = POLICIES.includes(def.emit as EmitPolicy) ? (def.emit as EmitPolicy) : 'change';
    const t = (key: string, subs?: Record<string, string | number>): string => RED._(`bpwin-job-stats.${key}`, subs);

    const dot = (state: PollerState): NodeStatus | undefined => {
      switch (state.state) {
        case 'session': {
          const s = state.stats;
          if (s.Mode === 'Manual')
            return { fill: 'green', shape: 'dot', text: t('status.manual', { passed: Number(s.Passed_Device), failed: Number(s.Failed_Device) }) };
          const tower = String(s.Light_Tower ?? 'off');
          const fill = tower.includes('red') ? 'red' : tower.includes('amber') ? 'yellow' : tower.includes('green') ? 'green' : 'grey';
          const lights = tower
            .split('+')
            .map((colour) => t(`light.${colour}`))
            .join('+');
          return { fill, shape: 'dot', text: `${String(s.Machine_Status)} · ${lights}` };
        }
        case 'idle':
          return { fill: 'grey', shape: 'ring', text: t('status.idle') };
        case 'disconnected':
          return { fill: 'red', shape: 'ring', text: t('status.disconnected', { seconds: Math.max(1, Math.round(state.retryInMs / 1000)) }) };
        case 'error':
          return { fill: 'red', shape: 'ring', text: t('status.error', { seconds: Math.max(1, Math.round(state.retryInMs / 1000)) }) };
        case 'refused':
          return { fill: 'red', shape: 'dot', text: t('status.refused') };
        case 'stopped':
          return undefined;
      }
    };

    let client: BpwinClient | undefined;
    let poller: JobStatsPoller | undefined;
    try {
      if (!server) throw new InstrumentError('BAD_INPUT', 'no BPWin server is configured: choose one in the node');
      client = server.requests.register(node);
      poller = new JobStatsPoller({ client, intervalMs, emit, backoff: server.backoff });
      poller.on('stats', (payload) => node.send({ topic: 'job-stats', payload }));
      poller.on('state', (state) => {
        const status = dot(state);
        if (status) node.status(status);
      });
      poller.on('failure', (err) => node.error(err, { topic: 'job-stats', payload: { error: err.message, kind: errorKind(err) } }));
      poller.start();
    } catch (err) {
      node.status({ fill: 'red', shape: 'ring', text: t('status.not-configured') });
      node.error(err);
    }

    // Any input reads now and sends the reading, changed or not.
    onInput(node, async (msg, send) => {
      if (!poller) throw new InstrumentError('BAD_INPUT', 'no BPWin server is configured: choose one in the node');
      msg.payload = await poller.readNow();
      msg.topic = 'job-stats';
      send(msg);
    });

    onClose(node, async () => {
      poller?.stop();
      poller?.removeAllListeners();
      if (client && server) await server.requests.deregister(node);
    });
  }

  RED.nodes.registerType('bpwin-job-stats', BpwinJobStats);
};
