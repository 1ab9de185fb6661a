import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { AppError, ERROR_CODES, type ErrorCode } from '../../src-main/contract/index.ts';
import { sign, startServer, type RunningServer } from '../../src-main/host/server.ts';
import { tempDir } from '../support/temp.ts';
import { ask, assertSecurityHeaders, call, FakeCore, openUpload, rawRequest, serve } from './client.ts';

describe('listening', () => {
  test('binds 127.0.0.1 only, not every interface, and says so in its url', async (t) => {
    const { server } = await serve(t);
    assert.equal(server.address.address, '127.0.0.1');
    assert.equal(server.address.family, 'IPv4');
    assert.equal(server.url, `http://127.0.0.1:${server.address.port}`);
    // Nothing answers on the IPv6 loopback at that port: the socket is not a dual-stack `::` one.
    const v6 = net.connect(server.address.port, '::1');
    const [error] = (await once(v6, 'error')) as [NodeJS.ErrnoException];
    assert.match(error.code ?? '', /ECONNREFUSED|EADDRNOTAVAIL|ENETUNREACH/);
  });

  test('generates a 256-bit base64url token unless given one, and refuses a short one', async (t) => {
    const { server } = await serve(t);
    assert.match(server.token, /^[A-Za-z0-9_-]{43}$/);
    const given = await serve(t, new FakeCore(), { token: 'a-token-of-my-own-choosing' });
    assert.equal(given.server.token, 'a-token-of-my-own-choosing');
    await assert.rejects(startServer(new FakeCore(), { token: 'short' }), /at least 16/);
  });
});

describe('the token on /api', () => {
  /** The token with its first character changed: the same length, wrong. */
  const altered = (token: string): string => token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
  const refused: [string, (token: string) => Record<string, string>][] = [
    ['no token', () => ({})],
    ['a wrong token of the same length', (token) => ({ Authorization: `Bearer ${altered(token)}` })],
    ['a wrong token of another length', () => ({ Authorization: 'Bearer x' })],
    ['the token with more after it', (token) => ({ Authorization: `Bearer ${token}x` })],
    ['the token under another scheme', (token) => ({ Authorization: `Basic ${token}` })],
  ];
  for (const [name, authorization] of refused) {
    test(`${name} is refused with 401, and the core never hears of it`, async (t) => {
      const { server, core } = await serve(t);
      const headers = authorization(server.token);
      const reply = await ask(server, { method: 'POST', path: '/api/album.list', headers, body: '{}' });
      assert.equal(reply.status, 401);
      assert.equal(reply.headers['www-authenticate'], 'Bearer');
      assertSecurityHeaders(reply.headers);
      assert.deepEqual(core.dispatched, []);
    });
  }

  test('the right token gets 200 {ok: true, value} from dispatch(route, body)', async (t) => {
    const { server, core } = await serve(t);
    core.answer = async () => [{ albumId: 1, name: 'Grandma' }];
    const reply = await call(server, 'album.get', { albumId: 1 });
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /^application\/json/);
    assert.equal(reply.headers['cache-control'], 'no-store');
    assertSecurityHeaders(reply.headers);
    assert.deepEqual(JSON.parse(reply.text), { ok: true, value: [{ albumId: 1, name: 'Grandma' }] });
    assert.deepEqual(core.dispatched, [{ route: 'album.get', input: { albumId: 1 } }]);
  });

  test('an empty body is {}', async (t) => {
    const { server, core } = await serve(t);
    assert.equal((await call(server, 'album.list')).status, 200);
    assert.deepEqual(core.dispatched, [{ route: 'album.list', input: {} }]);
  });
});

