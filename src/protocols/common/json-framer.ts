import { InstrumentError } from './errors';
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-bytes';
import { MAX_JSON_DEPTH } from './json-limits';

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

export interface JsonFramerOptions {
  /** Largest single value in bytes; a larger one is an error (and the framer resets). */
  maxBytes?: number;
  /** Deepest nesting accepted; a deeper value is an error (and the framer resets) before it is ever parsed. */
  maxDepth?: number;
}

/**
 * Splits a byte stream into complete top-level JSON texts when the peer sends values back to back
 * with no delimiter. Scans bytes, not characters: every structural character is ASCII and UTF-8
 * continuation bytes are >= 0x80, so a multi-byte character split across chunks cannot be
 * mistaken for structure. Only objects and arrays are framed at top level, which is what
 * JSON-RPC and event streams send; anything else between values is a framing error.
 */
export class JsonFramer {
  private parts: Buffer[] = [];
  private partsLength = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private readonly maxBytes: number;
  private readonly maxDepth: number;

  constructor(options: JsonFramerOptions = {}) {
    this.maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    this.maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  }

  /** Bytes held for an unfinished value. */
  get buffered(): number {
    return this.partsLength;
  }

  /** True while a value has begun and not ended (a reply cut off part-way leaves this set). */
  get midValue(): boolean {
    return this.depth > 0;
  }

  /** Feed a chunk; returns the JSON texts completed by it, in order. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i += 1) {
      const byte = chunk[i]!;
      if (this.depth === 0) {
        if (isWhitespace(byte)) {
          start = i + 1;
          continue;
        }
        if (byte !== OPEN_BRACE && byte !== OPEN_BRACKET) {
          this.reset();
          const shown = `0x${byte.toString(16).padStart(2, '0')}`;
          throw new InstrumentError('PROTOCOL', `unexpected byte ${shown} between JSON values`, { reason: 'jsonUnexpectedByte', byte: shown });
        }
        start = i;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) this.inString = false;
        continue;
      }
      if (byte === QUOTE) this.inString = true;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        this.depth += 1;
        if (this.depth > this.maxDepth) {
          this.reset();
          throw new InstrumentError('TOO_LARGE', `a JSON value is nested more than ${this.maxDepth} levels deep`, {
            reason: 'tooDeep',
            maxDepth: this.maxDepth,
          });
        }
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        this.depth -= 1;
        if (this.depth === 0) {
          out.push(this.take(chunk.subarray(start, i + 1)));
          start = i + 1;
        }
      }
    }
    if (this.depth > 0 && start < chunk.length) {
      this.parts.push(chunk.subarray(start));
      this.partsLength += chunk.length - start;
      if (this.partsLength > this.maxBytes) {
        const held = this.partsLength;
        this.reset();
        throw new InstrumentError('TOO_LARGE', `a JSON value grew past ${this.maxBytes} bytes (${held} buffered)`, {
          reason: 'jsonGrewTooLarge',
          maxBytes: this.maxBytes,
          held,
        });
      }
    }
    return out;
  }

  /** Drop any partial value (after a reconnect the stream starts fresh). */
  reset(): void {
    this.parts = [];
    this.partsLength = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }

  private take(tail: Buffer): string {
    if (this.parts.length === 0) {
      if (tail.length > this.maxBytes) throw this.tooLarge(tail.length);
      return tail.toString('utf8');
    }
    this.parts.push(tail);
    const whole = Buffer.concat(this.parts, this.partsLength + tail.length);
    this.parts = [];
    this.partsLength = 0;
    if (whole.length > this.maxBytes) throw this.tooLarge(whole.length);
    return whole.toString('utf8');
  }

  private tooLarge(bytes: number): InstrumentError {
    return new InstrumentError('TOO_LARGE', `a JSON value of ${bytes} bytes exceeds ${this.maxBytes}`, {
      reason: 'jsonTooLarge',
      bytes,
      maxBytes: this.maxBytes,
    });
  }
}
