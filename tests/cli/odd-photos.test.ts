import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import sharp from 'sharp';
import { decodePhoto } from '../../src-main/core/engine/image.ts';
import {
  alignToTemplate,
  applySimilarity,
  invertSimilarity,
  similarityScale,
  type Similarity,
} from '../../src-main/core/engine/align.ts';
import { runMain, tempDir, type CliRun } from '../support/cli.ts';
import {
  iccDescription,
  isGood,
  jpegTables,
  oddPhotos,
  writeOddPhotos,
  type GoodExpectation,
  type OddPhoto,
  type Pixels,
} from '../support/odd-photos.ts';
import { IDENTITY_RESTORER, YUNET } from '../support/paths.ts';
import { decodePng } from '../support/png.ts';

const MODELS = ['--restorer', IDENTITY_RESTORER, '--detector', YUNET];
const EXTENSION = { png: '.png', jpeg: '.jpg', webp: '.webp', tiff: '.tif' } as const;

interface Face {
  readonly landmarks: [number, number][];
}

interface Line {
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly width?: number;
  readonly height?: number;
  readonly faces?: Face[];
}

/**
 * How far past a face's 512 template square the paste-back may reach: CODEFORMER.md §8.4 erodes with
 * even-sized kernels, which OpenCV anchors off-centre, so the blurred mask reaches about one photo pixel past
 * the square on the right and bottom sides (tests/engine/pipeline.test.ts allows the same).
 */
const FACE_SQUARE_MARGIN = { templatePixels: 2, photoPixels: 1.5 };

/** Which pixels lie inside some face's 512 template square grown by FACE_SQUARE_MARGIN: the only ones the
 *  identity restorer may touch (it returns the face, which is then resampled and feathered back in). */
function faceSquares(width: number, height: number, faces: readonly Face[]): Uint8Array {
  const near = new Uint8Array(width * height);
  for (const face of faces) {
    const toTemplate: Similarity = alignToTemplate(face.landmarks);
    const margin =
      FACE_SQUARE_MARGIN.templatePixels + FACE_SQUARE_MARGIN.photoPixels * similarityScale(toTemplate);
    const back = invertSimilarity(toTemplate);
    const corners = [
      [-margin, -margin],
      [511 + margin, -margin],
      [-margin, 511 + margin],
      [511 + margin, 511 + margin],
    ].map(([u, v]) => applySimilarity(back, u!, v!));
    const x0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[0]))));
    const x1 = Math.min(width - 1, Math.ceil(Math.max(...corners.map((c) => c[0]))));
    const y0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[1]))));
    const y1 = Math.min(height - 1, Math.ceil(Math.max(...corners.map((c) => c[1]))));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const [u, v] = applySimilarity(toTemplate, x, y);
        if (u >= -margin && v >= -margin && u <= 511 + margin && v <= 511 + margin) near[y * width + x] = 1;
      }
    }
  }
  return near;
}