describe('who may send a request at all', () => {
  for (const host of [
    'evil.example:PORT',
    '127.0.0.1.nip.io:PORT',
    '127.0.0.1.nip.io',
    '127.0.0.1:1',
    '[::1]:PORT',
  ]) {
    test(`a foreign Host (${host}, as after DNS rebinding) gets 403, token or not`, async (t) => {
      const { server, core } = await serve(t);
      const reply = await call(
        server,
        'album.list',
        {},
        { Host: host.replace('PORT', String(server.address.port)) },
      );
      assert.equal(reply.status, 403);
      assertSecurityHeaders(reply.headers);
      assert.deepEqual(core.dispatched, []);
    });
  }

  test('localhost:PORT is this host too', async (t) => {
    const { server } = await serve(t);
    const reply = await call(server, 'album.list', {}, { Host: `localhost:${server.address.port}` });
    assert.equal(reply.status, 200);
  });

  for (const origin of ['http://evil.example', 'null', 'http://localhost:PORT', 'https://127.0.0.1:PORT']) {
    test(`an Origin that is not the host's own (${origin}) gets 403`, async (t) => {
      const { server, core } = await serve(t);
      const headers = { Origin: origin.replace('PORT', String(server.address.port)) };
      const reply = await call(server, 'album.list', {}, headers);
      assert.equal(reply.status, 403);
      assert.deepEqual(core.dispatched, []);
    });
  }

  test("the host's own Origin is let through", async (t) => {
    const { server } = await serve(t);
    const reply = await call(
      server,
      'album.list',
      {},
      { Origin: server.url, 'Sec-Fetch-Site': 'same-origin' },
    );
    assert.equal(reply.status, 200);
  });

  test('a request another site started (Sec-Fetch-Site: same-site or cross-site) gets 403', async (t) => {
    const { server } = await serve(t);
    for (const site of ['same-site', 'cross-site']) {
      assert.equal((await call(server, 'album.list', {}, { 'Sec-Fetch-Site': site })).status, 403, site);
    }
  });

  test('OPTIONS gets 405 and no preflight answer, anywhere', async (t) => {
    const { server } = await serve(t);
    for (const where of ['/api/album.list', '/events', '/media/photo/12', '/']) {
      const reply = await ask(server, {
        method: 'OPTIONS',
        path: where,
        headers: { Origin: server.url, 'Access-Control-Request-Method': 'POST' },
      });
      assert.equal(reply.status, 405, where);
      assertSecurityHeaders(reply.headers);
    }
  });

  test('GET /api/<route> gets 405: the API is POST only', async (t) => {
    const { server, core } = await serve(t);
    const reply = await ask(server, {
      path: '/api/album.list',
      headers: { Authorization: `Bearer ${server.token}` },
    });
    assert.equal(reply.status, 405);
    assert.equal(reply.headers.allow, 'POST');
    assert.deepEqual(core.dispatched, []);
  });
});

describe('request bodies', () => {
  test('a declared Content-Length over 1 MB gets 413 before any of it is read', async (t) => {
    const { server, core } = await serve(t);
    const { req, response } = openUpload(server, { 'Content-Length': String(2 * 1024 * 1024) });
    req.write('{"a":');
    const reply = await response;
    req.destroy();
    assert.equal(reply.status, 413);
    assert.equal(JSON.parse(reply.text).error.code, 'INVALID_INPUT');
    assert.deepEqual(core.dispatched, []);
  });

  test('a chunked body gets 413 as soon as 1 MB has streamed in, without waiting for its end', async (t) => {
    const { server, core } = await serve(t);
    const { req, response } = openUpload(server, {});
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    // 1.5 MB, and the body never ends: an answer can only come from counting.
    for (let sent = 0; sent < 1.5 * 1024 * 1024; sent += chunk.length) req.write(chunk);
    const reply = await response;
    req.destroy();
    assert.equal(req.getHeader('transfer-encoding') ?? 'chunked', 'chunked');
    assert.equal(reply.status, 413);
    assert.deepEqual(core.dispatched, []);
  });

  test('Expect: 100-continue gets its 100 only once the token and the declared length pass', async (t) => {
    const { server } = await serve(t);
    const attempt = (authorization: string, length: number) =>
      new Promise<{ continued: boolean; status: number }>((resolve, reject) => {
        let continued = false;
        const body = `{"name":"${'x'.repeat(length - 11)}"}`;
        const req = http.request({
          host: '127.0.0.1',
          port: server.address.port,
          method: 'POST',
          path: '/api/album.create',
          agent: false,
          headers: { Authorization: authorization, Expect: '100-continue', 'Content-Length': String(length) },
        });
        req.on('error', reject);
        req.on('continue', () => {
          continued = true;
          req.end(body);
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve({ continued, status: res.statusCode ?? 0 }));
          req.destroy();
        });
        req.flushHeaders();
      });
    assert.deepEqual(await attempt('Bearer wrong', 100), { continued: false, status: 401 });
    assert.deepEqual(await attempt(`Bearer ${server.token}`, 2 * 1024 * 1024), {
      continued: false,
      status: 413,
    });
    assert.deepEqual(await attempt(`Bearer ${server.token}`, 100), { continued: true, status: 200 });
  });

  test('a body of exactly 1 MB is read', async (t) => {
    const { server, core } = await serve(t);
    const body = `{"name":"${'x'.repeat(1024 * 1024 - 11)}"}`;
    assert.equal(Buffer.byteLength(body), 1024 * 1024);
    const reply = await ask(server, {
      method: 'POST',
      path: '/api/album.create',
      headers: { Authorization: `Bearer ${server.token}` },
      body,
    });
    assert.equal(reply.status, 200);
    assert.equal((core.dispatched.at(-1)?.input as { name: string }).name.length, 1024 * 1024 - 11);
  });

  for (const [name, body] of [
    ['not JSON', '{albumId: 1}'],
    ['cut short', '{"albumId": '],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0x7d])],
  ] as const) {
    test(`a body that is ${name} gets 400 INVALID_INPUT`, async (t) => {
      const { server, core } = await serve(t);
      const reply = await ask(server, {
        method: 'POST',
        path: '/api/album.get',
        headers: { Authorization: `Bearer ${server.token}` },
        body,
      });
      assert.equal(reply.status, 400);
      assert.equal(JSON.parse(reply.text).ok, false);
      assert.equal(JSON.parse(reply.text).error.code, 'INVALID_INPUT');
      assert.deepEqual(core.dispatched, []);
    });
  }
});

