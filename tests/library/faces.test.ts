import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Box, Landmarks } from '../../src-main/contract/dto.ts';
import { AppError } from '../../src-main/contract/errors.ts';
import { createAlbum, updateAlbumDefaults } from '../../src-main/core/library/albums.ts';
import {
  addDrawnFace,
  deleteFace,
  getFace,
  listFaces,
  replaceDetectedFaces,
  updateFace,
} from '../../src-main/core/library/faces.ts';
import { addPhotos } from '../../src-main/core/library/photos.ts';
import type { Library } from '../../src-main/core/library/db.ts';
import { detected, newLibrary, photoFile } from './helpers.ts';

const isCode = (code: string) => (error: unknown) => error instanceof AppError && error.code === code;

function onePhoto(lib: Library): number {
  const album = createAlbum(lib, 'Grandma');
  return addPhotos(lib, album.id, [photoFile('/a.jpg')]).added[0]!;
}

describe('faces', () => {
  test('are numbered in reading order: rows from the top, each left to right, heads tilted or not', (t) => {
    const lib = newLibrary(t);
    const photoId = onePhoto(lib);
    // A group photo: a back row whose faces sit a little higher or lower, and a front row of larger faces.
    const boxes: Record<string, Box> = {
      'front right': [600, 400, 120, 120],
      'back middle': [300, 95, 80, 80],
      'back left': [100, 120, 80, 80],
      'front left': [200, 410, 120, 120],
      'back right': [500, 100, 80, 80],
    };
    replaceDetectedFaces(
      lib,
      photoId,
      Object.values(boxes).map((box) => detected(box)),
    );
    const byBox = new Map(Object.entries(boxes).map(([name, box]) => [box.join(), name]));
    const faces = listFaces(lib, photoId);
    assert.deepEqual(
      faces.map((f) => [f.number, byBox.get(f.box.join())]),
      [
        [1, 'back left'],
        [2, 'back middle'],
        [3, 'back right'],
        [4, 'front left'],
        [5, 'front right'],
      ],
    );
    for (const face of faces) assert.equal(getFace(lib, face.id).number, face.number);
  });

  test('found again replace the detected faces; drawn ones stay', (t) => {
    const lib = newLibrary(t);
    const photoId = onePhoto(lib);
    replaceDetectedFaces(lib, photoId, [detected([0, 0, 10, 10]), detected([50, 0, 10, 10])]);
    const landmarks: Landmarks = [
      [1, 1],
      [2, 1],
      [1.5, 2],
      [1, 3],
      [2, 3],
    ];
    const drawn = addDrawnFace(lib, photoId, [100, 0, 10, 10], landmarks);
    assert.deepEqual([drawn.origin, drawn.score, drawn.number, drawn.landmarks], ['drawn', 1, 3, landmarks]);

    const after = replaceDetectedFaces(lib, photoId, [detected([200, 0, 10, 10], 0.75)]);
    assert.deepEqual(
      after.map((f) => [f.origin, f.box, f.score]),
      [
        ['drawn', [100, 0, 10, 10], 1],
        ['detected', [200, 0, 10, 10], 0.75],
      ],
    );
    assert.ok(after[1]!.id > drawn.id, 'a new face never gets an id a forgotten face had');
  });

  test("start enabled at their album's fidelity, and keep their own enabled and w", (t) => {
    const lib = newLibrary(t);
    const album = createAlbum(lib, 'Grandma');
    updateAlbumDefaults(lib, album.id, { fidelity: 0.7 });
    const photoId = addPhotos(lib, album.id, [photoFile('/a.jpg')]).added[0]!;
    const [face] = replaceDetectedFaces(lib, photoId, [detected([0, 0, 10, 10])]);
    assert.deepEqual([face?.enabled, face?.fidelity], [true, 0.7]);
    assert.deepEqual(pick(updateFace(lib, face!.id, { fidelity: 0.2 })), [true, 0.2]);
    assert.deepEqual(pick(updateFace(lib, face!.id, { enabled: false })), [false, 0.2]);
    assert.throws(() => updateFace(lib, 999, { enabled: true }), isCode('NOT_FOUND'));
  });

  test('deleted, a face is gone and the others are numbered again', (t) => {
    const lib = newLibrary(t);
    const photoId = onePhoto(lib);
    const [first, second] = replaceDetectedFaces(lib, photoId, [
      detected([0, 0, 10, 10]),
      detected([50, 0, 10, 10]),
    ]);
    deleteFace(lib, first!.id);
    assert.deepEqual(
      listFaces(lib, photoId).map((f) => [f.id, f.number]),
      [[second!.id, 1]],
    );
    assert.throws(() => getFace(lib, first!.id), isCode('NOT_FOUND'));
    assert.throws(() => deleteFace(lib, first!.id), isCode('NOT_FOUND'));
    assert.throws(() => listFaces(lib, 999), isCode('NOT_FOUND'));
  });
});

function pick(face: { enabled: boolean; fidelity: number }) {
  return [face.enabled, face.fidelity];
}
