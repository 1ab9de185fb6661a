import type { ServerResponse } from 'node:http';
import type { ApiError, ErrorCode } from '../contract/index.ts';

/**
 * The built UI's policy: nothing remote, no inline script, no plugins, never framed. Inline styles stay
 * allowed because Svelte's transitions write `style` attributes.
 */
export const UI_CSP =
  "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; script-src 'self'; " +
  "style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/**
 * Everything that is not the UI page (JSON, media, scripts, events): no content may run, even when opened on
 * its own in a tab (an SVG or an HTML-looking response shows inert, in a sandbox).
 */
const INERT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; sandbox";

/** On every response, refusals included. There is never an Access-Control-* header: no CORS, ever. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': INERT_CSP,
};

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