describe('routes and errors', () => {
  test('an unknown route gets 404 NOT_FOUND, named as the contract names it', async (t) => {
    const { server, core } = await serve(t);
    for (const route of ['album.nope', '%61lbum.list', '..%2fadmin', '']) {
      const reply = await call(server, route, {});
      assert.equal(reply.status, 404, route);
      assert.deepEqual(JSON.parse(reply.text), {
        ok: false,
        error: { code: 'NOT_FOUND', message: `no such route: ${route}` },
      });
    }
    assert.deepEqual(core.dispatched, []);
  });

  const STATUS: Record<ErrorCode, number> = {
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
  for (const code of ERROR_CODES) {
    test(`AppError ${code} comes back as {ok: false, error: {code, message}} with HTTP ${STATUS[code]}`, async (t) => {
      const { server, core, logged } = await serve(t);
      core.answer = async () => {
        throw new AppError(code, `it went ${code}`);
      };
      const reply = await call(server, 'job.get', { jobId: 3 });
      assert.equal(reply.status, STATUS[code]);
      assert.deepEqual(JSON.parse(reply.text), { ok: false, error: { code, message: `it went ${code}` } });
      // Only the host's own failures (5xx) are reported, in one line.
      assert.equal(logged.length, STATUS[code] >= 500 ? 1 : 0);
    });
  }

  test('anything else thrown is 500 INTERNAL with its first line, logged in one line', async (t) => {
    const { server, core, logged } = await serve(t);
    core.answer = async () => {
      throw new Error('disk on fire\n    at secret/stack.ts:1');
    };
    const reply = await call(server, 'album.list');
    assert.equal(reply.status, 500);
    assert.deepEqual(JSON.parse(reply.text).error, { code: 'INTERNAL', message: 'disk on fire' });
    assert.equal(logged.length, 1);
    assert.doesNotMatch(logged[0] ?? '', /\n/);
    assert.match(logged[0] ?? '', /POST \/api\/album\.list: INTERNAL: disk on fire/);
  });

  test('a value that cannot become JSON is 500 INTERNAL, not a dropped connection', async (t) => {
    const { server, core } = await serve(t);
    core.answer = async () => ({ big: 1n });
    const reply = await call(server, 'album.list');
    assert.equal(reply.status, 500);
    assert.equal(JSON.parse(reply.text).error.code, 'INTERNAL');
  });

  test('an unknown path gets 404; a request line Node cannot parse gets 400; the server keeps answering', async (t) => {
    const { server } = await serve(t);
    assert.equal((await ask(server, { path: '/nothing-here' })).status, 404);
    const garbage = await rawRequest(server, 'GET /media/photo\x00/x HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(garbage, /^HTTP\/1\.1 400 /);
    assert.match(garbage, /X-Content-Type-Options: nosniff/);
    const noHost = await rawRequest(server, 'GET / HTTP/1.1\r\n\r\n');
    assert.match(noHost, /^HTTP\/1\.1 400 /);
    assert.equal((await call(server, 'album.list')).status, 200);
  });
});

/** An event stream read as it comes: `until(text)` waits for `text` to have arrived. */
function openStream(server: RunningServer, where: string, headers: Record<string, string> = {}) {
  let received = '';
  let wake = (): void => undefined;
  const req = http.get({
    host: '127.0.0.1',
    port: server.address.port,
    path: where,
    agent: false,
    headers: { Host: `127.0.0.1:${server.address.port}`, ...headers },
  });
  req.on('error', () => undefined);
  const response = new Promise<http.IncomingMessage>((resolve) => {
    req.on('response', (res) => {
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        received += text;
        wake();
      });
      resolve(res);
    });
  });
  async function until(text: string): Promise<string> {
    while (!received.includes(text)) await new Promise<void>((resolve) => (wake = resolve));
    return received;
  }
  return { req, response, until };
}

