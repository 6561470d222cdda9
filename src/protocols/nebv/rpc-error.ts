import { InstrumentError } from '../common/errors';
import { isRecord } from './types';

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
    const rpcMessage = typeof body.message === 'string' ? body.message : JSON.stringify(error);
    super('REMOTE', `neoEBV refused ${method}: ${rpcMessage} (code ${rpcCode})${hint(rpcCode)}`, { method, rpcCode, rpcMessage, data: body.data });
    this.name = 'NebvRpcError';
    this.rpcCode = rpcCode;
    this.rpcMessage = rpcMessage;
    this.rpcData = body.data;
    this.method = method;
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
