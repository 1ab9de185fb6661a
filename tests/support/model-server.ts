import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server got, and what it answered. */
export interface ServedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  status: number;
  /** Body bytes handed to the socket (flushed), for asserting what a resume re-sent. */
  bytesSent: number;
}

/** How the server answers a path; a test sets one per path. */
export type Behaviour = (request: IncomingMessage, response: ServerResponse, served: ServedRequest) => void;

export interface ModelServer {
  readonly requests: ServedRequest[];
  url(path: string): string;
  /** Sets how `path` is answered from now on; an unset path answers 404. */
  on(path: string, behaviour: Behaviour): void;
  close(): Promise<void>;
}

/**
 * A model host on 127.0.0.1 whose behaviour each test sets, recording every request (headers included, so a
 * test sees the Range asked for) and the body bytes sent: the download tests never touch the internet.
 */
export async function modelServer(): Promise<ModelServer> {
  const behaviours = new Map<string, Behaviour>();
  const requests: ServedRequest[] = [];
  const server = http.createServer((request, response) => {
    const served: ServedRequest = {
      path: request.url ?? '',
      headers: request.headers,
      status: 0,
      bytesSent: 0,
    };
    requests.push(served);
    const behaviour = behaviours.get(served.path) ?? answer(404);
    behaviour(request, response, served);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    requests,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    on: (path, behaviour) => behaviours.set(path, behaviour),
    close: () =>
      new Promise((resolve) => {
        // A stalled response never ends by itself.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface FileOptions {
  /** Honour `Range: bytes=N-` with a 206 (default); false answers every request 200 with the whole body. */
  readonly ranges?: boolean;
  /** Destroy the connection after sending this many body bytes: a dropped download. */
  readonly dropAfter?: number;
  /** Send this many body bytes, then nothing more, keeping the connection open: a stalled download. */
  readonly stallAfter?: number;
  /** Body bytes per write; several writes let a client see progress. */
  readonly chunkBytes?: number;
  /** A pause between writes, for a download that takes a while. */
  readonly pauseMs?: number;
  /** Send no Content-Length (a chunked body): the client learns the size only at the end. */
  readonly chunked?: boolean;
}

/** Serves `body` as a file server would: Content-Length, byte ranges (unless told not to), 416 past the end. */
export function serveFile(body: Uint8Array, options: FileOptions = {}): Behaviour {
  const { ranges = true, chunkBytes = 16 * 1024, pauseMs = 0 } = options;
  return (request, response, served) => {
    const range = ranges ? /^bytes=(\d+)-$/.exec(request.headers.range ?? '') : null;
    const start = range ? Number(range[1]) : 0;
    if (start >= body.length && range) {
      served.status = 416;
      response.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      return;
    }
    served.status = range ? 206 : 200;
    response.writeHead(served.status, {
      'Content-Type': 'application/octet-stream',
      ...(options.chunked ? {} : { 'Content-Length': String(body.length - start) }),
      'Accept-Ranges': ranges ? 'bytes' : 'none',
      ...(range ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    const stop = Math.min(body.length, start + (options.dropAfter ?? options.stallAfter ?? Infinity));
    let at = start;
    const next = (): void => {
      if (at >= stop) {
        if (options.dropAfter !== undefined) response.socket?.destroy();
        else if (options.stallAfter === undefined) response.end();
        return;
      }
      const chunk = body.subarray(at, Math.min(stop, at + chunkBytes));
      at += chunk.length;
      response.write(chunk, () => {
        served.bytesSent += chunk.length;
        setTimeout(next, pauseMs);
      });
    };
    next();
  };
}

/** Answers `status` with a short text body. */
export function answer(status: number): Behaviour {
  return (_request, response, served) => {
    served.status = status;
    response.writeHead(status, { 'Content-Type': 'text/plain' }).end(`${status}\n`);
  };
}

/** Redirects to `location` (relative or absolute) with `status`. */
export function redirect(location: string, status = 302): Behaviour {
  return (_request, response, served) => {
    served.status = status;
    response.writeHead(status, { Location: location }).end();
  };
}

/** Accepts the request and never answers. */
export function silence(): Behaviour {
  return () => {};
}