describe('the event stream', () => {
  test('without a signature or token it gets 401 and subscribes nothing', async (t) => {
    const { server, core } = await serve(t);
    for (const where of ['/events', '/events?sig=', `/events?sig=${sign(server.token, 'media:photo/12')}`]) {
      const reply = await ask(server, { path: where });
      assert.equal(reply.status, 401, where);
    }
    assert.equal((await ask(server, { path: `/events?sig=${server.token}` })).status, 401, 'the bare token');
    assert.equal(core.listeners.size, 0);
  });

  test('signed, it streams the core events as `event:` and `data:` lines, and unsubscribes on close', async (t) => {
    const { server, core } = await serve(t);
    assert.equal(server.eventsUrl, `/events?sig=${sign(server.token, 'events')}`);
    const stream = openStream(server, server.eventsUrl);
    const res = await stream.response;
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    assertSecurityHeaders(res.headers);
    await stream.until(': connected\n\n');
    assert.equal(core.listeners.size, 1);
    core.emit({ event: 'job.state', data: { jobId: 7, state: 'done', error: null } });
    const text = await stream.until('}\n\n');
    assert.ok(text.endsWith('event: job.state\ndata: {"jobId":7,"state":"done","error":null}\n\n'));
    stream.req.destroy();
    while (core.listeners.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  });

  test('a Bearer header opens it too (for a fetch-based reader)', async (t) => {
    const { server } = await serve(t);
    const stream = openStream(server, '/events', { Authorization: `Bearer ${server.token}` });
    assert.equal((await stream.response).statusCode, 200);
    stream.req.destroy();
  });

  test('sends a comment heartbeat while idle', async (t) => {
    const { server } = await serve(t, new FakeCore(), { heartbeatMs: 20 });
    const stream = openStream(server, server.eventsUrl);
    await stream.until(': heartbeat\n\n');
    stream.req.destroy();
  });

  test('closing the server ends the open streams', async (t) => {
    const { server, core } = await serve(t);
    const stream = openStream(server, server.eventsUrl);
    const res = await stream.response;
    const ended = once(res, 'end');
    await server.close();
    await ended;
    assert.equal(core.listeners.size, 0);
  });
});

describe('media', () => {
  /** A core that knows photo/12: a PNG-typed file in a temp folder. */
  function withPhoto(): { core: FakeCore; bytes: Buffer; dir: string } {
    const dir = tempDir();
    const bytes = Buffer.from('\x89PNG not really, but these exact bytes', 'latin1');
    fs.writeFileSync(path.join(dir, 'photo-12.png'), bytes);
    const core = new FakeCore();
    core.files.set('photo/12', { path: path.join(dir, 'photo-12.png'), contentType: 'image/png' });
    return { core, bytes, dir };
  }

  test('a rendered media id the core calls immutable is cached for good', async (t) => {
    const { core, dir } = withPhoto();
    core.files.set('render/ab12', {
      path: path.join(dir, 'photo-12.png'),
      contentType: 'image/png',
      immutable: true,
    });
    const { server } = await serve(t, core);
    const reply = await ask(server, { path: server.mediaUrl('render/ab12') });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['cache-control'], 'private, max-age=31536000, immutable');
  });

  test('a signed media URL gets the bytes the core points to, with their type, cached privately', async (t) => {
    const { core, bytes } = withPhoto();
    const { server } = await serve(t, core);
    const where = server.mediaUrl('photo/12');
    assert.equal(where, `/media/photo/12?sig=${sign(server.token, 'media:photo/12')}`);
    const reply = await ask(server, { path: where });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, bytes);
    assert.equal(reply.headers['content-type'], 'image/png');
    assert.equal(reply.headers['content-length'], String(bytes.length));
    // An original may be edited elsewhere under the same id: revalidated, never cached for good.
    assert.equal(reply.headers['cache-control'], 'private, no-cache');
    assertSecurityHeaders(reply.headers);
    const head = await ask(server, { method: 'HEAD', path: where });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(bytes.length));
    assert.equal(head.body.length, 0);
    assert.deepEqual(core.mediaAsked, ['photo/12', 'photo/12']);
  });

  test('unsigned, or signed for something else, or with a forged signature, it gets 401', async (t) => {
    const { core } = withPhoto();
    const { server } = await serve(t, core);
    const good = sign(server.token, 'media:photo/12');
    const forged = good.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    for (const sig of [
      '',
      '?sig=',
      `?sig=${forged}`,
      `?sig=${good.slice(1)}`,
      `?sig=${sign(server.token, 'media:photo/13')}`,
      `?sig=${sign(server.token, 'events')}`,
      `?sig=${sign('another-token-entirely', 'media:photo/12')}`,
    ]) {
      const reply = await ask(server, { path: `/media/photo/12${sig}` });
      assert.equal(reply.status, 401, sig);
      assert.equal(reply.body.includes('PNG'), false);
    }
  });

  test('ids that look like paths get 404 and never reach the core or the disk, even when signed', async (t) => {
    const { core } = withPhoto();
    const { server } = await serve(t, core);
    // A secret file, and a link to it with a harmless-looking name, outside anything the core serves.
    const elsewhere = tempDir();
    fs.writeFileSync(path.join(elsewhere, 'secret.txt'), 'SECRET');
    fs.symlinkSync(path.join(elsewhere, 'secret.txt'), path.join(elsewhere, 'photo-13.png'));
    const ids = [
      '../x',
      '..',
      '%2e%2e%2fetc%2fpasswd',
      '/etc/passwd',
      'photo/..%2f..',
      'photo/12/../../etc/passwd',
      'photo%2f12',
      'photo\\..\\..\\secret',
      'photo/%5c..',
      'photo/12%00.png',
      'photo/12.png',
      path.join(elsewhere, 'photo-13.png'),
      `photo/${'a'.repeat(129)}`,
      'Photo/12',
      'photo/',
    ];
    for (const id of ids) {
      const reply = await ask(server, { path: `/media/${id}?sig=${sign(server.token, `media:${id}`)}` });
      assert.equal(reply.status, 404, id);
      assert.equal(reply.text.includes('SECRET'), false);
    }
    assert.deepEqual(core.mediaAsked, []);
  });

  test('an id the core does not know, or whose file is gone or a folder, gets 404', async (t) => {
    const { core, dir } = withPhoto();
    core.files.set('photo/13', { path: path.join(dir, 'gone.png'), contentType: 'image/png' });
    core.files.set('photo/14', { path: dir, contentType: 'image/png' });
    const { server } = await serve(t, core);
    for (const id of ['photo/99', 'photo/13', 'photo/14']) {
      assert.equal((await ask(server, { path: server.mediaUrl(id) })).status, 404, id);
    }
    assert.deepEqual(core.mediaAsked, ['photo/99', 'photo/13', 'photo/14']);
  });

  test('a content type that is not one is sent as bytes', async (t) => {
    const { core, dir } = withPhoto();
    core.files.set('photo/15', {
      path: path.join(dir, 'photo-12.png'),
      contentType: 'text/html\r\nX-Evil: 1',
    });
    const { server } = await serve(t, core);
    const reply = await ask(server, { path: server.mediaUrl('photo/15') });
    assert.equal(reply.headers['content-type'], 'application/octet-stream');
    assert.equal(reply.headers['x-evil'], undefined);
  });

  test('mediaUrl refuses to sign an id that could not be served', async (t) => {
    const { server } = await serve(t);
    assert.throws(() => server.mediaUrl('../etc/passwd'), /not a media id/);
  });

  test('POST to media gets 405', async (t) => {
    const { core } = withPhoto();
    const { server } = await serve(t, core);
    assert.equal((await ask(server, { method: 'POST', path: server.mediaUrl('photo/12') })).status, 405);
  });
});
