import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { AppError, type ErrorCode } from '../../src-main/contract/errors.ts';
import { downloadModel, redirectTarget } from '../../src-main/core/models/download.ts';
import type { DownloadProgress } from '../../src-main/core/models/transfer-watch.ts';
import { MANIFEST_FILE, modelUrl, readManifest } from '../../src-main/core/models/manifest.ts';
import { answer, modelServer, redirect, serveFile, silence } from '../support/model-server.ts';
import { tempDir } from '../support/temp.ts';

const server = await modelServer();
after(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
});

/** A model's worth of bytes: random, so a misplaced or repeated range cannot hash right by chance. */
const BODY = randomBytes(300_000);
const HALF = 120_000;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A path no other test serves, so a test's behaviour never leaks into another's. */
let served = 0;
function route(behaviour: Parameters<typeof server.on>[1]): string {
  const at = `/models/${++served}/model.bin`;
  server.on(at, behaviour);
  return at;
}

function target(): { dest: string; partial: string; folder: string } {
  const folder = tempDir();
  const dest = path.join(folder, 'model.bin');
  return { dest, partial: `${dest}.partial`, folder };
}

/** Rejects with an AppError of `code` whose message matches every pattern. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, `an AppError, not ${String(error)}`);
    assert.equal(error.code, code, error.message);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

function escaped(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

test('a full download installs the served bytes, reports progress and the sha256, and leaves no partial', async () => {
  const { dest, folder } = target();
  const url = server.url(route(serveFile(BODY)));
  const progress: DownloadProgress[] = [];
  const result = await downloadModel({
    url,
    dest,
    bytes: BODY.length,
    sha256: sha256(BODY),
    onProgress: (p) => progress.push(p),
  });
  assert.deepEqual(result, { sha256: sha256(BODY), bytes: BODY.length, resumedFrom: 0 });
  assert.ok(fs.readFileSync(dest).equals(BODY));
  assert.deepEqual(fs.readdirSync(folder), ['model.bin']);
  assert.ok(progress.length > 0);
  assert.deepEqual(progress.at(-1), {
    ...progress.at(-1),
    received: BODY.length,
    total: BODY.length,
    etaSeconds: 0,
  });
  assert.equal(server.requests[0]?.headers.range, undefined, 'nothing to resume: no Range');
  assert.equal(server.requests[0]?.headers['accept-encoding'], 'identity');
});

test('a connection dropped half-way keeps the partial, and the next call asks only for the rest', async () => {
  const { dest, partial } = target();
  const at = route(serveFile(BODY, { dropAfter: HALF }));
  const url = server.url(at);
  const options = { url, dest, bytes: BODY.length, sha256: sha256(BODY) };
  await rejectsWith(downloadModel(options), 'IO', escaped(url), /stopped after \d+ bytes/, /resume/);
  // Node drops what the socket had buffered but we had not yet read when the connection died (a few 16 KiB
  // chunks at most), so the partial is a prefix of what was sent, not always all of it.
  const kept = fs.readFileSync(partial);
  assert.ok(kept.length > 0 && kept.length <= HALF, `${kept.length} bytes kept`);
  assert.ok(kept.equals(BODY.subarray(0, kept.length)));
  assert.equal(fs.existsSync(dest), false);

  server.on(at, serveFile(BODY));
  const result = await downloadModel(options);
  const [, second] = server.requests;
  assert.equal(second?.headers.range, `bytes=${kept.length}-`);
  assert.equal(second?.status, 206);
  assert.equal(second?.bytesSent, BODY.length - kept.length);
  assert.deepEqual(result, { sha256: sha256(BODY), bytes: BODY.length, resumedFrom: kept.length });
  assert.ok(fs.readFileSync(dest).equals(BODY));
  assert.equal(fs.existsSync(partial), false);
});

test('a server that ignores Range sends the whole file, which replaces the partial instead of extending it', async () => {
  const { dest, partial } = target();
  fs.writeFileSync(partial, Buffer.alloc(50_000, 0xaa));
  const url = server.url(route(serveFile(BODY, { ranges: false })));
  const result = await downloadModel({ url, dest, bytes: BODY.length, sha256: sha256(BODY) });
  assert.equal(server.requests[0]?.headers.range, 'bytes=50000-');
  assert.equal(server.requests[0]?.status, 200);
  assert.equal(result.resumedFrom, 0);
  assert.ok(fs.readFileSync(dest).equals(BODY));
});

test('a wrong sha256 is MODEL_CORRUPT naming both hashes; the installed model stays, the partial goes', async () => {
  const { dest, partial } = target();
  fs.writeFileSync(dest, 'a good model, installed earlier');
  const expected = sha256(Buffer.from('the model the manifest names'));
  const url = server.url(route(serveFile(BODY)));
  await rejectsWith(
    downloadModel({ url, dest, bytes: BODY.length, sha256: expected }),
    'MODEL_CORRUPT',
    escaped(url),
    escaped(`expected sha256 ${expected}, got ${sha256(BODY)}`),
  );
  assert.equal(fs.readFileSync(dest, 'utf8'), 'a good model, installed earlier');
  assert.equal(fs.existsSync(partial), false);
});

test('a server offering another size is MODEL_CORRUPT before a byte is written', async () => {
  const { dest, partial } = target();
  const url = server.url(route(serveFile(BODY)));
  await rejectsWith(
    downloadModel({ url, dest, bytes: BODY.length + 1, sha256: null }),
    'MODEL_CORRUPT',
    /expected 300001 bytes, the server offers 300000/,
  );
  assert.equal(fs.existsSync(partial), false);
});

test('a body longer than the published size is stopped as MODEL_CORRUPT', async () => {
  const { dest, partial } = target();
  const url = server.url(route(serveFile(BODY, { chunked: true, pauseMs: 1 })));
  await rejectsWith(
    downloadModel({ url, dest, bytes: HALF, sha256: null }),
    'MODEL_CORRUPT',
    /expected 120000 bytes, the server sent more/,
  );
  assert.equal(fs.existsSync(partial), false);
  assert.equal(fs.existsSync(dest), false);
});

test('a missing model is IO naming the URL and the HTTP status', async () => {
  const { dest } = target();
  const url = server.url(route(answer(404)));
  await rejectsWith(
    downloadModel({ url, dest, bytes: null, sha256: null }),
    'IO',
    escaped(`the model is not at ${url} (HTTP 404`),
  );
  const broken = server.url(route(answer(503)));
  await rejectsWith(downloadModel({ url: broken, dest, bytes: null, sha256: null }), 'IO', /HTTP 503/);
  assert.equal(fs.existsSync(dest), false);
});

test('a server that accepts and never answers times out as IO', async () => {
  const { dest } = target();
  const url = server.url(route(silence()));
  await rejectsWith(
    downloadModel({ url, dest, bytes: null, sha256: null, stallTimeoutMs: 200 }),
    'IO',
    escaped(url),
    /timed out/,
  );
});

test('a download that stalls half-way times out as IO and keeps what came', async () => {
  const { dest, partial } = target();
  const url = server.url(route(serveFile(BODY, { stallAfter: HALF })));
  await rejectsWith(
    downloadModel({ url, dest, bytes: BODY.length, sha256: null, stallTimeoutMs: 200 }),
    'IO',
    /stopped after 120000 bytes: timed out/,
  );
  assert.ok(fs.readFileSync(partial).equals(BODY.subarray(0, HALF)));
});

test('a refused connection is IO naming the URL', async () => {
  const { dest } = target();
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  const url = `http://127.0.0.1:${port}/model.bin`;
  await rejectsWith(downloadModel({ url, dest, bytes: null, sha256: null }), 'IO', escaped(url), /refused/);
});

test('a cancel keeps the bytes received so far, and a later call resumes from them', async () => {
  const { dest, partial } = target();
  const at = route(serveFile(BODY, { stallAfter: HALF }));
  const url = server.url(at);
  const controller = new AbortController();
  const options = { url, dest, bytes: BODY.length, sha256: sha256(BODY) };
  await rejectsWith(
    downloadModel({
      ...options,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.received === HALF) controller.abort();
      },
    }),
    'CANCELLED',
    /120000 bytes are kept/,
  );
  assert.ok(fs.readFileSync(partial).equals(BODY.subarray(0, HALF)));
  assert.equal(fs.existsSync(dest), false);

  server.on(at, serveFile(BODY));
  const result = await downloadModel(options);
  assert.equal(server.requests[1]?.headers.range, `bytes=${HALF}-`);
  assert.equal(result.resumedFrom, HALF);
  assert.ok(fs.readFileSync(dest).equals(BODY));
});

test('a signal aborted before the start is CANCELLED without a request', async () => {
  const { dest } = target();
  const url = server.url(route(serveFile(BODY)));
  await rejectsWith(
    downloadModel({ url, dest, bytes: null, sha256: null, signal: AbortSignal.abort() }),
    'CANCELLED',
  );
  assert.equal(server.requests.length, 0);
});

test('a redirect chain is followed, relative and absolute, and the Range goes to every hop', async () => {
  const { dest, partial } = target();
  fs.writeFileSync(partial, BODY.subarray(0, HALF));
  const file = route(serveFile(BODY));
  const second = route(redirect(server.url(file), 307));
  const first = route(redirect(second, 301));
  const result = await downloadModel({
    url: server.url(first),
    dest,
    bytes: BODY.length,
    sha256: sha256(BODY),
  });
  assert.deepEqual(
    server.requests.map((r) => [r.path, r.headers.range]),
    [first, second, file].map((p) => [p, `bytes=${HALF}-`]),
  );
  assert.equal(result.resumedFrom, HALF);
  assert.ok(fs.readFileSync(dest).equals(BODY));
});

test('more than 5 redirects is IO', async () => {
  const { dest } = target();
  let next = route(serveFile(BODY));
  for (let i = 0; i < 6; i++) next = route(redirect(next));
  await rejectsWith(
    downloadModel({ url: server.url(next), dest, bytes: null, sha256: null }),
    'IO',
    /more than 5 redirects/,
  );
  assert.equal(server.requests.length, 6);
});

test('a redirect from https to http is refused; relative and https ones are resolved', () => {
  const from = new URL('https://github.com/sczhou/CodeFormer/releases/download/v0.1.0/codeformer.pth');
  assert.throws(
    () => redirectTarget(from, 'http://cdn.example/codeformer.pth'),
    (error: unknown) =>
      error instanceof AppError && error.code === 'IO' && /https to unencrypted http/.test(error.message),
  );
  assert.throws(() => redirectTarget(from, 'file:///etc/passwd'), /file: URL/);
  assert.equal(redirectTarget(from, '/cdn/x.pth').href, 'https://github.com/cdn/x.pth');
  assert.equal(
    redirectTarget(new URL('http://a.example/m'), 'https://b.example/m').href,
    'https://b.example/m',
  );
});

test('a partial of the whole file that the server answers 416 is verified and installed, its hash returned', async () => {
  const { dest } = target();
  fs.writeFileSync(`${dest}.partial`, BODY);
  const url = server.url(route(serveFile(BODY)));
  const result = await downloadModel({ url, dest, bytes: null, sha256: null });
  assert.equal(server.requests[0]?.status, 416);
  assert.deepEqual(result, { sha256: sha256(BODY), bytes: BODY.length, resumedFrom: BODY.length });
  assert.ok(fs.readFileSync(dest).equals(BODY));
});

test('a partial already of the published size is verified without a request', async () => {
  const { dest } = target();
  fs.writeFileSync(`${dest}.partial`, BODY);
  const url = server.url(route(answer(500)));
  const result = await downloadModel({ url, dest, bytes: BODY.length, sha256: sha256(BODY) });
  assert.equal(server.requests.length, 0);
  assert.equal(result.sha256, sha256(BODY));
  assert.ok(fs.readFileSync(dest).equals(BODY));
});

test('a model without a published hash is accepted and its sha256 returned for recording', async () => {
  const { dest } = target();
  const url = server.url(route(serveFile(BODY, { chunked: true })));
  const result = await downloadModel({ url, dest, bytes: null, sha256: null });
  assert.deepEqual(result, { sha256: sha256(BODY), bytes: BODY.length, resumedFrom: 0 });
});

test('progress comes at most about 10 times a second, with a rate, a total and a time left', async () => {
  const { dest } = target();
  const url = server.url(route(serveFile(BODY, { chunkBytes: 4096, pauseMs: 4 })));
  const progress: DownloadProgress[] = [];
  const started = performance.now();
  await downloadModel({ url, dest, bytes: BODY.length, sha256: null, onProgress: (p) => progress.push(p) });
  const elapsed = performance.now() - started;
  // One report per 100 ms at most, counting the first; plus the final one at completion.
  assert.ok(progress.length <= Math.ceil(elapsed / 100) + 2, `${progress.length} reports in ${elapsed} ms`);
  assert.ok(progress.length >= 2, `${progress.length} reports`);
  for (let i = 1; i < progress.length; i++) {
    assert.ok((progress[i]?.received ?? 0) >= (progress[i - 1]?.received ?? 0));
  }
  const middle = progress.find((p) => p.received < BODY.length && p.bytesPerSecond > 0);
  assert.ok(middle, 'a report with a rate before the end');
  assert.equal(middle.total, BODY.length);
  assert.ok(middle.etaSeconds !== null && middle.etaSeconds > 0);
});

test('the manifest in the repo reads and validates', () => {
  const models = readManifest();
  assert.ok(models.length >= 2);
  const codeformer = models.find((m) => m.id === 'codeformer');
  assert.equal(codeformer?.file, 'codeformer.pth');
  assert.equal(codeformer?.bytes, 376637898);
  assert.match(codeformer?.sha256 ?? '', /^[0-9a-f]{64}$/);
  for (const model of models) assert.match(modelUrl(model), /^https:\/\//);
  assert.ok(
    models.some((m) => m.sha256 === null && m.bytes === null),
    'the checkpoints without a published hash',
  );
});

test('a malformed manifest throws naming the file and the field at fault', () => {
  const folder = tempDir();
  const [first] = JSON.parse(fs.readFileSync(MANIFEST_FILE, 'utf8')).models as object[];
  const file = path.join(folder, 'manifest.json');
  fs.writeFileSync(
    file,
    JSON.stringify({ models: [{ ...first, sha256: 'not a hash', file: '../escape.onnx' }] }),
  );
  assert.throws(
    () => readManifest(file),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, escaped(file));
      assert.match(error.message, /models\.0\.file: expected a file name/);
      assert.match(error.message, /models\.0\.sha256: expected 64/);
      return true;
    },
  );
  fs.writeFileSync(file, '{ "models": [');
  assert.throws(() => readManifest(file), /cannot read the model manifest/);
});

test('modelUrl gives <mirror>/<file> with a mirror, the source without, and refuses non-http mirrors', () => {
  const codeformer = readManifest().find((m) => m.id === 'codeformer');
  assert.ok(codeformer);
  assert.equal(modelUrl(codeformer), codeformer.source);
  assert.equal(
    modelUrl(codeformer, 'https://mirror.example/heirloom'),
    'https://mirror.example/heirloom/codeformer.pth',
  );
  assert.equal(modelUrl(codeformer, 'http://10.0.0.2:8080/m/'), 'http://10.0.0.2:8080/m/codeformer.pth');
  assert.throws(
    () => modelUrl(codeformer, 'file:///srv/models'),
    (error: unknown) => {
      return error instanceof AppError && error.code === 'INVALID_INPUT';
    },
  );
});
