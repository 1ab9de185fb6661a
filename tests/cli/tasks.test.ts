/**
 * `heirloom restore --task colorize | inpaint`: CodeFormer's colorization and inpainting checkpoints end to end
 * through the CLI (tiny presets, seeded weights, converted on first use), and the refusal of a checkpoint that
 * is not the one the task needs.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { decodePhoto } from '../../src-main/core/engine/image.ts';
import type { Restorer } from '../../src-main/core/engine/restore.ts';
import { openRestorer } from '../../src-main/core/models/open.ts';
import { runMain, tempDir } from '../support/cli.ts';
import { IDENTITY_RESTORER, YUNET, photo } from '../support/paths.ts';
import { writePth } from '../support/pth-writer.ts';
import { TINY_PRESETS, seededStateDict } from '../support/seeded-weights.ts';
// Checkpoints are recognised and checked against the tiny presets in this process (the CLI runs in it).
import '../support/use-tiny-presets.ts';
import { nearFace } from '../support/near-face.ts';

const GRAY_FACE = photo('CodeFormer/inputs/gray_faces/Hepburn01.png');
const MASKED_FACE = photo('CodeFormer/inputs/masked_faces/00105.png');
const GIRL = photo('DeOldify/test_images/1870Girl.jpg');

const models = tempDir();
const restoration = path.join(models, 'codeformer.pth');
const colorization = path.join(models, 'codeformer_colorization.pth');
const inpainting = path.join(models, 'codeformer_inpainting.pth');
/** One data folder for the whole file: each checkpoint is converted once, on first use. */
const data = tempDir();
const env = { HEIRLOOM_DATA: data };

/** Runs `heirloom restore <args>` into a new folder; returns the run and the one file written, if any. */
async function restore(args: readonly string[]): Promise<{ code: number; stderr: string; file?: string }> {
  const out = tempDir();
  const run = await runMain(['restore', ...args, '--out', out], env);
  const written = fs.readdirSync(out);
  return { ...run, ...(written.length === 1 ? { file: path.join(out, written[0]!) } : {}) };
}

async function pixels(file: string | Buffer) {
  return (await decodePhoto(typeof file === 'string' ? fs.readFileSync(file) : file)).pixels;
}

before(() => {
  writePth(restoration, seededStateDict(TINY_PRESETS.restoration, 1), 1500);
  writePth(colorization, seededStateDict(TINY_PRESETS.colorization, 2), 1500);
  writePth(inpainting, seededStateDict(TINY_PRESETS.inpainting, 3), 1500);
});

describe('restore --task colorize', () => {
  let colorizer: Restorer;
  before(async () => {
    colorizer = await openRestorer(colorization, data, { providers: ['cpu'] });
  });
  after(async () => {
    await colorizer.release();
  });

  test('an aligned gray face comes back in the colours the model gives it at w = 0', async () => {
    const run = await restore([GRAY_FACE, '--aligned', '--task', 'colorize', '--restorer', colorization]);
    assert.equal(run.code, 0, run.stderr);
    const output = await pixels(run.file!);
    assert.equal(output.channels, 3);
    const face = (await decodePhoto(fs.readFileSync(GRAY_FACE))).rgb;
    const expected = await colorizer.restore(face, 0);
    let far = 0;
    for (let i = 0; i < expected.length; i++) if (Math.abs(output.data[i]! - expected[i]!) > 1) far++;
    assert.equal(far, 0, 'values more than one level from the colorizer at w = 0');
  });

  test('a whole gray photo: the face is colorized and pasted back, every pixel away from it untouched', async () => {
    const input = path.join(tempDir(), 'girl.png');
    await sharp(GIRL).toColourspace('b-w').png().toFile(input);
    const out = tempDir();
    const run = await runMain(
      [
        'restore',
        input,
        '--task',
        'colorize',
        '--restorer',
        colorization,
        '--detector',
        YUNET,
        '--json',
        '--out',
        out,
      ],
      env,
    );
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { output: string; faces: { landmarks: [number, number][] }[] };
    assert.equal(report.faces.length, 1);
    const before = await pixels(input);
    const after = await pixels(report.output);
    assert.deepEqual([before.channels, after.channels], [1, 3]);
    const near = nearFace(report.faces[0]!.landmarks);
    let changedAway = 0;
    let coloured = 0;
    for (let y = 0; y < before.height; y++) {
      for (let x = 0; x < before.width; x++) {
        const i = y * before.width + x;
        const [r, g, b] = after.data.subarray(i * 3, i * 3 + 3) as unknown as number[];
        if (!near(x, y)) {
          if (r !== before.data[i] || g !== before.data[i] || b !== before.data[i]) changedAway++;
        } else if (Math.max(r!, g!, b!) - Math.min(r!, g!, b!) > 30) coloured++;
      }
    }
    assert.equal(changedAway, 0);
    assert.ok(coloured > 1000, `only ${coloured} coloured pixels in the face`);
  });

  test('the installed codeformer-colorization is the default model', async () => {
    const installed = path.join(data, 'models', 'codeformer-colorization');
    const convert = await runMain(['convert', colorization, '--out', installed]);
    assert.equal(convert.code, 0, convert.stderr);
    try {
      const run = await restore([GRAY_FACE, '--aligned', '--task', 'colorize']);
      assert.equal(run.code, 0, run.stderr);
    } finally {
      fs.rmSync(installed, { recursive: true });
    }
  });
});

