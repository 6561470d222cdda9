import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InstrumentError, describeSocketError } from '../common/errors';
import type { ImageFormat } from './image';

/** Image file bytes from a message value: a Buffer, or a base64 string (whitespace allowed). */
export function imageBytesFrom(payload: unknown, what = 'msg.payload'): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') {
    const compact = payload.replace(/\s+/g, '');
    if (compact !== '' && /^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return Buffer.from(compact, 'base64');
    throw new InstrumentError('BAD_INPUT', `${what} is a string but not base64: send the image file's bytes as a Buffer or a base64 string`);
  }
  throw new InstrumentError(
    'BAD_INPUT',
    `${what} must be the image file's bytes as a Buffer or a base64 string (got ${payload === undefined ? 'nothing' : typeof payload})`,
  );
}

/**
 * The bytes of an image file. With a workingDirectory (settings.fileWorkingDirectory), a relative
 * path starts there, as for Node-RED's core file nodes; without one, from the process's directory.
 */
export async function readImageFile(file: string, workingDirectory?: unknown): Promise<Buffer> {
  if (file.trim() === '') throw new InstrumentError('BAD_INPUT', 'no image file: set the file path in the node or send msg.filename');
  const full =
    typeof workingDirectory === 'string' && workingDirectory !== '' && !path.isAbsolute(file) ? path.resolve(workingDirectory, file) : file;
  try {
    return await fs.readFile(full);
  } catch (err) {
    throw new InstrumentError('BAD_INPUT', `could not read the image file ${full}: ${describeSocketError(err)}`);
  }
}

const FORMATS: readonly ImageFormat[] = ['binary', 'eeprom', 'elf'];

/**
 * The format a user asked for ("auto"/empty: undefined), else the one a file name's extension
 * names, else undefined (prepareImage then looks at the content).
 */
export function imageFormatFor(requested: unknown, fileName?: string): ImageFormat | undefined {
  const text = typeof requested === 'string' ? requested.trim().toLowerCase() : '';
  if ((FORMATS as readonly string[]).includes(text)) return text as ImageFormat;
  if (text !== '' && text !== 'auto')
    throw new InstrumentError('BAD_INPUT', `unknown image format "${String(requested)}": use auto, binary, eeprom or elf`);
  const ext = fileName ? path.extname(fileName).toLowerCase() : '';
  if (ext === '.eeprom') return 'eeprom';
  if (ext === '.elf') return 'elf';
  if (ext === '.binary' || ext === '.bin') return 'binary';
  return undefined;
}
