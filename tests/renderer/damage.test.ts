import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  damageWords,
  defaultBrush,
  largestBrush,
  MAX_STROKE_POINTS,
  MIN_BRUSH,
  photoPoint,
  strokePath,
  takesPoint,
  withoutLast,
  type Point,
} from '../../src-renderer/src/lib/editor/damage.ts';

const photo = { width: 2000, height: 1000 };

describe('painting damage on a face', () => {
  test('a point on the stage is saved in photo pixels, through the view, to a tenth of a pixel', () => {
    const view = { scale: 0.5, x: 16, y: 150 };
    assert.deepEqual(photoPoint(view, 16, 150, photo), [0, 0]);
    assert.deepEqual(photoPoint(view, 516, 400, photo), [1000, 500]);
    assert.deepEqual(photoPoint({ scale: 3, x: 0, y: 0 }, 1, 2, photo), [0.3, 0.7]);
  });

  test('a point dragged past the photo is kept on its edge', () => {
    const view = { scale: 1, x: 100, y: 100 };
    assert.deepEqual(photoPoint(view, 0, 5000, photo), [0, 1000]);
    assert.deepEqual(photoPoint(view, 9000, -3, photo), [2000, 0]);
  });

  test('a stroke takes its first point, then only points at least half the radius from the last', () => {
    assert.equal(takesPoint([], [5, 5], 8), true);
    const points: Point[] = [[0, 0]];
    assert.equal(takesPoint(points, [3, 0], 8), false);
    assert.equal(takesPoint(points, [4, 0], 8), true);
    assert.equal(takesPoint(points, [3, 3], 8), true, 'the distance is straight-line (4.24)');
  });

  test('a stroke stops taking points at 10,000 (what face.update accepts)', () => {
    const full: Point[] = Array.from({ length: MAX_STROKE_POINTS }, (_, i) => [i * 10, 0] as const);
    assert.equal(takesPoint(full, [1e6, 0], 1), false);
    assert.equal(takesPoint(full.slice(1), [1e6, 0], 1), true);
  });

  test('a stroke is an SVG line through its points; a single point is a dot (a line of no length)', () => {
    assert.equal(
      strokePath([
        [1, 2],
        [3.5, 4],
        [5, 6],
      ]),
      'M1 2 L3.5 4 L5 6',
    );
    assert.equal(strokePath([[7, 8]]), 'M7 8 L7 8');
    assert.equal(strokePath([]), '');
  });

  test('the brush starts at a 25th of the face box, never under 2 pixels, and goes up to a quarter of it', () => {
    assert.equal(defaultBrush([0, 0, 200, 240]), 8);
    assert.equal(defaultBrush([0, 0, 20, 20]), MIN_BRUSH);
    assert.equal(largestBrush([0, 0, 200, 240]), 50);
    assert.ok(largestBrush([0, 0, 16, 16]) > MIN_BRUSH, 'a small face still has a range to choose from');
  });

  test('Undo stroke takes back the last stroke only', () => {
    const a = { radius: 4, points: [[1, 1]] as const };
    const b = { radius: 6, points: [[2, 2]] as const };
    assert.deepEqual(withoutLast([a, b]), [a]);
    assert.deepEqual(withoutLast([]), []);
  });

  test('the card says when nothing is painted that nothing will change', () => {
    assert.equal(damageWords([]), 'No damage painted yet: nothing will change');
    assert.equal(damageWords([{ radius: 4, points: [[1, 1]] }]), '1 stroke of damage painted');
    assert.equal(
      damageWords([
        { radius: 4, points: [[1, 1]] },
        { radius: 4, points: [[2, 2]] },
      ]),
      '2 strokes of damage painted',
    );
  });
});
