import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import {
  FACE_SIZE,
  TEMPLATE_512,
  alignToTemplate,
  applySimilarity,
} from '../../src-main/core/engine/align.ts';
import { strokeMask, wholeMask, type Stroke } from '../../src-main/core/engine/damage.ts';
import { decodePhoto, type Photo, type Raster, type RgbImage } from '../../src-main/core/engine/image.ts';
import { RestoredFaces } from '../../src-main/core/engine/restored-faces.ts';
import {
  restoreFacesOnto,
  type FaceToRestore,
  type RestorerFor,
} from '../../src-main/core/engine/pipeline.ts';
import type { FaceTask, Restorer } from '../../src-main/core/engine/restore.ts';

/*
 * What is done to each face (restore, colorize, repair painted damage), each by its own model, as previews,
 * renders and exports run them: restoreFacesOnto with fake models that paint a known colour and keep what they
 * were given.
 */

const IDENTITY = { a: 1, b: 0, tx: 0, ty: 0 };
/** A photo's pixel (i, j) to the strokes' corner-based terms: its centre, (i + 0.5, j + 0.5). */
const CENTRES = { a: 1, b: 0, tx: 0.5, ty: 0.5 };

describe('painted damage as a mask', () => {
  test('a stroke covers the pixels whose centres lie within its radius of the line, caps included', () => {
    const stroke: Stroke = {
      radius: 2,
      points: [
        [5, 10],
        [15, 10],
      ],
    };
    const mask = wholeMask(strokeMask(30, 20, [stroke], IDENTITY), 30, 20);
    const at = (x: number, y: number) => mask.data[y * 30 + x];
    assert.equal(at(10, 12), 1, 'on the edge of the band');
    assert.equal(at(10, 13), 0, 'past the band');
    assert.equal(at(3, 10), 1, 'on the round cap');
    assert.equal(at(4, 12), 0, 'outside the cap (distance √5)');
    assert.equal(at(17, 10), 1);
    assert.equal(at(18, 10), 0);
    // Exactly the pixels within 2 of the segment: 11 columns × 5 rows, plus each cap’s 4 outer pixels.
    assert.equal(
      mask.data.reduce((s, v) => s + v, 0),
      11 * 5 + 2 * 4,
    );
  });

  test('keeps only the strokes’ box, and nothing when they miss the image', () => {
    const region = strokeMask(100, 100, [{ radius: 1, points: [[50, 50]] }], IDENTITY)!;
    assert.deepEqual([region.x0, region.y0, region.width, region.height], [49, 49, 3, 3]);
    assert.equal(
      strokeMask(
        100,
        100,
        [
          {
            radius: 3,
            points: [
              [-20, -20],
              [-10, -5],
            ],
          },
        ],
        IDENTITY,
      ),
      undefined,
    );
    assert.equal(strokeMask(100, 100, [], IDENTITY), undefined);
  });

  test('maps through a similarity: an enlarged image gets a proportionally wider band', () => {
    // Pixel X of a ×2 image is photo coordinate X/2 (the shift aside).
    const half = { a: 0.5, b: 0, tx: 0, ty: 0 };
    const mask = wholeMask(
      strokeMask(
        60,
        40,
        [
          {
            radius: 2,
            points: [
              [5, 10],
              [15, 10],
            ],
          },
        ],
        half,
      ),
      60,
      40,
    );
    const column = (x: number) => [...Array(40).keys()].filter((y) => mask.data[y * 60 + x] === 1);
    assert.deepEqual(column(20), [16, 17, 18, 19, 20, 21, 22, 23, 24]);
  });
});

/** A fake model of one task that paints every face `rgb` and keeps the crops it was given. */
function paintingModel(name: string, rgb: [number, number, number]) {
  const seen: RgbImage[] = [];
  const model: Restorer & { seen: RgbImage[] } = {
    model: { name, sha256: name.padEnd(64, '0') },
    provider: 'cpu',
    seen,
    restore(face: RgbImage) {
      seen.push(face);
      const out = new Float32Array(FACE_SIZE * FACE_SIZE * 3);
      for (let i = 0; i < out.length; i++) out[i] = rgb[i % 3]!;
      return Promise.resolve(out);
    },
    release: () => Promise.resolve(),
  };
  return model;
}

/** A 300×300 photo of smooth gradients (gray, or coloured), with a face's five points in the middle. */
async function photoOf(gray: boolean): Promise<Photo> {
  const size = 300;
  const data = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      const v = Math.round((x * 200) / size + 20);
      data[o] = v;
      data[o + 1] = gray ? v : Math.round((y * 200) / size + 20);
      data[o + 2] = gray ? v : 90;
    }
  }
  const png = await sharp(data, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
  return decodePhoto(png);
}

