import { InstrumentError } from '../common/errors';
import { previewJson } from '../common/json-limits';
import { isRecord } from './types';

/** Longest JSON-RPC error message kept: it goes into msg.error, the status and the log. */
const MAX_MESSAGE_CHARS = 500;

function clip(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text;
}

/** neoEBV answered with a JSON-RPC error object; `rpcCode` is its number (e.g. -32601). */
export class NebvRpcError extends InstrumentError {
  readonly rpcCode: number;
  readonly rpcMessage: string;
  readonly rpcData: unknown;
  readonly method: string;

  constructor(method: string, error: unknown) {
    const body = isRecord(error) ? error : {};
    const code = typeof body.code === 'number' ? body.code : Number(body.code);
    const rpcCode = Number.isFinite(code) ? code : 0;
    const rpcMessage = clip(typeof body.message === 'string' ? body.message : previewJson(error, MAX_MESSAGE_CHARS));
    super('REMOTE', `neoEBV refused ${method}: ${rpcMessage} (code ${rpcCode})${hint(rpcCode)}`, { method, rpcCode, rpcMessage, data: body.data });
    this.name = 'NebvRpcError';
    this.rpcCode = rpcCode;
    this.rpcMessage = rpcMessage;
    this.rpcData = body.data;
    this.method = method;
  }
}

/**
 * The error a Catch node should see for a JSON-RPC error: the sentence as msg.error.message (no
 * "Error: " in front, as for every other error of the package) and the JSON-RPC number as msg.error.code.
 */
export class CaughtRpcError extends Error {
  readonly code: number;
  readonly details: Record<string, unknown>;

  /** `message`: the text in the user's language, when the node has it. */
  constructor(err: NebvRpcError, message = err.message) {
    super(message);
    this.name = 'NebvRpcError';
    this.code = err.rpcCode;
    this.details = err.details;
  }

  override toString(): string {
    return this.message;
  }
}

/** What the user can do about the standard JSON-RPC codes. */
function hint(code: number): string {
  switch (code) {
    case -32601:
      return '; check the spelling of the method and the class name (e.g. pynebv.MarkList.items, not pynebv.EbvListSection.items)';
    case -32602:
      return '; check the argument names and that item is an EbvItem from a previous call';
    case -32700:
    case -32600:
      return '; the request was not understood (is something else writing to this socket?)';
    default:
      return '';
  }
}
