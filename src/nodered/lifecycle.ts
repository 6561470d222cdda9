import type { NodeMessage, RedNode, SendFunction } from './red-types';

/** Node-RED gives a close handler 15 s; finish well inside it even if an instrument hangs. */
export const CLOSE_BUDGET_MS = 5_000;

/**
 * Register an async input handler. Whatever it throws or rejects with goes to done(err), which is
 * what a Catch node sees; the msg is attached by Node-RED from the input.
 */
export function onInput(node: RedNode, handler: (msg: NodeMessage, send: SendFunction) => Promise<void> | void): void {
  node.on('input', (msg, send, done) => {
    let result: Promise<void> | void;
    try {
      result = handler(msg, send);
    } catch (err) {
      done(asError(err));
      return;
    }
    Promise.resolve(result).then(
      () => done(),
      (err: unknown) => done(asError(err)),
    );
  });
}

/** Register a close handler that always calls done, after `work` or after the budget, whichever is first. */
export function onClose(node: RedNode, work: (removed: boolean) => Promise<void> | void, budgetMs = CLOSE_BUDGET_MS): void {
  node.on('close', (removed, done) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      done();
    };
    const timer = setTimeout(() => {
      node.warn(`closing took longer than ${budgetMs} ms; continuing`);
      finish();
    }, budgetMs);
    let result: Promise<void> | void;
    try {
      result = work(removed);
    } catch (err) {
      node.warn(`error while closing: ${asError(err).message}`);
      finish();
      return;
    }
    Promise.resolve(result).then(finish, (err: unknown) => {
      node.warn(`error while closing: ${asError(err).message}`);
      finish();
    });
  });
}

export function asError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === 'string' ? err : JSON.stringify(err));
}