/** The template's points at half size, from (22, 22): a face about 256 px wide in the middle of the photo. */
const LANDMARKS = TEMPLATE_512.map(([x, y]) => [x / 2 + 22, y / 2 + 22] as [number, number]);

function canvasOf(photo: Photo): Raster {
  return { ...photo.rgb, channels: 3, depth: 8, data: photo.rgb.data.slice() };
}

function models() {
  const byTask = {
    restore: paintingModel('restorer', [200, 40, 40]),
    colorize: paintingModel('colorizer', [40, 200, 40]),
    inpaint: paintingModel('inpainter', [40, 40, 200]),
  };
  const asked: FaceTask[] = [];
  const modelFor: RestorerFor = (task) => {
    asked.push(task);
    return Promise.resolve(byTask[task]);
  };
  return { byTask, asked, modelFor };
}

const pixel = (raster: Raster, x: number, y: number) => {
  const o = (y * raster.width + x) * raster.channels;
  return [...raster.data.subarray(o, o + raster.channels)];
};

describe('each face by its own task', () => {
  test('inpainting changes exactly the painted pixels, and the network sees them white', async () => {
    const photo = await photoOf(false);
    const { byTask, asked, modelFor } = models();
    const canvas = canvasOf(photo);
    const damage: Stroke[] = [
      {
        radius: 4,
        points: [
          [120, 150],
          [180, 150],
        ],
      },
    ];
    const face: FaceToRestore = { landmarks: LANDMARKS, fidelity: 0.5, task: 'inpaint', damage };
    await restoreFacesOnto(photo, canvas, [face], modelFor, { memory: new RestoredFaces().of('p') });
    assert.deepEqual(asked, ['inpaint']);
    const painted = wholeMask(strokeMask(300, 300, damage, CENTRES), 300, 300);
    const original = canvasOf(photo);
    let changed = 0;
    const wrong: string[] = [];
    for (let i = 0; i < 300 * 300; i++) {
      const [x, y] = [i % 300, Math.floor(i / 300)];
      const want = painted.data[i] === 0 ? pixel(original, x, y) : [40, 40, 200];
      if (pixel(canvas, x, y).join() !== want.join()) wrong.push(`(${x}, ${y})`);
      changed += painted.data[i]!;
    }
    assert.deepEqual(wrong, [], 'outside the paint the photo, under it the inpainter’s face');
    assert.ok(changed > 400);
    // The crop the network saw: white on the stroke, the photo away from it.
    const crop = byTask.inpaint.seen[0]!;
    const toTemplate = alignToTemplate(LANDMARKS);
    const [u, v] = applySimilarity(toTemplate, 150, 150).map(Math.round) as [number, number];
    assert.deepEqual([...crop.data.subarray((v * 512 + u) * 3, (v * 512 + u) * 3 + 3)], [255, 255, 255]);
    const [fu, fv] = applySimilarity(toTemplate, 150, 100).map(Math.round) as [number, number];
    assert.notDeepEqual(
      [...crop.data.subarray((fv * 512 + fu) * 3, (fv * 512 + fu) * 3 + 3)],
      [255, 255, 255],
    );
  });

  test('a face to inpaint with no damage painted is left as it is, and runs no network', async () => {
    const photo = await photoOf(false);
    const { byTask, asked, modelFor } = models();
    const canvas = canvasOf(photo);
    const done = await restoreFacesOnto(
      photo,
      canvas,
      [{ landmarks: LANDMARKS, fidelity: 0.5, task: 'inpaint', damage: [] }],
      modelFor,
    );
    assert.deepEqual(canvas.data, photo.rgb.data);
    assert.deepEqual(asked, []);
    assert.equal(byTask.inpaint.seen.length, 0);
    assert.equal(done.restored, 0);
  });

  test('on a black-and-white photo a colorized face keeps its colours; a restored or repaired one is gray', async () => {
    const photo = await photoOf(true);
    assert.equal(photo.gray, true);
    // Off the face's middle: a flat face toned to the crop's mean differs from the gradient there.
    const damage: Stroke[] = [{ radius: 6, points: [[130, 150]] }];
    for (const task of ['colorize', 'restore', 'inpaint'] as const) {
      const { modelFor } = models();
      const canvas = canvasOf(photo);
      await restoreFacesOnto(
        photo,
        canvas,
        [{ landmarks: LANDMARKS, fidelity: 0.5, task, damage }],
        modelFor,
      );
      const [r, g, b] = pixel(canvas, 130, 150) as [number, number, number];
      if (task === 'colorize') assert.deepEqual([r, g, b], [40, 200, 40]);
      else {
        assert.ok(r === g && g === b, `${task}: the face is gray: ${[r, g, b]}`);
        assert.notDeepEqual([r, g, b], pixel(canvasOf(photo), 130, 150), `${task}: the face changed`);
      }
    }
  });

  test('faces of different tasks in one photo each take their model; the outside of the face stays', async () => {
    const photo = await photoOf(false);
    const { asked, modelFor } = models();
    const canvas = canvasOf(photo);
    const right = LANDMARKS.map(([x, y]) => [x + 1000, y] as [number, number]);
    await restoreFacesOnto(
      photo,
      canvas,
      [
        { landmarks: LANDMARKS, fidelity: 0.5, task: 'colorize', blend: 'square' },
        { landmarks: right, fidelity: 0.5 },
      ],
      modelFor,
    );
    assert.deepEqual(asked, ['colorize', 'restore']);
    assert.deepEqual(pixel(canvas, 150, 150), [40, 200, 40]);
    assert.deepEqual(pixel(canvas, 2, 2), pixel(canvasOf(photo), 2, 2));
  });

  test('an inpainted face is remembered with its damage: other damage restores again', async () => {
    const photo = await photoOf(false);
    const { byTask, modelFor } = models();
    const memory = new RestoredFaces().of('p');
    const face = (points: [number, number][]): FaceToRestore => ({
      landmarks: LANDMARKS,
      fidelity: 0.5,
      task: 'inpaint',
      damage: [{ radius: 3, points }],
    });
    const first = await restoreFacesOnto(photo, canvasOf(photo), [face([[150, 150]])], modelFor, { memory });
    const again = await restoreFacesOnto(photo, canvasOf(photo), [face([[150, 150]])], modelFor, { memory });
    const other = await restoreFacesOnto(photo, canvasOf(photo), [face([[140, 160]])], modelFor, { memory });
    assert.deepEqual([first.restored, again.recalled, other.restored], [1, 1, 1]);
    assert.equal(byTask.inpaint.seen.length, 2);
  });

  test('at ×2 the damage lands on the enlarged pixels of the painted ones', async () => {
    const photo = await photoOf(false);
    const { modelFor } = models();
    const big: Raster = {
      width: 600,
      height: 600,
      channels: 3,
      depth: 8,
      data: new Uint8Array(600 * 600 * 3),
    };
    const damage: Stroke[] = [{ radius: 5, points: [[150, 150]] }];
    await restoreFacesOnto(
      photo,
      big,
      [{ landmarks: LANDMARKS, fidelity: 0.5, task: 'inpaint', damage }],
      modelFor,
      {
        upscale: 2,
      },
    );
    const changed: number[] = [];
    for (let x = 270; x < 330; x++) if (pixel(big, x, 299)[2] === 200) changed.push(x);
    // Output pixel X's centre is photo (X + 0.5) / 2: row 299 is at 149.75; within 5 of (150, 150) lie the
    // columns whose centres are within 4.99 of x = 150, X from 290 to 309.
    assert.deepEqual([changed[0], changed.at(-1), changed.length], [290, 309, 20]);
  });
});

