import { Worker } from 'node:worker_threads';

/** A worker thread started from `source`, which posts one message when ready and then answers numbered requests. */
export interface BenchWorker<Ready> {
  /** The worker's first message. */
  ready: Ready;
  /** Post `{cmd, id, ...extra}`; resolves with the worker's reply carrying the same id. */
  ask(cmd: string, extra?: Record<string, unknown>): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Simulators and brokers run in worker threads so they do not share the measured event loop. */
export function startWorker<Ready>(source: string): Promise<BenchWorker<Ready>> {
  const worker = new Worker(source, { eval: true });
  let next = 0;
  const ask = (cmd: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      const id = ++next;
      const onMessage = (m: Record<string, unknown>): void => {
        if (m.id !== id) return;
        worker.off('message', onMessage);
        resolve(m);
      };
      worker.on('message', onMessage);
      worker.postMessage({ cmd, id, ...extra });
    });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (ready: Ready) => resolve({ ready, ask, stop: async () => void (await worker.terminate()) }));
  });
}
