import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import type { Photo } from '../../src-main/contract/dto.ts';
import { AppError } from '../../src-main/contract/errors.ts';
import { isMediaId } from '../../src-main/core/serving.ts';
import {
  makeThumbnail,
  parseThumbnailName,
  thumbnailId,
  Thumbnails,
  THUMBNAIL_SIZE,
} from '../../src-main/core/thumbnails.ts';
import { oddPhotos, type OddPhoto, type Pixels } from '../support/odd-photos.ts';
import { photo, SOLVAY } from '../support/paths.ts';
import { tempDir } from '../support/temp.ts';

/* Thumbnails for the grids: small, upright, sRGB JPEGs, made once per content, and clear refusals. */

let cases: OddPhoto[];
before(async () => {
  cases = await oddPhotos();
});

function bytesOf(file: string): Uint8Array {
  const entry = cases.find((c) => c.file === file)?.entry;
  assert.ok(entry && 'bytes' in entry, file);
  return entry.bytes;
}

function referenceOf(file: string): Pixels {
  const expect = cases.find((c) => c.file === file)?.expect;
  assert.ok(expect && 'reference' in expect, file);
  return expect.reference;
}

/** 8-bit RGB of `pixels` (upright, sRGB), alpha laid on white as the thumbnail does. */
function onWhite(pixels: Pixels): Uint8Array {
  const { width, height, channels, data } = pixels;
  const scale = pixels.depth === 16 ? 1 / 257 : 1;
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const s = i * channels;
    const alpha = channels === 2 || channels === 4 ? (data[s + channels - 1]! * scale) / 255 : 1;
    for (let c = 0; c < 3; c++) {
      const value = data[s + (channels >= 3 ? c : 0)]! * scale;
      out[i * 3 + c] = Math.round(value * alpha + 255 * (1 - alpha));
    }
  }
  return out;
}

/** The thumbnail decoded, and its mean difference (8-bit levels) from `reference` brought to its size. */
async function compare(jpeg: Buffer, reference: { width: number; height: number; rgb: Uint8Array }) {
  const meta = await sharp(jpeg).metadata();
  assert.equal(meta.format, 'jpeg');
  const { data, info } = await sharp(jpeg).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  const expected = await sharp(reference.rgb, {
    raw: { width: reference.width, height: reference.height, channels: 3 },
  })
    .resize({ width: info.width, height: info.height, fit: 'fill' })
    .raw()
    .toBuffer();
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += Math.abs(data[i]! - expected[i]!);
  return { width: info.width, height: info.height, mean: sum / data.length };
}

async function fromOdd(file: string) {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, file), bytesOf(file));
  const reference = referenceOf(file);
  const thumb = await makeThumbnail(path.join(dir, file));
  return compare(thumb, { width: reference.width, height: reference.height, rgb: onWhite(reference) });
}

test('a big photo comes down to 512 px on its long side, keeping its shape and its pixels', async () => {
  for (const [file, size] of [
    [photo('DeOldify/test_images/1860Girls.jpg'), [512, 376]],
    [SOLVAY, [512, 219]],
  ] as const) {
    const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const result = await compare(await makeThumbnail(file), {
      width: info.width,
      height: info.height,
      rgb: data,
    });
    assert.deepEqual([result.width, result.height], size, file);
    assert.ok(result.mean < 5, `${path.basename(file)}: ${result.mean.toFixed(2)} levels off on average`);
  }
});

test('a photo smaller than a thumbnail keeps its size: it is never enlarged', async () => {
  const result = await fromOdd('j420.jpg');
  assert.deepEqual([result.width, result.height], [191, 264]);
  assert.ok(result.mean < 3, `${result.mean.toFixed(2)}`);
});

test('EXIF orientation is applied: a turned photo comes out upright', async () => {
  for (const file of ['turned3.jpg', 'turned6.jpg', 'turned8.jpg']) {
    const result = await fromOdd(file);
    // Stored 264 wide and 191 high for 6 and 8: upright, the boy stands 264 high.
    assert.deepEqual([result.width, result.height], [191, 264], file);
    assert.ok(result.mean < 3, `${file}: ${result.mean.toFixed(2)} levels off on average`);
  }
});

test('colour comes out as sRGB, whatever the profile, the depth, the layout or the alpha', async () => {
  for (const file of ['p3-16.png', 'cmyk.jpg', 'rgb16.png', 'gray16.png', 'rgba16.png', 'grayalpha8.png']) {
    const result = await fromOdd(file);
    // Unconverted, the P3 chart's saturated colours are tens of levels off (4 on average over the picture).
    assert.ok(result.mean < 3, `${file}: ${result.mean.toFixed(2)} levels off on average`);
  }
});

test('an image too large, not an image, or damaged is refused (IO) with its reason, before decoding', async () => {
  const dir = tempDir();
  for (const [file, reason] of [
    ['huge.png', /^huge\.png: the image is 30000×30000 \(900 MP\); the limit is 200 MP$/],
    ['notes.jpg', /^notes\.jpg: not an image/],
    ['truncated.jpg', /^truncated\.jpg: the image file is truncated or damaged$/],
  ] as const) {
    fs.writeFileSync(path.join(dir, file), bytesOf(file));
    await assert.rejects(makeThumbnail(path.join(dir, file)), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, 'IO');
      assert.match(error.message, reason);
      return true;
    });
  }
});

