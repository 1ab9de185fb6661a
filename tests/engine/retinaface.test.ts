import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import {
  bgrMinusMean,
  centerFace,
  decodeBox,
  decodeLandmarks,
  detectionScale,
  facesFromOutputs,
  officialEyeDistance,
  officialReadScale,
  retinaFaceInput,
  retinaFacePriors,
  suppressOverlaps,
  withoutNarrowEyes,
  type Candidate,
} from '../../src-main/core/engine/retinaface.ts';
import { SOLVAY } from '../support/paths.ts';
import { readF32 } from '../support/retinaface.ts';

function near(actual: readonly number[], expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((v, i) =>
    assert.ok(Math.abs(v - expected[i]!) < 1e-12, `${what}[${i}]: ${v} ≠ ${expected[i]}`),
  );
}

describe('RetinaFace priors', () => {
  it('number 8400 for a 320×640 input, in the official order', () => {
    const priors = retinaFacePriors(320, 640);
    assert.equal(priors.length / 4, 8400);
    const prior = (i: number) => [...priors.subarray(4 * i, 4 * i + 4)];
    // Stride 8: 40×80 cells, two anchors each (16 and 32 px), row-major.
    near(prior(0), [4 / 640, 4 / 320, 16 / 640, 16 / 320], 'first cell, 16 px');
    near(prior(1), [4 / 640, 4 / 320, 32 / 640, 32 / 320], 'first cell, 32 px');
    near(prior(2), [12 / 640, 4 / 320, 16 / 640, 16 / 320], 'second cell of the first row');
    near(prior(160), [4 / 640, 12 / 320, 16 / 640, 16 / 320], 'first cell of the second row');
    // Stride 16 from 6400 (20×40 cells, 64 and 128 px), stride 32 from 8000 (10×20 cells, 256 and 512 px).
    near(prior(6400), [8 / 640, 8 / 320, 64 / 640, 64 / 320], 'stride 16');
    near(prior(8000), [16 / 640, 16 / 320, 256 / 640, 256 / 320], 'stride 32');
    near(prior(8399), [(19.5 * 32) / 640, (9.5 * 32) / 320, 512 / 640, 512 / 320], 'last');
  });

  it('cover a size that is not a multiple of 32 with partial cells (⌈H/step⌉ × ⌈W/step⌉)', () => {
    const cells = (h: number, w: number) =>
      [8, 16, 32].reduce((n, s) => n + Math.ceil(h / s) * Math.ceil(w / s), 0);
    assert.equal(retinaFacePriors(333, 517).length / 4, 2 * cells(333, 517));
    assert.equal(2 * cells(333, 517), 2 * (42 * 65 + 21 * 33 + 11 * 17));
  });
});

describe('RetinaFace decoding', () => {
  it('turns a box regression into corners: centre offset × 0.1 × prior size, size × exp(0.2 × value)', () => {
    const priors = [0, 0, 0, 0, 0.5, 0.5, 0.2, 0.1];
    const loc = [9, 9, 9, 9, 1, -2, 5 * Math.log(2), 0];
    // centre (0.5 + 1·0.1·0.2, 0.5 − 2·0.1·0.1) = (0.52, 0.48); size (0.2·2, 0.1·1) = (0.4, 0.1).
    near(decodeBox(loc, priors, 1), [0.32, 0.43, 0.72, 0.53], 'box');
  });

  it('turns landmark regressions into points around the prior centre, × 0.1 × prior size', () => {
    const priors = [0.25, 0.75, 0.5, 0.25];
    const landms = [1, 0, -1, 0, 0, 2, 0.5, -0.5, -2, 4];
    near(
      decodeLandmarks(landms, priors, 0),
      [0.3, 0.75, 0.2, 0.75, 0.25, 0.8, 0.275, 0.7375, 0.15, 0.85],
      'landmarks',
    );
  });

  it('keeps scores above 0.8 only, best first, in the input’s pixels', () => {
    const priors = Float64Array.of(
      0.1,
      0.1,
      0.1,
      0.1,
      0.5,
      0.5,
      0.2,
      0.2,
      0.9,
      0.9,
      0.1,
      0.1,
      0.5,
      0.2,
      0.1,
      0.1,
    );
    const conf = Float32Array.of(0.15, 0.85, 0.05, 0.95, 0.2, 0.8, 0.6, 0.4);
    const faces = facesFromOutputs(
      { loc: new Float32Array(16), conf, landms: new Float32Array(40) },
      priors,
      200,
      100,
    );
    // Prior 2 scores exactly float32(0.8), which the official `scores > 0.8` (float32) does not keep.
    assert.deepEqual(
      faces.map((f) => f.score),
      [conf[3], conf[1]],
    );
    near([...faces[0]!.box], [80, 40, 120, 60], 'box of prior 1 (200×100 input)');
    near([...faces[0]!.landmarks], [100, 50, 100, 50, 100, 50, 100, 50, 100, 50], 'landmarks at its centre');
  });

  it('orders equal scores with the later prior first, as numpy’s argsort()[::-1] does', () => {
    const priors = Float64Array.of(0.1, 0.5, 0.1, 0.1, 0.5, 0.5, 0.1, 0.1, 0.9, 0.5, 0.1, 0.1);
    const conf = Float32Array.of(0.1, 0.9, 0.1, 0.9, 0.1, 0.9);
    const faces = facesFromOutputs(
      { loc: new Float32Array(12), conf, landms: new Float32Array(30) },
      priors,
      100,
      100,
    );
    assert.deepEqual(
      faces.map((f) => Math.round(f.box[0] + 5)),
      [90, 50, 10],
    );
  });
});

