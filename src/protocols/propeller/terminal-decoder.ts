import { StringDecoder } from 'node:string_decoder';

/**
 * Turns a Propeller terminal byte stream into messages: whole chunks or pieces split on a
 * delimiter, as strings (a multi-byte character split across packets is kept whole) or Buffers.
 * Transport-neutral: the Launcher and the direct serial terminal both feed it.
 */
export type TerminalEncoding = 'utf8' | 'latin1' | 'ascii' | 'hex' | 'base64';

export interface TerminalDecoderOptions {
  /**
   * 'none' passes chunks as they arrive; 'line' splits at CR LF, LF or a lone CR (the Parallax Serial
   * Terminal's newline, which many Propeller programs print alone); 'delimiter' splits on `delimiter`.
   */
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
  /** The last line sent ended with a CR at the end of its packet. */
  private crEnded = false;
  private readonly decoder: StringDecoder | undefined;
  private readonly maxPiece: number;
  private readonly maxPieces: number;

  constructor(private readonly options: TerminalDecoderOptions) {
    if (options.split === 'delimiter') this.delimiter = Buffer.from(unescapeDelimiter(options.delimiter || '\\n'), 'latin1');
    // Only whole chunks need a streaming decoder; split pieces end on a delimiter byte.
    this.decoder = options.output !== 'buffer' && options.split === 'none' ? new StringDecoder(options.output) : undefined;
    this.maxPiece = options.maxPiece ?? 65_536;
    this.maxPieces = Math.max(1, options.maxPieces ?? MAX_PIECES_PER_PUSH);
  }

  /** Feed received bytes; returns what is ready to emit. */
  push(chunk: Buffer): Array<string | Buffer> {
    if (this.options.split === 'line') return this.lines(chunk);
    if (!this.delimiter) {
      if (!this.decoder) return [chunk];
      const text = this.decoder.write(chunk);
      return text === '' ? [] : [text];
    }
    const delimiter = this.delimiter;
    return this.pieces(
      chunk,
      (data) => {
        const at = data.indexOf(delimiter);
        return at === -1 ? undefined : { at, next: at + delimiter.length };
      },
      (data) => {
        const at = data.lastIndexOf(delimiter);
        return at === -1 ? undefined : { at, next: at + delimiter.length };
      },
    );
  }

  /**
   * Lines end at CR LF, LF or a lone CR. A line that ends with a CR is sent at once (a program printing
   * "count = 5\r" each second shows it then, not a second later); an LF that then opens the next packet
   * belongs to that CR.
   */
  private lines(chunk: Buffer): Array<string | Buffer> {
    if (this.crEnded && chunk.length > 0) {
      if (chunk[0] === LF) chunk = chunk.subarray(1);
      this.crEnded = false;
    }
    const endsWithCr = chunk.length > 0 && chunk[chunk.length - 1] === CR;
    const out = this.pieces(chunk, lineEnd, lastLineEnd);
    this.crEnded = endsWithCr && this.pending.length === 0 && out.length > 0;
    return out;
  }

  /** Cuts the pending bytes and the chunk into pieces at the ends `first` finds; the rest waits for more. */
  private pieces(chunk: Buffer, first: (data: Buffer) => Ending | undefined, last: (data: Buffer) => Ending | undefined): Array<string | Buffer> {
    const out: Array<string | Buffer> = [];
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let end = first(data);
    while (end) {
      if (out.length === this.maxPieces - 1) end = last(data) ?? end;
      out.push(this.convert(data.subarray(0, end.at)));
      data = data.subarray(end.next);
      end = out.length === this.maxPieces ? undefined : first(data);
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

/** Where a piece ends (`at`) and the next one begins (`next`). */
interface Ending {
  at: number;
  next: number;
}

const CR = 0x0d;
const LF = 0x0a;

/** The first line ending: CR LF, LF or a lone CR. */
function lineEnd(data: Buffer): Ending | undefined {
  const lf = data.indexOf(LF);
  // A CR counts only before the first LF: searching no further keeps a burst of LF-only lines linear.
  const cr = (lf === -1 ? data : data.subarray(0, lf)).indexOf(CR);
  if (cr === -1) return lf === -1 ? undefined : { at: lf, next: lf + 1 };
  return { at: cr, next: data[cr + 1] === LF ? cr + 2 : cr + 1 };
}

/** The last line ending, for the joined last piece of a burst. */
function lastLineEnd(data: Buffer): Ending | undefined {
  const lf = data.lastIndexOf(LF);
  const cr = data.lastIndexOf(CR);
  if (lf > cr) return { at: lf > 0 && data[lf - 1] === CR ? lf - 1 : lf, next: lf + 1 };
  return cr === -1 ? undefined : { at: cr, next: cr + 1 };
}
