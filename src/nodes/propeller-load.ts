import { lookup } from '../nodered/i18n';
import type { Migration } from '../nodered/migrations';
import { PROPELLER_CONNECTION_KIND, usePropellerConnection } from '../nodered/propeller-config';
import { imageInput } from '../nodered/propeller-image-input';
import { DEBUG_MODES, LOAD_ACTIONS, loadChoices, loadSettings, type LoadSettings } from '../nodered/propeller-load-input';
import type { NodeDef, RedAPI, RedNode } from '../nodered/red-types';
import { errorDot } from '../nodered/status';
import { userNode } from '../nodered/user-node';
import { InstrumentError } from '../protocols/common/errors';
import type { LoadProgress } from '../protocols/propeller/connection';
import { prepareImage } from '../protocols/propeller/image';

/** Older flows' spelling of a choice, or the fallback: for the migration only (a msg's value is checked, see loadChoices). */
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
      action: pick(config.action, LOAD_ACTIONS, 'RAM'),
      debug: pick(config.debug, DEBUG_MODES, 'none'),
      fileType: typeof config.fileType === 'string' && config.fileType !== '' ? config.fileType : 'str',
    }),
  },
  /**
   * Version 2: "msg.action may choose EEPROM" (allowMsgEeprom). Writing the EEPROM cannot be undone,
   * so a node saved before the box existed gets it unticked: a stray msg.action no longer programs it.
   */
  { version: 2, up: (config) => ({ ...config, allowMsgEeprom: config.allowMsgEeprom === true }) },
];

export = function (RED: RedAPI) {
  function PropellerLoadNode(this: RedNode, config: NodeDef) {
    const user = userNode(RED, this, config, { migrations: MIGRATIONS });
    const def = user.def;
    let settings: LoadSettings;
    try {
      settings = loadSettings(def, user.text('propeller-load.property.timeout'));
    } catch (err) {
      // Checked before the connection is used: a node that cannot load opens nothing.
      user.refuse(err, 'status.invalidConfig');
      return;
    }
    const link = usePropellerConnection(user);
    if (!link) return;
    const { connection } = link;
    const imageFor = imageInput(RED, user);

    user.onInput(async (msg, send) => {
      const { action, debug, timeoutMs } = loadChoices(settings, msg);
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
      const { failure, ...payload } = result;
      msg.payload = payload;
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
        // The sentence says its cause through __cause__: a serial failure in the runtime's language
        // (by its reason), the Launcher's own text as it is.
        const failed = new InstrumentError(
          'REMOTE',
          `load to ${action} on ${result.port} failed: ${error}${errorId}`,
          { reason: 'loadFailed', action, port: result.port, error, errorId: result.errorId, idText: errorId },
          { cause: failure ?? new Error(error) },
        );
        user.status(errorDot(RED, failed));
        throw failed;
      }
      user.status({ fill: 'green', shape: 'dot', text: user.text('propeller-load.status.loaded', { port: result.port }) });
    });
  }

  RED.nodes.registerType('propeller-load', PropellerLoadNode);
};
