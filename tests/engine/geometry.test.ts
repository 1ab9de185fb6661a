import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  TEMPLATE_512,
  alignToTemplate,
  applySimilarity,
  invertSimilarity,
  warpToTemplate,
} from '../../src-main/core/engine/align.ts';
import { FaceDetector } from '../../src-main/core/engine/detect.ts';
import { decodePhoto, type Raster } from '../../src-main/core/engine/image.ts';
import { pasteBack, FeatherRamp } from '../../src-main/core/engine/paste.ts';
import { photo, YUNET } from '../support/paths.ts';

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

describe('alignment to the 512 template', () => {
  test('recovers a known similarity exactly from its 5 landmarks', () => {
    const angle = 0.3;
    const scale = 0.17;
    const truth = { a: scale * Math.cos(angle), b: scale * Math.sin(angle), tx: 40, ty: -12 };
    const photoPoints = TEMPLATE_512.map(([u, v]) => applySimilarity(invertSimilarity(truth), u, v));
    const found = alignToTemplate(photoPoints);
    for (const key of ['a', 'b', 'tx', 'ty'] as const)
      assert.ok(Math.abs(found[key] - truth[key]) < 1e-9, key);
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

  test('warping an aligned crop with its own landmarks gives nearly the same crop back', async () => {
    const image = await decodePhoto(fs.readFileSync(photo('CodeFormer/inputs/cropped_faces/0143.png')));
    const identity = alignToTemplate(TEMPLATE_512);
    const crop = warpToTemplate(image.rgb, identity);
    let maxDiff = 0;
    for (let i = 0; i < crop.data.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(crop.data[i]! - image.rgb.data[i]!));
    assert.ok(maxDiff <= 1, `max difference ${maxDiff}`);
  });
});

describe('paste-back mask', () => {
  test('is 0 at the edge of the face square, 1 well inside, and rises monotonically', () => {
    const ramp = new FeatherRamp(200);
    assert.equal(ramp.at(0), 0);
    assert.equal(ramp.at(40), 1);
    let last = 0;
    for (let d = 0; d <= 40; d += 0.5) {
      const m = ramp.at(d);
      assert.ok(m >= last && m <= 1);
      last = m;
    }
  });

  test('leaves every pixel outside the face square untouched, at 8 and 16 bits', () => {
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
          const inside = x >= 100 && x < 200 && y >= 50 && y < 150;
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
});
