/** Small valid Propeller images for the tests (the simulator never runs them, but checks them as the Launcher does). */
export function makeBinary(size = 64): Buffer {
  const image = Buffer.alloc(size);
  image.writeUInt32LE(80_000_000, 0);
  image.writeUInt8(0x6f, 4);
  image.writeUInt16LE(0x0010, 6);
  image.writeUInt16LE(size, 8);
  image.writeUInt16LE(size + 8, 10);
  image.writeUInt16LE(0x0018, 12);
  image.writeUInt16LE(size + 12, 14);
  for (let i = 16; i < size; i += 1) image[i] = (i * 7) & 0xff;
  let sum = 0xec;
  for (let i = 0; i < size; i += 1) if (i !== 5) sum += image[i]!;
  image[5] = (0x100 - (sum & 0xff)) & 0xff;
  return image;
}

/** The same image as a 32 KB .eeprom file: zeros and the call frame at dbase-8. */
export function makeEeprom(size = 64): Buffer {
  const binary = makeBinary(size);
  const eeprom = Buffer.alloc(32768);
  binary.copy(eeprom);
  Buffer.from([0xff, 0xff, 0xf9, 0xff, 0xff, 0xff, 0xf9, 0xff]).copy(eeprom, size);
  return eeprom;
}

export function withBadChecksum(image: Buffer): Buffer {
  const bad = Buffer.from(image);
  bad[5] = (bad[5]! + 1) & 0xff;
  return bad;
}
