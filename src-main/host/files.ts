import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

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

/**
 * Sends a regular file with `headers`; false, with nothing sent, when there is none at `file` (missing,
 * a folder, unreadable). The file is opened once and streamed from that handle, so what was checked is what
 * is sent.
 */
export async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  headers: Record<string, string>,
  flags = fs.constants.O_RDONLY,
): Promise<boolean> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, flags);
  } catch {
    return false;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      return false;
    }
    res.writeHead(200, { ...headers, 'Content-Length': stat.size });
    if (req.method === 'HEAD') {
      await handle.close();
      res.end();
      return true;
    }
    // The stream owns the handle from here and closes it when done or destroyed.
    await pipeline(handle.createReadStream(), res);
  } catch {
    // The client went away mid-file, or the disk failed after the headers: nothing better can be sent.
    await handle.close().catch(() => undefined);
    res.destroy();
  }
  return true;
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