test("a thumbnail's media id carries the photo and its content, and is a valid media id", () => {
  const sha = createHash('sha256').update('photo').digest('hex');
  assert.equal(thumbnailId(12, sha), `thumb/12-${sha}`);
  assert.ok(isMediaId(thumbnailId(9_007_199_254_740_991, sha)), 'the largest id fits the pattern');
  assert.deepEqual(parseThumbnailName(`12-${sha}`), { photoId: 12, sha256: sha });
  // Not read yet: the photo only.
  assert.equal(thumbnailId(12, ''), 'thumb/12');
  assert.deepEqual(parseThumbnailName('12'), { photoId: 12, sha256: '' });
  // Restored: the render's cache name too.
  const render = sha.slice(0, 40);
  assert.equal(thumbnailId(12, sha, render), `thumb/12-${sha}-${render}`);
  assert.ok(isMediaId(thumbnailId(12, sha, render)));
  assert.deepEqual(parseThumbnailName(`12-${sha}-${render}`), { photoId: 12, sha256: sha, render });
  const bads = [
    '0',
    '012',
    `12-${sha.slice(1)}`,
    `12-${sha.toUpperCase()}`,
    `12_${sha}`,
    '',
    `12-${sha}-${sha}`,
  ];
  for (const bad of bads) {
    assert.equal(parseThumbnailName(bad), undefined, bad);
  }
});

/** A photo of the library, as the core has it, for `file` as it is on disk now. */
function photoOf(file: string, changes: Partial<Photo> = {}): Photo {
  const stat = fs.statSync(file);
  return {
    id: 1,
    albumId: 1,
    path: file,
    name: path.basename(file),
    sha256: createHash('sha256').update(fs.readFileSync(file)).digest('hex'),
    bytes: stat.size,
    mtimeMs: stat.mtimeMs,
    width: 0,
    height: 0,
    state: 'ok',
    detection: 'done',
    error: null,
    faceCount: 0,
    enabledFaceCount: 0,
    exportedAt: null,
    needsReview: false,
    restored: false,
    url: '/media/photo/1',
    thumbUrl: '/media/thumb/1',
    ...changes,
  };
}

test('a thumbnail is made once, when first asked for, named by content and size, and written whole', async () => {
  const root = tempDir();
  const original = path.join(root, 'girls.jpg');
  fs.copyFileSync(photo('DeOldify/test_images/1860Girls.jpg'), original);
  const p = photoOf(original);
  const thumbnails = new Thumbnails(path.join(root, 'cache'));
  const folder = path.join(root, 'cache', 'thumb');
  assert.equal(fs.existsSync(folder), false, 'nothing is made before it is asked for');

  // A grid asks for the same thumbnail several times at once: one is made.
  const files = await Promise.all(Array.from({ length: 5 }, () => thumbnails.get(p)));
  assert.deepEqual(new Set(files), new Set([path.join(folder, `${p.sha256}-${THUMBNAIL_SIZE}.jpg`)]));
  assert.deepEqual(fs.readdirSync(folder), [`${p.sha256}-${THUMBNAIL_SIZE}.jpg`], 'no temporary file left');
  assert.deepEqual(fs.readFileSync(files[0]!), await makeThumbnail(original));

  // From then on the cache answers, even with the original gone.
  fs.rmSync(original);
  assert.equal(await thumbnails.get(p), files[0]);
});

test('a photo not read yet, gone, changed, or unreadable gets a clear refusal, and nothing is cached', async () => {
  const root = tempDir();
  const thumbnails = new Thumbnails(path.join(root, 'cache'));
  const original = path.join(root, 'beach.jpg');
  fs.copyFileSync(photo('CodeFormer/inputs/whole_imgs/03.jpg'), original);
  const expectRefusal = async (p: Photo, code: string, message: RegExp, sha256?: string) => {
    await assert.rejects(thumbnails.get(p, sha256), (error: unknown) => {
      assert.ok(error instanceof AppError, String(error));
      assert.deepEqual([error.code, message.test(error.message)], [code, true], error.message);
      return true;
    });
  };
  await expectRefusal(photoOf(original, { sha256: '' }), 'NOT_FOUND', /beach\.jpg is still being imported/);
  const p = photoOf(original);
  await expectRefusal(p, 'NOT_FOUND', /has other content now/, 'f'.repeat(64));
  await expectRefusal(
    photoOf(original, { mtimeMs: p.mtimeMs - 1000 }),
    'CONFLICT',
    /changed since it was imported/,
  );
  await expectRefusal(
    photoOf(original, { path: path.join(root, 'gone.jpg') }),
    'NOT_FOUND',
    /missing: .*gone\.jpg/,
  );
  fs.writeFileSync(path.join(root, 'notes.jpg'), 'Grandma, Easter 1962');
  await expectRefusal(photoOf(path.join(root, 'notes.jpg')), 'IO', /notes\.jpg: not an image/);
  assert.equal(fs.existsSync(path.join(root, 'cache', 'thumb')), false);
  assert.ok(fs.readdirSync(root).includes('beach.jpg'), 'the original is untouched');
});
