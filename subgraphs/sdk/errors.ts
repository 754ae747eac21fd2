// Errors the SDK's HTTP layer answers itself (before GraphQL runs). They use the
// GraphQL response shape so clients parse one format, carry a stable code, and name
// the extension, since the gateway relays them to authors.
import type { ServerResponse } from 'node:http';

export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

export type HttpErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHENTICATED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'INTERNAL_SERVER_ERROR';

export function sendJson(res: ServerResponse, status: number, payload: unknown, extraHeaders: Record<string, string> = {}): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...extraHeaders,
  });
  res.end(body);
}

export function sendError(
  res: ServerResponse,
  status: number,
  code: HttpErrorCode,
  message: string,
  extension: string,
  extraHeaders: Record<string, string> = {},
): void {
  sendJson(res, status, { errors: [{ message, extensions: { code, extension } }] }, extraHeaders);
}
