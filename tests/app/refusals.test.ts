import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Core } from '../../src-main/core/app.ts';
import { AppError } from '../../src-main/contract/errors.ts';
import { coreFor } from '../support/core.ts';
import { startHost } from '../support/host.ts';
import { photo, YUNET } from '../support/paths.ts';
import { fidelityBlendRestorer } from '../support/restorers.ts';
import { tempDir } from '../support/temp.ts';

/* Bad input loses nothing: each wrong input gets its code and words, and the library stays as it was. */

const cores: Core[] = [];
after(() => Promise.all(cores.map((c) => c.close())));

async function albumWith(files: Record<string, string>, restorer?: string) {
  const root = tempDir();
  const photos = path.join(root, 'photos');
  fs.mkdirSync(photos);
  for (const [name, from] of Object.entries(files)) fs.copyFileSync(from, path.join(photos, name));
  if (!restorer) {
    restorer = path.join(root, 'restorer.onnx');
    fs.writeFileSync(restorer, fidelityBlendRestorer());
  }
  const core = coreFor(path.join(root, 'data'), { detector: YUNET, restorer });
  cores.push(core);
  const album = await core.dispatch('album.create', { name: 'Test' });
  await core.dispatch('photo.import', { albumId: album.id, paths: [photos] });
  await core.idle();
  const list = await core.dispatch('photo.list', { albumId: album.id });
  return { core, album, photos, root, list };
}

async function refusal(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError, String(error));
  return error;
}

const GIRL = photo('DeOldify/test_images/1870Girl.jpg');
const FACE = photo('CodeFormer/inputs/cropped_faces/0143.png');

test('invalid input names the field; unknown ids are NOT_FOUND', async () => {
  const { core } = await albumWith({});
  const bad = await refusal(core.dispatch('album.create', { name: 5 }));
  assert.equal(bad.code, 'INVALID_INPUT');
  assert.match(bad.message, /name/);
  const range = await refusal(core.dispatch('face.update', { faceId: 1, fidelity: 1.5 }));
  assert.equal(range.code, 'INVALID_INPUT');
  assert.match(range.message, /fidelity/);
  for (const [route, input] of [
    ['photo.list', { albumId: 999 }],
    ['face.update', { faceId: 999, enabled: false }],
    ['face.preview', { faceId: 999 }],
    ['job.get', { jobId: 999 }],
    ['album.rename', { albumId: 999, name: 'x' }],
  ] as const) {
    assert.equal((await refusal(core.dispatch(route, input))).code, 'NOT_FOUND', route);
  }
});

test('a deleted original is flagged missing, and relinked when the same photo is imported from its new place', async () => {
  const { core, album, photos, root, list } = await albumWith({ 'girl.jpg': GIRL });
  const [girl] = list;
  const faces = await core.dispatch('face.list', { photoId: girl!.id });
  assert.ok(faces.length > 0);
  const moved = path.join(root, 'moved');
  fs.mkdirSync(moved);
  fs.renameSync(path.join(photos, 'girl.jpg'), path.join(moved, 'girl-1870.jpg'));

  const [checked] = await core.dispatch('photo.check', { albumId: album.id });
  assert.equal(checked!.state, 'missing');
  const preview = await refusal(core.dispatch('face.preview', { faceId: faces[0]!.id }));
  assert.equal(preview.code, 'NOT_FOUND');
  assert.match(preview.message, /missing/);

  // Imported again from its new place: the import job reads it, knows it by its content, and relinks it.
  await core.dispatch('photo.import', { albumId: album.id, paths: [moved] });
  await core.idle();
  const all = await core.dispatch('photo.list', { albumId: album.id });
  assert.equal(all.length, 1, 'the same photo, not a second one');
  const [relinked] = all;
  assert.equal(relinked!.id, girl!.id);
  assert.equal(relinked!.state, 'ok');
  assert.equal(relinked!.path, path.join(moved, 'girl-1870.jpg'));
  assert.deepEqual(await core.dispatch('face.list', { photoId: girl!.id }), faces, 'its faces and w stay');
});

