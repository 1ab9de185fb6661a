/**
 * The colorization and inpainting checkpoints, run as their official scripts run them (inference_colorization.py:
 * w = 0 with AdaIN; inference_inpainting.py: w = 1 without AdaIN, blended back through the damage), on tiny
 * models with seeded weights. There is no parity fixture for these variants (shared/fixtures/codeformer covers
 * restoration), so these tests check behaviour.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { CodeFormerRestorer, type ConvertedSidecar } from '../../src-main/core/engine/codeformer.ts';
import { decodePhoto, type Raster, type RgbImage } from '../../src-main/core/engine/image.ts';
import { enlargeRaster } from '../../src-main/core/engine/enlarge.ts';
import { restoreAlignedFace, restorePhoto } from '../../src-main/core/engine/pipeline.ts';
import { faceToTensor } from '../../src-main/core/engine/restore.ts';
import { openSession } from '../../src-main/core/engine/sessions.ts';
import { writeGraphs } from '../../src-main/core/models/convert.ts';
import { PRESETS, type CodeFormerConfig } from '../../src-main/core/nn/codeformer/config.ts';
import { photo } from '../support/paths.ts';
import { TINY_PRESETS, seededStateDict, writeSeededWeights } from '../support/seeded-weights.ts';
import { tempDir } from '../support/temp.ts';
import { nearFace } from '../support/near-face.ts';

const SEED = 3;
const FACE = photo('CodeFormer/inputs/cropped_faces/0143.png');
/** An official inpainting input: an aligned face with its damage painted pure white. */
const MASKED = photo('CodeFormer/inputs/masked_faces/00105.png');
/** A sepia photo with one face, and that face's five points (found by YuNet). */
const GIRL = photo('DeOldify/test_images/1870Girl.jpg');
const GIRL_FACE: [number, number][] = [
  [302.07, 242.04],
  [336.67, 242],
  [318.02, 262.47],
  [307.82, 273.62],
  [336.05, 277.16],
];

/** A converted folder of a tiny model with seeded weights, as `heirloom convert` writes it. */
function convertedFolder(config: CodeFormerConfig, variant: ConvertedSidecar['variant']): string {
  const dir = tempDir();
  const refs = writeSeededWeights(config, SEED, path.join(dir, 'weights.bin'));
  writeGraphs(dir, config, refs, {
    variant,
    source: { file: `codeformer_${variant}.pth`, bytes: 0, sha256: '' },
  });
  return dir;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** A single-channel raster of the photo's size, 255 inside the rectangle and 0 elsewhere. */
function rectangleMask(width: number, height: number, [x0, y0, w, h]: number[]): Raster {
  const data = new Uint8Array(width * height);
  for (let y = y0!; y < y0! + h!; y++) data.fill(255, y * width + x0!, y * width + x0! + w!);
  return { width, height, channels: 1, depth: 8, data };
}

/** Per-channel mean and std over the 16×16 positions (unbiased variance + 1e-5, as AdaIN's calc_mean_std). */
function channelStats(data: Float32Array, channels: number): { mean: number[]; std: number[] } {
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    const values = data.subarray(c * 256, (c + 1) * 256);
    const m = values.reduce((s, v) => s + v, 0) / 256;
    const variance = values.reduce((s, v) => s + (v - m) ** 2, 0) / 255;
    mean.push(m);
    std.push(Math.sqrt(variance + 1e-5));
  }
  return { mean, std };
}

async function runPartA(dir: string, face: RgbImage): Promise<ort.InferenceSession.OnnxValueMapType> {
  const { session } = await openSession(path.join(dir, 'part-a.onnx'), { providers: ['cpu'] });
  try {
    return await session.run({ image: new ort.Tensor('float32', faceToTensor(face), [1, 3, 512, 512]) });
  } finally {
    await session.release();
  }
}

let face: RgbImage;
let colorization: string;
let inpainting: string;
let colorizer: CodeFormerRestorer;
let inpainter: CodeFormerRestorer;
before(async () => {
  face = (await decodePhoto(fs.readFileSync(FACE))).rgb;
  colorization = convertedFolder(TINY_PRESETS.colorization, 'colorization');
  inpainting = convertedFolder(TINY_PRESETS.inpainting, 'inpainting');
  colorizer = await CodeFormerRestorer.open(colorization, { providers: ['cpu'] });
  inpainter = await CodeFormerRestorer.open(inpainting, { providers: ['cpu'] });
});
after(async () => {
  await colorizer.release();
  await inpainter.release();
});

