import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { EngineError } from '../../src-main/core/engine/errors.ts';
import type { Raster } from '../../src-main/core/engine/image.ts';
import { resizeRaster } from '../../src-main/core/engine/resize.ts';
import {
  DEFAULT_OVERLAP,
  Upsampler,
  planTiles,
  readUpsamplerSidecar,
} from '../../src-main/core/engine/upscale.ts';
import { buildRrdbNet } from '../../src-main/core/nn/rrdbnet/graph.ts';
import { convertUpsamplerCheckpoint } from '../../src-main/core/nn/rrdbnet/convert.ts';
import { photo } from '../support/paths.ts';
import { SMALL, visibleSmallNet, writeCheckpoint } from '../support/rrdbnet.ts';
import { tempDir } from '../support/temp.ts';

/*
 * The upsampler over whole photos, with a small seeded RRDBNet ×2 (receptive radius 67 px) whose output is
 * spread over [0,1] (tests/support/rrdbnet.ts), so that a photo several tiles wide runs in about a second.
 */

/** 301×203 px of a real photo: odd sides, so the mod pad is exercised; 5×4 tiles of 64. */
async function photoCrop(): Promise<Raster> {
  const { data } = await sharp(photo('DeOldify/test_images/1860Girls.jpg'))
    .extract({ left: 301, top: 200, width: 301, height: 203 })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: 301, height: 203, channels: 3, depth: 8, data: new Uint8Array(data) };
}

function to16(raster: Raster): Raster {
  return { ...raster, depth: 16, data: Uint16Array.from(raster.data, (v) => v * 257) };
}

function maxDifference(a: Raster, b: Raster): number {
  assert.deepEqual([a.width, a.height, a.channels, a.depth], [b.width, b.height, b.channels, b.depth]);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
  return max;
}

const UNTILED = 1 << 20;

function mean(raster: Raster): number {
  let sum = 0;
  for (const v of raster.data) sum += v;
  return sum / raster.data.length;
}

describe('planning tiles', () => {
  it('covers the photo, padded to even sides, exactly once, with every tile starting at an even pixel', () => {
    const [width, height] = [301, 203];
    const tiles = planTiles(width, height, 64, DEFAULT_OVERLAP);
    const covered = new Uint8Array(302 * 204);
    for (const t of tiles) {
      const edges = [t.x0, t.y0, t.x1, t.y1, t.cx0, t.cy0, t.cx1, t.cy1];
      assert.ok(
        edges.every((v) => v % 2 === 0),
        `odd edge in ${edges}`,
      );
      for (let y = t.y0; y < t.y1; y++) for (let x = t.x0; x < t.x1; x++) covered[y * 302 + x]!++;
    }
    assert.equal(
      covered.findIndex((n) => n !== 1),
      -1,
      'a pixel covered other than once',
    );
  });

  it('gives each tile the overlap of real photo around it, cut only at the photo’s edge', () => {
    for (const t of planTiles(301, 203, 64, 64)) {
      assert.equal(t.cx0, Math.max(0, t.x0 - 64));
      assert.equal(t.cy1, Math.min(204, t.y1 + 64));
    }
  });

  it('makes tiles of near-equal size rather than a sliver at the end of a row', () => {
    const widths = planTiles(1030, 10, 512, 0).map((t) => t.x1 - t.x0);
    assert.deepEqual(widths, [344, 342, 344]);
  });
});