test('an original edited elsewhere is flagged changed, and finding its faces again takes the new pixels', async () => {
  const { core, album, photos, list } = await albumWith({ 'edited.png': FACE });
  const [before] = list;
  const [face] = await core.dispatch('face.list', { photoId: before!.id });
  fs.copyFileSync(GIRL, path.join(photos, 'edited.png'));
  const [checked] = await core.dispatch('photo.check', { albumId: album.id });
  assert.equal(checked!.state, 'changed');
  const refused = await refusal(core.dispatch('face.preview', { faceId: face!.id }));
  assert.equal(refused.code, 'CONFLICT');
  await core.dispatch('photo.redetect', { photoId: before!.id });
  await core.idle();
  const after = await core.dispatch('photo.get', { photoId: before!.id });
  assert.equal(after.state, 'ok');
  assert.notEqual(after.sha256, before!.sha256);
  assert.deepEqual([after.width, after.height], [640, 875]);
});

test('a truncated model is MODEL_CORRUPT with what to do; a missing one MODEL_MISSING', async () => {
  const root = tempDir();
  const truncated = path.join(root, 'truncated.onnx');
  fs.writeFileSync(truncated, fidelityBlendRestorer().subarray(0, 300));
  const { core, list } = await albumWith({ 'face.png': FACE }, truncated);
  const [face] = await core.dispatch('face.list', { photoId: list[0]!.id });
  const corrupt = await refusal(core.dispatch('face.preview', { faceId: face!.id }));
  assert.equal(corrupt.code, 'MODEL_CORRUPT');
  assert.match(corrupt.message, /reinstall or re-import/);

  const missing = await albumWith({ 'face.png': FACE }, path.join(root, 'nothing-here'));
  const [other] = await missing.core.dispatch('face.list', { photoId: missing.list[0]!.id });
  const refused = await refusal(missing.core.dispatch('face.preview', { faceId: other!.id }));
  assert.equal(refused.code, 'MODEL_MISSING');
});

test('an export into a folder that cannot be written fails the job in words; one into the originals is refused', async () => {
  const { core, album, photos, root } = await albumWith({ 'face.png': FACE });
  const file = path.join(root, 'a-file');
  fs.writeFileSync(file, '');
  const job = await core.dispatch('export.start', { albumId: album.id, folder: path.join(file, 'exports') });
  await core.idle();
  const failed = await core.dispatch('job.get', { jobId: job.id });
  assert.equal(failed.state, 'failed');
  assert.match(
    failed.error!,
    /cannot write to .*a-file\/exports \(part of that path is a file\): choose another folder/,
  );
  // A folder under /proc: Node's own recursive mkdir never returns there.
  const proc = await core.dispatch('export.start', { albumId: album.id, folder: '/proc/heirloom-exports' });
  await core.idle();
  assert.match((await core.dispatch('job.get', { jobId: proc.id })).error!, /a folder cannot be made there/);

  const into = await refusal(core.dispatch('export.start', { albumId: album.id, folder: photos }));
  assert.equal(into.code, 'INVALID_INPUT');
  assert.match(into.message, /holds originals/);
  assert.deepEqual(fs.readdirSync(photos), ['face.png']);
});

test('a corrupt library stops the host at start with a clear error, and the file is left as it was', async () => {
  const dataDir = tempDir();
  const file = path.join(dataDir, 'library.db');
  const junk = Buffer.from('SQLite format 3\0'.padEnd(4096, 'x'));
  fs.writeFileSync(file, junk);
  await assert.rejects(
    startHost(['--data-dir', dataDir, '--detector', YUNET, '--restorer', YUNET]),
    /library\.db is not a readable Heirloom library .*left as it is/,
  );
  assert.deepEqual(fs.readFileSync(file), junk);
});

test('a photo that cannot be decoded keeps its state and reason when the originals are checked again', async () => {
  const root = tempDir();
  const broken = path.join(root, 'broken.jpg');
  fs.writeFileSync(broken, Buffer.concat([fs.readFileSync(GIRL).subarray(0, 2000)]));
  const { core, album, list } = await albumWith({ 'broken.jpg': broken });
  assert.equal(list[0]!.state, 'unreadable');
  const reason = list[0]!.error;
  assert.ok(reason);
  const [checked] = await core.dispatch('photo.check', { albumId: album.id });
  assert.equal(checked!.state, 'unreadable');
  assert.equal(checked!.error, reason);
});
