import { strict as assert } from 'node:assert';
import { RomChip } from '../../src/simulators/rom-chip';
import {
  CHIP_HANDSHAKE_BITS,
  TEMPLATE_BYTE,
  commandBytes,
  handshakeBytes,
  judgeHandshakeReply,
  readSingleReply,
} from '../../src/protocols/propeller/rom-protocol';
import { encodeBits, longBits } from '../../src/protocols/propeller/bit-packing';
import { makeBinary } from './image-fixtures';

/** Feed the chip and collect its replies (what the host would read). */
function talk(chip: RomChip): { send(bytes: Buffer): void; replies: number[] } {
  const replies: number[] = [];
  chip.on('reply', (b: Buffer) => replies.push(...b));
  return { send: (bytes) => chip.receive(bytes), replies };
}

async function ack(link: ReturnType<typeof talk>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const before = link.replies.length;
    link.send(Buffer.from([TEMPLATE_BYTE]));
    if (link.replies.length > before) return readSingleReply(link.replies[before])!;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('no acknowledgement');
}

describe('propeller ROM chip model (pulse level)', () => {
  let chip: RomChip;
  afterEach(() => chip.dispose());

  it('answers the handshake byte by byte with LFSR bits 251-500 and version 1', () => {
    chip = new RomChip();
    const link = talk(chip);
    for (const byte of handshakeBytes()) link.send(Buffer.from([byte]));
    assert.equal(link.replies.length, 129);
    assert.deepEqual(judgeHandshakeReply(Buffer.from(link.replies)), { kind: 'ok', version: 1 });
    assert.equal(chip.state, 'command');
    assert.equal(CHIP_HANDSHAKE_BITS.length, 250);
  });

  it('detects a bit flipped on the wire: the RAM checksum fails without any injected fault', async () => {
    chip = new RomChip({ timing: { checksumMs: 1 } });
    const link = talk(chip);
    link.send(handshakeBytes());
    const image = makeBinary(64);
    const corrupted = Buffer.from(image);
    corrupted[30] ^= 0x04;
    link.replies.length = 0;
    link.send(commandBytes(1, corrupted));
    assert.equal(await ack(link), 1);
    assert.equal(chip.state, 'shutdown');
  });

  it('programs the EEPROM with an image too short for a header (one long), as a real chip takes any length', async () => {
    chip = new RomChip({ timing: { checksumMs: 1, programMs: 1, verifyMs: 1 } });
    chip.eeprom.fill(0x55);
    const link = talk(chip);
    link.send(handshakeBytes());
    link.replies.length = 0;
    link.send(commandBytes(2, Buffer.from([0x12, 0x34, 0x56, 0x64])));
    assert.deepEqual([await ack(link), await ack(link), await ack(link)], [0, 0, 0]);
    assert.deepEqual(chip.eeprom.subarray(0, 4), Buffer.from([0x12, 0x34, 0x56, 0x64]));
    assert.equal(
      chip.eeprom.subarray(4).every((b) => b === 0),
      true,
      'the rest of the EEPROM is zeros',
    );
    assert.equal(chip.state, 'shutdown');
  });

  it('ignores acknowledgement templates until the answer is ready', async () => {
    chip = new RomChip({ timing: { checksumMs: 40 } });
    const link = talk(chip);
    link.send(handshakeBytes());
    link.replies.length = 0;
    link.send(commandBytes(1, makeBinary(16)));
    link.send(Buffer.from([TEMPLATE_BYTE, TEMPLATE_BYTE]));
    assert.equal(link.replies.length, 0, 'not ready yet');
    assert.equal(await ack(link), 0);
    assert.equal(chip.state, 'running');
  });

  it('shuts down on command 0 and gives up on an unknown command or an impossible length', () => {
    chip = new RomChip();
    const link = talk(chip);
    link.send(handshakeBytes());
    link.send(encodeBits(longBits(0)));
    assert.equal(chip.state, 'shutdown');

    link.send(handshakeBytes());
    link.send(encodeBits(longBits(7)));
    assert.equal(chip.state, 'listening');

    link.send(handshakeBytes());
    link.send(encodeBits([...longBits(1), ...longBits(9000)]));
    assert.equal(chip.state, 'listening');
  });

  it('a broken template or an unreadable byte during the handshake sends it back to listening', () => {
    chip = new RomChip();
    const link = talk(chip);
    const hs = handshakeBytes();
    link.send(hs.subarray(0, hs.length - 10));
    link.send(Buffer.from([0xff, 0xff]));
    assert.equal(chip.state, 'listening');
    link.send(hs.subarray(0, 5));
    link.send(Buffer.from([0x00]));
    link.send(hs.subarray(5, 69));
    assert.equal(chip.state, 'listening', 'a partial handshake after noise is not taken as one');
    link.send(hs);
    assert.equal(chip.state, 'command');
  });

  it('gives up when the host pauses in the middle of the image', async () => {
    chip = new RomChip({ timing: { streamTimeoutMs: 30 } });
    const link = talk(chip);
    link.send(handshakeBytes());
    const payload = commandBytes(1, makeBinary(64));
    link.send(payload.subarray(0, 100));
    assert.equal(chip.state, 'image');
    await new Promise((r) => setTimeout(r, 20));
    link.send(payload.subarray(100, 120));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(chip.state, 'image', 'short gaps are fine');
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(chip.state, 'listening');
    link.send(payload.subarray(120));
    assert.equal(chip.state, 'listening', 'the rest of the image is ignored');
  });

  it('a silent chip hears nothing', () => {
    chip = new RomChip({ fault: 'silence' });
    const link = talk(chip);
    link.send(handshakeBytes());
    assert.equal(link.replies.length, 0);
    assert.equal(chip.state, 'listening');
  });
});
