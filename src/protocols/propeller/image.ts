import { elfToBinary, isElf } from './elf';
import {
  CALL_FRAME,
  HEADER_SIZE,
  checkClockMode,
  HUB_RAM_SIZE,
  PBASE,
  byteSum,
  computeChecksum,
  describeClockMode,
  fixChecksum,
  hubRam,
  imageError,
  isChecksumValid,
  readHeader,
  type ImageHeader,
} from './image-header';

export { computeChecksum, fixChecksum, isChecksumValid, describeClockMode, elfToBinary, HUB_RAM_SIZE };

export type ImageFormat = 'binary' | 'eeprom' | 'elf';

export interface PrepareOptions {
  /** Skip detection (e.g. from a file extension). Detection: ELF magic → elf; 32768 bytes with vbase < 32768 → eeprom; else binary. */
  format?: ImageFormat;
  /** Repair a wrong checksum instead of refusing the image (checksumOk still reports the original). */
  fixChecksum?: boolean;
}

/** A validated image, ready for the loader, and the facts a flow may want about it. */
export interface PreparedImage extends ImageHeader {
  format: ImageFormat;
  /** The loadable .binary bytes: exactly vbase bytes, a whole number of longs. */
  image: Buffer;
  /** Bytes of the loadable image (= vbase). */
  size: number;
  longs: number;
  clockModeText: string;
  /** Whether the input's checksum was right (always true unless fixChecksum repaired it). */
  checksumOk: boolean;
  checksumFixed: boolean;
  /** Bytes of program code and data, from pbase to vbase. */
  codeBytes: number;
  /** Bytes of global variables, from vbase to the call frame at dbase-8. */
  variableBytes: number;
  /** Bytes of hub RAM above the initial stack pointer. */
  freeBytes: number;
}

/**
 * Parse, validate and normalise a .binary, .eeprom or .elf file into the bytes the boot loader
 * takes. Every refusal is an InstrumentError('BAD_INPUT') whose message and details.rule name the
 * rule that failed, so a bad file never reaches the serial port. Data without an image's signature
 * is refused before any rule describes it: a path may point at any file, and its size or bytes
 * must not show up in an error.
 */
export function prepareImage(data: Buffer, options: PrepareOptions = {}): PreparedImage {
  if (!Buffer.isBuffer(data)) throw imageError('format', 'the image must be a Buffer of file bytes', { reason: 'imageDataNotBuffer' });
  const format = options.format ?? detectFormat(data);
  let image: Buffer;
  let checksumOk: boolean;
  if (format === 'elf') {
    if (!isElf(data)) throw imageError('elf-magic', 'the file does not start with the ELF signature 7F 45 4C 46', { reason: 'imageElfMagic' });
    image = elfToBinary(data);
    checkBinaryLayout(image);
    checksumOk = true;
  } else if (format === 'eeprom') {
    checkSignature(data);
    ({ image, checksumOk } = eepromToBinary(data, options.fixChecksum === true));
  } else if (format === 'binary') {
    checkSignature(data);
    checkBinaryLayout(data);
    if (data.readUInt16LE(8) !== data.length) {
      const vbase = data.readUInt16LE(8);
      throw imageError(
        'vbase-length',
        `vbase is ${vbase} but the .binary file is ${data.length} bytes; vbase marks the end of the code and must equal the file length`,
        { reason: 'imageVbaseLength', vbase, bytes: data.length },
      );
    }
    checksumOk = isChecksumValid(data);
    image = Buffer.from(data);
  } else {
    throw imageError('format', `unknown image format "${String(format)}"; use binary, eeprom or elf`, {
      reason: 'imageFormatInvalid',
      format: String(format),
    });
  }
  if (!checksumOk) {
    if (options.fixChecksum !== true) {
      const checksum = `0x${hex(image[5])}`;
      const expected = `0x${hex(computeChecksum(image))}`;
      throw imageError(
        'checksum',
        `the checksum byte is ${checksum} but must be ${expected} (all bytes plus 0xEC must sum to 0 mod 256); the file is damaged or was edited`,
        { reason: 'imageChecksum', checksum, expected },
      );
    }
    image = fixChecksum(image);
  }
  return describe(format, image, checksumOk);
}

function detectFormat(data: Buffer): ImageFormat {
  if (isElf(data)) return 'elf';
  if (data.length === HUB_RAM_SIZE && data.length >= HEADER_SIZE && data.readUInt16LE(8) < HUB_RAM_SIZE) return 'eeprom';
  return 'binary';
}

/**
 * What every .binary and .eeprom has and other files almost never do: a 16-byte header whose pbase
 * (bytes 6-7) is 0x0010. Says nothing about the data beyond that.
 */
function checkSignature(data: Buffer): void {
  if (readHeader(data).pbase !== PBASE) {
    throw imageError(
      'not-an-image',
      'the data is not a Propeller 1 program: bytes 6-7 of every .binary and .eeprom hold 0x0010, and an .elf starts with 7F 45 4C 46; ' +
        'choose the file the compiler wrote',
      { reason: 'imageNotPropeller' },
    );
  }
}

