import { errorText, sharedText, type Substitutions } from './i18n';
import type { NodeMessage, RedAPI, RedNode, SendFunction } from './red-types';

/** Node-RED gives a close handler 15 s; finish well inside it even if an instrument hangs. */
export const CLOSE_BUDGET_MS = 5_000;

/**
 * Register an async input handler. Whatever it throws or rejects with goes to done(err), which is
 * what a Catch node sees (after `toError`, e.g. localization); the msg is attached by Node-RED
 * from the input.
 */
export function onInput(
  node: RedNode,
  handler: (msg: NodeMessage, send: SendFunction) => Promise<void> | void,
  toError: (err: unknown) => Error = asError,
): void {
  node.on('input', (msg, send, done) => {
    let result: Promise<void> | void;
    try {
      result = handler(msg, send);
    } catch (err) {
      done(toError(err));
      return;
    }
    Promise.resolve(result).then(
      () => done(),
      (err: unknown) => done(toError(err)),
    );
  });
}

export interface CloseOptions {
  /** For the warnings in the runtime's language. */
  RED?: RedAPI;
  budgetMs?: number;
}

/** Register a close handler that always calls done, after `work` or after the budget, whichever is first. */
export function onClose(node: RedNode, work: (removed: boolean) => Promise<void> | void, options: CloseOptions | number = {}): void {
  const { RED, budgetMs = CLOSE_BUDGET_MS } = typeof options === 'number' ? { budgetMs: options } : options;
  const say = (key: string, english: string, substitutions: Substitutions): string => (RED ? sharedText(RED, key, substitutions) : english);
  node.on('close', (removed, done) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      done();
    };
    const failed = (err: unknown): void => {
      const error = RED ? errorText(RED, err) : asError(err).message;
      node.warn(say('warn.closeFailed', `error while closing: ${error}`, { error }));
      finish();
    };
    const timer = setTimeout(() => {
      node.warn(say('warn.closeSlow', `closing took longer than ${budgetMs} ms; continuing`, { ms: budgetMs }));
      finish();
    }, budgetMs);
    let result: Promise<void> | void;
    try {
      result = work(removed);
    } catch (err) {
      failed(err);
      return;
    }
    Promise.resolve(result).then(finish, failed);
  });
}

export function asError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === 'string' ? err : JSON.stringify(err));
}
