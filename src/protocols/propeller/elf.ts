import { HEADER_SIZE, HUB_RAM_SIZE, fixChecksum, imageError } from './image-header';

/**
 * propeller-gcc writes 32-bit little-endian ELF executables. The hub image is the loadable
 * segments copied to their physical addresses; addresses at or above 0xC0000000 belong to
 * external memory models this single-stage loader cannot place, so they are refused.
 */
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const ELFCLASS32 = 1;
const ELFDATA2LSB = 1;
const ET_EXEC = 2;
const PT_LOAD = 1;
const ELF_HEADER_SIZE = 52;
const PROGRAM_HEADER_SIZE = 32;
const EXTERNAL_MEMORY_BASE = 0xc0000000;

export function isElf(data: Buffer): boolean {
  return data.length >= 4 && data.subarray(0, 4).equals(ELF_MAGIC);
}

export interface ElfSegment {
  offset: number;
  physicalAddress: number;
  fileSize: number;
}

export function readElfSegments(data: Buffer): ElfSegment[] {
  if (data.length < ELF_HEADER_SIZE) {
    throw imageError('elf-header', `the ELF file is ${data.length} bytes, shorter than its ${ELF_HEADER_SIZE}-byte header`, {
      reason: 'imageElfHeader',
      bytes: data.length,
      headerBytes: ELF_HEADER_SIZE,
    });
  }
  if (data[4] !== ELFCLASS32)
    throw imageError('elf-class', 'the ELF file is not 32-bit (propeller-gcc writes ELFCLASS32)', { reason: 'imageElfClass' });
  if (data[5] !== ELFDATA2LSB) throw imageError('elf-endianness', 'the ELF file is not little-endian', { reason: 'imageElfEndianness' });
  const type = data.readUInt16LE(16);
  if (type !== ET_EXEC) {
    throw imageError('elf-type', `the ELF file has type ${type}; only executables (type 2, EXEC) can be loaded`, {
      reason: 'imageElfType',
      elfType: type,
    });
  }
  const phoff = data.readUInt32LE(28);
  const phentsize = data.readUInt16LE(42);
  const phnum = data.readUInt16LE(44);
  if (phentsize < PROGRAM_HEADER_SIZE || phoff + phnum * phentsize > data.length) {
    throw imageError('elf-program-headers', 'the ELF program header table lies outside the file', { reason: 'imageElfProgramHeaders' });
  }
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (data.readUInt32LE(at) !== PT_LOAD) continue;
    const segment = { offset: data.readUInt32LE(at + 4), physicalAddress: data.readUInt32LE(at + 12), fileSize: data.readUInt32LE(at + 16) };
    if (segment.fileSize === 0) continue;
    if (segment.physicalAddress >= EXTERNAL_MEMORY_BASE) {
      const address = `0x${segment.physicalAddress.toString(16)}`;
      throw imageError(
        'elf-segment-address',
        `a loadable segment sits at ${address} (external memory); only hub-RAM programs (below 0xC0000000) can be loaded over serial`,
        { reason: 'imageElfSegmentAddress', address },
      );
    }
    if (segment.offset + segment.fileSize > data.length) {
      throw imageError('elf-segment-bounds', `a loadable segment at file offset ${segment.offset} runs past the end of the file`, {
        reason: 'imageElfSegmentBounds',
        offset: segment.offset,
      });
    }
    segments.push(segment);
  }
  if (segments.length === 0) throw imageError('elf-no-segments', 'the ELF file has no loadable segment', { reason: 'imageElfNoSegments' });
  return segments;
}

/** Build the loadable .binary image from an ELF executable: vbase = size, dbase = size + 8, dcurr = dbase + 4, checksum recomputed. */
export function elfToBinary(data: Buffer): Buffer {
  const segments = readElfSegments(data);
  const end = Math.max(...segments.map((s) => s.physicalAddress + s.fileSize));
  const size = (end + 3) & ~3;
  if (size > HUB_RAM_SIZE - 12) {
    throw imageError('size-max', `the ELF program needs ${size} bytes of hub RAM plus its call frame and stack; at most ${HUB_RAM_SIZE - 12} fit`, {
      reason: 'imageElfTooLarge',
      bytes: size,
      max: HUB_RAM_SIZE - 12,
    });
  }
  if (size < HEADER_SIZE) {
    throw imageError('header-size', `the ELF program is ${size} bytes, shorter than the ${HEADER_SIZE}-byte image header`, {
      reason: 'imageElfTooSmall',
      bytes: size,
      headerBytes: HEADER_SIZE,
    });
  }
  const image = Buffer.alloc(size);
  for (const s of segments) data.copy(image, s.physicalAddress, s.offset, s.offset + s.fileSize);
  image.writeUInt16LE(size, 8);
  image.writeUInt16LE(size + 8, 10);
  image.writeUInt16LE(size + 12, 14);
  image[5] = 0;
  return fixChecksum(image);
}
