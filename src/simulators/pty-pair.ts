import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import tty from 'node:tty';
import { SerialPort } from 'serialport';

/**
 * The board's side of a pseudo-terminal: what a UART's far end would see. Emits 'data' (Buffer)
 * and 'error'. Bytes written while nobody reads the host end are dropped once the kernel's buffer
 * is full, as a real UART drops them, instead of blocking the simulator.
 */
export interface ChipLine extends EventEmitter {
  write(data: Buffer | string): void;
  /** Bytes lost because the host end was not read, where the line can tell. */
  readonly dropped?: number;
  close(): Promise<void>;
}

/**
 * A pseudo-terminal whose host end (a /dev/pts/N path) is opened like a USB serial adapter by
 * `serialport`, through the kernel's tty layer; the fake chip talks on `chip`.
 */
export interface PtyPair {
  /** The path a host (the propeller-serial node) opens. */
  readonly hostPath: string;
  readonly chip: ChipLine;
  /** Which mechanism made the pair: the npm package's openpty() or the socat command. */
  readonly via: 'openpty' | 'socat';
  close(): Promise<void>;
}

export interface PtyPairOptions {
  /** Also make a symlink with this name to the host end, e.g. a stable /tmp/propeller. */
  hostLink?: string;
  timeoutMs?: number;
}

/** The raw openpty(3) of @lydell/node-pty's prebuilt binding: two descriptors and the slave's path. */
interface OpenPtyBinding {
  open(cols: number, rows: number): { master: number; slave: number; pty: string };
}

let binding: OpenPtyBinding | undefined;
let bindingError: Error | undefined;

function openPtyBinding(): OpenPtyBinding | undefined {
  if (binding || bindingError) return binding;
  try {
    // The platform package holds the prebuilt addon, so nothing is compiled or downloaded at install.
    binding = require(`@lydell/node-pty-${process.platform}-${process.arch}/pty.node`) as OpenPtyBinding;
  } catch (err) {
    bindingError = err instanceof Error ? err : new Error(String(err));
  }
  return binding;
}

/**
 * Prefer openpty() from the npm registry (no system package needed); fall back to socat where the
 * prebuilt binding does not exist for this platform, or when LABWIRE_PTY=socat asks for it.
 */
export async function createPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const openpty = process.env.LABWIRE_PTY === 'socat' ? undefined : openPtyBinding();
  const pair = openpty ? openPtyPair(openpty) : await socatPtyPair(options);
  if (options.hostLink) {
    try {
      fs.rmSync(options.hostLink, { force: true });
      fs.symlinkSync(pair.hostPath, options.hostLink);
    } catch (err) {
      await pair.close();
      throw err;
    }
    const link = options.hostLink;
    return { ...pair, hostPath: link, close: () => pair.close().finally(() => fs.rmSync(link, { force: true })) };
  }
  return pair;
}

/** Bytes held for a host that is slow to read; past this a real UART would have lost them too. */
const BACKLOG_LIMIT = 64 * 1024;

class MasterLine extends EventEmitter implements ChipLine {
  private readonly reader: tty.ReadStream;
  private backlog: Buffer[] = [];
  private backlogBytes = 0;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  /** Bytes lost to a host that did not read (backlog full): a count for tests and logs. */
  dropped = 0;