describe('the released checkpoints each run as their official script', () => {
  test('the presets: AdaIN on for colorization (as restoration), off for inpainting', () => {
    assert.equal(PRESETS.restoration.adain, true);
    assert.equal(PRESETS.colorization.adain, true);
    assert.equal(PRESETS.inpainting.adain, false);
  });

  test('colorization runs at w = 0 whatever w it is given: the graph without CFT only', async () => {
    assert.equal(colorizer.task, 'colorize');
    assert.equal(colorizer.fixedFidelity, 0);
    const asked = await colorizer.restore(face, 0.8);
    const zero = await colorizer.restore(face, 0);
    assert.equal(maxDiff(asked, zero), 0);
    assert.deepEqual(colorizer.runs, { partA: 1, partB: 0, partBNoCft: 2 });
  });

  test('inpainting runs at w = 1 whatever w it is given: the graph with CFT', async () => {
    assert.equal(inpainter.task, 'inpaint');
    assert.equal(inpainter.fixedFidelity, 1);
    const asked = await inpainter.restore(face, 0);
    const one = await inpainter.restore(face, 1);
    assert.equal(maxDiff(asked, one), 0);
    assert.deepEqual(inpainter.runs, { partA: 1, partB: 2, partBNoCft: 0 });
  });

  test("colorization's generator input is AdaIN-ed: each channel has lq_feat's mean and std", async () => {
    const { feat, lq_feat: lqFeat } = await runPartA(colorization, face);
    const channels = TINY_PRESETS.colorization.embedDim;
    const got = channelStats(feat!.data as Float32Array, channels);
    const want = channelStats(lqFeat!.data as Float32Array, channels);
    assert.ok(maxDiff(got.mean, want.mean) < 1e-4, `means differ by ${maxDiff(got.mean, want.mean)}`);
    assert.ok(maxDiff(got.std, want.std) < 1e-3, `stds differ by ${maxDiff(got.std, want.std)}`);
  });

  test("inpainting's generator input is the looked-up codebook rows, unchanged (no AdaIN)", async () => {
    const { feat, indices } = await runPartA(inpainting, face);
    const config = TINY_PRESETS.inpainting;
    const codebook = seededStateDict(config, SEED).get('quantize.embedding.weight')!.data;
    const codes = indices!.data as BigInt64Array;
    const values = feat!.data as Float32Array;
    for (let token = 0; token < 256; token++) {
      for (let c = 0; c < config.embedDim; c++) {
        assert.equal(values[c * 256 + token], codebook[Number(codes[token]) * config.embedDim + c]);
      }
    }
  });

  test('switching AdaIN changes the face each variant gives', async () => {
    for (const [variant, folder] of [
      ['colorization', colorization],
      ['inpainting', inpainting],
    ] as const) {
      const flipped = { ...TINY_PRESETS[variant], adain: !TINY_PRESETS[variant].adain };
      const other = await CodeFormerRestorer.open(convertedFolder(flipped, variant), { providers: ['cpu'] });
      const original = await CodeFormerRestorer.open(folder, { providers: ['cpu'] });
      try {
        const diff = maxDiff(await original.restore(face, 0), await other.restore(face, 0));
        assert.ok(diff > 10, `${variant}: AdaIN on and off differ by only ${diff}`);
      } finally {
        await other.release();
        await original.release();
      }
    }
  });
});

describe('colorize', () => {
  test('a gray photo: the face comes in colour, every pixel away from it stays as it was', async () => {
    // A one-channel PNG: the output must gain colour channels to hold a colour face.
    const gray = await sharp(GIRL).toColourspace('b-w').png().toBuffer();
    const result = await restorePhoto(gray, undefined, colorizer, {
      fidelity: 0,
      upscale: 1,
      task: 'colorize',
      landmarks: [GIRL_FACE],
    });
    const input = result.photo.pixels;
    assert.equal(input.channels, 1);
    assert.equal(result.output.channels, 3);
    const near = nearFace(GIRL_FACE);
    let coloured = 0;
    let changedAway = 0;
    for (let y = 0; y < input.height; y++) {
      for (let x = 0; x < input.width; x++) {
        const i = y * input.width + x;
        const [r, g, b] = result.output.data.subarray(i * 3, i * 3 + 3);
        if (!near(x, y)) {
          if (r !== input.data[i] || g !== input.data[i] || b !== input.data[i]) changedAway++;
        } else if (Math.max(r!, g!, b!) - Math.min(r!, g!, b!) > 30) coloured++;
      }
    }
    assert.equal(changedAway, 0, 'pixels away from the face changed');
    assert.ok(coloured > 10_000, `only ${coloured} coloured pixels in the face`);
  });

  test('an aligned gray face comes back in colour: no gray matching', async () => {
    const gray = await sharp(FACE).toColourspace('b-w').png().toBuffer();
    const result = await restoreAlignedFace(gray, colorizer, 0, { task: 'colorize' });
    assert.equal(result.photo.pixels.channels, 1);
    assert.equal(result.output.channels, 3);
    // Exactly the colorizer's face: nothing turned it gray or matched it to the photo's tone.
    const restored = await colorizer.restore(result.photo.rgb, 0);
    assert.ok(maxDiff(result.output.data, restored) <= 0.5);
  });
});

