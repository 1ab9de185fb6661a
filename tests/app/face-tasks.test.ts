import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { Core } from '../../src-main/core/app.ts';
import type { Face } from '../../src-main/contract/dto.ts';
import { strokeMask, wholeMask } from '../../src-main/core/engine/damage.ts';
import { decodePhoto, type Raster } from '../../src-main/core/engine/image.ts';
import { writeGraphs } from '../../src-main/core/models/convert.ts';
import type { ConvertedSidecar } from '../../src-main/core/engine/codeformer.ts';
import { coreFor } from '../support/core.ts';
import { photo, YUNET } from '../support/paths.ts';
import { writeSeededParseNet } from '../support/parsenet.ts';
import { negativeRestorer } from '../support/restorers.ts';
import { TINY_PRESETS, writeSeededWeights } from '../support/seeded-weights.ts';
import { tempDir } from '../support/temp.ts';

/*
 * What is done to each face, chosen in the library (face.update { task, damage }) and carried out by the engine
 * process in previews, renders and exports: colorize a face of a black-and-white photo with the colorization
 * model, or repair the damage the user painted with the inpainting model. Tiny models with seeded weights; the
 * photo is 1870Girl.jpg turned gray.
 */

const cores: Core[] = [];
after(() => Promise.all(cores.map((c) => c.close())));

/** A converted folder of a tiny seeded CodeFormer of `variant`, as the Models screen installs one. */
function tinyModel(root: string, variant: ConvertedSidecar['variant']): string {
  const dir = path.join(root, `codeformer-${variant}`);
  fs.mkdirSync(dir);
  const refs = writeSeededWeights(TINY_PRESETS[variant], 3, path.join(dir, 'weights.bin'));
  writeGraphs(dir, TINY_PRESETS[variant], refs, {
    variant,
    source: { file: `codeformer_${variant}.pth`, bytes: 0, sha256: variant.padEnd(64, '0') },
  });
  return dir;
}

let root: string;
let photos: string;
let models: { detector: string; restorer: string; colorizer: string; inpainter: string; parser?: string };

before(async () => {
  root = fs.realpathSync(tempDir());
  photos = path.join(root, 'photos');
  fs.mkdirSync(photos);
  await sharp(photo('DeOldify/test_images/1870Girl.jpg'))
    .toColourspace('b-w')
    .png()
    .toFile(path.join(photos, 'girl.png'));
  const restorer = path.join(root, 'negative.onnx');
  fs.writeFileSync(restorer, negativeRestorer());
  models = {
    detector: YUNET,
    restorer,
    colorizer: tinyModel(root, 'colorization'),
    inpainter: tinyModel(root, 'inpainting'),
  };
});

async function open(installed: Partial<typeof models> = models) {
  const core = coreFor(path.join(root, `data-${cores.length}`), { ...models, ...installed });
  cores.push(core);
  const album = await core.dispatch('album.create', { name: 'Girl' });
  await core.dispatch('photo.import', { albumId: album.id, paths: [photos] });
  await core.idle();
  const [listed] = await core.dispatch('photo.list', { albumId: album.id });
  const faces = await core.dispatch('face.list', { photoId: listed!.id });
  assert.equal(faces.length, 1, 'YuNet finds the girl');
  return { core, album, photo: listed!, face: faces[0]! };
}

async function raster(file: string): Promise<Raster> {
  return (await decodePhoto(fs.readFileSync(file))).pixels;
}

const cacheFile = (core: number, url: string, ext: string) =>
  path.join(root, `data-${core}`, 'cache', url.replace('/media/', '') + ext);

/** The colour of a pixel: how far apart its channels are (0 for a gray one). */
function spread(r: Raster, x: number, y: number): number {
  const o = (y * r.width + x) * r.channels;
  const px = [...r.data.subarray(o, o + 3)];
  return Math.max(...px) - Math.min(...px);
}

/** The file the last `exported` wrote. */
let lastExport = '';

