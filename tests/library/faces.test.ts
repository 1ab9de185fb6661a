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

  test('on a real group photo, number each of its three uneven rows left to right', (t) => {
    const lib = newLibrary(t);
    const photoId = onePhoto(lib);
    // YuNet's boxes on Solvay 1927 (shared/photos/GPEN/examples/imgs), as found: the back row's heads lie 66 px
    // apart in height, people standing on steps; the middle and front rows only 25 px apart.
    const boxes: Box[] = [
      [1007, 161, 40, 52],
      [925, 71, 34, 45],
      [1142, 172, 38, 49],
      [383, 203, 35, 44],
      [708, 71, 32, 44],
      [374, 91, 35, 45],
      [318, 157, 37, 47],
      [825, 199, 40, 51],
      [466, 158, 38, 48],
      [935, 199, 40, 52],
      [866, 162, 35, 48],
      [1087, 207, 39, 50],
      [209, 34, 34, 44],
      [1192, 223, 38, 48],
      [104, 201, 38, 47],
      [529, 207, 39, 52],
      [1016, 70, 33, 41],
      [1152, 70, 34, 44],
      [243, 207, 40, 51],
      [740, 152, 36, 47],
      [1088, 29, 35, 45],
      [705, 197, 39, 50],
      [183, 175, 36, 45],
      [625, 150, 35, 45],
      [815, 74, 37, 47],
      [485, 87, 32, 39],
      [606, 94, 36, 47],
      [308, 63, 32, 44],
      [64, 154, 35, 47],
    ];
    const faces = replaceDetectedFaces(
      lib,
      photoId,
      boxes.map((box) => detected(box)),
    );
    const rowOf = (f: { box: Box }) => {
      const y = f.box[1] + f.box[3] / 2;
      return y < 140 ? 'back' : y < 210 ? 'middle' : 'front';
    };
    assert.deepEqual(faces.map(rowOf), [
      ...Array(11).fill('back'),
      ...Array(9).fill('middle'),
      ...Array(9).fill('front'),
    ]);
    for (const row of ['back', 'middle', 'front']) {
      const xs = faces.filter((f) => rowOf(f) === row).map((f) => f.box[0]);
      assert.deepEqual(
        xs,
        [...xs].sort((a, b) => a - b),
        `the ${row} row goes left to right`,
      );
    }
    assert.deepEqual(
      faces.map((f) => f.number),
      faces.map((_, i) => i + 1),
    );
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

    // A new detection is a new start: every face is numbered again in reading order, the drawn one too.
    const after = replaceDetectedFaces(lib, photoId, [
      detected([200, 0, 10, 10], 0.75),
      detected([20, 0, 10, 10], 0.85),
    ]);
    assert.deepEqual(
      after.map((f) => [f.number, f.origin, f.box, f.score]),
      [
        [1, 'detected', [20, 0, 10, 10], 0.85],
        [2, 'drawn', [100, 0, 10, 10], 1],
        [3, 'detected', [200, 0, 10, 10], 0.75],
      ],
    );
    assert.ok(after[2]!.id > drawn.id, 'a new face never gets an id a forgotten face had');
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
    // Blended through the parsing mask unless the user asks for the whole square.
    assert.equal(face?.blend, 'face');
    assert.deepEqual(updateFace(lib, face!.id, { blend: 'square' }).blend, 'square');
    assert.deepEqual(pick(getFace(lib, face!.id)), [false, 0.2]);
    assert.throws(() => updateFace(lib, 999, { enabled: true }), isCode('NOT_FOUND'));
  });

  test('deleted, a face is gone and the others keep their numbers; a drawn one takes the next', (t) => {
    const lib = newLibrary(t);
    const photoId = onePhoto(lib);
    const [first, second, third] = replaceDetectedFaces(lib, photoId, [
      detected([0, 0, 10, 10]),
      detected([50, 0, 10, 10]),
      detected([100, 0, 10, 10]),
    ]);
    deleteFace(lib, second!.id);
    assert.deepEqual(
      listFaces(lib, photoId).map((f) => [f.id, f.number]),
      [
        [first!.id, 1],
        [third!.id, 3],
      ],
    );
    // Drawn between the two, it still takes a number no face had: Face 2 was someone else.
    const drawn = addDrawnFace(lib, photoId, [50, 0, 10, 10], detected([50, 0, 10, 10]).landmarks);
    assert.equal(drawn.number, 4);
    deleteFace(lib, third!.id);
    assert.equal(addDrawnFace(lib, photoId, [200, 0, 10, 10], drawn.landmarks).number, 5);
    assert.throws(() => getFace(lib, second!.id), isCode('NOT_FOUND'));
    assert.throws(() => deleteFace(lib, second!.id), isCode('NOT_FOUND'));
    assert.throws(() => listFaces(lib, 999), isCode('NOT_FOUND'));
  });
});

function pick(face: { enabled: boolean; fidelity: number }) {
  return [face.enabled, face.fidelity];
}
