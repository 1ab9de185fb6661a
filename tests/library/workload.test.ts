import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { createAlbum, deleteAlbum, getAlbum, listAlbums } from '../../src-main/core/library/albums.ts';
import { openLibrary } from '../../src-main/core/library/db.ts';
import { addExport } from '../../src-main/core/library/exports.ts';
import {
  addDrawnFace,
  deleteFace,
  replaceDetectedFaces,
  updateFace,
} from '../../src-main/core/library/faces.ts';
import {
  createJob,
  interruptRunning,
  markItemDone,
  markItemFailed,
  setJobState,
} from '../../src-main/core/library/jobs.ts';
import {
  addPhotos,
  listPhotos,
  relinkPhoto,
  removePhotos,
  setPhotoState,
} from '../../src-main/core/library/photos.ts';
import { tempDir } from '../support/temp.ts';
import { detected, newLibrary, photoFile, photoUrl } from './helpers.ts';

describe('the library under a workload', () => {
  test('passes PRAGMA integrity_check, with no dangling reference, after a mix of every write', () => {
    const file = path.join(tempDir(), 'library.db');
    const lib = openLibrary(file);
    for (let round = 0; round < 5; round++) {
      const album = createAlbum(lib, `Album ${round}`);
      const files = Array.from({ length: 40 }, (_, i) => photoFile(`/scans/${round}/${i}.jpg`));
      const { added } = addPhotos(lib, album.id, files);
      for (const photoId of added) {
        const faces = replaceDetectedFaces(lib, photoId, [
          detected([0, 0, 10, 10]),
          detected([30, 0, 10, 10]),
        ]);
        updateFace(lib, faces[0]!.id, { fidelity: 0.9 });
        if (photoId % 3 === 0) deleteFace(lib, faces[1]!.id);
        if (photoId % 4 === 0)
          addDrawnFace(lib, photoId, [60, 0, 10, 10], detected([60, 0, 10, 10]).landmarks);
      }
      const job = createJob(lib, { kind: 'export', albumId: album.id, photoIds: added });
      setJobState(lib, job.id, 'running');
      added.forEach((photoId, i) => {
        if (i % 5 === 0) return markItemFailed(lib, job.id, i + 1, 'the disk is full');
        lib.transaction(() => {
          addExport(lib, {
            jobId: job.id,
            photoId,
            output: `/out/${i}.jpg`,
            model: { name: 'm', sha256: 's' },
            faces: [],
          });
          markItemDone(lib, job.id, i + 1, `/out/${i}.jpg`);
        });
      });
      setPhotoState(lib, added[1]!, 'missing');
      relinkPhoto(lib, added[1]!, photoFile(`/moved/${round}.jpg`));
      removePhotos(lib, added.slice(0, 10));
      createJob(lib, { kind: 'detect', albumId: album.id, photoIds: added.slice(10, 20) });
      if (round % 2 === 1) deleteAlbum(lib, album.id);
    }
    interruptRunning(lib);
    lib.close();

    const again = openLibrary(file);
    assert.equal(again.db.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(again.db.pragma('foreign_key_check'), []);
    assert.deepEqual(
      listAlbums(again).map((a) => [a.name, a.photoCount]),
      [
        ['Album 0', 30],
        ['Album 2', 30],
        ['Album 4', 30],
      ],
    );
    again.close();
  });

  test('lists an album of 10,000 photos correctly, by path, with their counts', (t) => {
    const lib = newLibrary(t);
    const album = createAlbum(lib, 'Scans');
    // Added out of order, so the list's order is the query's doing.
    const files = Array.from({ length: 10_000 }, (_, i) =>
      photoFile(`/scans/${String((i * 7919) % 10_000).padStart(5, '0')}.jpg`),
    );
    const { added } = addPhotos(lib, album.id, files);
    assert.equal(added.length, 10_000);
    lib.transaction(() => {
      for (const photoId of added.filter((id) => id % 10 === 0)) {
        replaceDetectedFaces(lib, photoId, [detected([0, 0, 10, 10]), detected([20, 0, 10, 10])]);
      }
    });

    const photos = listPhotos(lib, album.id, photoUrl);
    assert.equal(photos.length, 10_000);
    assert.deepEqual(
      photos.slice(0, 3).map((p) => p.name),
      ['00000.jpg', '00001.jpg', '00002.jpg'],
    );
    assert.ok(photos.every((p, i) => i === 0 || photos[i - 1]!.path < p.path));
    assert.ok(
      photos.every((p) => p.faceCount === (p.id % 10 === 0 ? 2 : 0) && p.enabledFaceCount === p.faceCount),
    );
    assert.deepEqual(
      [getAlbum(lib, album.id).photoCount, getAlbum(lib, album.id).faceCount],
      [10_000, 2_000],
    );
  });
});
