import fs from 'node:fs';
import path from 'node:path';

/* How both hosts (the Node host over HTTP, Electron's app:// protocol) serve the UI and media: the same ids,
   the same confinement and the same policies, so a rule is written once. */

/**
 * A media id as the core makes them (`preview/3f2a…`, `photo/12`): a kind, a slash, a name of safe
 * characters. Matched against the raw, undecoded request path, so `%2e%2e`, `%2f`, `%00`, `..`, `\`, an
 * absolute path or a second slash can never match, and such a request reaches neither the core nor the disk.
 */
const MEDIA_ID = /^[a-z]+\/[A-Za-z0-9_-]{1,128}$/;

export function isMediaId(raw: string): boolean {
  return MEDIA_ID.test(raw);
}

/** A content type the core gave, if it is one (`type/subtype`); anything else is served as bytes. */
export function safeContentType(type: string): string {
  return /^[a-z]+\/[a-z0-9.+-]{1,100}$/i.test(type) ? type : 'application/octet-stream';
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** One path segment of a built asset: letters, digits, `.`, `_`, `-`, and not only dots. */
const ASSET_SEGMENT = /^(?!\.+$)[A-Za-z0-9._-]{1,200}$/;

/**
 * The file under `root` (a real path) that `relative` names, or undefined. `relative` is raw from the URL;
 * each segment must be plain (so nothing is decoded and `..` cannot appear), and the file's real path must
 * still be inside `root`, so a link inside the built UI that points out of it is refused too.
 */
export async function fileInside(root: string, relative: string): Promise<string | undefined> {
  const segments = relative.split('/');
  if (segments.length > 16 || !segments.every((segment) => ASSET_SEGMENT.test(segment))) return undefined;
  let real: string;
  try {
    real = await fs.promises.realpath(path.join(root, ...segments));
  } catch {
    return undefined;
  }
  return real.startsWith(root + path.sep) ? real : undefined;
}

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
