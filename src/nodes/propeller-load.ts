import { onClose, onInput } from '../nodered/lifecycle';
import { acquirePropellerConnection } from '../nodered/propeller-config';
import { configNumber, evaluateProperty } from '../nodered/properties';
import type { NodeDef, NodeMessage, RedAPI, RedNode } from '../nodered/red-types';
import { errorDot } from '../nodered/status';
import { InstrumentError, errorMessage } from '../protocols/common/errors';
import type { DebugMode, LoadAction, LoadProgress } from '../protocols/propeller/connection';
import { prepareImage } from '../protocols/propeller/image';
import { readImageFile } from '../protocols/propeller/image-source';

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
    throw new InstrumentError(
      'BAD_INPUT',
      'msg.payload is a string but not base64: send the image as a Buffer or a base64 string, or choose "file" as the image source',
    );
  }
  throw new InstrumentError(
    'BAD_INPUT',
    `msg.payload must be the image as a Buffer or a base64 string (got ${payload === undefined ? 'nothing' : typeof payload})`,
  );
}

const FILE_TYPES = ['str', 'msg', 'flow', 'global', 'env'] as const;
type FileType = (typeof FILE_TYPES)[number];

/** Where a typed-input path came from, in the words a user sees in the dialog. */
function fileSource(type: FileType, value: string): string {
  if (type === 'env') return `the environment variable ${value}`;
  return `${type}.${value}`;
}

/** The evaluated "File" field as a path; an empty or non-text value is refused before anything is sent. */
function imagePath(type: FileType, field: string, value: unknown): string {
  // An empty string path is refused by readImageFile, in the words it has always used.
  if (type === 'str') return typeof value === 'string' ? value : '';
  const from = fileSource(type, field);
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    throw new InstrumentError(
      'BAD_INPUT',
      `no image file: the node takes the file path from ${from}, which is empty or not set; set it, or send msg.filename`,
    );
  }
  if (typeof value !== 'string')
    throw new InstrumentError(
      'BAD_INPUT',
      `${from} must be the image file's path as a string (got ${Buffer.isBuffer(value) ? 'a Buffer' : typeof value})`,
    );
  return value;
}

export = function (RED: RedAPI) {
  function PropellerLoadNode(this: RedNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const acquired = acquirePropellerConnection(RED, node, def);
    if (!acquired) return;
    const { config, connection } = acquired;
    const source = def.source === 'file' ? 'file' : 'payload';
    // Flows saved before the field became a typed input have no fileType: their path is a plain string.
    const rawFileType = typeof def.fileType === 'string' && def.fileType !== '' ? def.fileType : 'str';
    const fileType = (FILE_TYPES as readonly string[]).includes(rawFileType) ? (rawFileType as FileType) : undefined;
    const fileField = String(def.file ?? '');
    const seconds = configNumber(def.timeout, 120);
    const timeoutMs = (seconds > 0 ? seconds : 120) * 1000;

    /** msg.filename still replaces the node's path, as before the field became a typed input. */
    async function fileFor(msg: NodeMessage): Promise<string> {
      if (typeof msg.filename === 'string' && msg.filename !== '') return msg.filename;
      if (!fileType)
        throw new InstrumentError(
          'BAD_INPUT',
          `the File field has an unknown type "${rawFileType}": open the node and choose string, msg, flow, global or env`,
        );
      if (fileType !== 'str' && fileField.trim() === '')
        throw new InstrumentError('BAD_INPUT', `no image file: the File field is set to ${fileType} but names nothing; open the node and fill it in`);
      return imagePath(fileType, fileField, await evaluateProperty(RED, node, msg, fileField, fileType));
    }

    onInput(node, async (msg, send) => {
      const action = pick(msg.action, ACTIONS, pick(def.action, ACTIONS, 'RAM'));
      const debug = pick(msg.debug, DEBUG_MODES, pick(def.debug, DEBUG_MODES, 'none'));
      const port = typeof msg.port === 'string' && msg.port.trim() !== '' ? msg.port.trim() : String(def.port ?? '').trim() || undefined;
      // Checked here, before anything reaches the Launcher or the port.
      const prepared = prepareImage(
        source === 'file' ? await readImageFile(await fileFor(msg), RED.settings.fileWorkingDirectory) : imageFromPayload(msg.payload),
      );
      node.status({ fill: 'blue', shape: 'ring', text: `loading ${action}` });
      const progress = (p: LoadProgress): void => {
        if (p.stage !== 'downloading') node.status({ fill: 'blue', shape: 'ring', text: p.stage });
        send([null, { topic: 'progress', payload: { id: p.id, text: p.text, stage: p.stage }, _msgid: msg._msgid }]);
      };
      let result;
      try {
        result = await connection.load({ image: prepared.image, action, port, debug, timeoutMs }, progress);
      } catch (err) {
        node.status(errorDot(errorMessage(err)));
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
        throw new InstrumentError('REMOTE', `load to ${action} on ${result.port} failed: ${result.error ?? 'unknown error'}${id}`, {
          errorId: result.errorId,
        });
      }
      node.status({ fill: 'green', shape: 'dot', text: `loaded ${result.port}` });
    });
    onClose(node, () => config.release(node));
  }

  RED.nodes.registerType('propeller-load', PropellerLoadNode);
};