/** A photo's samples as sharp reads them, in the expected depth and layout, with no conversion. */
async function sharpPixels(bytes: Uint8Array, expect: GoodExpectation): Promise<Pixels> {
  const { depth, channels } = expect;
  let image = sharp(bytes);
  // sharp reads 16-bit samples only when told the 16-bit colour space (else it scales them to 8 bits).
  if (depth === 16) image = image.toColourspace(channels <= 2 ? 'grey16' : 'rgb16');
  // 8-bit gray only when told so (else as RGB); gray+alpha never (libvips drops the alpha on the way to 'b-w').
  else if (channels === 1) image = image.toColourspace('b-w');
  const { data, info } = await image
    .raw({ depth: depth === 16 ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  if (depth === 16) {
    const samples = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
    return { width, height, channels: info.channels as Pixels['channels'], depth, data: samples };
  }
  // 8-bit gray+alpha comes out of sharp as RGBA with R = G = B: its gray and alpha are bands 0 and 3.
  if (channels === 2 && info.channels === 4) {
    const samples = new Uint8Array(width * height * 2);
    for (let i = 0; i < width * height; i++) {
      assert.ok(
        data[i * 4] === data[i * 4 + 1] && data[i * 4] === data[i * 4 + 2],
        'gray+alpha read as colour',
      );
      samples[i * 2] = data[i * 4]!;
      samples[i * 2 + 1] = data[i * 4 + 3]!;
    }
    return { width, height, channels, depth, data: samples };
  }
  return { width, height, channels: info.channels as Pixels['channels'], depth, data: new Uint8Array(data) };
}

/**
 * An output's samples as a careful decoder sees them, in sRGB: as stored (PNGs by our own decoder, the rest
 * by sharp), except an output that carries its source's colour profile — its pixels are in that profile, as
 * the source's were — which the app's own decoder brings to sRGB (its conversion is checked against the
 * arithmetic in tests/engine/image.test.ts).
 */
async function storedPixels(bytes: Buffer, expect: GoodExpectation): Promise<Pixels> {
  const { icc } = await sharp(bytes).metadata();
  if (icc && !/sRGB/.test(iccDescription(icc))) return (await decodePhoto(bytes)).pixels;
  return expect.format === 'png' ? decodePng(bytes) : sharpPixels(bytes, expect);
}

/** The colour profile of what went in under the case's name, if it had one. */
async function sourceProfile(c: OddPhoto): Promise<Buffer | undefined> {
  const bytes = 'bytes' in c.entry ? c.entry.bytes : 'linkTo' in c.entry ? c.entry.linkTo : undefined;
  return bytes && (await sharp(bytes).metadata()).icc;
}

interface Measures {
  /** Colour PSNR over the whole photo, dB (Infinity when identical). */
  readonly psnr: number;
  /** Samples (alpha included) that differ outside every face square. */
  readonly changedAway: number;
  /** Pixels outside every face square, and how many of them are identical in every sample. */
  readonly pixelsAway: number;
  readonly identicalAway: number;
  /** Largest difference outside the faces, in 8-bit levels. */
  readonly maxAway: number;
  /** Mean and largest absolute colour difference over the whole photo, in 8-bit levels. */
  readonly meanLevels: number;
  readonly maxLevels: number;
  /** Alpha samples that differ anywhere. */
  readonly alphaChanged: number;
}

function measure(actual: Pixels, reference: Pixels, near: Uint8Array): Measures {
  const { channels } = reference;
  const colours = channels >= 3 ? 3 : 1;
  const peak = reference.depth === 16 ? 65535 : 255;
  let squared = 0;
  let absolute = 0;
  let changedAway = 0;
  let pixelsAway = 0;
  let identicalAway = 0;
  let maxAway = 0;
  let maxLevels = 0;
  let alphaChanged = 0;
  for (let p = 0; p < reference.width * reference.height; p++) {
    let same = true;
    for (let c = 0; c < channels; c++) {
      const i = p * channels + c;
      const d = actual.data[i]! - reference.data[i]!;
      if (c < colours) {
        squared += (d / peak) ** 2;
        absolute += (Math.abs(d) * 255) / peak;
        maxLevels = Math.max(maxLevels, (Math.abs(d) * 255) / peak);
      } else if (d !== 0) alphaChanged++;
      if (d !== 0) same = false;
      if (!near[p] && d !== 0) {
        changedAway++;
        maxAway = Math.max(maxAway, (Math.abs(d) * 255) / peak);
      }
    }
    if (!near[p]) {
      pixelsAway++;
      if (same) identicalAway++;
    }
  }
  const samples = reference.width * reference.height * colours;
  return {
    psnr: 10 * Math.log10(1 / (squared / samples)),
    changedAway,
    pixelsAway,
    identicalAway,
    maxAway,
    meanLevels: absolute / samples,
    maxLevels,
    alphaChanged,
  };
}

const cases: OddPhoto[] = await oddPhotos();
const goodCases = cases.filter((c) => isGood(c.expect));
const badCases = cases.filter((c) => 'error' in c.expect);
const skippedCases = cases.filter((c) => 'skipped' in c.expect);

describe('a batch of odd and hostile photos goes through heirloom restore', () => {
  const folder = tempDir();
  const elsewhere = tempDir();
  const out = tempDir();
  let run: CliRun;
  let lines: Line[];
  const lineOf = (c: OddPhoto): Line[] => lines.filter((l) => l.input === path.join(folder, c.file));

  before(async () => {
    writeOddPhotos(cases, folder, elsewhere);
    run = await runMain(['restore', folder, '--out', out, '--json', ...MODELS]);
    lines = run.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Line);
  });

  test('the inputs are what the cases say they are', async () => {
    for (const c of goodCases) {
      const expect = c.expect as GoodExpectation;
      const bytes = 'bytes' in c.entry ? c.entry.bytes : 'linkTo' in c.entry ? c.entry.linkTo : undefined;
      assert.ok(bytes, c.name);
      const meta = await sharp(bytes).metadata();
      assert.deepEqual(
        [meta.autoOrient.width, meta.autoOrient.height],
        [expect.width, expect.height],
        c.name,
      );
      if (expect.compare.kind === 'lossless') {
        // Read by sharp, a lossless input holds exactly the reference (so our PNG writer is checked too).
        assert.equal(meta.channels, expect.channels, c.name);
        assert.equal(meta.depth, expect.depth === 16 ? 'ushort' : 'uchar', c.name);
        const pixels = await sharpPixels(bytes, expect);
        assert.ok(
          Buffer.from(pixels.data.buffer, pixels.data.byteOffset, pixels.data.byteLength).equals(
            Buffer.from(
              expect.reference.data.buffer,
              expect.reference.data.byteOffset,
              expect.reference.data.byteLength,
            ),
          ),
          `${c.name}: the input does not hold the reference pixels`,
        );
      }
    }
  });

  test('exit status 1 and one stderr line per bad input', () => {
    assert.equal(run.code, 1, run.stderr);
    const stderr = run.stderr.split('\n').filter((l) => l.trim());
    assert.equal(stderr.length, badCases.length, run.stderr);
    for (const c of badCases) {
      const prefix = `${path.join(folder, c.file)}: `;
      assert.equal(stderr.filter((l) => l.startsWith(prefix)).length, 1, `${c.name}:\n${run.stderr}`);
    }
  });

  test('nothing partial is left in --out', () => {
    for (const entry of fs.readdirSync(out, { withFileTypes: true })) {
      assert.ok(entry.isFile(), `${entry.name} is not a plain file`);
      assert.ok(!entry.name.startsWith('.'), `stray file ${entry.name}`);
      assert.ok(!entry.name.endsWith('.partial'), `partial file ${entry.name}`);
      assert.ok(fs.statSync(path.join(out, entry.name)).size > 0, `empty file ${entry.name}`);
    }
  });

  test('the originals are left as they were', () => {
    for (const { file, entry } of cases) {
      const bytes = 'bytes' in entry ? entry.bytes : 'linkTo' in entry ? entry.linkTo : undefined;
      if (bytes) assert.ok(fs.readFileSync(path.join(folder, file)).equals(bytes), file);
    }
  });

  test('one output per good input, and nothing else', () => {
    const missing = goodCases.filter((c) => lineOf(c).length !== 1 || !lineOf(c)[0]!.output);
    assert.deepEqual(
      missing.map((c) => `${c.name}: ${lineOf(c)[0]?.error ?? 'not in the batch'}`),
      [],
      'good inputs without an output',
    );
    for (const c of badCases) assert.equal(lineOf(c).length, 1, c.name);
    assert.equal(lines.length, goodCases.length + badCases.length, run.stdout);
    const outputs = goodCases.map((c) => lineOf(c)[0]!.output!);
    for (const output of outputs) assert.equal(path.dirname(output), out);
    assert.equal(new Set(outputs).size, outputs.length, 'two inputs were written to the same output');
    assert.deepEqual(fs.readdirSync(out).sort(), outputs.map((o) => path.basename(o)).sort());
  });

  for (const c of goodCases) {
    const expect = c.expect as GoodExpectation;
    test(`${c.name} comes back with its pixels, depth and layout`, async (t) => {
      const [line] = lineOf(c);
      assert.ok(line?.output, `${c.name}: ${line?.error ?? 'not in the batch'}`);
      // Every way the output falls short, not just the first.
      const problems: string[] = [];
      const check = (ok: boolean, problem: string): void => void (ok || problems.push(problem));
      const bytes = fs.readFileSync(line.output);
      const meta = await sharp(bytes).metadata();
      check(path.extname(line.output) === EXTENSION[expect.format], `named ${path.basename(line.output)}`);
      check(meta.format === expect.format, `format ${meta.format}, not ${expect.format}`);
      check(
        meta.width === expect.width && meta.height === expect.height,
        `${meta.width}×${meta.height}, not ${expect.width}×${expect.height}`,
      );
      check(
        line.width === meta.width && line.height === meta.height,
        `--json says ${line.width}×${line.height}`,
      );
      check(meta.channels === expect.channels, `${meta.channels} channels, not ${expect.channels}`);
      check(
        meta.depth === (expect.depth === 16 ? 'ushort' : 'uchar'),
        `depth ${meta.depth}, not ${expect.depth}-bit`,
      );
      check((meta.orientation ?? 1) === 1, `EXIF orientation ${meta.orientation}`);
      // Untagged (sRGB), sRGB, or the source's own profile kept, with pixels in it.
      const source = await sourceProfile(c);
      check(
        !meta.icc ||
          /sRGB/.test(iccDescription(meta.icc)) ||
          (source !== undefined && meta.icc.equals(source)),
        `ICC profile "${meta.icc && iccDescription(meta.icc)}" is neither sRGB nor the source's`,
      );

      const faces = line.faces ?? [];
      check(
        faces.length >= expect.faces.min && faces.length <= (expect.faces.max ?? Infinity),
        `${faces.length} faces found, expected ${expect.faces.min}–${expect.faces.max ?? '∞'}`,
      );
      if (expect.jpeg) {
        check(
          meta.chromaSubsampling === expect.jpeg.chromaSubsampling,
          `chroma subsampling ${meta.chromaSubsampling}`,
        );
        check(meta.isProgressive === expect.jpeg.progressive, `progressive: ${meta.isProgressive}`);
        const { source, equal } = expect.jpeg.tables;
        const ours = jpegTables(bytes);
        // A CMYK source has one table for its four components; the sRGB output has two.
        if (equal)
          check(
            JSON.stringify(ours.slice(0, source.length)) === JSON.stringify(source),
            `quantisation tables are not the source's: ${JSON.stringify(ours.map((q) => q.slice(0, 8)))}… for ${JSON.stringify(source.map((q) => q.slice(0, 8)))}…`,
          );
        else
          check(
            ours.length === source.length && ours.every((q, i) => q.every((v, k) => v <= source[i]![k]!)),
            `quantisation tables coarser than the source's somewhere`,
          );
      }
      if (expect.webpLossless !== undefined) {
        check(bytes.includes(Buffer.from('VP8L')) === expect.webpLossless, 'lossless WebP written lossy');
      }

      const actual = await storedPixels(bytes, expect);
      assert.equal(
        actual.data.length,
        expect.reference.data.length,
        [...problems, 'sample count'].join('; '),
      );
      const near = faceSquares(expect.width, expect.height, faces);
      const m = measure(actual, expect.reference, near);
      const report = JSON.stringify(m);
      t.diagnostic(`${faces.length} face(s); ${report}`);
      check(m.alphaChanged === 0, `${m.alphaChanged} alpha samples changed`);
      switch (expect.compare.kind) {
        case 'lossless':
          check(
            m.changedAway === 0,
            `${m.changedAway} samples changed away from the faces (up to ${m.maxAway} levels)`,
          );
          check(m.psnr >= 38, `PSNR ${m.psnr.toFixed(2)} dB`);
          break;
        case 'jpeg': {
          check(m.psnr >= 38, `PSNR ${m.psnr.toFixed(2)} dB`);
          const { control } = expect.compare;
          if (!control) break;
          // As close to the input, away from the faces, as re-encoding it with the source's settings gets.
          const best = measure(control, expect.reference, near);
          t.diagnostic(`the source's settings re-encoded: ${JSON.stringify(best)}`);
          check(
            m.identicalAway >= best.identicalAway - 0.03 * m.pixelsAway,
            `away from the faces ${m.identicalAway} of ${m.pixelsAway} pixels identical (re-encoding with the source's settings: ${best.identicalAway})`,
          );
          check(
            m.maxAway <= best.maxAway + 2,
            `away from the faces up to ${m.maxAway} levels off (re-encoding with the source's settings: ${best.maxAway})`,
          );
          break;
        }
        case 'close':
          check(
            m.meanLevels <= expect.compare.meanLevels,
            `mean difference ${m.meanLevels.toFixed(2)} levels`,
          );
          check(
            m.maxAway <= expect.compare.maxAway,
            `${m.maxAway.toFixed(1)} levels off away from the faces`,
          );
          break;
      }
      assert.deepEqual(problems, [], report);
    });
  }

  for (const c of badCases) {
    const error = 'error' in c.expect ? c.expect.error : /./;
    test(`${c.name} is refused with its own one-line reason`, () => {
      const input = path.join(folder, c.file);
      const mine = lineOf(c);
      assert.equal(mine.length, 1, `${c.name}: ${mine.length} JSON lines`);
      assert.deepEqual(Object.keys(mine[0]!).sort(), ['error', 'input']);
      const reason = mine[0]!.error!;
      assert.match(reason, error);
      assert.ok(!reason.includes('\n'));
      assert.ok(run.stderr.split('\n').includes(`${input}: ${reason}`), run.stderr);
    });
  }

  for (const c of skippedCases) {
    test(`${c.name} is not taken for a photo`, () => {
      assert.deepEqual(lineOf(c), []);
      assert.ok(!run.stderr.includes(path.join(folder, c.file)), run.stderr);
      const stem = path.basename(c.file, path.extname(c.file));
      assert.deepEqual(
        fs.readdirSync(out).filter((f) => f.startsWith(`${stem}.`) || f.startsWith(`${stem}-`)),
        [],
      );
    });
  }
});
