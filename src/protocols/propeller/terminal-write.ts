import { InstrumentError } from '../common/errors';

/**
 * The most bytes one terminal write takes: about 90 s on the wire at 115200 baud. More is a mistake
 * in the flow (a file or a whole msg sent to the terminal) and would only sit in memory.
 */
export const MAX_TERMINAL_WRITE = 1024 * 1024;

/** The bytes a terminal write sends (strings as UTF-8), refused when larger than MAX_TERMINAL_WRITE. */
export function terminalBytes(port: string, data: Buffer | string): Buffer {
  // A string has at least as many UTF-8 bytes as characters: refuse a long one before converting it.
  const bytes = data.length > MAX_TERMINAL_WRITE ? undefined : typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (bytes === undefined || bytes.length > MAX_TERMINAL_WRITE) {
    throw new InstrumentError(
      'BAD_INPUT',
      `the data for the terminal on ${port} is larger than ${MAX_TERMINAL_WRITE} bytes; send it in smaller pieces`,
      { reason: 'terminalWriteTooLarge', port, limit: MAX_TERMINAL_WRITE },
    );
  }
  return bytes;
}
