import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../src-main/contract/errors.ts';
import { createAlbum } from '../../src-main/core/library/albums.ts';
import { addExport } from '../../src-main/core/library/exports.ts';
import { listFaces, replaceDetectedFaces, updateFace } from '../../src-main/core/library/faces.ts';
import {
  addPhotos,
  facesRevision,
  findPhotosBySha256,
  getPhoto,
  listPhotos,
  markReviewed,
  relinkPhoto,
  removePhotos,
  setPhotoDetection,
  setPhotoState,
  setRestored,
} from '../../src-main/core/library/photos.ts';
import { count, detected, newLibrary, photoFile, photoUrl } from './helpers.ts';

const isCode = (code: string) => (error: unknown) => error instanceof AppError && error.code === code;

describe('photos', () => {
  test('are added by reference in one go; a path already in the album is reported, not added twice', (t) => {
    const lib = newLibrary(t);
    const album = createAlbum(lib, 'Grandma');
    const first = addPhotos(lib, album.id, [photoFile('/scans/b.jpg'), photoFile('/scans/a.jpg')]);
    assert.equal(first.added.length, 2);
    assert.deepEqual(first.alreadyThere, []);
    const second = addPhotos(lib, album.id, [photoFile('/scans/a.jpg'), photoFile('/scans/c.jpg')]);
    assert.equal(second.added.length, 1);
    assert.deepEqual(second.alreadyThere, ['/scans/a.jpg']);
    // The same file may be in two albums.
    assert.equal(addPhotos(lib, createAlbum(lib, 'Other').id, [photoFile('/scans/a.jpg')]).added.length, 1);
    assert.throws(() => addPhotos(lib, 999, [photoFile('/x.jpg')]), isCode('NOT_FOUND'));
  });

  test('are listed by path, as the contract says, with their face counts and latest export', (t) => {
    const lib = newLibrary(t);
    const album = createAlbum(lib, 'Grandma');
    const { added } = addPhotos(lib, album.id, [photoFile('/scans/b.jpg'), photoFile('/scans/a.jpg')]);
    const [b, a] = added as [number, number];
    const faces = replaceDetectedFaces(lib, b, [detected([0, 0, 10, 10]), detected([20, 0, 10, 10])]);
    updateFace(lib, faces[0]!.id, { enabled: false });
    const model = { name: 'codeformer', sha256: 'cc' };
    addExport(lib, { jobId: null, photoId: b, output: '/out/1.jpg', model, faces: [] });
    const latest = addExport(lib, { jobId: null, photoId: b, output: '/out/2.jpg', model, faces: [] });

    const photos = listPhotos(lib, album.id, photoUrl);
    assert.deepEqual(
      photos.map((p) => p.id),
      [a, b],
    );
    assert.deepEqual(photos[1], {
      id: b,
      albumId: album.id,
      path: '/scans/b.jpg',
      name: 'b.jpg',
      sha256: photoFile('/scans/b.jpg').sha256,
      bytes: 1000,
      mtimeMs: 1_700_000_000_000,
      width: 0,
      height: 0,
      state: 'ok',
      detection: 'pending',
      error: null,
      faceCount: 2,
      enabledFaceCount: 1,
      exportedAt: latest.createdAt,
      needsReview: false,
      restored: false,
      url: `/media/photos/${b}`,
      // Named by its content, for the host to serve.
      thumbUrl: `/media/thumb/${b}-${photoFile('/scans/b.jpg').sha256}`,
    });
    assert.deepEqual(getPhoto(lib, b, photoUrl), photos[1]);
    assert.equal(photos[0]?.exportedAt, null);
  });

  test('are listed by state', (t) => {
    const lib = newLibrary(t);
    const album = createAlbum(lib, 'Grandma');
    const { added } = addPhotos(lib, album.id, [
      photoFile('/a.jpg'),
      photoFile('/b.jpg'),
      photoFile('/c.jpg'),
    ]);
    setPhotoState(lib, added[1]!, 'missing');
    setPhotoState(lib, added[2]!, 'unreadable', 'not a JPEG file: starts with 0x00');
    assert.deepEqual(
      listPhotos(lib, album.id, photoUrl, 'missing').map((p) => p.path),
      ['/b.jpg'],
    );
    const [unreadable] = listPhotos(lib, album.id, photoUrl, 'unreadable');
    assert.equal(unreadable?.error, 'not a JPEG file: starts with 0x00');
    setPhotoState(lib, added[2]!, 'ok');
    assert.equal(getPhoto(lib, added[2]!, photoUrl).error, null, 'a readable photo has no error');
  });

  test('a moved original is found again by its content and relinked, keeping its faces', (t) => {
    const lib = newLibrary(t);
    const album = createAlbum(lib, 'Grandma');
    const { added } = addPhotos(lib, album.id, [
      photoFile('/old/a.jpg', 'content-a'),
      photoFile('/old/b.jpg'),
    ]);
    const photoId = added[0]!;
    replaceDetectedFaces(lib, photoId, [detected([0, 0, 10, 10])]);
    setPhotoState(lib, photoId, 'missing');

    const moved = photoFile('/new/place/a.jpg', 'content-a');
    const [found] = findPhotosBySha256(lib, album.id, moved.sha256, photoUrl);
    assert.equal(found?.id, photoId);
    assert.equal(found?.state, 'missing');
    assert.deepEqual(findPhotosBySha256(lib, createAlbum(lib, 'Other').id, moved.sha256, photoUrl), []);

    relinkPhoto(lib, photoId, moved);
    const relinked = getPhoto(lib, photoId, photoUrl);
    assert.deepEqual([relinked.path, relinked.name, relinked.state], ['/new/place/a.jpg', 'a.jpg', 'ok']);
    assert.equal(listFaces(lib, photoId).length, 1);
    assert.throws(() => relinkPhoto(lib, photoId, photoFile('/old/b.jpg', 'content-a')), isCode('CONFLICT'));
  });

  test('need review once their faces are found, until opened; found again, they need it again', (t) => {
    const lib = newLibrary(t);
    const album = createAlbum(lib, 'Grandma');
    const [a, b] = addPhotos(lib, album.id, [photoFile('/a.jpg'), photoFile('/b.jpg')]).added as [
      number,
      number,
    ];
    const needs = () => listPhotos(lib, album.id, photoUrl).map((p) => p.needsReview);
    assert.deepEqual(needs(), [false, false], 'not before detection');
    replaceDetectedFaces(lib, a, [detected([0, 0, 10, 10])]);
    replaceDetectedFaces(lib, b, []);
    setPhotoDetection(lib, a, { state: 'done' });
    setPhotoDetection(lib, b, { state: 'done' });
    assert.deepEqual(needs(), [true, false], 'a photo without faces has nothing to review');
    markReviewed(lib, a);
    assert.deepEqual(needs(), [false, false]);
    replaceDetectedFaces(lib, a, [detected([0, 0, 10, 10]), detected([50, 0, 10, 10])]);
    assert.deepEqual(needs(), [true, false]);
    assert.throws(() => markReviewed(lib, 999), isCode('NOT_FOUND'));
  });

  test('are restored while a render of their current faces is in the cache; the thumbnail pictures it', (t) => {
    const lib = newLibrary(t);
    const album = createAlbum(lib, 'Grandma');
    const [a] = addPhotos(lib, album.id, [photoFile('/a.jpg')]).added as [number];
    const [face] = replaceDetectedFaces(lib, a, [detected([0, 0, 10, 10])]);
    const urls = (id: number, sha: string, render?: string | null) => ({
      ...photoUrl(id, sha),
      thumbUrl: `/media/thumb/${id}${render ? `-${render}` : ''}`,
    });
    const state = () => {
      const p = getPhoto(lib, a, urls);
      return [p.restored, p.thumbUrl];
    };
    assert.deepEqual(state(), [false, `/media/thumb/${a}`]);
    setRestored(lib, a, facesRevision(lib, a), 'render1');
    assert.deepEqual(state(), [true, `/media/thumb/${a}-render1`]);

    // A render begun before a change is not the restored photo of the faces as they are now.
    const revision = facesRevision(lib, a);
    updateFace(lib, face!.id, { fidelity: 0.8 });
    assert.deepEqual(state(), [false, `/media/thumb/${a}`]);
    setRestored(lib, a, revision, 'render2');
    assert.deepEqual(state(), [false, `/media/thumb/${a}`]);
    setRestored(lib, a, facesRevision(lib, a), 'render3');
    assert.deepEqual(state(), [true, `/media/thumb/${a}-render3`]);

    // With every face switched off there is nothing restored to show.
    updateFace(lib, face!.id, { enabled: false });
    setRestored(lib, a, facesRevision(lib, a), 'render4');
    assert.deepEqual(state(), [false, `/media/thumb/${a}`]);
  });

  test('detection records the upright size, and why it failed', (t) => {
    const lib = newLibrary(t);
    const { added } = addPhotos(lib, createAlbum(lib, 'Grandma').id, [photoFile('/a.jpg')]);
    const id = added[0]!;
    setPhotoDetection(lib, id, { state: 'done', width: 3000, height: 2000 });
    assert.deepEqual(pick(getPhoto(lib, id, photoUrl)), ['done', 3000, 2000, null]);
    setPhotoDetection(lib, id, { state: 'failed', error: 'the engine stopped' });
    assert.deepEqual(pick(getPhoto(lib, id, photoUrl)), ['failed', 3000, 2000, 'the engine stopped']);
    assert.throws(() => setPhotoDetection(lib, 999, { state: 'done' }), isCode('NOT_FOUND'));
  });

  test('removing photos forgets them and their faces, keeps the export history, touches no file', (t) => {
    const lib = newLibrary(t);
    const album = createAlbum(lib, 'Grandma');
    const { added } = addPhotos(lib, album.id, [photoFile('/a.jpg'), photoFile('/b.jpg')]);
    replaceDetectedFaces(lib, added[0]!, [detected([0, 0, 10, 10])]);
    const model = { name: 'codeformer', sha256: 'cc' };
    addExport(lib, { jobId: null, photoId: added[0]!, output: '/out/a.jpg', model, faces: [] });
    assert.equal(removePhotos(lib, [added[0]!, 999]), 1);
    assert.deepEqual(
      listPhotos(lib, album.id, photoUrl).map((p) => p.path),
      ['/b.jpg'],
    );
    assert.equal(count(lib, 'faces'), 0);
    const history = lib.db.prepare('SELECT photo_id, output FROM exports').all();
    assert.deepEqual(history, [{ photo_id: null, output: '/out/a.jpg' }]);
  });
});

function pick(photo: { detection: string; width: number; height: number; error: string | null }) {
  return [photo.detection, photo.width, photo.height, photo.error];
}
