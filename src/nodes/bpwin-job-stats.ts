import { BPWIN_SERVER } from '../nodered/config-nodes';
import { configNumber } from '../nodered/properties';
import type { NodeDef, NodeStatus, RedAPI, RedNode } from '../nodered/red-types';
import { userNode } from '../nodered/user-node';
import { errorKind } from '../protocols/bpwin/error-kind';
import { DEFAULT_POLL_MS, JobStatsPoller, MIN_POLL_MS, type EmitPolicy, type PollerState } from '../protocols/bpwin/job-stats-poller';

const POLICIES: EmitPolicy[] = ['change', 'counts', 'always'];

export = function (RED: RedAPI): void {
  function BpwinJobStats(this: RedNode, def: NodeDef): void {
    const user = userNode(RED, this, def);
    const intervalMs = Math.max(MIN_POLL_MS, configNumber(def.interval, DEFAULT_POLL_MS));
    const emit = POLICIES.includes(def.emit as EmitPolicy) ? (def.emit as EmitPolicy) : 'change';

    const dot = (state: PollerState): NodeStatus | undefined => {
      switch (state.state) {
        case 'session': {
          const s = state.stats;
          if (s.Mode === 'Manual')
            return {
              fill: 'green',
              shape: 'dot',
              text: user.text('bpwin-job-stats.status.manual', { passed: Number(s.Passed_Device), failed: Number(s.Failed_Device) }),
            };
          const tower = String(s.Light_Tower ?? 'off');
          const fill = tower.includes('red') ? 'red' : tower.includes('amber') ? 'yellow' : tower.includes('green') ? 'green' : 'grey';
          const lights = tower
            .split('+')
            .map((colour) => user.text(`bpwin-job-stats.light.${colour}`))
            .join('+');
          return { fill, shape: 'dot', text: `${String(s.Machine_Status)} · ${lights}` };
        }
        case 'idle':
          return { fill: 'grey', shape: 'ring', text: user.text('bpwin-job-stats.status.idle') };
        case 'disconnected':
          return {
            fill: 'red',
            shape: 'ring',
            text: user.text('bpwin-job-stats.status.disconnected', { seconds: Math.max(1, Math.round(state.retryInMs / 1000)) }),
          };
        case 'error':
          return {
            fill: 'red',
            shape: 'ring',
            text: user.text('bpwin-job-stats.status.error', { seconds: Math.max(1, Math.round(state.retryInMs / 1000)) }),
          };
        case 'refused':
          return { fill: 'red', shape: 'dot', text: user.text('bpwin-job-stats.status.refused') };
        case 'stopped':
          return undefined;
      }
    };

    const link = user.use(BPWIN_SERVER, def.server, (server) => server.requests);
    if (!link) return;
    const poller = new JobStatsPoller({ client: link.connection, intervalMs, emit, backoff: link.config.backoff });
    poller.on('stats', (payload) => this.send({ topic: 'job-stats', payload }));
    poller.on('state', (state) => {
      const status = dot(state);
      if (status) user.status(status);
    });
    poller.on('failure', (err) => user.error(err, { topic: 'job-stats', payload: { error: err.message, kind: errorKind(err) } }));
    poller.start();

    // Any input reads now and sends the reading, changed or not.
    user.onInput(async (msg, send) => {
      msg.payload = await poller.readNow();
      msg.topic = 'job-stats';
      send(msg);
    });

    user.onClose(() => {
      poller.stop();
      poller.removeAllListeners();
    });
  }

  RED.nodes.registerType('bpwin-job-stats', BpwinJobStats);
};
