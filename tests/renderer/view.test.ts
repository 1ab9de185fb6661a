import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  actualView,
  bigEnough,
  boxFromDrag,
  clampPan,
  fitView,
  toPhoto,
  toScreen,
} from '../../src-renderer/src/lib/editor/view.ts';

const photo = { width: 2000, height: 1000 };
const stage = { width: 1032, height: 800 };

describe('where the photo sits', () => {
  test('"Fit" shows the whole photo centred, inside the margin', () => {
    const view = fitView(photo, stage, 16);
    assert.equal(view.scale, 0.5);
    assert.equal(view.x, 16);
    assert.equal(view.y, 150);
  });

  test('"Fit" enlarges a small scan to the stage', () => {
    assert.equal(fitView({ width: 250, height: 100 }, stage, 16).scale, 4);
  });

  test('a photo of unknown size (0 × 0) gets a harmless view', () => {
    assert.deepEqual(fitView({ width: 0, height: 0 }, stage), { scale: 1, x: 0, y: 0 });
  });

  test('"1:1" is one photo pixel per device pixel, centred on the face asked for', () => {
    const view = actualView(photo, stage, 1, [1000, 500]);
    assert.equal(view.scale, 1);
    assert.equal(view.x, 1032 / 2 - 1000);
    assert.equal(view.y, 400 - 500);
    assert.equal(actualView(photo, stage, 2).scale, 0.5);
  });

  test('"1:1" near an edge does not pan past the photo', () => {
    const view = actualView(photo, stage, 1, [0, 0]);
    assert.deepEqual([view.x, view.y], [0, 0]);
    const far = actualView(photo, stage, 1, [2000, 1000]);
    assert.deepEqual([far.x, far.y], [1032 - 2000, 800 - 1000]);
  });

  test('a side smaller than the stage stays centred while panning', () => {
    const view = clampPan({ scale: 1, x: -500, y: 123 }, { width: 2000, height: 400 }, stage);
    assert.equal(view.x, -500);
    assert.equal(view.y, 200);
  });

  test('boxes follow the view, and the stage maps back to photo pixels', () => {
    const view = { scale: 0.5, x: 16, y: 150 };
    assert.deepEqual(toScreen(view, [100, 200, 50, 60]), { left: 66, top: 250, width: 25, height: 30 });
    assert.deepEqual(toPhoto(view, 66, 250), [100, 200]);
  });
});

describe('drawing a box for a missed face', () => {
  test('a drag in any direction makes the same box, in whole photo pixels', () => {
    assert.deepEqual(boxFromDrag([10.4, 20], [50, 70.6], photo), [10, 20, 40, 51]);
    assert.deepEqual(boxFromDrag([50, 70.6], [10.4, 20], photo), [10, 20, 40, 51]);
  });

  test('the box stays inside the photo', () => {
    assert.deepEqual(boxFromDrag([-30, -10], [40, 40], photo), [0, 0, 40, 40]);
    assert.deepEqual(boxFromDrag([1980, 990], [2100, 1100], photo), [1980, 990, 20, 10]);
  });

  test('a box smaller than 16 photo pixels is a slip, not a face', () => {
    assert.equal(bigEnough([0, 0, 16, 16]), true);
    assert.equal(bigEnough([0, 0, 15, 40]), false);
    assert.equal(bigEnough([0, 0, 40, 3]), false);
  });
});
