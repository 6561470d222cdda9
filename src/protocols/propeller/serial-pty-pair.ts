import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A pair of connected pseudo-terminals made by socat (`socat -d -d pty,raw,echo=0 pty,raw,echo=0`):
 * whatever is written to one end is read from the other, through a real tty driver. Used by the
 * fake chip, the tests and the benchmark in place of a USB serial adapter and a board.
 */
export interface PtyPair {
  /** The end a host (the propeller-serial node) opens. */
  readonly hostPath: string;
  /** The end the fake chip opens. */
  readonly chipPath: string;
  close(): Promise<void>;
}

export interface PtyPairOptions {
  /** Also make symlinks with these names (socat's link= option), e.g. a stable /tmp/propeller. */
  hostLink?: string;
  chipLink?: string;
  timeoutMs?: number;
}

export function createPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const address = (link: string | undefined): string => `pty,raw,echo=0${link ? `,link=${link}` : ''}`;
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn('socat', ['-d', '-d', address(options.hostLink), address(options.chipLink)], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      reject(err);
      return;
    }
    const paths: string[] = [];
    let stderr = '';
    const timer = setTimeout(() => fail(new Error(`socat did not report two pseudo-terminals within ${options.timeoutMs ?? 5000} ms: ${stderr.trim()}`)), options.timeoutMs ?? 5000);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill();
      reject(err);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      fail(err.code === 'ENOENT' ? new Error('socat is not installed (Debian package "socat"); it makes the pseudo-terminal pair the fake Propeller uses') : err);
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
        resolve({ hostPath: options.hostLink ?? paths[0], chipPath: options.chipLink ?? paths[1], close: () => stop(child) });
      }
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