describe('the slider’s prepared steps', () => {
  test('borrow the face’s parsing mask from another w; the exact preview makes its own', async () => {
    const photo = await photoOf(false);
    const made: number[] = [];
    // A mask that keeps the left half of the aligned face, made anew per call (so each call is counted).
    const parser = {
      mask: () => {
        made.push(made.length);
        const mask = new Float32Array(FACE_SIZE * FACE_SIZE);
        for (let v = 0; v < FACE_SIZE; v++) mask.fill(1, v * FACE_SIZE, v * FACE_SIZE + FACE_SIZE / 2);
        return Promise.resolve(mask);
      },
    };
    const { modelFor } = models();
    const memory = new RestoredFaces().of('p');
    const at = async (fidelity: number, nearMasks: boolean) => {
      const canvas = canvasOf(photo);
      await restoreFacesOnto(photo, canvas, [{ landmarks: LANDMARKS, fidelity }], modelFor, {
        memory,
        parser,
        nearMasks,
      });
      return canvas;
    };
    await at(0.5, true); // No mask of this face yet: its own is made.
    assert.equal(made.length, 1);
    const step = await at(0.7, true);
    assert.equal(made.length, 1, 'a prepared step borrows the mask made at 0.5');
    // The borrowed mask is at work: the face's left half is painted, its right half is the photo.
    assert.deepEqual(pixel(step, 130, 150), [200, 40, 40]);
    assert.deepEqual(pixel(step, 170, 150), pixel(canvasOf(photo), 170, 150));
    await at(0.9, false);
    assert.equal(made.length, 2, 'the exact preview parses its own face');
    // A face elsewhere in the photo has no mask to borrow.
    const other = LANDMARKS.map(([x, y]) => [x + 5, y] as [number, number]);
    await restoreFacesOnto(photo, canvasOf(photo), [{ landmarks: other, fidelity: 0.3 }], modelFor, {
      parser,
      nearMasks: true,
    });
    assert.equal(made.length, 3);
  });
});
