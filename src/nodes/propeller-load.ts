import { lookup } from '../nodered/i18n';
import type { Migration } from '../nodered/migrations';
import { PROPELLER_CONNECTION_KIND, usePropellerConnection } from '../nodered/propeller-config';
import { imageInput } from '../nodered/propeller-image-input';
import { configNumber } from '../nodered/properties';
import type { NodeDef, RedAPI, RedNode } from '../nodered/red-types';
import { errorDot } from '../nodered/status';
import { userNode } from '../nodered/user-node';
import { InstrumentError } from '../protocols/common/errors';
import type { DebugMode, LoadAction, LoadProgress } from '../protocols/propeller/connection';
import { prepareImage } from '../protocols/propeller/image';

const ACTIONS: readonly LoadAction[] = ['RAM', 'EEPROM'];
const DEBUG_MODES: readonly DebugMode[] = ['none', 'term', 'graph'];

function pick<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  const text = typeof value === 'string' ? value.trim() : '';
  const found = allowed.find((a) => a.toLowerCase() === text.toLowerCase());
  return found ?? fallback;
}

/**
 * Version 1: the connection kind (see PROPELLER_CONNECTION_KIND); "Store in" and "Afterwards" in
 * their canonical spelling (older flows wrote them in any case, or not at all: RAM, none); a File
 * field saved before it became a typed input has no fileType, its path is a plain string.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (config) => ({
      ...PROPELLER_CONNECTION_KIND.up(config),
      action: pick(config.action, ACTIONS, 'RAM'),
      debug: pick(config.debug, DEBUG_MODES, 'none'),
      fileType: typeof config.fileType === 'string' && config.fileType !== '' ? config.fileType : 'str',
    }),
  },
];

export = function (RED: RedAPI) {
  function PropellerLoadNode(this: RedNode, config: NodeDef) {
    const user = userNode(RED, this, config, { migrations: MIGRATIONS });
    const link = usePropellerConnection(user);
    if (!link) return;
    const { connection } = link;
    const def = user.def;
    const imageFor = imageInput(RED, user);
    const seconds = configNumber(def.timeout, 120);
    const timeoutMs = (seconds > 0 ? seconds : 120) * 1000;

    user.onInput(async (msg, send) => {
      const action = pick(msg.action, ACTIONS, def.action === 'EEPROM' ? 'EEPROM' : 'RAM');
      const debug = pick(msg.debug, DEBUG_MODES, pick(def.debug, DEBUG_MODES, 'none'));
      const port = typeof msg.port === 'string' && msg.port.trim() !== '' ? msg.port.trim() : String(def.port ?? '').trim() || undefined;
      // Checked here, before anything reaches the Launcher or the port.
      const prepared = prepareImage(await imageFor(msg));
      user.status({ fill: 'blue', shape: 'ring', text: user.text('propeller-load.status.loading', { action }) });
      const progress = (p: LoadProgress): void => {
        if (p.stage !== 'downloading') user.status({ fill: 'blue', shape: 'ring', text: lookup(RED, `propeller-load.stage.${p.stage}`) ?? p.stage });
        send([null, { topic: 'progress', payload: { id: p.id, text: p.text, stage: p.stage }, _msgid: msg._msgid }]);
      };
      let result;
      try {
        result = await connection.load({ image: prepared.image, action, port, debug, timeoutMs }, progress);
      } catch (err) {
        user.status(errorDot(RED, err));
        throw err;
      }
      msg.payload = result;
      msg.topic = 'load';
      msg.image = {
        format: prepared.format,
        size: prepared.size,
        clockFrequency: prepared.clockFrequency,
        clockMode: prepared.clockModeText,
      };
      send([msg, null]);
      if (!result.success) {
        const error = result.error ?? 'unknown error';
        const errorId = result.errorId !== undefined ? ` (id ${result.errorId})` : '';
        const failed = new InstrumentError('REMOTE', `load to ${action} on ${result.port} failed: ${error}${errorId}`, {
          reason: 'loadFailed',
          action,
          port: result.port,
          error,
          errorId: result.errorId,
          idText: errorId,
        });
        user.status(errorDot(RED, failed));
        throw failed;
      }
      user.status({ fill: 'green', shape: 'dot', text: user.text('propeller-load.status.loaded', { port: result.port }) });
    });
  }

  RED.nodes.registerType('propeller-load', PropellerLoadNode);
};
