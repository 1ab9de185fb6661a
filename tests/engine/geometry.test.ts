import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import {
  TEMPLATE_512,
  alignToTemplate,
  warpToTemplate,
  type Similarity,
} from '../../src-main/core/engine/align.ts';
import { FaceDetector } from '../../src-main/core/engine/detect.ts';
import { decodePhoto, type Raster, type RgbImage } from '../../src-main/core/engine/image.ts';
import { pasteBack } from '../../src-main/core/engine/paste.ts';
import { officialSoftMask } from '../support/official-mask.ts';
import { SHARED, YUNET, photo } from '../support/paths.ts';

const PASTEBACK = path.join(SHARED, 'fixtures/pasteback');

let detector: FaceDetector;
before(async () => {
  detector = await FaceDetector.open(YUNET);
});
after(async () => {
  await detector.release();
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A smooth, everywhere-different RGB test picture (no edges, so bilinear sampling is well defined). */
function smoothPicture(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = 128 + 100 * Math.sin(x / 23 + y / 41);
      data[o + 1] = 128 + 100 * Math.cos(x / 31 - y / 17);
      data[o + 2] = 128 + 100 * Math.sin((x - y) / 29);
    }
  }
  return { width, height, data };
}

/** The photo→template similarity of a face turned by `angle`, `scale` template px per photo px, centred at (cx, cy). */
function faceAt(angle: number, scale: number, cx: number, cy: number): Similarity {
  const a = scale * Math.cos(angle);
  const b = scale * Math.sin(angle);
  return { a, b, tx: 255.5 - (a * cx - b * cy), ty: 255.5 - (b * cx + a * cy) };
}

/** Where template point (u, v) lies in the photo, by solving the 2×2 system of `t` (not by its inverse). */
function photoPointOf(t: Similarity, u: number, v: number): [number, number] {
  const [du, dv] = [u - t.tx, v - t.ty];
  const det = t.a * t.a + t.b * t.b;
  return [(t.a * du + t.b * dv) / det, (-t.b * du + t.a * dv) / det];
}

