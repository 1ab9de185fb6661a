import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Core } from '../../src-main/core/app.ts';
import { convertRetinaFace } from '../../src-main/core/nn/retinaface/index.ts';
import { coreFor } from '../support/core.ts';
import { writeSeededDetectorPth } from '../support/retinaface.ts';
import { IDENTITY_RESTORER, photo, YUNET } from '../support/paths.ts';
import { tempDir } from '../support/temp.ts';

let core: Core | undefined;
after(() => core?.close());

test("an album's face finder: YuNet by default, RetinaFace when chosen (said plainly when not installed), faces found again on asking", async () => {
  const root = tempDir();
  const photos = path.join(root, 'photos');
  fs.mkdirSync(photos);
  fs.copyFileSync(photo('CodeFormer/inputs/whole_imgs/01.jpg'), path.join(photos, 'four.jpg'));
  core = coreFor(path.join(root, 'data'), {
    detector: YUNET,
    restorer: IDENTITY_RESTORER,
    retinaface: path.join(root, 'data/models/retinaface-r50'),
  });
  const album = await core.dispatch('album.create', { name: 'Finder' });
  assert.equal(album.defaults.detector, 'yunet');
  await core.dispatch('photo.import', { albumId: album.id, paths: [photos] });
  await core.idle();
  const [p] = await core.dispatch('photo.list', { albumId: album.id });
  const faces = await core.dispatch('face.list', { photoId: p!.id });
  assert.equal(faces.length, 4);

  // A face the user drew stays when the faces are found again; found ones come back at the album's w.
  await core.dispatch('face.update', { faceId: faces[0]!.id, fidelity: 0.9 });
  const drawn = await core.dispatch('face.add', { photoId: p!.id, box: [0, 0, 40, 40] });
  await core.dispatch('photo.review', { photoId: p!.id });
  const again = await core.dispatch('album.redetect', { albumId: album.id });
  assert.ok(again.jobId !== null);
  await core.idle();
  const after = await core.dispatch('face.list', { photoId: p!.id });
  assert.equal(after.length, 5);
  assert.ok(after.some((f) => f.id === drawn.id && f.origin === 'drawn'));
  assert.deepEqual(
    after.filter((f) => f.origin === 'detected').map((f) => f.fidelity),
    [0.5, 0.5, 0.5, 0.5],
  );
  assert.equal((await core.dispatch('photo.get', { photoId: p!.id })).needsReview, true);

  // RetinaFace chosen but not installed: the photo says why, in words, and keeps its faces.
  const updated = await core.dispatch('album.update', {
    albumId: album.id,
    defaults: { detector: 'retinaface' },
  });
  assert.equal(updated.defaults.detector, 'retinaface');
  await core.dispatch('album.redetect', { albumId: album.id });
  await core.idle();
  const failed = await core.dispatch('photo.get', { photoId: p!.id });
  assert.equal(failed.detection, 'failed');
  assert.match(failed.error ?? '', /RetinaFace is not installed/);
  assert.equal((await core.dispatch('face.list', { photoId: p!.id })).length, 5);

  // Installed, RetinaFace is what looks: on seeded random weights it finds none of the four faces YuNet found.
  convertRetinaFace(
    writeSeededDetectorPth(path.join(root, 'detection_Resnet50_Final.pth')),
    path.join(root, 'data/models/retinaface-r50'),
  );
  await core.dispatch('album.redetect', { albumId: album.id });
  await core.idle();
  const found = await core.dispatch('photo.get', { photoId: p!.id });
  assert.deepEqual([found.detection, found.error], ['done', null]);
  assert.deepEqual(
    (await core.dispatch('face.list', { photoId: p!.id })).map((f) => f.origin),
    ['drawn'],
  );
});
