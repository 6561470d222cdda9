import { constants, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { InstrumentError, errorMessage } from '../common/errors';
import type { ImageFormat } from './image';

/**
 * The largest image file read. A .binary or .eeprom is at most 32 KB; an .elf carries symbols and
 * debug sections beside its hub image (at most 32 KB too), so it gets far more room, but not without
 * bound.
 */
export const MAX_IMAGE_FILE_BYTES = 1024 * 1024;
/** base64 of the largest file, with room for line breaks. */
const MAX_BASE64_CHARS = Math.ceil((MAX_IMAGE_FILE_BYTES * 4) / 3) * 2;
const READ_CHUNK = 64 * 1024;

/** Image file bytes from a message value: a Buffer, or a base64 string (whitespace allowed). */
export function imageBytesFrom(payload: unknown, what = 'msg.payload'): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') {
    if (payload.length > MAX_BASE64_CHARS) {
      throw new InstrumentError(
        'BAD_INPUT',
        `${what} is a string of more than ${MAX_BASE64_CHARS} characters, larger than the base64 of any Propeller image file: ` +
          "send the image file's bytes",
        { reason: 'imagePayloadTooLarge', property: what, limit: MAX_BASE64_CHARS },
      );
    }
    const compact = payload.replace(/\s+/g, '');
    if (compact !== '' && /^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return Buffer.from(compact, 'base64');
    throw new InstrumentError(
      'BAD_INPUT',
      `${what} is a string but not base64: send the image file's bytes as a Buffer or a base64 string, or choose "file" as the image source`,
      { reason: 'imageNotBase64', property: what },
    );
  }
  const got = payload === undefined ? 'nothing' : typeof payload;
  throw new InstrumentError('BAD_INPUT', `${what} must be the image file's bytes as a Buffer or a base64 string (got ${got})`, {
    reason: 'imageNotBytes',
    property: what,
    got,
  });
}

/**
 * The bytes of an image file. With a workingDirectory (settings.fileWorkingDirectory), a relative
 * path starts there, as for Node-RED's core file nodes; without one, from the process's directory.
 * Only a regular file of at most MAX_IMAGE_FILE_BYTES is read: a path from a msg may name a device
 * that never ends (/dev/zero) or a FIFO that never answers.
 */
export async function readImageFile(file: string, workingDirectory?: unknown): Promise<Buffer> {
  if (file.trim() === '') {
    throw new InstrumentError('BAD_INPUT', 'no image file: set the file path in the node or send msg.filename', { reason: 'imageFileNotSet' });
  }
  const full =
    typeof workingDirectory === 'string' && workingDirectory !== '' && !path.isAbsolute(file) ? path.resolve(workingDirectory, file) : file;
  let handle: fs.FileHandle | undefined;
  try {
    // Look before opening: opening a FIFO waits for a writer and holds one of libuv's few threads.
    checkFile(full, await fs.stat(full));
    // Non-blocking, in case the path became a FIFO since the look; a regular file reads the same.
    handle = await fs.open(full, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    checkFile(full, await handle.stat());
    return await readAtMost(handle, full);
  } catch (err) {
    throw err instanceof InstrumentError ? err : fileError(full, err);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** What a path that is no regular file is, as a catalog reason and in words. */
const NOT_REGULAR: Array<[(stat: Stats) => boolean, string, string]> = [
  [(stat) => stat.isDirectory(), 'imageFileIsDirectory', 'a directory'],
  [(stat) => stat.isFIFO(), 'imageFileIsFifo', 'a named pipe (FIFO)'],
  [(stat) => stat.isCharacterDevice() || stat.isBlockDevice(), 'imageFileIsDevice', 'a device'],
  [(stat) => stat.isSocket(), 'imageFileIsSocket', 'a socket'],
];

function checkFile(full: string, stat: Stats): void {
  if (!stat.isFile()) {
    const [, reason, words] = NOT_REGULAR.find(([test]) => test(stat)) ?? [undefined, 'imageFileNotRegular', 'not a regular file'];
    throw new InstrumentError('BAD_INPUT', `the image file ${full} is ${words}; choose the .binary, .eeprom or .elf file the compiler wrote`, {
      reason,
      path: full,
    });
  }
  if (stat.size > MAX_IMAGE_FILE_BYTES) throw tooLarge(full);
}

/** Files under /proc report size 0 and still have content: count what really arrives. */
async function readAtMost(handle: fs.FileHandle, full: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  while (true) {
    const chunk = Buffer.alloc(READ_CHUNK);
    const { bytesRead } = await handle.read(chunk, 0, READ_CHUNK, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > MAX_IMAGE_FILE_BYTES) throw tooLarge(full);
  }
}

function tooLarge(full: string): InstrumentError {
  return new InstrumentError(
    'BAD_INPUT',
    `the image file ${full} is larger than ${MAX_IMAGE_FILE_BYTES} bytes, more than any Propeller program ` +
      '(a .binary or .eeprom is at most 32768): choose the file the compiler wrote',
    { reason: 'imageFileTooLarge', path: full, limit: MAX_IMAGE_FILE_BYTES },
  );
}

function fileError(full: string, err: unknown): InstrumentError {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new InstrumentError('BAD_INPUT', `the image file ${full} does not exist; check the path and the file name`, {
      reason: 'imageFileNotFound',
      path: full,
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new InstrumentError(
      'BAD_INPUT',
      `Node-RED may not read the image file ${full} (permission denied); let the user Node-RED runs as read it, or copy it elsewhere`,
      { reason: 'imageFileNoPermission', path: full },
    );
  }
  const error = code || errorMessage(err);
  return new InstrumentError('BAD_INPUT', `could not read the image file ${full} (${error}); check the path and the disk`, {
    reason: 'imageFileUnreadable',
    path: full,
    error,
  });
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
    throw new InstrumentError('BAD_INPUT', `unknown image format "${String(requested)}": use auto, binary, eeprom or elf`, {
      reason: 'imageFormatUnknown',
      format: String(requested),
    });
  const ext = fileName ? path.extname(fileName).toLowerCase() : '';
  if (ext === '.eeprom') return 'eeprom';
  if (ext === '.elf') return 'elf';
  if (ext === '.binary' || ext === '.bin') return 'binary';
  return undefined;
}
