import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { SerialPort } from 'serialport';
import { InstrumentError, errorMessage } from '../common/errors';
import { describeOpenError, serialError, type SerialReason } from './serial-errors';

const LOST_DEVICE = /\b(EIO|ENXIO|EBADF|ENODEV)\b|i\/o error|bad file descriptor|no such device/i;

/**
 * The calls on a port, as their English messages name them, and the reasons of their failures: the
 * port was closed (a serial failure a load reports), or the driver refused (its own text is the
 * detail `error`). German words each call differently, so each has sentences of its own.
 */
const OPERATIONS = {
  write: { what: () => 'write to', closed: 'serialClosedWrite', failed: 'serialWriteFailed' },
  drain: { what: () => 'drain', closed: 'serialClosedDrain', failed: 'serialDrainFailed' },
  setSignals: { what: () => 'set the control lines of', closed: 'serialClosedSignals', failed: 'serialSignalsFailed' },
  flush: { what: () => 'flush', closed: 'serialClosedFlush', failed: 'serialFlushFailed' },
  setBaudRate: { what: (baudRate: number) => `set ${baudRate} baud on`, closed: 'serialClosedBaud', failed: 'serialBaudFailed' },
} as const satisfies Record<string, { what: (baudRate: number) => string; closed: SerialReason; failed: string }>;
type PortOperation = keyof typeof OPERATIONS;

/** What the loader needs from a port: promise-shaped writes and control lines, and exclusive reading while it talks to the boot loader. */
export interface LoaderPort {
  readonly path: string;
  /** Resolves once the bytes are handed to the operating system. */
  write(data: Buffer): Promise<void>;
  drain(): Promise<void>;
  /** Both lines always: serialport fills missing ones with its defaults. */
  setSignals(signals: { dtr: boolean; rts: boolean }): Promise<void>;
  flushInput(): Promise<void>;
  /** Send incoming bytes to `onData` (and nobody else) until the returned release is called; `onClose` if the port goes away. */
  capture(onData: (data: Buffer) => void, onClose: (err: Error) => void): () => void;
}

/**
 * One open serial port on the `serialport` package. Data goes to the capturing loader while a
 * load runs, otherwise out as 'data' events for terminals. Events: 'data' (Buffer), 'close'
 * (Error: the port went away without close() being called).
 */
export class SerialPortHandle extends EventEmitter implements LoaderPort {
  private captured: { onData: (data: Buffer) => void; onClose: (err: Error) => void } | undefined;
  private closing = false;
  private baud: number;

  private constructor(
    private readonly port: SerialPort,
    readonly path: string,
    baudRate: number,
  ) {
    super();
    this.baud = baudRate;
    port.on('data', (data: Buffer) => {
      if (this.captured) this.captured.onData(data);
      else this.emit('data', data);
    });
    port.on('error', () => {
      // Errors of individual calls arrive through their callbacks; a lost device through 'close'.
    });
    port.on('close', (err: Error | null) => {
      if (!this.closing) this.lost(err ? err.message : undefined);
    });
  }

  /** The device went away under us: tell the capturing load and the owner once, and let go of the descriptor. */
  private lost(why: string | undefined): Error {
    // Without a reason from the driver the sentence has no "(why)" to say in another language.
    const reason = serialError(
      why === undefined ? 'serialPortLostQuietly' : 'serialPortLost',
      `serial port ${this.path} closed unexpectedly (${why ?? 'closed'}); was the adapter unplugged?`,
      why === undefined ? { port: this.path } : { port: this.path, why },
    );
    if (this.closing) return reason;
    this.closing = true;
    this.captured?.onClose(reason);
    this.emit('close', reason);
    if (this.port.isOpen) this.port.close(() => undefined);
    return reason;
  }

  /** Open `path` exclusively (a second opener gets "port busy"), without the reset that dropping DTR would cause on close. */
  static open(path: string, baudRate: number): Promise<SerialPortHandle> {
    return new Promise((resolve, reject) => {
      let port: SerialPort;
      try {
        port = new SerialPort({ path, baudRate, autoOpen: false, lock: true, hupcl: false });
      } catch (err) {
        reject(describeOpenError(path, err));
        return;
      }
      port.open((err) => (err ? reject(describeOpenError(path, err)) : resolve(new SerialPortHandle(port, path, baudRate))));
    });
  }

  get isOpen(): boolean {
    return this.port.isOpen && !this.closing;
  }

  get baudRate(): number {
    return this.baud;
  }

  write(data: Buffer): Promise<void> {
    return this.call((cb) => this.port.write(data, cb), 'write');
  }

  drain(): Promise<void> {
    return this.call((cb) => this.port.drain(cb), 'drain');
  }

  setSignals(signals: { dtr: boolean; rts: boolean }): Promise<void> {
    return this.call((cb) => this.port.set({ dtr: signals.dtr, rts: signals.rts }, cb), 'setSignals');
  }

  flushInput(): Promise<void> {
    return this.call((cb) => this.port.flush(cb), 'flush');
  }

  async setBaudRate(baudRate: number): Promise<void> {
    if (baudRate === this.baud) return;
    await this.call((cb) => this.port.update({ baudRate }, cb), 'setBaudRate', baudRate);
    this.baud = baudRate;
  }

