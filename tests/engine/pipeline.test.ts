import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { alignToTemplate, applySimilarity, invertSimilarity } from '../../src-main/core/engine/align.ts';
import { FaceDetector } from '../../src-main/core/engine/detect.ts';
import { restorePhoto } from '../../src-main/core/engine/pipeline.ts';
import { OnnxRestorer } from '../../src-main/core/engine/restore.ts';
import { flatColourRestorer } from '../support/restorers.ts';
import {
  GRAY_RESTORER,
  IDENTITY_RESTORER,
  IDENTITY_RESTORER_F32W,
  SOLVAY,
  YUNET,
  photo,
} from '../support/paths.ts';
import { nearFace } from '../support/near-face.ts';

let detector: FaceDetector;
let identity: OnnxRestorer;
before(async () => {
  detector = await FaceDetector.open(YUNET);
  identity = await OnnxRestorer.open(IDENTITY_RESTORER, { providers: ['cpu'] });
});
after(async () => {
  await detector.release();
  await identity.release();
});

/** Is (x, y) inside the (rotated) 512-template square of a face, grown by `margin` template pixels? */
describe('restoring a whole photo', () => {
  test('identity restorer: Solvay comes back at ≥ 38 dB PSNR and untouched away from the faces', async () => {
    const bytes = fs.readFileSync(SOLVAY);
    const result = await restorePhoto(bytes, detector, identity, { fidelity: 0.5, upscale: 1 });
    assert.ok(result.faces.length >= 28);
    const input = result.photo.pixels;
    const output = result.output;
    assert.deepEqual(
      [output.width, output.height, output.channels],
      [input.width, input.height, input.channels],
    );
    const faces = result.faces.map((f) => nearFace(f.landmarks));
    let squaredError = 0;
    let colourSamples = 0;
    let changedAway = 0;
    for (let y = 0; y < input.height; y++) {
      for (let x = 0; x < input.width; x++) {
        const near = faces.some((inside) => inside(x, y));
        for (let c = 0; c < input.channels; c++) {
          const i = (y * input.width + x) * input.channels + c;
          const d = output.data[i]! - input.data[i]!;
          if (c < 3) {
            squaredError += d * d;
            colourSamples++;
          }
          if (!near && d !== 0) changedAway++;
        }
      }
    }
    const psnr = 10 * Math.log10((255 * 255) / (squaredError / colourSamples));
    assert.ok(psnr >= 38, `PSNR ${psnr.toFixed(2)} dB`);
    assert.equal(changedAway, 0, 'pixels away from the faces changed');
  });

  test('paints the restored face over the face: a gray restorer turns the face centres mid-grey', async () => {
    const gray = await OnnxRestorer.open(GRAY_RESTORER, { providers: ['cpu'] });
    try {
      const bytes = fs.readFileSync(photo('CodeFormer/inputs/whole_imgs/06.png'));
      const result = await restorePhoto(bytes, detector, gray, { fidelity: 0.5, upscale: 1 });
      assert.equal(result.photo.gray, false);
      for (const face of result.faces) {
        const [cx, cy] = applySimilarity(invertSimilarity(alignToTemplate(face.landmarks)), 256, 256);
        const i = (Math.round(cy) * result.output.width + Math.round(cx)) * result.output.channels;
        for (let c = 0; c < 3; c++)
          assert.ok(Math.abs(result.output.data[i + c]! - 128) <= 2, `channel ${c}`);
      }
    } finally {
      await gray.release();
    }
  });

  test('upscale 2 doubles the photo and keeps the faces where they were', async () => {
    const bytes = fs.readFileSync(photo('CodeFormer/inputs/whole_imgs/03.jpg'));
    const one = await restorePhoto(bytes, detector, identity, { fidelity: 0.5, upscale: 1 });
    const two = await restorePhoto(bytes, detector, identity, { fidelity: 0.5, upscale: 2 });
    assert.deepEqual([two.output.width, two.output.height], [one.output.width * 2, one.output.height * 2]);
    // Downsampled 2×2 blocks of the ×2 output stay close to the ×1 output (faces included).
    let sum = 0;
    let n = 0;
    for (let y = 0; y < one.output.height; y++) {
      for (let x = 0; x < one.output.width; x++) {
        for (let c = 0; c < 3; c++) {
          let block = 0;
          for (const [dx, dy] of [
            [0, 0],
            [1, 0],
            [0, 1],
            [1, 1],
          ] as const) {
            block += two.output.data[((2 * y + dy) * two.output.width + 2 * x + dx) * 3 + c]!;
          }
          sum += Math.abs(block / 4 - one.output.data[(y * one.output.width + x) * 3 + c]!);
          n++;
        }
      }
    }
    assert.ok(sum / n < 3, `mean difference ${(sum / n).toFixed(2)}`);
  });

  test('a black-and-white photo keeps black-and-white faces, toned like the photo', async () => {
    const red = await OnnxRestorer.open(flatColourRestorer([1, -1, -1]), { providers: ['cpu'] });
    try {
      const result = await restorePhoto(fs.readFileSync(SOLVAY), detector, red, {
        fidelity: 0.5,
        upscale: 1,
      });
      assert.equal(result.photo.gray, true);
      const { data, channels, width, height } = result.output;
      let changed = 0;
      for (let i = 0; i < width * height; i++) {
        const o = i * channels;
        assert.ok(
          Math.abs(data[o]! - data[o + 1]!) <= 1 && Math.abs(data[o]! - data[o + 2]!) <= 1,
          'colour in output',
        );
        if (data[o] !== result.photo.pixels.data[o]) changed++;
      }
      assert.ok(changed > 20_000, `only ${changed} pixels were restored`);
    } finally {
      await red.release();
    }
  });

  test('reads the restorer contract from the model: other names and a float32 scalar fidelity work', async () => {
    const other = await OnnxRestorer.open(IDENTITY_RESTORER_F32W, { providers: ['cpu'] });
    try {
      const result = await restorePhoto(
        fs.readFileSync(photo('CodeFormer/inputs/whole_imgs/04.jpg')),
        detector,
        other,
        {
          fidelity: 0.7,
          upscale: 1,
        },
      );
      assert.equal(result.faces.length, 1);
    } finally {
      await other.release();
    }
  });

  test('refuses a model that is not a restorer, saying why', async () => {
    await assert.rejects(OnnxRestorer.open(YUNET, { providers: ['cpu'] }), /is not a face restorer: .*512/);
  });
});

