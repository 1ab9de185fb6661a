import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import type { Core } from '../../src-main/core/app.ts';
import { makeThumbnail } from '../../src-main/core/thumbnails.ts';
import { coreFor } from '../support/core.ts';
import { photo, YUNET } from '../support/paths.ts';
import { fidelityBlendRestorer } from '../support/restorers.ts';
import { tempDir } from '../support/temp.ts';

/* Photo.thumbUrl through the core: a media id a host serves, named by the photo's content. */

const cores: Core[] = [];
after(() => Promise.all(cores.map((c) => c.close())));

const GIRLS = photo('DeOldify/test_images/1860Girls.jpg');
const BEACH = photo('CodeFormer/inputs/whole_imgs/03.jpg');

function newCore() {
  const root = tempDir();
  const restorer = path.join(root, 'restorer.onnx');
  fs.writeFileSync(restorer, fidelityBlendRestorer());
  const core = coreFor(path.join(root, 'data'), { detector: YUNET, restorer });
  cores.push(core);
  return { core, root };
}

/** The media id in a URL the test host (`/media/<id>`) made. */
const mediaId = (url: string): string => url.replace(/^\/media\//, '');

test('a thumbnail is served once the photo is read: a small upright JPEG, cached for good under its content', async () => {
  const { core, root } = newCore();
  const photos = path.join(root, 'photos');
  fs.mkdirSync(photos);
  fs.copyFileSync(GIRLS, path.join(photos, 'girls.jpg'));
  const album = await core.dispatch('album.create', { name: 'Box' });
  await core.dispatch('photo.import', { albumId: album.id, paths: [photos] });
  const [unread] = await core.dispatch('photo.list', { albumId: album.id });
  assert.equal(unread!.sha256, '');
  assert.equal(mediaId(unread!.thumbUrl), `thumb/${unread!.id}`);
  // Read by the job that follows the import: until then, a clear NOT_FOUND (a browser shows its placeholder).
  if ((await core.dispatch('photo.get', { photoId: unread!.id })).sha256 === '') {
    await assert.rejects(core.media(mediaId(unread!.thumbUrl)), {
      code: 'NOT_FOUND',
      message: /girls\.jpg is still being imported/,
    });
  }
  await core.idle();

  const [read] = await core.dispatch('photo.list', { albumId: album.id });
  assert.equal(mediaId(read!.thumbUrl), `thumb/${read!.id}-${read!.sha256}`);
  const served = await core.media(mediaId(read!.thumbUrl));
  assert.equal(served?.contentType, 'image/jpeg');
  assert.equal(served?.immutable, true);
  assert.ok(served!.path.startsWith(path.join(root, 'data', 'cache')), served!.path);
  const meta = await sharp(served!.path).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 512, 376]);
  assert.deepEqual(fs.readFileSync(served!.path), await makeThumbnail(GIRLS));
  // The id made before the photo was read still shows it, but not for good (it names no content).
  const early = await core.media(mediaId(unread!.thumbUrl));
  assert.deepEqual([early?.path, early?.immutable], [served!.path, false]);
});

test('another content gets another URL; the old one still shows the old picture; a missing original is NOT_FOUND', async () => {
  const { core, root } = newCore();
  const file = path.join(root, 'scan.jpg');
  fs.copyFileSync(BEACH, file);
  const album = await core.dispatch('album.create', { name: 'Beach' });
  await core.dispatch('photo.import', { albumId: album.id, paths: [file] });
  await core.idle();
  const [before] = await core.dispatch('photo.list', { albumId: album.id });
  const old = await core.media(mediaId(before!.thumbUrl));
  assert.deepEqual((await sharp(old!.path).metadata()).width, 400);

  // Edited elsewhere, then found again: the thumbnail's URL changes with the content.
  fs.copyFileSync(GIRLS, file);
  const { jobId } = await core.dispatch('photo.redetect', { photoId: before!.id });
  await core.idle();
  assert.equal((await core.dispatch('job.get', { jobId })).state, 'done');
  const [after] = await core.dispatch('photo.list', { albumId: album.id });
  assert.notEqual(after!.thumbUrl, before!.thumbUrl);
  const now = await core.media(mediaId(after!.thumbUrl));
  assert.deepEqual((await sharp(now!.path).metadata()).width, 512);
  assert.equal(
    (await core.media(mediaId(before!.thumbUrl)))?.path,
    old!.path,
    'the old URL: the old picture',
  );

  // Gone before its thumbnail was made: said in words, nothing cached.
  const other = path.join(root, 'other.jpg');
  fs.copyFileSync(BEACH, other);
  fs.appendFileSync(other, Buffer.from([0]));
  await core.dispatch('photo.import', { albumId: album.id, paths: [other] });
  await core.idle();
  const gone = (await core.dispatch('photo.list', { albumId: album.id })).find((p) => p.path === other)!;
  fs.rmSync(other);
  await assert.rejects(core.media(mediaId(gone.thumbUrl)), {
    code: 'NOT_FOUND',
    message: /the original is missing: .*other\.jpg/,
  });
  // A removed photo's thumbnail is no media at all.
  await core.dispatch('photo.remove', { photoIds: [gone.id] });
  assert.equal(await core.media(mediaId(gone.thumbUrl)), undefined);
});
