import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { EventMessage, RouteName } from '../../src-main/contract/index.ts';
import type { TestContext } from 'node:test';
import {
  startServer,
  type HostedCore,
  type MediaFile,
  type RunningServer,
  type ServerOptions,
} from '../../src-main/host/server.ts';

/** What came back, read whole. */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface Ask {
  method?: string;
  path: string;
  /** Sent as they are; `Host` is the server's own unless given here. No header is added but Host. */
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/**
 * One request on a connection of its own, with raw control of the headers (a browser's `fetch` would not
 * let us forge Host). The path is sent byte for byte: nothing is normalised or encoded on the way.
 */
export function ask(
  server: RunningServer,
  { method = 'GET', path, headers = {}, body }: Ask,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: server.address.port,
      method,
      path,
      agent: false,
      setHost: false,
      headers: { Host: `127.0.0.1:${server.address.port}`, ...headers },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: bytes,
          text: bytes.toString('utf8'),
        });
      });
    });
    req.end(body);
  });
}

/** POST /api/<route> with the server's token and a JSON body. */
export function call(
  server: RunningServer,
  route: string,
  input?: unknown,
  headers: Record<string, string> = {},
) {
  return ask(server, {
    method: 'POST',
    path: `/api/${route}`,
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json', ...headers },
    ...(input === undefined ? {} : { body: JSON.stringify(input) }),
  });
}

/**
 * Opens a request whose body is written as the test likes and may never end; resolves with the response as
 * soon as its headers come, whatever is still unsent.
 */
export function openUpload(server: RunningServer, headers: Record<string, string>) {
  const req = http.request({
    host: '127.0.0.1',
    port: server.address.port,
    method: 'POST',
    path: '/api/album.list',
    agent: false,
    setHost: false,
    headers: {
      Host: `127.0.0.1:${server.address.port}`,
      Authorization: `Bearer ${server.token}`,
      ...headers,
    },
  });
  // Writing into a connection the server closed fails; the answer already came by then.
  req.on('error', () => undefined);
  const response = new Promise<Reply>((resolve) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: bytes,
          text: bytes.toString('utf8'),
        });
      });
    });
  });
  return { req, response };
}

/** Bytes written straight to the socket (a request line Node's client would refuse to send). */
export function rawRequest(server: RunningServer, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.address.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(bytes, 'latin1');
  });
}

/** A core that answers as each test tells it, and remembers what it was asked. */
export class FakeCore implements HostedCore {
  readonly dispatched: { route: RouteName; input: unknown }[] = [];
  readonly mediaAsked: string[] = [];
  readonly files = new Map<string, MediaFile>();
  readonly listeners = new Set<(message: EventMessage) => void>();
  answer: (route: RouteName, input: unknown) => Promise<unknown> = async (route, input) => ({ route, input });

  dispatch(route: RouteName, input: unknown): Promise<unknown> {
    this.dispatched.push({ route, input });
    return this.answer(route, input);
  }

  subscribe(listener: (message: EventMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async media(id: string): Promise<MediaFile | undefined> {
    this.mediaAsked.push(id);
    return this.files.get(id);
  }

  emit(message: EventMessage): void {
    for (const listener of this.listeners) listener(message);
  }
}

/** A server over `core` for one test, closed after it; its error lines are kept, not printed. */
export async function serve(t: TestContext, core = new FakeCore(), options: ServerOptions = {}) {
  const logged: string[] = [];
  const server = await startServer(core, { log: (line) => logged.push(line), ...options });
  t.after(() => server.close());
  return { server, core, logged };
}

const SECURITY = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function assertSecurityHeaders(headers: http.IncomingHttpHeaders): void {
  for (const [name, value] of Object.entries(SECURITY)) assert.equal(headers[name], value, name);
  assert.ok(headers['content-security-policy'], 'a CSP');
  const cors = Object.keys(headers).filter((name) => name.startsWith('access-control-'));
  assert.deepEqual(cors, [], 'never a CORS header');
}
