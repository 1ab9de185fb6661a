import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { CustomScheme } from 'electron';
import type { Core } from '../core/app.ts';
import {
  contentTypeOf,
  fileInside,
  isMediaId,
  safeContentType,
  SECURITY_HEADERS,
  UI_CSP,
} from '../core/serving.ts';
import { APP_ORIGIN } from './channels.ts';

/*
 * app://heirloom/ serves the built UI and /media/<id>, as the Node host does over HTTP, with the same checks
 * (host/files.ts) and the same policies (host/respond.ts). No token is needed: only our own window loads this
 * scheme, and nothing outside the app can reach it.
 */

export const APP_SCHEME = 'app';

/**
 * Standard, so the page has a real origin ('self' in the CSP, relative URLs, ES modules); secure, so it is a
 * secure context like https; fetch allowed, for the page's own origin (corsEnabled stays off). Nothing more:
 * no CSP bypass, no service workers.
 */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true },
};

/** Electron's protocol module, as far as this file uses it. */
export interface ProtocolLike {
  registerSchemesAsPrivileged(schemes: CustomScheme[]): void;
  handle(scheme: string, handler: (request: Request) => Promise<Response>): void;
}

export interface AppProtocolOptions {
  /** The built UI (build/renderer); undefined when it has not been built. */
  readonly renderer: string | undefined;
  readonly media: Core['media'];
}

/** A bare refusal: an empty body and the inert policy, like the Node host's. */
function refusal(status: number): Response {
  return new Response(null, { status, headers: SECURITY_HEADERS });
}

/**
 * The regular file at `file`, streamed from the handle that was checked (so what was checked is what is
 * sent), or undefined when there is none (missing, a folder, a link where links are refused).
 */
async function fileResponse(
  request: Request,
  file: string,
  headers: Record<string, string>,
  flags = fs.constants.O_RDONLY,
): Promise<Response | undefined> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, flags);
  } catch {
    return undefined;
  }
  const stat = await handle.stat().catch(() => undefined);
  if (!stat?.isFile()) {
    await handle.close();
    return undefined;
  }
  const all = { ...SECURITY_HEADERS, ...headers, 'Content-Length': `${stat.size}` };
  if (request.method === 'HEAD') {
    await handle.close();
    return new Response(null, { headers: all });
  }
  // The stream owns the handle from here and closes it at the end or when the page stops reading.
  return new Response(Readable.toWeb(handle.createReadStream()) as ReadableStream<Uint8Array>, {
    headers: all,
  });
}

/** The folder's real path, or undefined when there is none (the UI was not built). */
function realFolder(folder: string | undefined): string | undefined {
  try {
    return folder === undefined ? undefined : fs.realpathSync(folder);
  } catch {
    return undefined;
  }
}

/** The handler of app:// requests. Only GET and HEAD of `app://heirloom/…`; everything else is refused. */
export function appProtocolHandler(options: AppProtocolOptions): (request: Request) => Promise<Response> {
  const renderer = realFolder(options.renderer);
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refusal(405);
    const url = new URL(request.url);
    // Node gives a non-special scheme an opaque origin ('null'), so the parts are compared.
    if (`${url.protocol}//${url.host}` !== APP_ORIGIN) return refusal(404);
    // The path as parsed: dot segments (`..`, `%2e%2e`) are resolved to within the origin, nothing is
    // percent-decoded, so `%2f` and `%5c` stay as they are, and no pattern below lets a `%` through.
    const pathname = url.pathname;
    if (pathname.startsWith('/media/')) {
      const id = pathname.slice('/media/'.length);
      // The raw id is checked before anything else: a path-like one never reaches the core or the disk.
      // A media id the core cannot resolve is simply not there, whatever the reason.
      const found = isMediaId(id) ? await options.media(id).catch(() => undefined) : undefined;
      if (found === undefined) return refusal(404);
      // Only the path the core gives is opened; the request's own path never names a file.
      const headers = {
        'Content-Type': safeContentType(found.contentType),
        // Rendered media are named by their content (a new picture, a new id); an original may be edited.
        'Cache-Control': found.immutable ? 'private, max-age=31536000, immutable' : 'private, no-cache',
      };
      return (await fileResponse(request, found.path, headers)) ?? refusal(404);
    }
    if (renderer === undefined) return refusal(404);
    if (pathname === '/') {
      const headers = {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': UI_CSP,
        'Cache-Control': 'no-store',
      };
      return (await fileResponse(request, path.join(renderer, 'index.html'), headers)) ?? refusal(404);
    }
    const file = await fileInside(renderer, pathname.slice(1));
    if (file === undefined) return refusal(404);
    const headers = { 'Content-Type': contentTypeOf(file), 'Cache-Control': 'no-cache' };
    return (await fileResponse(request, file, headers, fs.constants.O_NOFOLLOW)) ?? refusal(404);
  };
}