describe('RetinaFace NMS', () => {
  const face = (box: [number, number, number, number], score: number): Candidate => ({
    box,
    score,
    landmarks: [],
  });

  it('drops a box overlapping a better one by more than IoU 0.4, keeps the rest in order', () => {
    const best = face([0, 0, 10, 10], 0.99);
    const duplicate = face([1, 0, 11, 10], 0.98); // IoU 90 / 110 ≈ 0.82
    const neighbour = face([6, 0, 16, 10], 0.97); // IoU with best 40 / 160 = 0.25
    const shadowOfNeighbour = face([7, 1, 16, 10], 0.96); // IoU with neighbour 81 / 100
    const far = face([50, 50, 60, 60], 0.9);
    assert.deepEqual(suppressOverlaps([best, duplicate, neighbour, shadowOfNeighbour, far], 0.4), [
      best,
      neighbour,
      far,
    ]);
  });

  it('keeps a box whose IoU is exactly the threshold (torchvision suppresses above it only)', () => {
    const best = face([0, 0, 10, 10], 0.9);
    const inside = face([0, 0, 4, 10], 0.85); // IoU 40 / 100 = 0.4
    assert.deepEqual(suppressOverlaps([best, inside], 0.4), [best, inside]);
  });

  it('measures areas without the +1 of older NMS code', () => {
    // With +1 areas (the older py_cpu_nms) these touching boxes would share 2 of 6 px² and one would go.
    const a = face([0, 0, 1, 1], 0.9);
    const b = face([1, 0, 2, 1], 0.8);
    assert.equal(suppressOverlaps([a, b], 0.0).length, 2);
  });
});

describe('RetinaFace input', () => {
  it('is the photo as OpenCV reads it, BGR minus (104, 117, 123): the fixture’s input from the Solvay crop', async () => {
    const { data } = await sharp(SOLVAY)
      .removeAlpha()
      .extract({ left: 0, top: 0, width: 640, height: 320 })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const input = bgrMinusMean({ width: 640, height: 320, data: new Uint8Array(data) });
    assert.deepEqual(input, readF32('dev_input.f32'));
  });

  it('enlarges a photo to a short side of 640 (⌊w·s⌋ × ⌊h·s⌋), never shrinks one of ordinary size', async () => {
    assert.equal(detectionScale(248, 189), 640 / 189);
    assert.equal(detectionScale(1500, 1101), 1);
    const small = await retinaFaceInput({
      width: 248,
      height: 189,
      data: new Uint8Array(248 * 189 * 3).fill(104),
    });
    assert.deepEqual(
      [small.width, small.height, small.scale],
      [Math.trunc((248 * 640) / 189), 640, 640 / 189],
    );
    assert.equal(small.data[0], 0);
  });

  it('stops enlarging a thin strip at a long side of 4096, and reduces a photo over 8 MP to 8 MP', () => {
    assert.equal(detectionScale(2000, 20), 4096 / 2000);
    assert.equal(detectionScale(20000, 20), 1);
    const scale = detectionScale(6000, 4000);
    assert.ok(Math.abs(6000 * 4000 * scale * scale - 8e6) < 1);
    assert.equal(detectionScale(6000, 4000, 30e6), 1);
  });
});

describe('RetinaFace detection scale, as the official `scale = max(1, 640 / short side)`', () => {
  it('enlarges 320×200 to 1024×640 and leaves 4000×3000 at its size (the official never shrinks)', async () => {
    assert.equal(detectionScale(320, 200), 3.2);
    const input = await retinaFaceInput({ width: 320, height: 200, data: new Uint8Array(320 * 200 * 3) });
    assert.deepEqual([input.width, input.height], [1024, 640]);
    // 12 MP is under a raised memory cap: the helper's INTER_AREA branch is dead code behind max(1, scale).
    assert.equal(detectionScale(4000, 3000, 20e6), 1);
    assert.equal(detectionScale(641, 5000, 20e6), 1);
  });
});