describe('inpaint', () => {
  test("the official rule: the pure-white pixels are repainted, every other pixel is the input's", async () => {
    const bytes = fs.readFileSync(MASKED);
    const result = await restoreAlignedFace(bytes, inpainter, 1, { task: 'inpaint' });
    const input = result.photo.rgb.data;
    const output = result.output.data;
    let repainted = 0;
    for (let i = 0; i < input.length; i += 3) {
      const white = input[i] === 255 && input[i + 1] === 255 && input[i + 2] === 255;
      if (!white) assert.deepEqual([...output.subarray(i, i + 3)], [...input.subarray(i, i + 3)]);
      else if (output[i] !== 255 || output[i + 1] !== 255 || output[i + 2] !== 255) repainted++;
    }
    assert.ok(repainted > 50_000, `only ${repainted} white pixels repainted`);
    assert.deepEqual(result.warnings, []);
  });

  test('a painted mask: the masked pixels go to the network white, as the official inputs are', async () => {
    const bytes = fs.readFileSync(FACE);
    const rectangle = [150, 200, 200, 120];
    const masked = await restoreAlignedFace(bytes, inpainter, 1, {
      task: 'inpaint',
      damage: rectangleMask(512, 512, rectangle),
    });
    // The same face with that rectangle painted white, inpainted by the pure-white rule.
    const painted = (await decodePhoto(bytes)).rgb.data.slice();
    const [x0, y0, w, h] = rectangle as [number, number, number, number];
    for (let y = y0; y < y0 + h; y++) painted.fill(255, (y * 512 + x0) * 3, (y * 512 + x0 + w) * 3);
    const png = await sharp(painted, { raw: { width: 512, height: 512, channels: 3 } })
      .png()
      .toBuffer();
    const white = await restoreAlignedFace(png, inpainter, 1, { task: 'inpaint' });
    assert.equal(maxDiff(masked.output.data, white.output.data), 0);
    const input = masked.photo.rgb.data;
    let inside = 0;
    let changedInside = 0;
    for (let y = 0; y < 512; y++) {
      for (let x = 0; x < 512; x++) {
        const i = (y * 512 + x) * 3;
        const pixel = [...masked.output.data.subarray(i, i + 3)];
        if (x < x0 || x >= x0 + w || y < y0 || y >= y0 + h) {
          assert.deepEqual(pixel, [...input.subarray(i, i + 3)]);
        } else {
          inside++;
          if (maxDiff(pixel, input.subarray(i, i + 3)) > 0) changedInside++;
        }
      }
    }
    assert.ok(changedInside > inside * 0.9, `${changedInside} of ${inside} masked pixels changed`);
  });

  test('a whole photo with a mask in its coordinates: only the masked part of the face changes, at ×2 too', async () => {
    const bytes = fs.readFileSync(GIRL);
    const { width, height } = (await decodePhoto(bytes)).pixels;
    const rectangle = [295, 235, 50, 30];
    const damage = rectangleMask(width, height, rectangle);
    for (const upscale of [1, 2]) {
      const result = await restorePhoto(bytes, undefined, inpainter, {
        fidelity: 1,
        upscale,
        task: 'inpaint',
        damage,
        landmarks: [GIRL_FACE],
      });
      const background = enlargeRaster(result.photo.pixels, upscale);
      const [x0, y0, w, h] = rectangle.map((v) => v * upscale) as [number, number, number, number];
      let changedInside = 0;
      for (let y = 0; y < background.height; y++) {
        for (let x = 0; x < background.width; x++) {
          const i = (y * background.width + x) * 3;
          const diff = maxDiff(result.output.data.subarray(i, i + 3), background.data.subarray(i, i + 3));
          const inside = x >= x0 && x < x0 + w && y >= y0 && y < y0 + h;
          if (!inside) assert.equal(diff, 0, `×${upscale}: pixel (${x}, ${y}) outside the mask changed`);
          else if (diff > 0) changedInside++;
        }
      }
      assert.ok(
        changedInside > w * h * 0.9,
        `×${upscale}: ${changedInside} of ${w * h} masked pixels changed`,
      );
    }
  });

  test('nothing marked: the photo comes back as it was, with a warning', async () => {
    const result = await restoreAlignedFace(fs.readFileSync(FACE), inpainter, 1, { task: 'inpaint' });
    assert.equal(maxDiff(result.output.data, result.photo.pixels.data), 0);
    assert.match(result.warnings.join('\n'), /no damage marked/);
  });

  test('a mask of another size is refused, naming both sizes', async () => {
    await assert.rejects(
      restoreAlignedFace(fs.readFileSync(FACE), inpainter, 1, {
        task: 'inpaint',
        damage: rectangleMask(100, 80, [0, 0, 10, 10]),
      }),
      /the damage mask is 100×80 but the photo is 512×512/,
    );
  });
});
