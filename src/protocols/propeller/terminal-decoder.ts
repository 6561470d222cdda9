import { StringDecoder } from 'node:string_decoder';

/**
 * Turns a Propeller terminal byte stream into messages: whole chunks or pieces split on a
 * delimiter, as strings (a multi-byte character split across packets is kept whole) or Buffers.
 * Transport-neutral: the Launcher and the direct serial terminal both feed it.
 */
export type TerminalEncoding = 'utf8' | 'latin1' | 'ascii' | 'hex' | 'base64';

export interface TerminalDecoderOptions {
  /** 'none' passes chunks as they arrive; 'line' splits on LF and drops a CR before it; 'delimiter' splits on `delimiter`. */
  split: 'none' | 'line' | 'delimiter';
  delimiter?: string;
  /** 'buffer' emits Buffers; otherwise strings in this encoding. */
  output: 'buffer' | TerminalEncoding;
  /** A piece longer than this without a delimiter is emitted anyway, so memory stays bounded. */
  maxPiece?: number;
  /**
   * Most pieces one push returns. Each becomes a msg, and a flow spends far more on a msg than on a
   * line: when more complete pieces arrive at once (a program printing empty lines as fast as the
   * line goes, or a peer flooding), the rest leave together, delimiters and all, as the last piece.
   */
  maxPieces?: number;
}

export const MAX_PIECES_PER_PUSH = 200;

export const ENCODINGS: readonly TerminalEncoding[] = ['utf8', 'latin1', 'ascii', 'hex', 'base64'];

/** "\n", "\r\n", "\t", "\xNN" and "\\" in a delimiter typed into the dialog. */
export function unescapeDelimiter(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{2}|[nrt0\\])/g, (_m, code: string) => {
    if (code.startsWith('x')) return String.fromCharCode(parseInt(code.slice(1), 16));
    return ({ n: '\n', r: '\r', t: '\t', '0': '\0', '\\': '\\' } as Record<string, string>)[code]!;
  });
}

export class TerminalDecoder {
  private pending = Buffer.alloc(0);
  private readonly delimiter: Buffer | undefined;
  private readonly stripCr: boolean;
  private readonly decoder: StringDecoder | undefined;
  private readonly maxPiece: number;
  private readonly maxPieces: number;

  constructor(private readonly options: TerminalDecoderOptions) {
    if (options.split === 'line') this.delimiter = Buffer.from('\n');
    else if (options.split === 'delimiter') this.delimiter = Buffer.from(unescapeDelimiter(options.delimiter || '\\n'), 'latin1');
    this.stripCr = options.split === 'line';
    // Only whole chunks need a streaming decoder; split pieces end on a delimiter byte.
    this.decoder = options.output !== 'buffer' && options.split === 'none' ? new StringDecoder(options.output) : undefined;
    this.maxPiece = options.maxPiece ?? 65_536;
    this.maxPieces = Math.max(1, options.maxPieces ?? MAX_PIECES_PER_PUSH);
  }

  /** Feed received bytes; returns what is ready to emit. */
  push(chunk: Buffer): Array<string | Buffer> {
    if (!this.delimiter) {
      if (!this.decoder) return [chunk];
      const text = this.decoder.write(chunk);
      return text === '' ? [] : [text];
    }
    const out: Array<string | Buffer> = [];
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = data.indexOf(this.delimiter);
    while (at !== -1) {
      if (out.length === this.maxPieces - 1) at = data.lastIndexOf(this.delimiter);
      let end = at;
      if (this.stripCr && end > 0 && data[end - 1] === 0x0d) end -= 1;
      out.push(this.convert(data.subarray(0, end)));
      data = data.subarray(at + this.delimiter.length);
      at = out.length === this.maxPieces ? -1 : data.indexOf(this.delimiter);
    }
    if (data.length > this.maxPiece) {
      out.push(this.convert(data));
      data = Buffer.alloc(0);
    }
    this.pending = Buffer.from(data);
    return out;
  }

  reset(): void {
    this.pending = Buffer.alloc(0);
    this.decoder?.end();
  }

  private convert(piece: Buffer): string | Buffer {
    return this.options.output === 'buffer' ? Buffer.from(piece) : piece.toString(this.options.output);
  }
}
