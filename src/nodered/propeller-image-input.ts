import { InstrumentError } from '../protocols/common/errors';
import { imageBytesFrom, readImageFile } from '../protocols/propeller/image-source';
import { evaluateProperty } from './properties';
import type { NodeMessage, RedAPI } from './red-types';
import type { UserNode } from './user-node';

const FILE_TYPES = ['str', 'msg', 'flow', 'global', 'env'] as const;
type FileType = (typeof FILE_TYPES)[number];

/**
 * The load node's image for a msg: msg.payload (Buffer or base64), or a file whose path is the
 * "File" typed input (str, msg, flow, global, env) or msg.filename. Anything unusable is refused
 * before a byte is sent.
 */
export function imageInput(RED: RedAPI, user: UserNode): (msg: NodeMessage) => Promise<Buffer> {
  const def = user.def;
  const source = def.source === 'file' ? 'file' : 'payload';
  const fileType = (FILE_TYPES as readonly unknown[]).includes(def.fileType) ? (def.fileType as FileType) : undefined;
  const fileField = String(def.file ?? '');

  /** Where a typed-input path came from, in the words a user sees in the dialog. */
  const fileSource = (type: Exclude<FileType, 'str'>): { from: string; english: string } =>
    type === 'env'
      ? { from: user.text('propeller-load.file.env', { name: fileField }), english: `the environment variable ${fileField}` }
      : { from: `${type}.${fileField}`, english: `${type}.${fileField}` };

  /** The evaluated "File" field as a path; an empty or non-text value is refused before anything is sent. */
  function imagePath(type: FileType, value: unknown): string {
    // An empty string path is refused by readImageFile, in the words it has always used.
    if (type === 'str') return typeof value === 'string' ? value : '';
    const { from, english } = fileSource(type);
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
      throw new InstrumentError(
        'BAD_INPUT',
        `no image file: the node takes the file path from ${english}, which is empty or not set; set it, or send msg.filename`,
        { reason: 'imagePathEmpty', from },
      );
    }
    if (typeof value !== 'string') {
      const got = Buffer.isBuffer(value) ? 'a Buffer' : typeof value;
      throw new InstrumentError('BAD_INPUT', `${english} must be the image file's path as a string (got ${got})`, {
        reason: 'imagePathNotText',
        from,
        got,
      });
    }
    return value;
  }

  /** msg.filename still replaces the node's path, as before the field became a typed input. */
  async function fileFor(msg: NodeMessage): Promise<string> {
    if (typeof msg.filename === 'string' && msg.filename !== '') return msg.filename;
    if (!fileType) {
      throw new InstrumentError(
        'BAD_INPUT',
        `the File field has an unknown type "${String(def.fileType)}": open the node and choose string, msg, flow, global or env`,
        { reason: 'fileTypeUnknown', fileType: String(def.fileType) },
      );
    }
    if (fileType !== 'str' && fileField.trim() === '') {
      throw new InstrumentError('BAD_INPUT', `no image file: the File field is set to ${fileType} but names nothing; open the node and fill it in`, {
        reason: 'fileFieldEmpty',
        fileType,
      });
    }
    return imagePath(fileType, await evaluateProperty(RED, user.node, msg, fileField, fileType));
  }

  return async (msg) => (source === 'file' ? readImageFile(await fileFor(msg), RED.settings.fileWorkingDirectory) : imageBytesFrom(msg.payload));
}