async function exported(core: Core, photoId: number): Promise<Raster> {
  const out = path.join(root, `out-${cores.length}-${Date.now()}`);
  fs.mkdirSync(out);
  await core.dispatch('export.start', { photoIds: [photoId], folder: out, format: 'png' });
  await core.idle();
  const [file] = fs.readdirSync(out);
  lastExport = path.join(out, file!);
  return raster(lastExport);
}

describe('a face colorized or repaired in the app', () => {
  test('the library keeps each face’s task and painted damage, and refuses a task or a stroke it does not know', async () => {
    const { core, face } = await open();
    assert.equal(face.task, 'restore');
    assert.deepEqual(face.damage, []);
    const stroke = { radius: 3, points: [[300, 250] as [number, number], [320, 252] as [number, number]] };
    const updated = await core.dispatch('face.update', {
      faceId: face.id,
      task: 'inpaint',
      damage: [stroke],
    });
    assert.equal(updated.task, 'inpaint');
    assert.deepEqual(updated.damage, [stroke]);
    // Switching task keeps the paint, so switching back finds it.
    const colour = await core.dispatch('face.update', { faceId: face.id, task: 'colorize' });
    assert.deepEqual([colour.task, colour.damage], ['colorize', [stroke]]);
    await assert.rejects(core.dispatch('face.update', { faceId: face.id, task: 'sharpen' } as never));
    await assert.rejects(
      core.dispatch('face.update', { faceId: face.id, damage: [{ radius: 3, points: [] }] } as never),
    );
  });

  test('a colorized face comes in colour into a black-and-white photo; the rest stays gray', async () => {
    const { core, photo: p, face } = await open();
    const gray = await raster(p.path);
    assert.equal(gray.channels, 1);
    await core.dispatch('face.update', { faceId: face.id, task: 'colorize' });
    const preview = await core.dispatch('face.preview', { faceId: face.id });
    const crop = await raster(cacheFile(cores.length - 1, preview.url, '.png'));
    const [cx, cy] = centreIn(face, crop, p.width, p.height);
    assert.ok(spread(crop, cx, cy) > 0, 'the face in the preview has colour');
    assert.equal(spread(crop, 0, 0), 0, 'the crop’s corner, away from the face, is gray');

    const out = await exported(core, p.id);
    assert.deepEqual([out.width, out.height, out.channels], [gray.width, gray.height, 3]);
    // Its provenance says the face was colorized, by which model, at the model's own w.
    const xmp = (await sharp(lastExport).metadata()).xmp!.toString();
    assert.match(
      xmp,
      /<heirloom:Number>1<\/heirloom:Number><heirloom:Fidelity>0<\/heirloom:Fidelity><heirloom:Task>colorize<\/heirloom:Task><heirloom:ModelName>CodeFormer \(codeformer_colorization\.pth\)<\/heirloom:ModelName>/,
    );
    const [fx, fy] = [face.box[0] + face.box[2] / 2, face.box[1] + face.box[3] / 2].map(Math.round) as [
      number,
      number,
    ];
    assert.ok(spread(out, fx, fy) > 0, 'the exported face has colour');
    // Far from the face the photo is as it was, its gray copied to R, G and B.
    for (const [x, y] of [
      [2, 2],
      [gray.width - 3, gray.height - 3],
    ] as const) {
      const o = (y * out.width + x) * 3;
      assert.deepEqual([...out.data.subarray(o, o + 3)], Array(3).fill(gray.data[y * gray.width + x]));
    }
  });

  test('a repaired face changes only the painted pixels of the export', async () => {
    const { core, photo: p, face } = await open();
    const gray = await raster(p.path);
    const [fx, fy] = [face.box[0] + face.box[2] / 2, face.box[1] + face.box[3] / 2];
    const damage = [
      { radius: 4, points: [[fx - 10, fy] as [number, number], [fx + 10, fy + 2] as [number, number]] },
    ];
    await core.dispatch('face.update', { faceId: face.id, task: 'inpaint', damage });
    const out = await exported(core, p.id);
    assert.deepEqual([out.width, out.height, out.channels], [gray.width, gray.height, 1]);
    const painted = wholeMask(
      strokeMask(gray.width, gray.height, damage, { a: 1, b: 0, tx: 0.5, ty: 0.5 }),
      gray.width,
      gray.height,
    );
    let outside = 0;
    let changedInside = 0;
    for (let i = 0; i < painted.data.length; i++) {
      if (painted.data[i] === 0) outside += out.data[i] === gray.data[i] ? 0 : 1;
      else changedInside += out.data[i] === gray.data[i] ? 0 : 1;
    }
    assert.equal(outside, 0, 'no pixel outside the paint changed');
    assert.ok(
      changedInside > 0.5 * painted.data.reduce((s, v) => s + v, 0),
      `${changedInside} painted pixels changed`,
    );

    // Other paint, another preview: the render of the first is not served for it.
    const first = await core.dispatch('face.preview', { faceId: face.id });
    await core.dispatch('face.update', {
      faceId: face.id,
      damage: [...damage, { radius: 2, points: [[fx, fy - 15]] }],
    });
    const second = await core.dispatch('face.preview', { faceId: face.id });
    assert.notEqual(second.url, first.url);
    assert.equal(second.cached, false);
  });

  test('without the model of its task, a face’s preview names the model missing', async () => {
    const { core, face } = await open({ inpainter: path.join(root, 'not-installed') });
    await core.dispatch('face.update', {
      faceId: face.id,
      task: 'inpaint',
      damage: [{ radius: 3, points: [[face.box[0] + 10, face.box[1] + 10]] }],
    });
    await assert.rejects(
      core.dispatch('face.preview', { faceId: face.id }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'MODEL_MISSING');
        assert.match(
          error.message,
          /the face mender \(CodeFormer inpainting\), which repairs this face's damage, is not installed/,
        );
        return true;
      },
    );
  });
});