  capture(onData: (data: Buffer) => void, onClose: (err: Error) => void): () => void {
    const entry = { onData, onClose };
    this.captured = entry;
    return () => {
      if (this.captured === entry) this.captured = undefined;
    };
  }

  close(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.closing = true;
    this.captured?.onClose(serialError('serialPortClosed', `serial port ${this.path} was closed`, { port: this.path }));
    if (!this.port.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.port.close(() => resolve()));
  }

  /** `baudRate` is the one a setBaudRate call sets (its messages name it). */
  private call(work: (cb: (err: Error | null | undefined) => void) => unknown, op: PortOperation, baudRate = this.baud): Promise<void> {
    const operation = OPERATIONS[op];
    const what = operation.what(baudRate);
    const details: Record<string, string | number> = op === 'setBaudRate' ? { port: this.path, baudRate } : { port: this.path };
    return new Promise((resolve, reject) => {
      if (!this.port.isOpen || this.closing) {
        reject(serialError(operation.closed, `cannot ${what} serial port ${this.path}: it is closed`, details));
        return;
      }
      work((err) => {
        if (!err) return resolve();
        // A hung-up or unplugged device fails calls with EIO/ENXIO before (or instead of) a close event.
        if (LOST_DEVICE.test(`${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`)) return reject(this.lost(errorMessage(err)));
        const error = errorMessage(err);
        reject(
          new InstrumentError('REMOTE', `cannot ${what} ${this.path}: ${error}`, { reason: operation.failed, ...details, error }, { cause: err }),
        );
      });
    });
  }
}

export interface PortListing {
  ports: string[];
  /** Set when the system could not list ports (no udev in a container, for one); typed paths still work. */
  error?: string;
}

type PortLister = () => Promise<Array<{ path: string }>>;

/** The ports the system lists, or why it cannot (an error a catalog says), with no ports. */
export interface PortSearch {
  ports: string[];
  failure?: InstrumentError;
}

/** Serial port paths; never throws: a listing failure comes back as a readable `error`. */
export async function listSerialPorts(list: PortLister = () => SerialPort.list()): Promise<PortListing> {
  const { ports, failure } = await findSerialPorts(list);
  return failure ? { ports, error: failure.message } : { ports };
}

/** The listing with its failure as an error whose reason the catalogs can say (the editor's endpoint answers the English text). */
export async function findSerialPorts(list: PortLister = () => SerialPort.list()): Promise<PortSearch> {
  try {
    const ports = await list();
    return { ports: ports.map((p) => p.path).sort() };
  } catch (err) {
    const text = errorMessage(err);
    const noUdev = /udevadm|ENOENT/.test(text);
    const why = noUdev ? 'udev is not available here, as in many containers' : text;
    const message = `this system cannot list serial ports (${why}); type the port path instead, e.g. /dev/ttyUSB0`;
    return {
      ports: [],
      failure: new InstrumentError('REMOTE', message, noUdev ? { reason: 'serialListNoUdev' } : { reason: 'serialListFailed', error: text }),
    };
  }
}

/** Why a path could not be looked at, by the code of the failed stat. */
function lookFailure(code: string): { reason: string; text: string } {
  if (code === 'ENOENT') return { reason: 'serialPathMissing', text: 'does not exist' };
  if (code === 'EACCES' || code === 'EPERM') return { reason: 'serialPathNoPermission', text: 'cannot be looked at (permission denied)' };
  return { reason: 'serialPathUnreadable', text: `cannot be looked at (${code})` };
}

/**
 * What the "Test connection" button of a propeller-serial node finds about a port. Opening the
 * port would toggle DTR/RTS and reset the board (and stop the program on it), so only look: does
 * the path exist as a device, or does the system list it (Windows COM ports have no file to look at)?
 */
export async function inspectSerialPort(path: string): Promise<'device' | 'listed'> {
  if (path === '') {
    throw new InstrumentError('BAD_INPUT', 'no port set: type a path such as /dev/ttyUSB0 or COM3, or pick one from the list', {
      reason: 'serialPortNotSet',
    });
  }
  let stat: fs.Stats | undefined;
  let code = '';
  try {
    stat = await fs.promises.stat(path);
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === undefined) throw err;
    code = errno;
  }
  if (stat?.isCharacterDevice()) return 'device';
  if (stat) {
    const directory = stat.isDirectory();
    throw new InstrumentError(
      'BAD_INPUT',
      `${path} exists but is ${directory ? 'a directory' : 'not a device'}; choose the serial port itself, e.g. /dev/ttyUSB0`,
      { reason: directory ? 'serialPathIsDirectory' : 'serialPathNotDevice', path },
    );
  }
  const { ports, failure } = await findSerialPorts();
  if (ports.includes(path)) return 'listed';
  // What the system knows of its ports goes in parentheses: the cause, so it is said in the user's language too.
  const known =
    ports.length > 0
      ? new InstrumentError('CONNECT_FAILED', `ports on this computer: ${ports.join(', ')}`, { reason: 'serialPortsHere', ports: ports.join(', ') })
      : (failure ?? new InstrumentError('CONNECT_FAILED', 'the system lists no serial ports', { reason: 'serialNoPortsListed' }));
  const missing = lookFailure(code);
  throw new InstrumentError(
    'CONNECT_FAILED',
    `${path} ${missing.text}; is the board plugged in? (${known.message})`,
    { reason: missing.reason, path, code },
    { cause: known },
  );
}
