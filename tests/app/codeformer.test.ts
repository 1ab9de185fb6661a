import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import type { Core } from '../../src-main/core/app.ts';
import { convertCheckpoint } from '../../src-main/core/models/convert.ts';
import { makeThumbnail } from '../../src-main/core/thumbnails.ts';
import { coreFor } from '../support/core.ts';
import { photo, YUNET } from '../support/paths.ts';
import { writePth } from '../support/pth-writer.ts';
import { seededStateDict, TINY_PRESETS } from '../support/seeded-weights.ts';
import { tempDir } from '../support/temp.ts';
// The checkpoint is checked against the tiny presets when it is converted here; the engine process reads the
// converted folder, whose sidecar carries its own configuration.
import '../support/use-tiny-presets.ts';

let core: Core | undefined;
after(() => core?.close());

test('a converted CodeFormer runs in the engine process: per-face w, previews, and the model named in the history', async () => {
  const root = tempDir();
  const checkpoint = path.join(root, 'codeformer.pth');
  writePth(checkpoint, seededStateDict(TINY_PRESETS.restoration, 1), 1500);
  const converted = path.join(root, 'codeformer');
  convertCheckpoint(checkpoint, converted);
  const photos = path.join(root, 'photos');
  fs.mkdirSync(photos);
  fs.copyFileSync(photo('CodeFormer/inputs/whole_imgs/06.png'), path.join(photos, 'two.png'));

  core = coreFor(path.join(root, 'data'), { detector: YUNET, restorer: converted });
  const album = await core.dispatch('album.create', { name: 'CodeFormer' });
  await core.dispatch('photo.import', { albumId: album.id, paths: [photos] });
  await core.idle();
  const [p] = await core.dispatch('photo.list', { albumId: album.id });
  const faces = await core.dispatch('face.list', { photoId: p!.id });
  assert.equal(faces.length, 2);

  // w = 0 takes the graph without CFT, w > 0 the one with it: two different faces.
  // (One after the other: two at once for the same face would coalesce, the first one superseded.)
  const zero = await core.dispatch('face.preview', { faceId: faces[0]!.id, fidelity: 0 });
  const one = await core.dispatch('face.preview', { faceId: faces[0]!.id, fidelity: 1 });
  const pixels = async (url: string) =>
    sharp(path.join(root, 'data/cache', url.replace('/media/', '') + '.png'))
      .raw()
      .toBuffer();
  assert.notDeepEqual(await pixels(zero.url), await pixels(one.url));

  // Found by the detector, the faces need review until the photo is opened.
  assert.equal(p!.needsReview, true);
  assert.equal((await core.dispatch('photo.review', { photoId: p!.id })).needsReview, false);

  // Rendered, the photo is restored and its thumbnail pictures the render, not the original.
  assert.equal(p!.restored, false);
  const render = await core.dispatch('photo.render', { photoId: p!.id });
  const restored = await core.dispatch('photo.get', { photoId: p!.id });
  assert.equal(restored.restored, true);
  assert.notEqual(restored.thumbUrl, p!.thumbUrl);
  // The thumbnail is made from the render, not from the original: pixel for pixel what makeThumbnail gives.
  const pixelsOf = (jpeg: Buffer) => sharp(jpeg).raw().toBuffer();
  const served = await core.media(restored.thumbUrl.replace('/media/', ''));
  const renderFile = path.join(root, 'data/cache', render.url.replace('/media/', '') + '.jpg');
  const shown = await pixelsOf(fs.readFileSync(served!.path));
  assert.deepEqual(shown, await pixelsOf(await makeThumbnail(renderFile)));
  assert.notDeepEqual(shown, await pixelsOf(await makeThumbnail(path.join(photos, 'two.png'))));

  // A face changed: the render no longer pictures the photo's faces.
  await core.dispatch('face.update', { faceId: faces[1]!.id, fidelity: 0.8 });
  const changed = await core.dispatch('photo.get', { photoId: p!.id });
  assert.deepEqual([changed.restored, changed.thumbUrl], [false, p!.thumbUrl]);
  const job = await core.dispatch('export.start', { albumId: album.id, folder: path.join(root, 'out') });
  await core.idle();
  assert.equal((await core.dispatch('job.get', { jobId: job.id })).state, 'done');
  const [record] = await core.dispatch('export.history', { photoId: p!.id });
  const sha256 = createHash('sha256').update(fs.readFileSync(checkpoint)).digest('hex');
  assert.deepEqual(record!.model, { name: 'CodeFormer (codeformer.pth)', sha256 });
  assert.deepEqual(
    record!.faces.map((f) => f.fidelity),
    [0.5, 0.8],
  );
  const info = await core.dispatch('app.info', {});
  assert.equal(info.engine.provider, 'cpu');
  assert.equal(info.engine.model?.sha256, sha256);
});
