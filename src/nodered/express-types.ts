/** Minimal shapes of Express's request/response for admin endpoints (test-connection buttons). */
export interface AdminRequest {
  params: Record<string, string>;
  body: unknown;
  query: Record<string, unknown>;
  /** The editor user when adminAuth is on (Node-RED's passport user). */
  user?: { username?: unknown };
  ip?: string;
  path?: string;
}

export interface AdminResponse {
  status(code: number): AdminResponse;
  json(body: unknown): void;
  send(body: unknown): void;
}

export type RequestHandler = (req: AdminRequest, res: AdminResponse, next: () => void) => void;

export interface Express {
  get(path: string, ...handlers: RequestHandler[]): void;
  post(path: string, ...handlers: RequestHandler[]): void;
}
