import { promises as fs } from 'node:fs';
import path from 'node:path';
import { onClose, onInput } from '../nodered/lifecycle';
import { acquirePropellerConnection } from '../nodered/propeller-config';
import { configNumber } from '../nodered/properties';
import type { NodeDef, RedAPI, RedNode } from '../nodered/red-types';
import { errorDot } from '../nodered/status';
import { InstrumentError, describeSocketError } from '../protocols/common/errors';
import type { DebugMode, LoadAction, LoadProgress } from '../protocols/propeller/connection';
import { prepareImage } from '../protocols/propeller/image';

const ACTIONS: readonly LoadAction[] = ['RAM', 'EEPROM'];
const DEBUG_MODES: readonly DebugMode[] = ['none', 'term', 'graph'];

function pick<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  const text = typeof value === 'string' ? value.trim() : '';
  const found = allowed.find((a) => a.toLowerCase() === text.toLowerCase());
  return found ?? fallback;
}

/** msg.payload as image bytes: a Buffer, or a base64 string (whitespace allowed). */
function imageFromPayload(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') {
    const compact = payload.replace(/\s+/g, '');
    if (compact !== '' && /^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return Buffer.from(compact, 'base64');
    throw new InstrumentError('BAD_INPUT', 'msg.payload is a string but not base64: send the image as a Buffer or a base64 string, or choose "file" as the image source');
  }
  throw new InstrumentError('BAD_INPUT', `msg.payload must be the image as a Buffer or a base64 string (got ${payload === undefined ? 'nothing' : typeof payload})`);
}

/** A relative path is taken from settings.fileWorkingDirectory when set, as Node-RED's file nodes do. */
async function imageFromFile(file: string, workingDirectory: unknown): Promise<Buffer> {
  if (file.trim() === '') throw new InstrumentError('BAD_INPUT', 'no image file: set the file path in the node or send msg.filename');
  const full = typeof workingDirectory === 'string' && workingDirectory !== '' && !path.isAbsolute(file) ? path.resolve(workingDirectory, file) : file;
  try {
    return await fs.readFile(full);
  } catch (err) {
    throw new InstrumentError('BAD_INPUT', `could not read the image file ${full}: ${describeSocketError(err)}`);
  }
}

export = function (RED: RedAPI) {
  function PropellerLoadNode(this: RedNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const acquired = acquirePropellerConnection(RED, node, def);
    if (!acquired) return;
    const { config, connection } = acquired;
    const source = def.source === 'file' ? 'file' : 'payload';
    const seconds = configNumber(def.timeout, 120);
    const timeoutMs = (seconds > 0 ? seconds : 120) * 1000;

    onInput(node, async (msg, send) => {
      const action = pick(msg.action, ACTIONS, pick(def.action, ACTIONS, 'RAM'));
      const debug = pick(msg.debug, DEBUG_MODES, pick(def.debug, DEBUG_MODES, 'none'));
      const port = typeof msg.port === 'string' && msg.port.trim() !== '' ? msg.port.trim() : String(def.port ?? '').trim() || undefined;
      const file = typeof msg.filename === 'string' && msg.filename !== '' ? msg.filename : String(def.file ?? '');
      // Checked here, before anything reaches the Launcher or the port.
      const prepared = prepareImage(source === 'file' ? await imageFromFile(file, RED.settings.fileWorkingDirectory) : imageFromPayload(msg.payload));
      node.status({ fill: 'blue', shape: 'ring', text: `loading ${action}` });
      const progress = (p: LoadProgress): void => {
        if (p.stage !== 'downloading') node.status({ fill: 'blue', shape: 'ring', text: p.stage });
        send([null, { topic: 'progress', payload: { id: p.id, text: p.text, stage: p.stage }, _msgid: msg._msgid }]);
      };
      let result;
      try {
        result = await connection.load({ image: prepared.image, action, port, debug, timeoutMs }, progress);
      } catch (err) {
        node.status(errorDot(err instanceof Error ? err.message : String(err)));
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
        node.status(errorDot(result.error ?? 'load failed'));
        const id = result.errorId !== undefined ? ` (id ${result.errorId})` : '';
        throw new InstrumentError('REMOTE', `load to ${action} on ${result.port} failed: ${result.error ?? 'unknown error'}${id}`, { errorId: result.errorId });
      }
      node.status({ fill: 'green', shape: 'dot', text: `loaded ${result.port}` });
    });
    onClose(node, () => config.release(node));
  }

  RED.nodes.registerType('propeller-load', PropellerLoadNode);
};
