import type { ServerResponse } from 'node:http';
import type { ApiError, ErrorCode } from '../contract/index.ts';
import { SECURITY_HEADERS } from '../core/serving.ts';

/**
 * The HTTP status for each error code. CANCELLED is 409, not nginx's unofficial 499 ("client closed
 * request"): here the user cancelled through another request, so this request met a job in a state that
 * conflicts with it; clients read `code`, the status only has to be a standard one in the right class.
 */
export const STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  CANCELLED: 409,
  MODEL_MISSING: 503,
  MODEL_CORRUPT: 503,
  PROVIDER_UNAVAILABLE: 503,
  IO: 500,
  INTERNAL: 500,
};

export function applySecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}

/** An /api answer: `{ok: true, value}` or `{ok: false, error: {code, message}}`, never cached. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

export function sendApiError(res: ServerResponse, error: ApiError, status = STATUS_OF[error.code]): void {
  sendJson(res, status, { ok: false, error: { code: error.code, message: error.message } });
}

/**
 * A refusal by the transport itself (401, 403, 404, 405), before any route runs: a short plain-text reason,
 * not an ApiError, because these are not among the core's codes.
 */
export function sendRefusal(res: ServerResponse, status: number, reason: string, headers = {}): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(reason),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(reason);
}