describe('alignment to the 512 template', () => {
  const cases: [string, Similarity][] = [
    ['turned, shrunk and shifted', faceAt(0.3, 0.17, 700, 400)],
    ['upside down and enlarged', faceAt(Math.PI - 0.2, 3.1, 90, 60)],
    ['upright at template size', faceAt(0, 1, 256, 256)],
  ];
  for (const [what, truth] of cases) {
    test(`recovers a known similarity from its 5 landmarks: ${what}`, () => {
      const landmarks = TEMPLATE_512.map(([u, v]) => photoPointOf(truth, u, v));
      const found = alignToTemplate(landmarks);
      for (const key of ['a', 'b', 'tx', 'ty'] as const)
        assert.ok(Math.abs(found[key] - truth[key]) < 1e-9, key);
    });
  }

  test('warps a photo exactly as bilinear sampling at the independently computed points does', () => {
    const picture = smoothPicture(300, 260);
    const truth = faceAt(0.4, 3, 150, 130); // the whole template square lies inside the photo
    const crop = warpToTemplate(picture, truth);
    let worst = 0;
    for (let v = 0; v < 512; v += 7) {
      for (let u = 0; u < 512; u += 7) {
        const [x, y] = photoPointOf(truth, u, v);
        const x0 = Math.floor(x);
        const y0 = Math.floor(y);
        for (let c = 0; c < 3; c++) {
          const p = (yy: number, xx: number) => picture.data[(yy * 300 + xx) * 3 + c]!;
          const top = p(y0, x0) + (p(y0, x0 + 1) - p(y0, x0)) * (x - x0);
          const bottom = p(y0 + 1, x0) + (p(y0 + 1, x0 + 1) - p(y0 + 1, x0)) * (x - x0);
          const expected = top + (bottom - top) * (y - y0);
          worst = Math.max(worst, Math.abs(crop.data[(v * 512 + u) * 3 + c]! - expected));
        }
      }
    }
    // Within rounding and OpenCV's 1/32-pixel sample grid.
    assert.ok(worst <= 1.5, `largest difference ${worst.toFixed(2)}`);
  });

  test('a mirrored photo still aligns upright: its crop is the mirror of the unmirrored crop', () => {
    const picture = smoothPicture(400, 300);
    const mirrored: RgbImage = { ...picture, data: new Uint8Array(picture.data.length) };
    for (let y = 0; y < 300; y++) {
      for (let x = 0; x < 400; x++) {
        mirrored.data.set(
          picture.data.subarray((y * 400 + x) * 3, (y * 400 + x) * 3 + 3),
          (y * 400 + 399 - x) * 3,
        );
      }
    }
    // Against a left-right symmetric template (axis u = 255.5), the fits of a face and of its mirror image are
    // exact mirror images too, so the crops must be; the detector names landmarks by image side, so mirroring
    // trades left for right.
    const template: [number, number][] = [
      [189.5, 240],
      [321.5, 240],
      [255.5, 314],
      [199.5, 371],
      [311.5, 371],
    ];
    const truth = faceAt(0.25, 1.6, 210, 150);
    const landmarks = template.map(([u, v]) => photoPointOf(truth, u, v));
    const mirror = ([x, y]: [number, number]): [number, number] => [399 - x, y];
    const mirroredLandmarks = [1, 0, 2, 4, 3].map((i) => mirror(landmarks[i]!));
    const straight = alignToTemplate(landmarks, template);
    const turn = alignToTemplate(mirroredLandmarks, template);
    const angle = (t: Similarity): number => Math.atan2(t.b, t.a);
    assert.ok(Math.abs(angle(straight) - 0.25) < 1e-9, 'the face is turned by 0.25 rad');
    assert.ok(Math.abs(angle(turn) + 0.25) < 1e-9, 'its mirror image is turned the other way');
    const crop = warpToTemplate(picture, straight);
    const mirroredCrop = warpToTemplate(mirrored, turn);
    let sum = 0;
    for (let v = 0; v < 512; v++) {
      for (let u = 0; u < 512; u++) {
        for (let c = 0; c < 3; c++) {
          sum += Math.abs(
            crop.data[(v * 512 + u) * 3 + c]! - mirroredCrop.data[(v * 512 + 511 - u) * 3 + c]!,
          );
        }
      }
    }
    assert.ok(sum / (512 * 512 * 3) < 0.1, `mean difference ${(sum / (512 * 512 * 3)).toFixed(3)}`);
  });

  test('matches the official crops: within 1 level on ≥ 99.9% of values (shared/fixtures/pasteback)', async () => {
    const spec = JSON.parse(fs.readFileSync(path.join(PASTEBACK, 'dev_landmarks.json'), 'utf8')) as {
      photo: string;
      landmarks: [number, number][][];
    };
    const source = await decodePhoto(fs.readFileSync(photo(spec.photo)));
    for (const [i, landmarks] of spec.landmarks.entries()) {
      const crop = warpToTemplate(source.rgb, alignToTemplate(landmarks));
      const official = await sharp(path.join(PASTEBACK, `dev_crop${i}.png`))
        .raw()
        .toBuffer();
      let close = 0;
      for (let k = 0; k < official.length; k++) if (Math.abs(official[k]! - crop.data[k]!) <= 1) close++;
      assert.ok(
        close / official.length >= 0.999,
        `face ${i}: ${((close / official.length) * 100).toFixed(3)}%`,
      );
    }
  });

  test('a face larger than the template is filtered before it is shrunk: fine stripes leave no moiré', () => {
    // Stripes of a 3-pixel period: shrunk 2.3× or 4× they are finer than the crop's pixels can hold.
    const width = 2600;
    const stripes: RgbImage = { width, height: width, data: new Uint8Array(width * width * 3) };
    for (let y = 0; y < width; y++) {
      for (let x = 0; x < width; x += 3) stripes.data.fill(255, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
    for (const [shrink, limit] of [
      [2.3, 12],
      [4, 1],
    ] as const) {
      const crop = warpToTemplate(stripes, faceAt(0.1, 1 / shrink, 1300, 1300));
      let sum = 0;
      let squares = 0;
      for (let i = 0; i < crop.data.length; i += 3) {
        sum += crop.data[i]!;
        squares += crop.data[i]! ** 2;
      }
      const n = crop.data.length / 3;
      const std = Math.sqrt(squares / n - (sum / n) ** 2);
      // Unfiltered, both crops swing by ±36 to ±85 levels.
      assert.ok(std <= limit, `shrunk ${shrink}×: standard deviation ${std.toFixed(1)}`);
      assert.ok(Math.abs(sum / n - 85) < 1, 'the stripes average to a third of white');
    }
  });

  test("a face cut by the photo's corner: what lies outside the photo is the official grey border", () => {
    const picture = smoothPicture(200, 200);
    const crop = warpToTemplate(picture, faceAt(0.2, 2, 10, 10));
    assert.deepEqual([...crop.data.subarray(0, 3)], [132, 133, 135]);
    const centre = (256 * 512 + 256) * 3;
    const [x, y] = photoPointOf(faceAt(0.2, 2, 10, 10), 256, 256);
    assert.ok(Math.abs(crop.data[centre]! - picture.data[(Math.round(y) * 200 + Math.round(x)) * 3]!) <= 3);
  });

  test("CodeFormer's aligned crops: detected landmarks lie within 15 px (median) of the template", async () => {
    const dir = photo('CodeFormer/inputs/cropped_faces');
    const errors: number[] = [];
    for (const name of fs.readdirSync(dir).sort()) {
      const image = await decodePhoto(fs.readFileSync(`${dir}/${name}`));
      const faces = await detector.detect(image.rgb);
      assert.equal(faces.length, 1, `${name}: ${faces.length} faces`);
      const distances = faces[0]!.landmarks.map(([x, y], i) =>
        Math.hypot(x - TEMPLATE_512[i]![0], y - TEMPLATE_512[i]![1]),
      );
      errors.push(distances.reduce((s, d) => s + d, 0) / 5);
    }
    assert.equal(errors.length, 20);
    assert.ok(median(errors) <= 15, `median landmark error ${median(errors).toFixed(1)} px`);
  });
});

/** The mask `pasteBack` blends with, read back from a 16-bit canvas of zeros under a white face. */
function pastedMask(width: number, height: number, toTemplate: Similarity, upscale: number): Float64Array {
  const canvas: Raster = { width, height, channels: 3, depth: 16, data: new Uint16Array(width * height * 3) };
  pasteBack(canvas, new Float32Array(512 * 512 * 3).fill(255), toTemplate, upscale);
  return Float64Array.from({ length: width * height }, (_, i) => canvas.data[i * 3]! / 65535);
}

/**
 * Canvas pixel → template coordinates, for a photo→template map at enlargement `k`, as the official helper places
 * faces (§8.4: the inverse affine ×k, plus 0.5·k when enlarged): canvas X is photo X/k − 0.5 at k > 1.
 */
function onCanvas(t: Similarity, k: number): Similarity {
  const shift = k > 1 ? -0.5 : 0;
  return { a: t.a / k, b: t.b / k, tx: t.tx + (t.a - t.b) * shift, ty: t.ty + (t.b + t.a) * shift };
}

describe('paste-back mask', () => {
  const faces: [string, Similarity, number, number][] = [
    // what, photo→template, enlargement, canvas side (photo px)
    ['an upright 100-px face at ×1', faceAt(0, 5.12, 95, 95), 1, 190],
    ['a turned 100-px face at ×1', faceAt(0.3, 5.12, 95, 95), 1, 190],
    ['a turned 60-px face at ×2', faceAt(0.1, 512 / 60, 65, 65), 2, 130],
    ['a turned 230-px face at ×1', faceAt(-0.5, 512 / 230, 192, 192), 1, 385],
    ['a tiny 15-px face (no feather: 3×3 erosion, no blur) at ×1', faceAt(0.2, 512 / 15, 20, 20), 1, 40],
  ];
  for (const [what, face, k, side] of faces) {
    test(`equals the construction of CODEFORMER.md §8.4 (erosion, edge width, blur): ${what}`, () => {
      const official = officialSoftMask(side * k, side * k, onCanvas(face, k), k);
      const ours = pastedMask(side * k, side * k, face, k);
      let worst = 0;
      for (let i = 0; i < official.length; i++) worst = Math.max(worst, Math.abs(official[i]! - ours[i]!));
      // Exact for an upright square; a turned one's corners differ a little (the blur is not separable there).
      assert.ok(worst <= 0.035, `largest difference ${worst.toFixed(4)}`);
    });
  }

  test('pastes as the official pipeline does: within 2 levels on ≥ 99.5% of values at ×1 (shared/fixtures/pasteback)', async () => {
    const spec = JSON.parse(fs.readFileSync(path.join(PASTEBACK, 'dev_landmarks.json'), 'utf8')) as {
      photo: string;
      landmarks: [number, number][][];
    };
    const source = await decodePhoto(fs.readFileSync(photo(spec.photo)));
    const canvas: Raster = { ...source.pixels, data: source.pixels.data.slice() };
    for (const landmarks of spec.landmarks) {
      // The fixture's "restorer" turns each crop into its negative.
      const toTemplate = alignToTemplate(landmarks);
      const crop = warpToTemplate(source.rgb, toTemplate);
      pasteBack(
        canvas,
        Float32Array.from(crop.data, (v) => 255 - v),
        toTemplate,
        1,
      );
    }
    const official = await sharp(path.join(PASTEBACK, 'dev_square_x1.png')).raw().toBuffer();
    let close = 0;
    for (let i = 0; i < official.length; i++) if (Math.abs(official[i]! - canvas.data[i]!) <= 2) close++;
    assert.ok(
      close / official.length >= 0.995,
      `${((close / official.length) * 100).toFixed(3)}% within 2 levels`,
    );
  });

  test('leaves every pixel beyond the face square untouched, at 8 and 16 bits', () => {
    for (const depth of [8, 16] as const) {
      const width = 300;
      const height = 200;
      const data =
        depth === 8
          ? new Uint8Array(width * height * 4).fill(77)
          : new Uint16Array(width * height * 4).fill(7777);
      const canvas: Raster = { width, height, channels: 4, depth, data };
      const before = data.slice();
      const face = new Float32Array(512 * 512 * 3).fill(255);
      // Face square of 100 px with its corner at (100, 50).
      const toTemplate = { a: 5.12, b: 0, tx: -512, ty: -256 };
      pasteBack(canvas, face, toTemplate);
      let changedOutside = 0;
      let changedInside = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          // The official blur reaches a pixel past the square on the right and bottom (even kernels).
          const inside = x >= 100 && x <= 200 && y >= 50 && y <= 150;
          for (let c = 0; c < 4; c++) {
            const i = (y * width + x) * 4 + c;
            if (data[i] !== before[i]) {
              if (inside) changedInside++;
              else changedOutside++;
            }
          }
        }
      }
      assert.equal(changedOutside, 0);
      assert.ok(changedInside > 0);
      const centre = (100 * width + 150) * 4;
      assert.equal(data[centre], depth === 8 ? 255 : 65535, 'face centre is the restored face');
      assert.equal(data[centre + 3], depth === 8 ? 77 : 7777, 'alpha is untouched');
    }
  });

  test("a face cut by the photo's edge is pasted on the part inside, and nothing breaks", () => {
    const canvas: Raster = {
      width: 80,
      height: 60,
      channels: 3,
      depth: 8,
      data: new Uint8Array(80 * 60 * 3),
    };
    pasteBack(canvas, new Float32Array(512 * 512 * 3).fill(255), faceAt(0.2, 512 / 70, 5, 50));
    const at = (x: number, y: number) => canvas.data[(y * 80 + x) * 3]!;
    assert.equal(at(5, 50), 255, 'the face centre, inside the photo');
    assert.equal(at(79, 0), 0, 'far from the face');
  });
});
