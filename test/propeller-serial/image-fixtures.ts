import { fixChecksum } from '../../src/protocols/propeller/image';

/** A Spin-style .binary: header, code bytes, vbase = length, a few variable bytes, stack above. */
export function makeBinary(
  codeBytes = 16,
  options: { clockFrequency?: number; clockMode?: number; fill?: (i: number) => number; varBytes?: number } = {},
): Buffer {
  const size = 16 + codeBytes;
  const image = Buffer.alloc(size);
  const fill = options.fill ?? ((i: number) => (i * 7 + 3) & 0xff);
  for (let i = 16; i < size; i++) image[i] = fill(i);
  image.writeUInt32LE(options.clockFrequency ?? 80_000_000, 0);
  image[4] = options.clockMode ?? 0x6f;
  image.writeUInt16LE(0x10, 6);
  image.writeUInt16LE(size, 8);
  const dbase = size + 8 + (options.varBytes ?? 4);
  image.writeUInt16LE(dbase, 10);
  image.writeUInt16LE(0x18, 12);
  image.writeUInt16LE(dbase + 8, 14);
  return fixChecksum(image);
}

export interface ElfSegmentSpec {
  physicalAddress: number;
  bytes: Buffer;
  type?: number;
}

/** A minimal 32-bit little-endian ELF executable with the given program segments. */
export function makeElf(segments: ElfSegmentSpec[], options: { elfClass?: number; endianness?: number; type?: number } = {}): Buffer {
  const headerSize = 52;
  const phSize = 32;
  let offset = headerSize + phSize * segments.length;
  const header = Buffer.alloc(headerSize);
  header.set([0x7f, 0x45, 0x4c, 0x46, options.elfClass ?? 1, options.endianness ?? 1, 1]);
  header.writeUInt16LE(options.type ?? 2, 16);
  header.writeUInt16LE(0x5506, 18); // EM_PROPELLER
  header.writeUInt32LE(1, 20);
  header.writeUInt32LE(headerSize, 28);
  header.writeUInt16LE(headerSize, 40);
  header.writeUInt16LE(phSize, 42);
  header.writeUInt16LE(segments.length, 44);
  const programHeaders = segments.map((s) => {
    const ph = Buffer.alloc(phSize);
    ph.writeUInt32LE(s.type ?? 1, 0);
    ph.writeUInt32LE(offset, 4);
    ph.writeUInt32LE(s.physicalAddress, 8);
    ph.writeUInt32LE(s.physicalAddress, 12);
    ph.writeUInt32LE(s.bytes.length, 16);
    ph.writeUInt32LE(s.bytes.length, 20);
    offset += s.bytes.length;
    return ph;
  });
  return Buffer.concat([header, ...programHeaders, ...segments.map((s) => s.bytes)]);
}