describe('RetinaFace eye-distance filter (the official bug kept)', () => {
  /** A face from its left eye, right eye and nose; the mouth corners do not count. */
  const face = (le: [number, number], re: [number, number], nose: [number, number]) => ({
    landmarks: [le, re, nose, [0, 0], [0, 0]] as [number, number][],
  });

  it('measures (left-eye y − right-eye y, right-eye x − nose x), not the distance between the eyes', () => {
    // Eyes 30 px apart and level, the nose right under the right eye: the official value is 0.
    const level = face([100, 100], [130, 100], [130, 120]);
    assert.equal(Math.hypot(130 - 100, 100 - 100), 30, 'the real eye distance');
    assert.equal(officialEyeDistance(level.landmarks), 0);
    assert.deepEqual(withoutNarrowEyes([level]), [], 'dropped by the default threshold 5');
    // Eyes 3.6 px apart: (13 − 10, 12 − 8) = (3, 4), length 5, not under 5, so kept.
    const tiny = face([10, 13], [12, 10], [8, 20]);
    assert.equal(officialEyeDistance(tiny.landmarks), 5);
    assert.deepEqual(withoutNarrowEyes([tiny]), [tiny]);
    // Just under 5 goes; threshold 0 keeps everything; the order is kept.
    const under = face([10, 13], [12, 10], [8.01, 20]);
    assert.ok(officialEyeDistance(under.landmarks) < 5);
    assert.deepEqual(withoutNarrowEyes([tiny, under, level]), [tiny]);
    assert.deepEqual(withoutNarrowEyes([tiny, under, level], 0), [tiny, under, level]);
  });

  it('measures in the official read_image pixels: a photo with a short side under 512 counts enlarged', () => {
    assert.deepEqual(officialReadScale(1000, 600), [1, 1]);
    assert.deepEqual(officialReadScale(512, 4000), [1, 1]);
    // 248×189: read_image makes it round(248 · 512/189) × 512 = 672 × 512.
    assert.deepEqual(officialReadScale(248, 189), [672 / 248, 512 / 189]);
    // y scaled by the y factor, x by the x factor.
    const unit = officialReadScale(256, 128); // 1024 × 512: ×4 both ways
    assert.deepEqual(unit, [4, 4]);
    const small = face([10, 11], [12, 10], [11, 20]); // (1, 1): √2 in photo pixels, 4√2 ≈ 5.7 officially
    assert.deepEqual(withoutNarrowEyes([small], 5), []);
    assert.deepEqual(withoutNarrowEyes([small], 5, unit), [small]);
    assert.equal(officialEyeDistance(face([0, 3], [2, 0], [0, 0]).landmarks, [10, 1]), Math.hypot(3, 20));
  });
});

describe('only the centre face (official get_center_face)', () => {
  const box = (x: number, y: number, w: number, h: number, name: string) => ({
    box: [x, y, w, h] as [number, number, number, number],
    name,
  });

  it('keeps the one face whose box centre is nearest (w/2, h/2)', () => {
    // 400×200 photo, centre (200, 100).
    const best = box(0, 0, 100, 100, 'best score, far'); // centre (50, 50)
    const centred = box(170, 60, 80, 100, 'centred'); // centre (210, 110): √200 away
    const near = box(180, 40, 60, 40, 'near'); // centre (210, 60): √1700 away
    assert.deepEqual(
      centerFace([best, near, centred], 400, 200).map((f) => f.name),
      ['centred'],
    );
    // Measured from the box centre, not its corner: this box's corner is at the image centre.
    const corner = box(200, 100, 100, 100, 'corner at the centre'); // centre (250, 150)
    assert.deepEqual(
      centerFace([corner, near], 400, 200).map((f) => f.name),
      ['near'],
    );
  });

  it('takes the earlier face on a tie (Python list.index(min)), and nothing from nothing', () => {
    const left = box(90, 90, 20, 20, 'left'); // centre (100, 100), 10 from (110, 100)
    const right = box(110, 90, 20, 20, 'right'); // centre (120, 100), 10 away
    assert.deepEqual(
      centerFace([left, right], 220, 200).map((f) => f.name),
      ['left'],
    );
    assert.deepEqual(
      centerFace([right, left], 220, 200).map((f) => f.name),
      ['right'],
    );
    assert.deepEqual(centerFace([], 220, 200), []);
  });
});