describe('restore --task inpaint', () => {
  test("--aligned, the official rule: the pure-white pixels are repainted, every other pixel is the input's", async () => {
    const run = await restore([MASKED_FACE, '--aligned', '--task', 'inpaint', '--restorer', inpainting]);
    assert.equal(run.code, 0, run.stderr);
    const input = await pixels(MASKED_FACE);
    const output = await pixels(run.file!);
    let repainted = 0;
    for (let i = 0; i < input.data.length; i += 3) {
      const pixel = [...input.data.subarray(i, i + 3)];
      const out = [...output.data.subarray(i, i + 3)];
      if (pixel.some((v) => v !== 255)) assert.deepEqual(out, pixel);
      else if (out.some((v) => v !== 255)) repainted++;
    }
    assert.ok(repainted > 50_000, `only ${repainted} white pixels repainted`);
  });

  test('a whole photo with --mask <file>: only the masked part of the face changes', async () => {
    const work = tempDir();
    const input = path.join(work, 'girl.png');
    await sharp(GIRL).png().toFile(input);
    const { width, height } = await pixels(input);
    const [x0, y0, w, h] = [295, 235, 50, 30];
    const mask = Buffer.alloc(width * height);
    for (let y = y0; y < y0 + h; y++) mask.fill(255, y * width + x0, y * width + x0 + w);
    const maskFile = path.join(work, 'damage.png');
    await sharp(mask, { raw: { width, height, channels: 1 } })
      .png()
      .toFile(maskFile);

    const run = await restore([
      input,
      '--task',
      'inpaint',
      '--mask',
      maskFile,
      '--restorer',
      inpainting,
      '--detector',
      YUNET,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const before = await pixels(input);
    const after = await pixels(run.file!);
    let changedInside = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 3;
        const same = [0, 1, 2].every((c) => after.data[i + c] === before.data[i + c]);
        if (x < x0 || x >= x0 + w || y < y0 || y >= y0 + h)
          assert.ok(same, `(${x}, ${y}) outside the mask changed`);
        else if (!same) changedInside++;
      }
    }
    assert.ok(changedInside > w * h * 0.9, `${changedInside} of ${w * h} masked pixels changed`);
  });

  test('a mask that is not the size of the photo fails that photo, naming both sizes', async () => {
    const maskFile = path.join(tempDir(), 'small.png');
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#fff' } })
      .png()
      .toFile(maskFile);
    const run = await restore([
      MASKED_FACE,
      '--aligned',
      '--task',
      'inpaint',
      '--mask',
      maskFile,
      '--restorer',
      inpainting,
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /the damage mask is 64×64 but the photo is 512×512/);
  });
});

describe('a checkpoint of the wrong variant is refused, naming what it is and what is needed', () => {
  test('--task colorize with codeformer.pth', async () => {
    const run = await restore([GRAY_FACE, '--aligned', '--task', 'colorize', '--restorer', restoration]);
    assert.equal(run.code, 2);
    assert.equal(
      run.stderr,
      `heirloom: ${restoration} is CodeFormer's restoration model; --task colorize needs ` +
        'codeformer_colorization.pth (or use it with --task restore)\n',
    );
    assert.equal(run.file, undefined);
  });

  test('the default task with codeformer_inpainting.pth', async () => {
    const run = await restore([GRAY_FACE, '--aligned', '--restorer', inpainting]);
    assert.equal(run.code, 2);
    assert.equal(
      run.stderr,
      `heirloom: ${inpainting} is CodeFormer's inpainting model; --task restore (the default) needs ` +
        'codeformer.pth (or use it with --task inpaint)\n',
    );
  });

  test('--task inpaint with a converted colorization folder names the checkpoint it came from', async () => {
    const folder = path.join(tempDir(), 'converted');
    assert.equal((await runMain(['convert', colorization, '--out', folder])).code, 0);
    const run = await restore([MASKED_FACE, '--aligned', '--task', 'inpaint', '--restorer', folder]);
    assert.equal(run.code, 2);
    assert.equal(
      run.stderr,
      `heirloom: ${folder} (converted from codeformer_colorization.pth) is CodeFormer's colorization model; ` +
        '--task inpaint needs codeformer_inpainting.pth (or use it with --task colorize)\n',
    );
  });

  test('--task colorize with a plain ONNX restorer', async () => {
    const run = await restore([
      GRAY_FACE,
      '--aligned',
      '--task',
      'colorize',
      '--restorer',
      IDENTITY_RESTORER,
    ]);
    assert.equal(run.code, 2);
    assert.equal(
      run.stderr,
      `heirloom: ${IDENTITY_RESTORER} is not a CodeFormer checkpoint; --task colorize needs CodeFormer's ` +
        'colorization model, codeformer_colorization.pth\n',
    );
  });

  test('--task inpaint with nothing installed says what to download', async () => {
    const run = await runMain(
      ['restore', MASKED_FACE, '--aligned', '--task', 'inpaint', '--out', tempDir()],
      {
        HEIRLOOM_DATA: tempDir(),
      },
    );
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /^heirloom: CodeFormer's inpainting model is not installed: run 'heirloom models download codeformer-inpainting --accept-license' \(or pass --restorer codeformer_inpainting\.pth\)\n/,
    );
  });
});