describe('upscaling a photo with Real-ESRGAN ×2 in tiles', () => {
  let upsampler: Upsampler;
  let crop: Raster;
  let untiled16: Raster;

  before(async () => {
    const tensors = visibleSmallNet();
    upsampler = await Upsampler.openGraph(
      buildRrdbNet(SMALL, (key) => tensors.get(key)!.data as Float32Array),
      { providers: ['cpu'] },
    );
    crop = await photoCrop();
    untiled16 = await upsampler.upscale(to16(crop), { tileSize: UNTILED });
  });
  after(() => upsampler.release());

  it('doubles both sides and keeps the depth and layout', async () => {
    const out = await upsampler.upscale(crop, { tileSize: 128 });
    assert.deepEqual([out.width, out.height, out.channels, out.depth], [602, 406, 3, 8]);
    assert.ok(out.data instanceof Uint8Array, 'an 8-bit photo gives 8 bits');
    assert.equal(out.data.length, 602 * 406 * 3);
  });

  it('gives the same photo tiled (20 tiles of 64, default overlap) as untiled, within 1e-3', async () => {
    const tiled = await upsampler.upscale(to16(crop), { tileSize: 64 });
    const levels = maxDifference(tiled, untiled16);
    assert.ok(levels / 65535 <= 1e-3, `max difference ${levels / 65535}`);
    // The comparison sees something: most of the output is neither clamped nor flat.
    const inside = untiled16.data.filter((v) => v > 0 && v < 65535).length;
    assert.ok(inside > 0.9 * untiled16.data.length, `${inside} of ${untiled16.data.length} unclamped`);
  });

  it('shows its seams without overlap, so the comparison above can see them', async () => {
    const seamed = await upsampler.upscale(to16(crop), { tileSize: 64, overlap: 0 });
    const difference = maxDifference(seamed, untiled16) / 65535;
    assert.ok(difference > 1e-2, `max difference ${difference}`);
  });

  it('keeps 16 bits: the 8-bit result is the 16-bit one rounded to 8 bits, within one level', async () => {
    const out8 = await upsampler.upscale(crop, { tileSize: 128 });
    const out16 = await upsampler.upscale(to16(crop), { tileSize: 128 });
    assert.ok(out16.data instanceof Uint16Array, 'a 16-bit photo gives 16 bits');
    let max = 0;
    for (let i = 0; i < out8.data.length; i++) {
      max = Math.max(max, Math.abs(out8.data[i]! - out16.data[i]! / 257));
    }
    assert.ok(max <= 0.51, `max difference ${max} levels`);
    assert.ok(
      out16.data.some((v) => v % 257 !== 0),
      'the 16-bit output uses levels 8 bits cannot hold',
    );
  });

  it('returns a gray photo gray: 0.299 R + 0.587 G + 0.114 B of the net’s RGB', async () => {
    const gray: Raster = { ...crop, channels: 1, data: crop.data.filter((_, i) => i % 3 === 1) };
    const asRgb: Raster = {
      ...crop,
      data: Uint8Array.from(crop.data, (_, i) => gray.data[Math.floor(i / 3)]!),
    };
    const out = await upsampler.upscale(to16(gray), { tileSize: 128 });
    const rgb = await upsampler.upscale(to16(asRgb), { tileSize: 128 });
    assert.equal(out.channels, 1);
    let max = 0;
    for (let i = 0; i < out.data.length; i++) {
      const expected = 0.299 * rgb.data[3 * i]! + 0.587 * rgb.data[3 * i + 1]! + 0.114 * rgb.data[3 * i + 2]!;
      max = Math.max(max, Math.abs(out.data[i]! - expected));
    }
    assert.ok(max <= 1, `max difference ${max} levels`);
  });

  it('keeps alpha, enlarged bilinearly, and the colour as without it', async () => {
    const alpha = Uint8Array.from({ length: crop.width * crop.height }, (_, i) => (i * 37) % 256);
    const rgba = new Uint8Array(crop.width * crop.height * 4);
    for (let i = 0; i < alpha.length; i++) {
      rgba.set(crop.data.subarray(3 * i, 3 * i + 3), 4 * i);
      rgba[4 * i + 3] = alpha[i]!;
    }
    const out = await upsampler.upscale({ ...crop, channels: 4, data: rgba }, { tileSize: 128 });
    const colour = await upsampler.upscale(crop, { tileSize: 128 });
    const expectedAlpha = resizeRaster({ ...crop, channels: 1, data: alpha }, 602, 406);
    assert.equal(out.channels, 4);
    for (let i = 0; i < 602 * 406; i++) {
      assert.deepEqual(
        [...out.data.subarray(4 * i, 4 * i + 4)],
        [...colour.data.subarray(3 * i, 3 * i + 3), expectedAlpha.data[i]],
      );
    }
  });

  for (const outscale of [1, 1.5, 4]) {
    it(`enlarges ×2 with the net, then resizes to ⌊W·${outscale}⌋ × ⌊H·${outscale}⌋ (lanczos3), 16 bits kept`, async () => {
      const out = await upsampler.upscale(to16(crop), { outscale, tileSize: 128 });
      assert.deepEqual(
        [out.width, out.height, out.channels, out.depth],
        [Math.floor(301 * outscale), Math.floor(203 * outscale), 3, 16],
      );
      // The resize keeps the picture and its levels: the mean is the ×2 output's.
      const [got, expected] = [mean(out), mean(untiled16)];
      assert.ok(Math.abs(got - expected) < 0.01 * 65535, `mean ${got}, ×2 mean ${expected}`);
    });
  }

  it('resizes a gray 8-bit photo as one 8-bit band', async () => {
    const gray: Raster = { ...crop, channels: 1, data: crop.data.filter((_, i) => i % 3 === 1) };
    const twice = await upsampler.upscale(gray, { tileSize: 128 });
    const out = await upsampler.upscale(gray, { outscale: 3, tileSize: 128 });
    assert.deepEqual([out.width, out.height, out.channels, out.depth], [903, 609, 1, 8]);
    assert.equal(out.data.length, 903 * 609);
    assert.ok(Math.abs(mean(out) - mean(twice)) < 0.01 * 255, `mean ${mean(out)}, ×2 mean ${mean(twice)}`);
  });

  it('reports progress once per tile, and runs the net once per tile', async () => {
    const seen: string[] = [];
    const before = upsampler.tilesRun;
    await upsampler.upscale(crop, { tileSize: 128, onProgress: (p) => seen.push(`${p.done}/${p.total}`) });
    assert.deepEqual(seen, ['1/6', '2/6', '3/6', '4/6', '5/6', '6/6']);
    assert.equal(upsampler.tilesRun - before, 6);
  });

  it('stops between tiles when cancelled', async () => {
    const controller = new AbortController();
    const before = upsampler.tilesRun;
    const reason = new EngineError('cancelled', 'cancelled');
    await assert.rejects(
      upsampler.upscale(crop, {
        tileSize: 64,
        signal: controller.signal,
        onProgress: () => controller.abort(reason),
      }),
      (error) => error === reason,
    );
    assert.equal(upsampler.tilesRun - before, 1);
  });

  it('enlarges a photo one pixel wide (the mod pad reflects onto the only column)', async () => {
    const thin: Raster = { width: 1, height: 3, channels: 3, depth: 8, data: new Uint8Array(9).fill(90) };
    const out = await upsampler.upscale(thin);
    assert.deepEqual([out.width, out.height], [2, 6]);
  });
});

