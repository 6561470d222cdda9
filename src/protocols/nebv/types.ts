/**
 * Shapes of neoEBV's JSON-RPC socket interface (pynebv methods over a stream). See
 * shared/protocols/neoebv.md: ids may come back as strings, framing is not specified.
 */

/** An item as neoEBV returns it; passed back unchanged as params.item / params.itemList. */
export interface EbvItem {
  key: string;
  klass: string;
  props?: Record<string, unknown>;
  attrs?: Record<string, unknown>;
  [extra: string]: unknown;
}

export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  method: string;
  id: JsonRpcId;
  params: Record<string, unknown>;
}

/** A reply as parsed off the wire: exactly one of result / error is expected. */
export interface JsonRpcReply {
  jsonrpc?: unknown;
  id?: unknown;
  result?: unknown;
  error?: unknown;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isEbvItem(value: unknown): value is EbvItem {
  return isRecord(value) && typeof value.key === 'string' && typeof value.klass === 'string';
}