describe('--task and --mask on the command line', () => {
  const usage = async (args: string[], message: RegExp) => {
    const run = await restore([GRAY_FACE, '--aligned', ...args]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, message);
    assert.match(run.stderr, /\(run 'heirloom restore --help' for usage\)/);
  };

  test('an unknown task', () =>
    usage(['--task', 'paint'], /--task must be restore, colorize or inpaint, got paint/));

  test('--w with colorize or inpaint, whose models run at their own w', async () => {
    await usage(
      ['--task', 'colorize', '--w', '0.5'],
      /--w does not go with --task colorize: codeformer_colorization\.pth runs at w = 0/,
    );
    await usage(
      ['--task', 'inpaint', '--w', '0.5'],
      /--w does not go with --task inpaint: codeformer_inpainting\.pth runs at w = 1/,
    );
  });

  test('--mask square with inpaint: --mask names the damage there', () =>
    usage(['--task', 'inpaint', '--mask', 'square'], /with --task inpaint, --mask names the damage mask/));

  test('a mask file without --task inpaint', () =>
    usage(
      ['--mask', MASKED_FACE],
      /--mask must be parse or square, got .* \(a damage mask file goes with --task inpaint\)/,
    ));

  test('--parser with inpaint', () =>
    usage(['--task', 'inpaint', '--parser', GRAY_FACE], /--parser does not go with --task inpaint/));

  test('the help says what each task needs, and what --mask means with inpaint', async () => {
    const run = await runMain(['restore', '--help']);
    assert.match(run.stdout, /--task <task>/);
    assert.match(run.stdout, /codeformer_colorization\.pth/);
    assert.match(run.stdout, /with --task inpaint, --mask names the damage/);
  });
});