describe('opening a converted upsampler', () => {
  it('opens the folder conversion wrote and names the checkpoint it came from', async () => {
    const dir = tempDir('upscale-open-');
    const checkpoint = writeCheckpoint(dir, 'small_x2.pth', visibleSmallNet());
    convertUpsamplerCheckpoint(checkpoint, path.join(dir, 'model'), { config: SMALL });
    const upsampler = await Upsampler.open(path.join(dir, 'model'), { providers: ['cpu'] });
    try {
      assert.equal(upsampler.model.name, 'Real-ESRGAN ×2 (small_x2.pth)');
      assert.equal(upsampler.provider, 'cpu');
      const out = await upsampler.upscale(await photoCrop(), { tileSize: 128 });
      assert.deepEqual([out.width, out.height], [602, 406]);
    } finally {
      await upsampler.release();
    }
  });

  it('refuses a folder that is not a converted upsampler as a bad model', () => {
    const dir = tempDir('upscale-open-');
    assert.throws(
      () => readUpsamplerSidecar(dir),
      (error) => error instanceof EngineError && error.code === 'bad-model',
    );
    fs.writeFileSync(path.join(dir, 'rrdbnet.json'), JSON.stringify({ format: 'heirloom-codeformer' }));
    assert.throws(() => readUpsamplerSidecar(dir), /not a model description this version of Heirloom reads/);
  });
});
