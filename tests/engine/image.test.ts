import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { decodePhoto, encodeRaster, type Raster } from '../../src-main/core/engine/image.ts';
import { jpegQuantTables, qualityFor } from '../../src-main/core/engine/jpeg.ts';
import { enlargeRaster } from '../../src-main/core/engine/enlarge.ts';
import { photo } from '../support/paths.ts';
import { ADOBE_RGB, sharpProfile } from '../support/icc-profile.ts';
import { encodePng } from '../support/png.ts';
import { tempDir } from '../support/temp.ts';

/** A raster whose every sample differs from its neighbours, spread over the whole range of its depth. */
function patterned(width: number, height: number, channels: Raster['channels'], depth: 8 | 16): Raster {
  const n = width * height * channels;
  const max = depth === 16 ? 65535 : 255;
  const data = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.round((((i * 7919) % 1009) / 1008) * max);
  return { width, height, channels, depth, data };
}

function samplesDiffering(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

const LAYOUTS = { 1: 'gray', 2: 'gray+alpha', 3: 'RGB', 4: 'RGBA' } as const;

describe('writing and reading photos', () => {
  for (const depth of [8, 16] as const) {
    for (const channels of [1, 2, 3, 4] as const) {
      for (const format of ['png', 'tiff'] as const) {
        test(`${depth === 8 ? 'an' : 'a'} ${depth}-bit ${LAYOUTS[channels]} ${format.toUpperCase()} is written and read back sample for sample`, async () => {
          const raster = patterned(37, 23, channels, depth);
          const photoBack = await decodePhoto(await encodeRaster(raster, { format }));
          assert.deepEqual(
            [photoBack.pixels.channels, photoBack.pixels.depth, photoBack.encoding.format],
            [channels, depth, format],
          );
          assert.equal(samplesDiffering(photoBack.pixels.data, raster.data), 0);
        });
      }
    }
  }

  test('an 8-bit gray+alpha PNG is read as gray+alpha with its own samples', async () => {
    const raster = patterned(40, 30, 2, 8);
    const file = encodePng({ ...raster, channels: 2, depth: 8 });
    const read = await decodePhoto(file);
    assert.deepEqual([read.pixels.channels, read.pixels.depth, read.gray], [2, 8, true]);
    assert.equal(samplesDiffering(read.pixels.data, raster.data), 0);
  });

  for (const name of ['Display P3', 'Adobe RGB'] as const) {
    test(`a 16-bit photo in ${name} (its profile embedded) is converted to sRGB exactly, saturated colours included`, async () => {
      const dir = tempDir();
      const icc = name === 'Display P3' ? await sharpProfile('p3') : ADOBE_RGB;
      fs.writeFileSync(path.join(dir, 'profile.icc'), icc);
      // sRGB red, green, blue, a gray and a skin tone, as that profile's numbers, stored at 16 bits beside it.
      const srgb = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 128, 128, 128, 200, 150, 100]);
      const converted = await sharp(srgb, { raw: { width: 5, height: 1, channels: 3 } })
        .withIccProfile(path.join(dir, 'profile.icc'))
        .png()
        .toBuffer();
      const numbers = await sharp(converted, { ignoreIcc: true }).raw().toBuffer();
      assert.ok(
        numbers.some((v, i) => Math.abs(v - srgb[i]!) > 20),
        'the profile must change the numbers',
      );
      const stored = Uint16Array.from(numbers, (v) => v * 257);
      const file = encodePng(
        { width: 5, height: 1, channels: 3, depth: 16, data: stored },
        { icc: { name, profile: icc } },
      );
      const read = await decodePhoto(file);
      assert.equal(read.pixels.depth, 16);
      // The reference: the same numbers read at 8 bits, which sharp converts correctly.
      const eight = (await decodePhoto(converted)).pixels.data;
      for (let i = 0; i < srgb.length; i++) {
        const got = read.pixels.data[i]! / 257;
        assert.ok(Math.abs(got - eight[i]!) <= 1, `sample ${i}: ${got.toFixed(1)}, at 8 bits ${eight[i]}`);
      }
    });
  }

  test('enlarging a 16-bit photo keeps its samples: ×2 of a flat 16-bit photo is the same flat photo', async () => {
    const data = new Uint16Array(20 * 10 * 4);
    for (let i = 0; i < data.length; i += 4) data.set([1000, 30000, 65000, 40000], i);
    const big = enlargeRaster({ width: 20, height: 10, channels: 4, depth: 16, data }, 2);
    assert.deepEqual([big.width, big.height, big.depth], [40, 20, 16]);
    for (let i = 0; i < big.data.length; i += 4) {
      assert.deepEqual([...big.data.subarray(i, i + 4)], [1000, 30000, 65000, 40000], `pixel ${i / 4}`);
    }
  });
});

