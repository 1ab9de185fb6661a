import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { APP_SCHEME_PRIVILEGES, appProtocolHandler } from '../../src-main/electron/protocol.ts';
import { UI_CSP } from '../../src-main/core/serving.ts';
import { tempDir } from '../support/temp.ts';

/* app://heirloom/: the built UI and media by id, and never a file the request's path names outside them. */

const SECRET = 'the contents of a file outside the UI';

/** A built UI beside a secret, with a link inside the UI that points at the secret. */
function setUp(renderer = true) {
  const root = tempDir();
  const ui = path.join(root, 'renderer');
  fs.mkdirSync(path.join(ui, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>Heirloom</title>');
  fs.writeFileSync(path.join(ui, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(root, 'secret.txt'), SECRET);
  fs.symlinkSync(path.join(root, 'secret.txt'), path.join(ui, 'assets', 'link.js'));
  const preview = path.join(root, 'cache', 'preview.png');
  fs.mkdirSync(path.dirname(preview));
  fs.writeFileSync(preview, 'PNG bytes');
  const asked: string[] = [];
  const media = async (id: string) => {
    asked.push(id);
    if (id === 'preview/abc') return { path: preview, contentType: 'image/png', immutable: true };
    if (id === 'photo/7') return { path: preview, contentType: 'text/html\r\nX-Evil: 1', immutable: false };
    return undefined;
  };
  const handler = appProtocolHandler({ renderer: renderer ? ui : undefined, media });
  const get = (url: string, method = 'GET') => handler(new Request(url, { method }));
  return { get, asked };
}

describe('app:// scheme', () => {
  test('is registered standard and secure, with no CSP bypass, service workers or CORS', () => {
    assert.deepEqual(APP_SCHEME_PRIVILEGES, {
      scheme: 'app',
      privileges: { standard: true, secure: true, supportFetchAPI: true },
    });
  });
});

describe('app:// serves the built UI', () => {
  test('the page comes with the strict policy', async () => {
    const { get } = setUp();
    const response = await get('app://heirloom/');
    assert.equal(response.status, 200);
    assert.match(await response.text(), /<title>Heirloom/);
    assert.equal(response.headers.get('content-security-policy'), UI_CSP);
    assert.match(UI_CSP, /default-src 'self'/);
    assert.match(UI_CSP, /script-src 'self';/);
    assert.match(UI_CSP, /object-src 'none'/);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  });

  test('its assets, inert, with their own type; HEAD gives the headers alone', async () => {
    const { get } = setUp();
    const response = await get('app://heirloom/assets/app.js');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(await response.text(), 'console.log(1)');
    const head = await get('app://heirloom/assets/app.js', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '14');
    assert.equal(await head.text(), '');
  });

  test('no path escapes the UI folder: dot segments, encoded ones, backslashes, links', async () => {
    const { get, asked } = setUp();
    for (const url of [
      'app://heirloom/../secret.txt',
      'app://heirloom/../../../../etc/passwd',
      'app://heirloom/%2e%2e/secret.txt',
      'app://heirloom/%2E%2E/%2e%2e/etc/passwd',
      'app://heirloom/assets/..%2f..%2fsecret.txt',
      'app://heirloom/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      'app://heirloom/..%5csecret.txt',
      'app://heirloom/assets\\..\\..\\secret.txt',
      'app://heirloom/%252e%252e/secret.txt',
      'app://heirloom/assets/link.js',
      'app://heirloom//etc/passwd',
      'app://heirloom/assets/app.js%00.png',
      'app://heirloom/assets',
    ]) {
      const response = await get(url);
      const body = await response.text();
      assert.equal(response.status, 404, url);
      assert.ok(!body.includes(SECRET) && !body.includes('root:'), url);
    }
    assert.deepEqual(asked, []);
  });

  test('only app://heirloom, and only GET and HEAD', async () => {
    const { get } = setUp();
    assert.equal((await get('app://evil/')).status, 404);
    assert.equal((await get('app://heirloom.evil/')).status, 404);
    assert.equal((await get('app://heirloom:8080/')).status, 404);
    assert.equal((await get('app://heirloom/', 'POST')).status, 405);
  });

  test('without a built UI the page is not found, and media still served', async () => {
    const { get } = setUp(false);
    assert.equal((await get('app://heirloom/')).status, 404);
    assert.equal((await get('app://heirloom/media/preview/abc')).status, 200);
  });
});

describe('app:// serves media by id only', () => {
  test('a media id is served from the file the core names, with its type', async () => {
    const { get, asked } = setUp();
    const response = await get('app://heirloom/media/preview/abc');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/png');
    assert.match(response.headers.get('cache-control') ?? '', /immutable/);
    assert.equal(await response.text(), 'PNG bytes');
    assert.deepEqual(asked, ['preview/abc']);
  });

  test('a content type the core got wrong is served as bytes, never as a page', async () => {
    const { get } = setUp();
    const response = await get('app://heirloom/media/photo/7');
    assert.equal(response.headers.get('content-type'), 'application/octet-stream');
    assert.equal(response.headers.get('x-evil'), null);
  });

  test('anything that is not a media id never reaches the core', async () => {
    const { get, asked } = setUp();
    for (const url of [
      'app://heirloom/media/../secret.txt',
      'app://heirloom/media/%2e%2e/%2e%2e/secret.txt',
      'app://heirloom/media/photo%2f7',
      'app://heirloom/media/preview/abc/def',
      'app://heirloom/media/preview/..%2f..%2fsecret',
      'app://heirloom/media/photo/',
      'app://heirloom/media/',
      'app://heirloom/media/PHOTO/7',
    ]) {
      assert.equal((await get(url)).status, 404, url);
    }
    assert.deepEqual(asked, []);
  });

  test('an id the core does not know is not found', async () => {
    const { get, asked } = setUp();
    assert.equal((await get('app://heirloom/media/photo/8')).status, 404);
    assert.deepEqual(asked, ['photo/8']);
  });
});
