import type { NodeDef, NodeMessage, RedAPI, RedNode } from '../nodered/red-types';
import { errorDot, shortText } from '../nodered/status';
import { userNode } from '../nodered/user-node';
import { InstrumentError } from '../protocols/common/errors';
import { binaryToEeprom, prepareImage, type PreparedImage } from '../protocols/propeller/image';
import { imageBytesFrom, imageFormatFor, readImageFile } from '../protocols/propeller/image-source';

type Output = 'facts' | 'binary' | 'eeprom';

/** Everything a flow may want to branch on; the bytes themselves travel separately. */
function facts(p: PreparedImage): Record<string, unknown> {
  const { image: _bytes, ...rest } = p;
  return rest;
}

export = function (RED: RedAPI) {
  function PropellerImageNode(this: RedNode, def: NodeDef) {
    const user = userNode(RED, this, def);
    const source = def.source === 'file' ? 'file' : 'payload';
    const output: Output = def.output === 'binary' || def.output === 'eeprom' ? def.output : 'facts';

    user.onInput(async (msg: NodeMessage, send) => {
      const file = typeof msg.filename === 'string' && msg.filename !== '' ? msg.filename : String(def.file ?? '');
      let prepared: PreparedImage;
      try {
        const data = source === 'file' ? await readImageFile(file, RED.settings.fileWorkingDirectory) : imageBytesFrom(msg.payload);
        const format = imageFormatFor(
          msg.format ?? def.format,
          source === 'file' ? file : typeof msg.filename === 'string' ? msg.filename : undefined,
        );
        prepared = prepareImage(data, {
          format,
          fixChecksum: msg.fixChecksum === true || (msg.fixChecksum === undefined && def.fixChecksum === true),
        });
      } catch (err) {
        // Every refusal replaces the last image's green dot: a missing file or bad payload included.
        const rule = err instanceof InstrumentError && err.details.rule !== undefined ? String(err.details.rule) : undefined;
        user.status(errorDot(RED, rule ?? user.text('propeller-image.status.noImage')));
        throw err;
      }
      const summary = facts(prepared);
      msg.topic = prepared.format;
      if (output === 'facts') {
        msg.payload = summary;
      } else {
        msg.payload = output === 'eeprom' ? binaryToEeprom(prepared.image) : prepared.image;
        msg.image = summary;
      }
      user.status({
        fill: prepared.checksumFixed ? 'yellow' : 'green',
        shape: 'dot',
        text: shortText(`${prepared.format} ${prepared.size} B ${prepared.clockModeText}`, 32),
      });
      send(msg);
    });
  }

  RED.nodes.registerType('propeller-image', PropellerImageNode);
};