describe('JPEG exports are compressed as their source was', () => {
  test('reads the quality of a libjpeg JPEG back from its tables, whatever the subsampling', async () => {
    for (const [quality, chromaSubsampling] of [
      [37, '4:2:0'],
      [80, '4:2:0'],
      [93, '4:4:4'],
    ] as const) {
      const jpeg = await sharp(photo('CodeFormer/inputs/whole_imgs/05.jpg'))
        .jpeg({ quality, chromaSubsampling })
        .toBuffer();
      assert.equal(qualityFor(jpegQuantTables(jpeg)!), quality);
    }
  });

  test('finds the tables of a progressive JPEG that defines them after its frame header', () => {
    // CodeFormer whole_imgs/00.jpg: SOF2 comes before both DQT segments.
    const tables = jpegQuantTables(fs.readFileSync(photo('CodeFormer/inputs/whole_imgs/00.jpg')));
    assert.equal(tables?.length, 2);
    assert.equal(qualityFor(tables!), 82);
  });

  test('a JPEG whose tables no libjpeg quality gives is written at a finer quality, at least 95', () => {
    for (const [name, least] of [
      ['GFPGAN/inputs/whole_imgs/00.jpg', 99],
      ['CodeFormer/inputs/whole_imgs/04.jpg', 95],
    ] as const) {
      const quality = qualityFor(jpegQuantTables(fs.readFileSync(photo(name)))!);
      assert.ok(quality >= least, `${name}: quality ${quality}`);
    }
  });

  test('a CMYK JPEG, whose four components share one table, keeps its quality', async () => {
    const cmyk = await sharp(photo('CodeFormer/inputs/whole_imgs/05.jpg'))
      .toColourspace('cmyk')
      .jpeg({ quality: 90 })
      .toBuffer();
    assert.equal(qualityFor(jpegQuantTables(cmyk)!), 90);
  });

  test('re-encoding a decoded JPEG as its source changes almost no pixel', async () => {
    const source = fs.readFileSync(photo('CodeFormer/inputs/whole_imgs/03.jpg')); // q80, 4:2:0
    const decoded = await decodePhoto(source);
    assert.deepEqual(decoded.encoding, {
      format: 'jpeg',
      quality: 80,
      chromaSubsampling: '4:2:0',
      progressive: false,
    });
    const again = await decodePhoto(await encodeRaster(decoded.pixels, decoded.encoding));
    const changed = samplesDiffering(again.pixels.data, decoded.pixels.data) / decoded.pixels.data.length;
    assert.ok(changed < 0.03, `${(changed * 100).toFixed(1)}% of the samples changed`);
  });

  test('a lossless WebP is written back losslessly', async () => {
    const raster = patterned(50, 40, 4, 8);
    const webp = await sharp(raster.data, { raw: { width: 50, height: 40, channels: 4 } })
      .webp({ lossless: true })
      .toBuffer();
    const read = await decodePhoto(webp);
    assert.deepEqual(read.encoding, { format: 'webp', lossless: true });
    const again = await decodePhoto(await encodeRaster(read.pixels, read.encoding));
    assert.equal(samplesDiffering(again.pixels.data, read.pixels.data), 0);
  });
});
