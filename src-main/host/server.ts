import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { AppError, routeName, toApiError, type EventMessage, type RouteName } from '../contract/index.ts';
import {
  checkToken,
  EVENTS_PURPOSE,
  eventsPath,
  foreignRequest,
  hasBearer,
  mediaPath,
  mediaPurpose,
  newToken,
  validSignature,
} from './auth.ts';
import { BodyTooLarge, declaredTooLarge, MAX_BODY_BYTES, parseJsonBody, readBody } from './body.ts';
import { HEARTBEAT_MS, streamEvents } from './events.ts';
import {
  contentTypeOf,
  fileInside,
  isMediaId,
  safeContentType,
  SECURITY_HEADERS,
  UI_CSP,
} from '../core/serving.ts';
import { sendFile } from './files.ts';
import { applySecurityHeaders, sendApiError, sendJson, sendRefusal, STATUS_OF } from './respond.ts';

/**
 * The Node host: the core's routes, events and media over HTTP on 127.0.0.1, and the built UI, for the
 * browser mode and the end-to-end tests (ARCHITECTURE.md, "Layout"). A thin adapter over `dispatch`
 * (rule 1); who may call it is decided in auth.ts.
 */

/** What the host needs of the core. */
export interface HostedCore {
  /** Runs a route; validates `input` itself and throws AppError. */
  dispatch(route: RouteName, input: unknown): Promise<unknown>;
  /** Subscribe to events; returns unsubscribe. */
  subscribe(listener: (message: EventMessage) => void): () => void;
  /** A file for a media id, or undefined. Ids are opaque strings made by the core, e.g. "preview/3f2a", "photo/12". */
  media(id: string): Promise<MediaFile | undefined>;
}

export interface MediaFile {
  readonly path: string;
  readonly contentType: string;
  /** The id names these exact bytes forever (a render keyed by what it depends on): cache it for good. */
  readonly immutable?: boolean;
}

export interface ServerOptions {
  /** 0 (the default) takes any free port. */
  port?: number;
  /** The secret every request must prove it holds; generated (32 random bytes, base64url) when absent. */
  token?: string;
  /** The built UI (index.html, assets/), served at / and /assets/; no UI without it. */
  staticDir?: string;
  /** How often the event stream sends a comment to stay alive; 15 s unless a test wants it sooner. */
  heartbeatMs?: number;
  /** Where one-line error reports go; stderr by default. */
  log?: (line: string) => void;
}

export interface RunningServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly token: string;
  /** Where the server listens: 127.0.0.1 only. */
  readonly address: AddressInfo;
  /** The path (on `url`) that serves media `id` to whoever has it, for `<img src>`. */
  mediaUrl(id: string): string;
  /** The path (on `url`) of the event stream, signed, for `EventSource`. */
  readonly eventsUrl: string;
  /** Stops listening, ends the event streams, and resolves once every connection is closed. */
  close(): Promise<void>;
}

/** In-flight requests get this long to finish when the server closes, then their connections are cut. */
const CLOSE_GRACE_MS = 2000;