/** Where the face's box centre lands in a preview crop (1.6 × the box around its centre, clamped). */
function centreIn(face: Face, crop: Raster, width: number, height: number): [number, number] {
  const [x, y, w, h] = face.box;
  const cx = x + w / 2;
  const cy = y + h / 2;
  const half = (Math.max(w, h) * 1.6) / 2;
  const x0 = Math.max(0, Math.floor(cx - half));
  const y0 = Math.max(0, Math.floor(cy - half));
  assert.ok(crop.width <= width && crop.height <= height);
  return [Math.round(cx - x0), Math.round(cy - y0)];
}

describe('the slider’s prepared steps with the face parser installed', () => {
  test('borrow the face’s parsing mask from another w; at rest on that w the exact picture is made, then kept', async () => {
    const parser = path.join(root, 'parsing_parsenet.pth');
    if (!fs.existsSync(parser)) writeSeededParseNet(parser, 4);
    const { core, face } = await open({ parser });
    const exact = await core.dispatch('face.preview', { faceId: face.id, fidelity: 0.5 });
    assert.equal(exact.cached, false);
    const step = await core.dispatch('face.preview', { faceId: face.id, fidelity: 0.25, background: true });
    assert.equal(step.cached, false);
    // The slider comes to rest on the step: the picture is made again, exactly, under the same name.
    const atRest = await core.dispatch('face.preview', { faceId: face.id, fidelity: 0.25 });
    assert.deepEqual([atRest.cached, atRest.url], [false, step.url]);
    const again = await core.dispatch('face.preview', { faceId: face.id, fidelity: 0.25 });
    assert.deepEqual([again.cached, again.url], [true, step.url]);
    // A step whose own mask was made is an exact picture: the slider reaching it reads the file.
    const made = await core.dispatch('face.preview', { faceId: face.id, fidelity: 0.5, background: true });
    assert.deepEqual([made.cached, made.url], [true, exact.url]);
  });
});
