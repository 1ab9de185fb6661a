import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runMain, tempDir } from '../support/cli.ts';
import { photo, YUNET } from '../support/paths.ts';
import { writePth } from '../support/pth-writer.ts';
import { seededStateDict, TINY_PRESETS } from '../support/seeded-weights.ts';
// Checkpoints are checked against the tiny presets in this process, where the CLI runs.
import '../support/use-tiny-presets.ts';

/*
 * From an empty data folder to a restored photo with `heirloom models`, against a local mirror (never the
 * internet): a manifest like the app's, naming a seeded tiny CodeFormer checkpoint and the real YuNet.
 */

const work = tempDir();
const served = path.join(work, 'mirror');
const dataDir = path.join(work, 'data');
let server: http.Server;
let env: NodeJS.ProcessEnv;

const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

before(async () => {
  fs.mkdirSync(served);
  fs.copyFileSync(YUNET, path.join(served, 'face_detection_yunet_2026may.onnx'));
  writePth(path.join(served, 'codeformer.pth'), seededStateDict(TINY_PRESETS.restoration, 1), 1500);
  const entry = (id: string, file: string, license: string) => ({
    id,
    task: id === 'codeformer' ? 'face-restoration' : 'face-detection',
    file,
    source: `https://example.invalid/${file}`,
    bytes: fs.statSync(path.join(served, file)).size,
    sha256: sha256(path.join(served, file)),
    license,
    contract: 'test',
  });
  const manifest = path.join(work, 'manifest.json');
  fs.writeFileSync(
    manifest,
    JSON.stringify({
      models: [
        entry('yunet-2026may', 'face_detection_yunet_2026may.onnx', 'MIT'),
        entry('codeformer', 'codeformer.pth', 'S-Lab License 1.0 (non-commercial use only)'),
      ],
    }),
  );
  server = http.createServer((req, res) => {
    const file = path.join(served, path.basename(decodeURIComponent(req.url ?? '')));
    if (!fs.existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  env = {
    HEIRLOOM_DATA: dataDir,
    HEIRLOOM_MODEL_MANIFEST: manifest,
    HEIRLOOM_MODEL_MIRROR: `http://127.0.0.1:${port}/models`,
  };
});
after(() => server.close());

describe('heirloom models, then restore with no model flags', () => {
  test('a fresh data folder has no models, and restore says exactly what to run', async () => {
    const list = await runMain(['models', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^yunet-2026may\s+missing/m);
    assert.match(list.stdout, /^codeformer\s+missing/m);
    const restore = await runMain(
      ['restore', photo('CodeFormer/inputs/whole_imgs/04.jpg'), '--out', tempDir()],
      env,
    );
    assert.equal(restore.code, 2);
    assert.match(restore.stderr, /run 'heirloom models download codeformer --accept-license'/);
  });

  test('CodeFormer is not installed until its non-commercial licence is accepted', async () => {
    const run = await runMain(['models', 'download', 'codeformer'], env);
    assert.equal(run.code, 2);
    assert.match(run.stdout, /non-commercial use only/);
    assert.match(run.stderr, /non-commercial purposes only\. Accept the licence/);
    assert.equal(fs.existsSync(path.join(dataDir, 'models', 'codeformer')), false);
  });

  test('both models download from the mirror, CodeFormer is converted, and restore needs no flags', async () => {
    assert.equal((await runMain(['models', 'download', 'yunet-2026may'], env)).code, 0);
    const cf = await runMain(['models', 'download', 'codeformer', '--accept-license'], env);
    assert.equal(cf.code, 0, cf.stderr);
    assert.match(cf.stdout, /^codeformer\s+ready/m);
    const accepted = JSON.parse(
      fs.readFileSync(path.join(dataDir, 'models', 'licences-accepted.json'), 'utf8'),
    );
    assert.equal(accepted.codeformer.license, 'S-Lab License 1.0 (non-commercial use only)');
    assert.ok(Date.now() - Date.parse(accepted.codeformer.acceptedAt) < 60_000);
    assert.equal(accepted['yunet-2026may'], undefined, 'MIT needs no acceptance');
    assert.ok(fs.existsSync(path.join(dataDir, 'models', 'codeformer', 'codeformer.json')));
    assert.equal(
      fs.existsSync(path.join(dataDir, 'models', 'codeformer.pth')),
      false,
      'the download is converted, not kept twice',
    );

    const out = tempDir();
    const restore = await runMain(
      ['restore', photo('CodeFormer/inputs/whole_imgs/04.jpg'), '--out', out, '--json'],
      env,
    );
    assert.equal(restore.code, 0, restore.stderr);
    const line = JSON.parse(restore.stdout) as { faces: unknown[]; output: string };
    assert.equal(line.faces.length, 1);
    assert.ok(fs.existsSync(line.output));
    assert.equal((await runMain(['models', 'verify'], env)).code, 0);
  });

  test('a damaged detector is found by verify; an imported checkpoint with another hash is unverified, the file kept', async () => {
    const detector = path.join(dataDir, 'models', 'face_detection_yunet_2026may.onnx');
    const bytes = fs.readFileSync(detector);
    bytes[1000] = bytes[1000]! ^ 0xff;
    fs.writeFileSync(detector, bytes);
    const verify = await runMain(['models', 'verify', 'yunet-2026may'], env);
    assert.equal(verify.code, 1);
    assert.match(verify.stdout, /corrupt\s.*sha256 [0-9a-f]{64}, not the published/);

    const other = path.join(work, 'my-codeformer.pth');
    writePth(other, seededStateDict(TINY_PRESETS.restoration, 2), 1500);
    const imported = await runMain(['models', 'import', 'codeformer', other, '--accept-license'], env);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^codeformer\s+unverified\s.*not the published one/m);
    assert.ok(fs.existsSync(other), "the user's file is never removed");

    const notAModel = await runMain(
      ['models', 'import', 'codeformer', photo('CodeFormer/inputs/whole_imgs/04.jpg'), '--accept-license'],
      env,
    );
    assert.equal(notAModel.code, 1);
    assert.match(notAModel.stdout + notAModel.stderr, /codeformer/);
    assert.match(
      (await runMain(['models', 'list'], env)).stdout,
      /^codeformer\s+unverified/m,
      'the installed one is kept',
    );
  });
});