export async function startServer(core: HostedCore, options: ServerOptions = {}): Promise<RunningServer> {
  const token = options.token === undefined ? newToken() : checkToken(options.token);
  const staticRoot =
    options.staticDir === undefined ? undefined : await fs.promises.realpath(options.staticDir);
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const streams = new Set<() => void>();
  let port = 0;

  /** One line, whatever the message holds: control characters shown as spaces, at most 300 characters. */
  function report(req: IncomingMessage, what: string): void {
    const where = `${req.method ?? '?'} ${(req.url ?? '').split('?')[0]?.slice(0, 100)}`;
    log(`heirloom host: ${where}: ${what}`.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 300));
  }

  /**
   * A refusal before the body is read: the connection closes after it, so an unread body is not taken for
   * the next request on the same connection.
   */
  function refuse(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    reason: string,
    headers: Record<string, string> = {},
  ): void {
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
    sendRefusal(res, status, reason, hasBody ? { ...headers, Connection: 'close' } : headers);
  }

  async function api(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    if (req.method !== 'POST') return refuse(req, res, 405, 'use POST', { Allow: 'POST' });
    if (!hasBearer(req, token)) {
      return refuse(req, res, 401, 'missing or wrong token', { 'WWW-Authenticate': 'Bearer' });
    }
    const tooLarge = (): void => {
      res.setHeader('Connection', 'close');
      sendApiError(res, { code: 'INVALID_INPUT', message: `request body over ${MAX_BODY_BYTES} bytes` }, 413);
    };
    if (declaredTooLarge(req)) return tooLarge();
    if (req.headers.expect !== undefined) res.writeContinue();
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (error) {
      if (error instanceof BodyTooLarge) return tooLarge();
      throw error;
    }
    try {
      const value = await core.dispatch(routeName(name), parseJsonBody(body));
      sendJson(res, 200, { ok: true, value });
    } catch (error) {
      const apiError = toApiError(error);
      if (STATUS_OF[apiError.code] >= 500) report(req, `${apiError.code}: ${apiError.message}`);
      if (!res.headersSent) sendApiError(res, apiError);
    }
  }

  function events(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    if (req.method !== 'GET') return refuse(req, res, 405, 'use GET', { Allow: 'GET' });
    if (!hasBearer(req, token) && !validSignature(token, EVENTS_PURPOSE, query.get('sig'))) {
      return refuse(req, res, 401, 'missing or wrong signature');
    }
    const stop = streamEvents(res, (listener) => core.subscribe(listener), heartbeatMs);
    streams.add(stop);
    res.once('close', () => streams.delete(stop));
  }

  async function media(req: IncomingMessage, res: ServerResponse, id: string, query: URLSearchParams) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return refuse(req, res, 405, 'use GET', { Allow: 'GET, HEAD' });
    }
    // The raw id is checked before anything else: a path-like one never reaches the core or the disk.
    if (!isMediaId(id)) return refuse(req, res, 404, 'no such media');
    if (!hasBearer(req, token) && !validSignature(token, mediaPurpose(id), query.get('sig'))) {
      return refuse(req, res, 401, 'missing or wrong signature');
    }
    let found: Awaited<ReturnType<HostedCore['media']>>;
    try {
      found = await core.media(id);
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.code !== 'NOT_FOUND') report(req, `media ${id}: ${apiError.code}: ${apiError.message}`);
      return refuse(
        req,
        res,
        apiError.code === 'NOT_FOUND' ? 404 : STATUS_OF[apiError.code],
        apiError.message,
      );
    }
    // Only the path the core gives is opened; the request's own path never names a file.
    const sent =
      found !== undefined &&
      (await sendFile(req, res, found.path, {
        'Content-Type': safeContentType(found.contentType),
        // Rendered media ids are content-addressed (a new picture gets a new id) and the signature dies with the
        // token; an original is served by photo id, and may be edited elsewhere, so it is revalidated.
        'Cache-Control': found.immutable ? 'private, max-age=31536000, immutable' : 'private, no-cache',
      }));
    if (!sent) refuse(req, res, 404, 'no such media');
  }

  async function ui(req: IncomingMessage, res: ServerResponse, root: string, pathname: string) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return refuse(req, res, 405, 'use GET', { Allow: 'GET, HEAD' });
    }
    if (pathname === '/') {
      // The page holds no secret, as its scripts hold none: it is served to this host's own requests (the Host
      // and Origin checks apply) with or without a token, so a reload or a bookmark opens it. It reads the
      // token from the address the host printed (`/?token=…`) and keeps it for the tab; every route, event and
      // media file still needs it.
      const index = path.join(root, 'index.html');
      const headers = { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': UI_CSP };
      if (await sendFile(req, res, index, { ...headers, 'Cache-Control': 'no-store' })) return;
      return refuse(req, res, 404, 'no index.html in the built UI');
    }
    // Built scripts and styles carry no secret and a <script src> cannot send one; the Host and Origin
    // checks still apply.
    const file = await fileInside(root, pathname.slice('/'.length));
    const headers = { 'Content-Type': contentTypeOf(file ?? ''), 'Cache-Control': 'no-cache' };
    const sent = file !== undefined && (await sendFile(req, res, file, headers, fs.constants.O_NOFOLLOW));
    if (!sent) refuse(req, res, 404, 'not found');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    applySecurityHeaders(res);
    const foreign = foreignRequest(req, port);
    if (foreign !== null) return refuse(req, res, 403, foreign);
    if (req.method === 'OPTIONS') return refuse(req, res, 405, 'no preflight is answered here');
    // The path stays raw: nothing is percent-decoded or normalised, so what is checked is what was sent.
    const raw = req.url ?? '/';
    const mark = raw.indexOf('?');
    const pathname = mark < 0 ? raw : raw.slice(0, mark);
    const query = new URLSearchParams(mark < 0 ? '' : raw.slice(mark + 1));
    if (pathname.startsWith('/api/')) return api(req, res, pathname.slice('/api/'.length));
    if (pathname === '/events') return events(req, res, query);
    if (pathname.startsWith('/media/')) return media(req, res, pathname.slice('/media/'.length), query);
    if (staticRoot !== undefined && (pathname === '/' || pathname.startsWith('/assets/'))) {
      return ui(req, res, staticRoot, pathname);
    }
    refuse(req, res, 404, 'not found');
  }

  const server = http.createServer({ requestTimeout: 60_000, headersTimeout: 20_000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      report(req, `INTERNAL: ${toApiError(error).message}`);
      if (!res.headersSent) sendApiError(res, { code: 'INTERNAL', message: 'internal error' });
      else res.destroy();
    });
  });
  // Handled in `api`, after the token and the declared length are checked, not before.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => server.emit('request', req, res));
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    const status =
      error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const headers = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n${headers.join('')}\r\n`,
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // 127.0.0.1 and nothing else: never 0.0.0.0 or ::, so no other machine can reach it.
    server.listen({ host: '127.0.0.1', port: options.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  port = address.port;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    address,
    mediaUrl(id: string): string {
      if (!isMediaId(id)) throw new AppError('INTERNAL', `not a media id: ${id.slice(0, 100)}`);
      return mediaPath(token, id);
    },
    eventsUrl: eventsPath(token),
    close(): Promise<void> {
      for (const stop of streams) stop();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
      });
    },
  };
}

export { eventsPath, mediaPath, sign } from './auth.ts';
