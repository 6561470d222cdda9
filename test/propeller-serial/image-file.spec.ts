import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InstrumentError } from '../../src/protocols/common/errors';
import { prepareImage } from '../../src/protocols/propeller/image';
import { MAX_IMAGE_FILE_BYTES, imageBytesFrom, readImageFile } from '../../src/protocols/propeller/image-source';
import { makeBinary } from './image-fixtures';

/** The refusal of `work`, or a failure when it hangs past `ms` (a FIFO read used to hang for ever). */
async function refusal(work: Promise<unknown>, ms = 3000): Promise<InstrumentError> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([work, hung]);
  } catch (err) {
    if (err instanceof InstrumentError) return err;
    throw err;
  } finally {
    clearTimeout(timer);
  }
  throw new Error('expected a refusal');
}

function messageFor(data: Buffer): string {
  try {
    prepareImage(data);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('propeller image files: only regular files of an image size are read', function () {
  let tmp: string;
  const fifos: string[] = [];

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'propeller-file-'));
  });
  afterEach(() => {
    // A reader still blocked in open() on a FIFO holds a libuv thread: give it a writer so it ends.
    for (const fifo of fifos.splice(0)) {
      try {
        fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
      } catch {
        // Nobody was waiting.
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('reads an image file', async () => {
    const file = path.join(tmp, 'a.binary');
    fs.writeFileSync(file, makeBinary(64));
    assert.deepEqual(await readImageFile(file), makeBinary(64));
    assert.deepEqual(await readImageFile('a.binary', tmp), makeBinary(64), 'relative to the working directory');
  });

  it('a device such as /dev/zero is refused without reading it', async () => {
    const err = await refusal(readImageFile('/dev/zero'));
    assert.equal(err.details.reason, 'imageFileIsDevice');
    assert.match(err.message, /\/dev\/zero is a device/);
    assert.equal(err.details.path, '/dev/zero');
  });

  it('FIFOs are refused at once, and four of them leave file reading free', async function () {
    if (process.platform === 'win32') this.skip();
    const paths = [0, 1, 2, 3].map((i) => path.join(tmp, `pipe${i}.binary`));
    for (const fifo of paths) {
      execFileSync('mkfifo', [fifo]);
      fifos.push(fifo);
    }
    const errors = await Promise.all(paths.map((fifo) => refusal(readImageFile(fifo))));
    for (const err of errors) {
      assert.equal(err.details.reason, 'imageFileIsFifo');
    }
    const file = path.join(tmp, 'after.binary');
    fs.writeFileSync(file, makeBinary(32));
    assert.deepEqual(await readImageFile(file), makeBinary(32), 'the thread pool is not blocked');
  });

  it('a directory is named as one', async () => {
    const err = await refusal(readImageFile(tmp));
    assert.equal(err.details.reason, 'imageFileIsDirectory');
  });

  it('a file larger than any image is refused without saying its size', async () => {
    const file = path.join(tmp, 'big.elf');
    fs.writeFileSync(file, Buffer.alloc(MAX_IMAGE_FILE_BYTES + 4096, 0x41));
    const err = await refusal(readImageFile(file));
    assert.equal(err.details.reason, 'imageFileTooLarge');
    assert.equal(err.details.limit, MAX_IMAGE_FILE_BYTES);
    assert.doesNotMatch(err.message, new RegExp(String(MAX_IMAGE_FILE_BYTES + 4096)));
  });

  it('a file that reports size 0 but has content (/proc) is read only up to the limit', async function () {
    if (!fs.existsSync('/proc/self/cmdline')) this.skip();
    const data = await readImageFile('/proc/self/cmdline');
    assert.ok(data.length > 0 && data.length <= MAX_IMAGE_FILE_BYTES);
  });

  it('a missing file says so, not "socket path"', async () => {
    const err = await refusal(readImageFile(path.join(tmp, 'missing.binary')));
    assert.equal(err.details.reason, 'imageFileNotFound');
    assert.match(err.message, /missing\.binary does not exist/);
    assert.doesNotMatch(err.message, /socket/);
  });

  it('a payload string longer than any image in base64 is refused before decoding', () => {
    assert.throws(
      () => imageBytesFrom('QUFB'.repeat(1_000_000)),
      (err: InstrumentError) => err.details.reason === 'imagePayloadTooLarge' && err.details.property === 'msg.payload',
    );
  });

  describe('what is not an image is refused before anything of it is described', () => {
    const secret = 'root:$6$saltsalt$hashhashhash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n'.repeat(8).slice(0, 655);

    for (const [name, data] of [
      ['a text file of 655 bytes', Buffer.from(secret)],
      ['a command line', Buffer.from('node\0/usr/lib/node_modules/node-red/red.js\0--settings\0/data/settings.js\0')],
      ['a 12-byte file', Buffer.from('hello world!')],
      ['64 KB of zeros', Buffer.alloc(65536)],
    ] as Array<[string, Buffer]>) {
      it(name, async () => {
        const file = path.join(tmp, 'file');
        fs.writeFileSync(file, data);
        const bytes = await readImageFile(file);
        let err: InstrumentError | undefined;
        try {
          prepareImage(bytes);
        } catch (e) {
          err = e as InstrumentError;
        }
        assert.ok(err, 'refused');
        assert.ok(['not-an-image', 'header-size'].includes(String(err.details.rule)), String(err.details.rule));
        assert.doesNotMatch(err.message, new RegExp(`\\b${data.length}\\b`), 'the size is not told');
        assert.doesNotMatch(err.message, /0x(?!0010\b)[0-9A-F]{4}\b/i, 'no bytes of the file are told');
        assert.ok(
          [messageFor(Buffer.alloc(20, 0x55)), messageFor(Buffer.alloc(3))].includes(err.message),
          `the text does not depend on the data: ${err.message}`,
        );
      });
    }
  });
});
