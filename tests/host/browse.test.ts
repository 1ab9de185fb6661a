import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { REPO, photo, YUNET } from '../support/paths.ts';
import { startHost, type RunningHost } from '../support/host.ts';
import { fidelityBlendRestorer } from '../support/restorers.ts';
import { tempDir } from '../support/temp.ts';

/* The browser mode over HTTP: no system dialogs, its own folder browser with the --folder roots, thumbnails. */

const root = tempDir();
const drive = fs.realpathSync(tempDir());
const second = fs.realpathSync(tempDir());
let host: RunningHost;

before(async () => {
  fs.mkdirSync(path.join(drive, 'Grandma'));
  fs.copyFileSync(photo('CodeFormer/inputs/whole_imgs/03.jpg'), path.join(drive, 'Grandma', 'beach.jpg'));
  fs.writeFileSync(path.join(root, 'restorer.onnx'), fidelityBlendRestorer());
  host = await startHost([
    '--data-dir',
    path.join(root, 'data'),
    '--detector',
    YUNET,
    '--restorer',
    path.join(root, 'restorer.onnx'),
    '--folder',
    drive,
    '--folder',
    second,
  ]);
});
after(() => host.stop());

test('there are no system dialogs: app.info says so and dialog.pick gets 409 CONFLICT in words', async () => {
  assert.equal((await host.api('app.info')).nativeDialogs, false);
  const { status, body } = await host.call('dialog.pick', { kind: 'folder' });
  assert.equal(status, 409);
  assert.equal(body.error?.code, 'CONFLICT');
  assert.match(body.error?.message ?? '', /no system dialogs in the browser mode/);
});

test('each --folder is a root of folder.list, beside the home folder', async () => {
  const top = await host.api('folder.list', { path: drive });
  assert.deepEqual(top.roots.map((r) => r.path).slice(-2), [drive, second]);
  assert.equal(top.parent, null);
  const inside = await host.api('folder.list', { path: path.join(drive, 'Grandma') });
  assert.deepEqual(
    inside.files.map((f) => [f.name, f.bytes]),
    [['beach.jpg', fs.statSync(path.join(drive, 'Grandma', 'beach.jpg')).size]],
  );
  assert.equal(inside.parent, drive);
  const { status, body } = await host.call('folder.list', { path: root });
  assert.deepEqual([status, body.error?.code], [400, 'INVALID_INPUT']);
});

test("a photo's thumbUrl serves a JPEG of at most 512 px, cached for good", async () => {
  const album = await host.api('album.create', { name: 'Grandma' });
  const imported = await host.api('photo.import', {
    albumId: album.id,
    paths: [path.join(drive, 'Grandma')],
  });
  assert.equal(await host.jobEnd(imported.jobId!), 'done');
  const [p] = await host.api('photo.list', { albumId: album.id });
  const response = await fetch(new URL(p!.thumbUrl, host.url));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'image/jpeg');
  assert.match(response.headers.get('cache-control') ?? '', /immutable/);
  const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 400, 225]);
});

test('npm run host explains --folder, and refuses one that is not a folder before it starts', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src-main/host/main.ts'), ...args], {
      cwd: REPO,
      encoding: 'utf8',
    });
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /\[--folder <folder>\]\.\.\./);
  const missing = path.join(root, 'not here');
  const refused = run('--data-dir', path.join(root, 'other-data'), '--folder', missing);
  assert.equal(refused.status, 2);
  assert.equal(refused.stderr, `heirloom host: --folder ${missing}: no such folder\n`);
});