  constructor(
    private readonly masterFd: number,
    private readonly slaveFd: number,
  ) {
    super();
    this.reader = new tty.ReadStream(masterFd);
    this.reader.on('data', (data: Buffer | string) => this.emit('data', Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1')));
    this.reader.on('error', (err: Error) => {
      if (!this.closed) this.emit('error', err);
    });
  }

  write(data: Buffer | string): void {
    if (this.closed) return;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.backlog.push(bytes);
    this.backlogBytes += bytes.length;
    while (this.backlogBytes > BACKLOG_LIMIT) {
      const oldest = this.backlog.shift()!;
      this.backlogBytes -= oldest.length;
      this.dropped += oldest.length;
    }
    if (!this.retry) this.flush();
  }

  /**
   * Synchronous writes keep the bytes in order and cannot block: the master descriptor is
   * non-blocking (EAGAIN when the kernel buffer is full). Not through the tty stream, which libuv
   * writes blocking on a pty master and would freeze the process while nobody reads the host end.
   */
  private flush(): void {
    this.retry = undefined;
    while (this.backlog.length > 0 && !this.closed) {
      const head = this.backlog[0];
      let written: number;
      try {
        written = fs.writeSync(this.masterFd, head);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
        this.emit('error', err);
        return;
      }
      this.backlogBytes -= written;
      if (written === head.length) this.backlog.shift();
      else {
        this.backlog[0] = head.subarray(written);
        break;
      }
    }
    if (this.backlog.length > 0 && !this.closed) this.retry = setTimeout(() => this.flush(), 5);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    clearTimeout(this.retry);
    this.backlog = [];
    return new Promise((resolve) => {
      this.reader.once('close', () => resolve());
      this.reader.destroy();
      fs.close(this.slaveFd, () => undefined);
    });
  }
}

function openPtyPair(openpty: OpenPtyBinding): PtyPair {
  const { master, slave, pty } = openpty.open(80, 24);
  // The slave descriptor stays open (and unread) for the pair's lifetime: without it, the master
  // reads EIO whenever the host closes the port, and a host reopening the port would find it gone.
  const chip = new MasterLine(master, slave);
  return { hostPath: pty, chip, via: 'openpty', close: () => chip.close() };
}

/** socat's two linked pseudo-terminals; the fake chip opens the second with serialport. */
function socatPtyPair(options: PtyPairOptions): Promise<PtyPair> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      reject(err);
      return;
    }
    const paths: string[] = [];
    let stderr = '';
    const timer = setTimeout(() => fail(new Error(`socat did not report two pseudo-terminals within ${timeoutMs} ms: ${stderr.trim()}`)), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill();
      reject(err);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      const reason = bindingError ? ` and the prebuilt openpty() could not load (${bindingError.message.split('\n')[0]})` : '';
      fail(err.code === 'ENOENT' ? new Error(`socat is not installed${reason}: the fake Propeller needs one of them for its pseudo-terminal`) : err);
    });
    child.once('exit', (code) => {
      if (paths.length < 2) fail(new Error(`socat exited (code ${code}) before making the pseudo-terminals: ${stderr.trim()}`));
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      stderr += text;
      for (const match of text.matchAll(/PTY is (\S+)/g)) paths.push(match[1]);
      if (paths.length === 2 && /starting data transfer loop/.test(stderr)) {
        clearTimeout(timer);
        child.stderr!.removeAllListeners('data');
        child.stderr!.resume();
        openSerialLine(paths[1]).then(
          (chip) => resolve({ hostPath: paths[0], chip, via: 'socat', close: () => chip.close().then(() => stop(child)) }),
          (err: Error) => fail(err),
        );
      }
    });
  });
}

/** What a socat line holds for a host that does not read before it drops bytes, as a UART would. */
const SOCAT_LINE_HOLD_BYTES = 64 * 1024;

function openSerialLine(path: string): Promise<ChipLine> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false, hupcl: false });
    let closing = false;
    let dropped = 0;
    port.open((err) => {
      if (err) return reject(err);
      const line: ChipLine = Object.assign(new EventEmitter(), {
        write: (data: Buffer | string) => {
          if (!port.isOpen || closing) return;
          const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
          if (port.writableLength + bytes.length > SOCAT_LINE_HOLD_BYTES) {
            dropped += bytes.length;
            return;
          }
          // Writes still queued when the line closes end with "Canceled": expected, not a fault.
          port.write(bytes, () => undefined);
        },
        close: () =>
          new Promise<void>((done) => {
            closing = true;
            if (port.isOpen) port.close(() => done());
            else done();
          }),
      });
      // A getter, since Object.assign would copy only the count at this moment.
      Object.defineProperty(line, 'dropped', { get: () => dropped });
      port.on('data', (data: Buffer) => line.emit('data', data));
      port.on('error', (e: Error) => {
        if (!closing && line.listenerCount('error') > 0) line.emit('error', e);
      });
      resolve(line);
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