/** Size, alignment and header-order rules shared by .binary images and the first vbase bytes of an .eeprom. */
function checkBinaryLayout(data: Buffer): void {
  if (data.length > HUB_RAM_SIZE) {
    throw imageError('size-max', `the image is ${data.length} bytes; hub RAM holds at most ${HUB_RAM_SIZE}`, {
      reason: 'imageTooLarge',
      bytes: data.length,
      max: HUB_RAM_SIZE,
    });
  }
  const header = readHeader(data);
  if (data.length % 4 !== 0) {
    throw imageError('size-multiple-of-4', `the image is ${data.length} bytes, not a whole number of 4-byte longs`, {
      reason: 'imageNotLongs',
      bytes: data.length,
    });
  }
  checkHeaderOrder(header);
}

function checkHeaderOrder(h: ImageHeader): void {
  // Every header field goes into the details: the catalog sentences name them by placeholder.
  const { pbase, vbase, pcurr, dbase, dcurr } = h;
  if (pbase !== PBASE) {
    const shown = `0x${hex(pbase, 4)}`;
    throw imageError('pbase', `pbase is ${shown}; it is always 0x0010 in a Propeller image`, { reason: 'imagePbase', pbase: shown });
  }
  if (vbase % 4 !== 0 || vbase < HEADER_SIZE) {
    throw imageError('vbase', `vbase ${vbase} must be a multiple of 4 and at least ${HEADER_SIZE}`, {
      reason: 'imageVbase',
      vbase,
      min: HEADER_SIZE,
    });
  }
  if (pcurr < pbase || pcurr > vbase) {
    throw imageError('pcurr-order', `pcurr ${pcurr} must lie between pbase ${pbase} and vbase ${vbase}`, {
      reason: 'imagePcurrOrder',
      pcurr,
      pbase,
      vbase,
    });
  }
  if (dbase < vbase + 8) {
    throw imageError('dbase-order', `dbase ${dbase} must be at least vbase ${vbase} + 8 (room for the call frame)`, {
      reason: 'imageDbaseOrder',
      dbase,
      vbase,
    });
  }
  if (dcurr < dbase) throw imageError('dcurr-order', `dcurr ${dcurr} must not be below dbase ${dbase}`, { reason: 'imageDcurrOrder', dcurr, dbase });
  if (dcurr > HUB_RAM_SIZE) {
    throw imageError('dcurr-max', `dcurr ${dcurr} lies beyond hub RAM (${HUB_RAM_SIZE} bytes)`, {
      reason: 'imageDcurrMax',
      dcurr,
      max: HUB_RAM_SIZE,
    });
  }
  checkClockMode(h.clockMode);
}

function eepromToBinary(data: Buffer, allowBadChecksum: boolean): { image: Buffer; checksumOk: boolean } {
  if (data.length !== HUB_RAM_SIZE) {
    throw imageError('eeprom-size', `an .eeprom file is exactly ${HUB_RAM_SIZE} bytes; this one is ${data.length}`, {
      reason: 'imageEepromSize',
      size: HUB_RAM_SIZE,
      bytes: data.length,
    });
  }
  const header = readHeader(data);
  checkHeaderOrder(header);
  if (!data.subarray(header.dbase - 8, header.dbase).equals(CALL_FRAME)) {
    const offset = header.dbase - 8;
    throw imageError('eeprom-call-frame', `the 8 bytes at dbase-8 (${offset}) must be the call frame FF FF F9 FF FF FF F9 FF`, {
      reason: 'imageEepromCallFrame',
      offset,
    });
  }
  const eepromSumOk = byteSum(data) === 0;
  if (!eepromSumOk && !allowBadChecksum) {
    const sum = `0x${hex(byteSum(data))}`;
    throw imageError('eeprom-checksum', `the ${HUB_RAM_SIZE} bytes sum to ${sum} mod 256; a valid .eeprom sums to 0`, {
      reason: 'imageEepromChecksum',
      size: HUB_RAM_SIZE,
      sum,
    });
  }
  const image = Buffer.from(data.subarray(0, header.vbase));
  return { image, checksumOk: eepromSumOk && isChecksumValid(image) };
}

function describe(format: ImageFormat, image: Buffer, checksumOk: boolean): PreparedImage {
  const header = readHeader(image);
  return {
    format,
    image,
    ...header,
    size: image.length,
    longs: image.length / 4,
    clockModeText: describeClockMode(header.clockMode),
    checksumOk,
    checksumFixed: !checksumOk,
    codeBytes: header.vbase - header.pbase,
    variableBytes: header.dbase - 8 - header.vbase,
    freeBytes: HUB_RAM_SIZE - header.dcurr,
  };
}

/** The 32 KB .eeprom file for a loadable image: the image, zeros, and the call frame at dbase-8. */
export function binaryToEeprom(image: Buffer): Buffer {
  return hubRam(prepareImage(image, { format: 'binary' }).image);
}

function hex(value: number, digits = 2): string {
  return value.toString(16).toUpperCase().padStart(digits, '0');
}