describe('odd faces and odd photos', () => {
  let gray: OnnxRestorer;
  before(async () => {
    gray = await OnnxRestorer.open(GRAY_RESTORER, { providers: ['cpu'] });
  });
  after(async () => {
    await gray.release();
  });

  /** Every face centre that lies in the photo is the gray restorer's mid-grey. */
  function assertFaceCentresGray(result: Awaited<ReturnType<typeof restorePhoto>>): void {
    for (const face of result.faces) {
      const [cx, cy] = applySimilarity(invertSimilarity(alignToTemplate(face.landmarks)), 256, 256);
      const [x, y] = [Math.round(cx), Math.round(cy)];
      if (x < 0 || y < 0 || x >= result.output.width || y >= result.output.height) continue;
      const i = (y * result.output.width + x) * result.output.channels;
      for (let c = 0; c < 3; c++)
        assert.ok(Math.abs(result.output.data[i + c]! - 128) <= 2, `face at ${x},${y}`);
    }
  }

  test('tiny faces (about 15 px): Solvay at 40% has its faces found and restored in place', async () => {
    // Tinted, so the photo counts as colour and the restored faces keep the restorer's grey (§8.4).
    const small = await sharp(SOLVAY).resize(531).tint({ r: 150, g: 100, b: 50 }).png().toBuffer();
    const result = await restorePhoto(small, detector, gray, { fidelity: 0.5, upscale: 1 });
    assert.ok(result.faces.length >= 27, `${result.faces.length} faces`);
    assert.ok(
      result.faces.every((f) => f.box[2] < 20),
      'faces under 20 px',
    );
    assertFaceCentresGray(result);
  });

  test("a face cut by the photo's edge is restored on the part inside; the rest of the photo is untouched", async () => {
    const source = photo('CodeFormer/inputs/whole_imgs/04.jpg'); // 225×225, one face at x 80–133
    const cut = await sharp(source).extract({ left: 100, top: 0, width: 125, height: 225 }).png().toBuffer();
    const result = await restorePhoto(cut, detector, gray, { fidelity: 0.5, upscale: 1 });
    assert.equal(result.faces.length, 1);
    assert.ok(result.faces[0]!.box[0] < 1, 'the face touches the left edge');
    assertFaceCentresGray(result);
    const { width, height, data } = result.output;
    let changedAway = 0;
    const near = nearFace(result.faces[0]!.landmarks);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (near(x, y)) continue;
        for (let c = 0; c < 3; c++) {
          if (data[(y * width + x) * 3 + c] !== result.photo.pixels.data[(y * width + x) * 3 + c])
            changedAway++;
        }
      }
    }
    assert.equal(changedAway, 0);
  });

  for (const [width, height] of [
    [1, 1],
    [20000, 20],
    [3, 2000],
  ] as const) {
    test(`a ${width}×${height} photo comes back unchanged, with no face`, async () => {
      const data = Buffer.alloc(width * height * 3);
      for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
      const png = await sharp(data, { raw: { width, height, channels: 3 } })
        .png()
        .toBuffer();
      const result = await restorePhoto(png, detector, gray, { fidelity: 0.5, upscale: 1 });
      assert.deepEqual(result.faces, []);
      assert.deepEqual([result.output.width, result.output.height], [width, height]);
      assert.deepEqual(Buffer.from(result.output.data), data);
    });
  }

  test('refuses an enlargement whose result would pass the pixel limit, before decoding it', async () => {
    const png = await sharp({ create: { width: 6000, height: 5000, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    await assert.rejects(
      restorePhoto(png, detector, gray, { fidelity: 0.5, upscale: 3 }),
      /enlarged 3× the image would be 18000×15000 \(270 MP\); the limit is 200 MP/,
    );
  });
});
