import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ask, assertSecurityHeaders, FakeCore, serve } from './client.ts';
import { tempDir } from '../support/temp.ts';

const CSP =
  "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; script-src 'self'; " +
  "style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/** A built UI (index.html, assets/app.js) beside a secret, with links from inside the UI to the secret. */
function builtUi(): string {
  const root = tempDir();
  const ui = path.join(root, 'ui');
  fs.mkdirSync(path.join(ui, 'assets'), { recursive: true });
  fs.writeFileSync(
    path.join(ui, 'index.html'),
    '<!doctype html><script type="module" src="/assets/app.js"></script>',
  );
  fs.writeFileSync(path.join(ui, 'assets', 'app.js'), 'console.log("heirloom")');
  fs.writeFileSync(path.join(root, 'secret.txt'), 'SECRET');
  fs.symlinkSync(path.join(root, 'secret.txt'), path.join(ui, 'assets', 'linked.js'));
  fs.symlinkSync(root, path.join(ui, 'assets', 'up'));
  return ui;
}

describe('the built UI', () => {
  test('the page is served under a strict CSP, with or without the token in its address (a reload has none)', async (t) => {
    const { server } = await serve(t, new FakeCore(), { staticDir: builtUi() });
    for (const where of [`/?token=${server.token}`, '/', '/?token=wrong']) {
      const page = await ask(server, { path: where });
      assert.equal(page.status, 200, where);
      assert.match(page.text, /<!doctype html>/);
      assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(page.headers['content-security-policy'], CSP);
      assert.equal(page.headers['cache-control'], 'no-store');
      assertSecurityHeaders(page.headers);
    }
    // The page holds no secret; what it calls does: without the token every route is refused.
    assert.equal((await ask(server, { method: 'POST', path: '/api/album.list' })).status, 401);
  });

  test('its assets are served with their type, no token needed (a <script src> cannot send one)', async (t) => {
    const { server } = await serve(t, new FakeCore(), { staticDir: builtUi() });
    const script = await ask(server, { path: '/assets/app.js' });
    assert.equal(script.status, 200);
    assert.equal(script.text, 'console.log("heirloom")');
    assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
    assertSecurityHeaders(script.headers);
  });

  test('nothing outside the built UI is reachable: traversal, encodings, links out', async (t) => {
    const { server } = await serve(t, new FakeCore(), { staticDir: builtUi() });
    for (const where of [
      '/assets/../../secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/..\\..\\secret.txt',
      '/assets/linked.js',
      '/assets/up/secret.txt',
      '/assets/',
      '/assets/app.js%00',
      '/secret.txt',
      '/index.html',
    ]) {
      const reply = await ask(server, { path: where });
      assert.equal(reply.status, 404, where);
      assert.doesNotMatch(reply.text, /SECRET/);
    }
  });

  test('a foreign Host gets 403 here too', async (t) => {
    const { server } = await serve(t, new FakeCore(), { staticDir: builtUi() });
    const reply = await ask(server, {
      path: '/assets/app.js',
      headers: { Host: `evil.example:${server.address.port}` },
    });
    assert.equal(reply.status, 403);
  });

  test('without a built UI there is no page', async (t) => {
    const { server } = await serve(t);
    assert.equal((await ask(server, { path: `/?token=${server.token}` })).status, 404);
    assert.equal((await ask(server, { path: '/assets/app.js' })).status, 404);
  });
});
