import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../src-main/contract/errors.ts';
import {
  createAlbum,
  deleteAlbum,
  getAlbum,
  listAlbums,
  renameAlbum,
  updateAlbumDefaults,
} from '../../src-main/core/library/albums.ts';
import { addExport } from '../../src-main/core/library/exports.ts';
import { replaceDetectedFaces } from '../../src-main/core/library/faces.ts';
import { createJob } from '../../src-main/core/library/jobs.ts';
import { addPhotos } from '../../src-main/core/library/photos.ts';
import { updateSettings } from '../../src-main/core/library/settings.ts';
import { count, detected, newLibrary, photoFile } from './helpers.ts';

const isCode = (code: string) => (error: unknown) => error instanceof AppError && error.code === code;

describe('albums', () => {
  test('a new album takes its fidelity and provenance from the settings', (t) => {
    const lib = newLibrary(t);
    updateSettings(lib, { defaultFidelity: 0.8, provenance: false });
    const album = createAlbum(lib, 'Grandma');
    assert.deepEqual(album.defaults, {
      fidelity: 0.8,
      format: 'original',
      pattern: '{name}_restored',
      folder: null,
      quality: null,
      provenance: false,
      detector: 'yunet',
      upscale: 1,
    });
    assert.deepEqual([album.name, album.photoCount, album.faceCount], ['Grandma', 0, 0]);
    assert.ok(!Number.isNaN(Date.parse(album.createdAt)));
  });

  test('a name already taken, in any case, is refused with CONFLICT', (t) => {
    const lib = newLibrary(t);
    createAlbum(lib, 'Grandma');
    assert.throws(() => createAlbum(lib, 'grandma'), isCode('CONFLICT'));
    assert.throws(() => createAlbum(lib, ' GRANDMA '), isCode('CONFLICT'));
    createAlbum(lib, 'Ärzte');
    assert.throws(() => createAlbum(lib, 'ärzte'), isCode('CONFLICT'), 'case beyond ASCII');
    createAlbum(lib, 'Straße');
    assert.throws(() => createAlbum(lib, 'STRASSE'), isCode('CONFLICT'));
    assert.equal(listAlbums(lib).length, 3);
  });

  test('renames, refusing a name another album has; its own name in another case is fine', (t) => {
    const lib = newLibrary(t);
    const grandma = createAlbum(lib, 'Grandma');
    createAlbum(lib, 'Wedding');
    assert.equal(renameAlbum(lib, grandma.id, 'GRANDMA').name, 'GRANDMA');
    assert.throws(() => renameAlbum(lib, grandma.id, 'wedding'), isCode('CONFLICT'));
    assert.throws(() => renameAlbum(lib, 999, 'Other'), isCode('NOT_FOUND'));
  });

  test('updates the defaults given and keeps the others', (t) => {
    const lib = newLibrary(t);
    const album = createAlbum(lib, 'Grandma');
    const updated = updateAlbumDefaults(lib, album.id, {
      format: 'jpeg',
      quality: 92,
      folder: '/out',
      upscale: 2,
    });
    assert.deepEqual(updated.defaults, {
      ...album.defaults,
      format: 'jpeg',
      quality: 92,
      folder: '/out',
      upscale: 2,
    });
    const again = updateAlbumDefaults(lib, album.id, { quality: null, fidelity: undefined });
    assert.deepEqual(again.defaults, { ...updated.defaults, quality: null });
  });

  test('lists by name with the counts of photos and faces', (t) => {
    const lib = newLibrary(t);
    const wedding = createAlbum(lib, 'wedding');
    const grandma = createAlbum(lib, 'Grandma');
    const { added } = addPhotos(lib, grandma.id, [photoFile('/a.jpg'), photoFile('/b.jpg')]);
    replaceDetectedFaces(lib, added[0]!, [detected([0, 0, 10, 10]), detected([20, 0, 10, 10])]);
    replaceDetectedFaces(lib, added[1]!, [detected([0, 0, 10, 10])]);
    assert.deepEqual(
      listAlbums(lib).map((a) => [a.id, a.photoCount, a.faceCount]),
      [
        [grandma.id, 2, 3],
        [wedding.id, 0, 0],
      ],
    );
  });

  test('deleting an album forgets its photos, faces, jobs and exports, and leaves no orphans', (t) => {
    const lib = newLibrary(t);
    const keep = createAlbum(lib, 'Keep');
    const gone = createAlbum(lib, 'Gone');
    for (const album of [keep, gone]) {
      const { added } = addPhotos(lib, album.id, [photoFile('/a.jpg'), photoFile('/b.jpg')]);
      const [face] = replaceDetectedFaces(lib, added[0]!, [detected([0, 0, 10, 10])]);
      const job = createJob(lib, { kind: 'export', albumId: album.id, photoIds: added });
      addExport(lib, {
        jobId: job.id,
        photoId: added[0]!,
        output: `/out/${album.name}.jpg`,
        model: { name: 'codeformer', sha256: 'cc' },
        faces: [{ faceId: face!.id, fidelity: 0.5 }],
      });
    }
    deleteAlbum(lib, gone.id);
    assert.throws(() => getAlbum(lib, gone.id), isCode('NOT_FOUND'));
    assert.deepEqual(
      ['albums', 'photos', 'faces', 'jobs', 'job_items', 'exports'].map((table) => count(lib, table)),
      [1, 2, 1, 1, 2, 1],
    );
    assert.deepEqual(lib.db.pragma('foreign_key_check'), []);
    assert.equal(getAlbum(lib, keep.id).photoCount, 2);
    assert.throws(() => deleteAlbum(lib, gone.id), isCode('NOT_FOUND'));
  });
});
