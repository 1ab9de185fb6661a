/**
 * The background upsampler at full size (Real-ESRGAN ×2, seeded x2plus weights converted the way a user's
 * checkpoint is; speed and memory do not depend on the values), on the CPU provider. Prints JSON.
 *
 *   node --import tsx bench/upscale.ts [--megapixels 1,4,40] [--run-tiles 2] [--depth 8|16] [--seams]
 *
 * For each photo size (a real photo resized to 4:3), in a fresh process: the whole upscale path with the
 * default tiles — the photo, the ×2 output raster in the photo's depth, every tile's window read and its
 * output written — where the net runs on `--run-tiles` tiles, the largest (interior) ones, and the others
 * return zeros. That is the memory of a full run (every tile is at most that large, and nothing else
 * grows with the number of tiles) in minutes instead of the hours a 40 MP photo takes on two cores.
 * Reported: megapixels per second of input kept (overlap included in the cost), the projected time of the
 * full photo, the RSS sampled after every tile, and the kernel's peak RSS (getrusage), which also sees
 * inside a session.run that blocks the event loop. `--run-tiles 0` runs every tile. The net costs 4.48 TMAC
 * per input megapixel (4.14 of them in the trunk at half resolution), before the overlap.
 *
 * `--seams` instead measures what tiling changes: the output of a real photo crop tiled (tile 128, several
 * overlaps) against the same crop untiled, and the difference as a function of the distance to a tile's cut
 * edge (one window cut short on the right), in the net's own float output before clamping.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { Raster } from '../src-main/core/engine/image.ts';
import {
  DEFAULT_OVERLAP,
  DEFAULT_TILE,
  Upsampler,
  planTiles,
  upscaleRaster,
  type Tile,
  type TileRunner,
} from '../src-main/core/engine/upscale.ts';
import { convertUpsamplerCheckpoint } from '../src-main/core/nn/rrdbnet/convert.ts';
import { X2PLUS } from '../src-main/core/nn/rrdbnet/config.ts';
import { seededRrdbNet, writeCheckpoint } from '../tests/support/rrdbnet.ts';

const PHOTO = path.resolve(import.meta.dirname, '../../shared/photos/DeOldify/test_images/1860Girls.jpg');

const { values } = parseArgs({
  options: {
    megapixels: { type: 'string', default: '1,4,40' },
    'run-tiles': { type: 'string', default: '2' },
    depth: { type: 'string', default: '8' },
    seams: { type: 'boolean', default: false },
    // Internal: the steps each child process runs.
    prepare: { type: 'string' },
    run: { type: 'string' },
    measure: { type: 'string' },
  },
});

const mb = (bytes: number): number => Math.round(bytes / 1048576);
const peakMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

/** A real photo resized to about `megapixels`, 4:3, in the asked depth. */
async function photoOf(megapixels: number, depth: 8 | 16): Promise<Raster> {
  const width = Math.round(Math.sqrt((megapixels * 1e6 * 4) / 3));
  const height = Math.round((width * 3) / 4);
  const { data } = await sharp(PHOTO, { limitInputPixels: false })
    .resize(width, height, { fit: 'fill' })
    .removeAlpha()
    .raw({ depth: depth === 16 ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const pixels =
    depth === 16
      ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { width, height, channels: 3, depth, data: pixels };
}

const area = (t: Tile): number => (t.cx1 - t.cx0) * (t.cy1 - t.cy0);

/** One photo size, in this (fresh) process. */
async function measure(dir: string, megapixels: number, runTiles: number, depth: 8 | 16): Promise<unknown> {
  const upsampler = await Upsampler.open(dir, { providers: ['cpu'] });
  const openedMb = mb(process.memoryUsage().rss);
  const raster = await photoOf(megapixels, depth);
  const tiles = planTiles(raster.width, raster.height, DEFAULT_TILE, DEFAULT_OVERLAP);
  // The largest windows run the net (ties: the first), as a set of sizes to recognise in the runner.
  const chosen = runTiles > 0 ? [...tiles].sort((a, b) => area(b) - area(a)).slice(0, runTiles) : tiles;
  const pending = new Map<string, number>();
  for (const t of chosen) {
    const key = `${t.cx1 - t.cx0}x${t.cy1 - t.cy0}`;
    pending.set(key, (pending.get(key) ?? 0) + 1);
  }
  let netSeconds = 0;
  let keptPixelsRun = 0;
  let sampledMb = 0;
  let index = 0;
  const run: TileRunner = async (window, width, height) => {
    const tile = tiles[index++]!;
    const key = `${width}x${height}`;
    const left = pending.get(key) ?? 0;
    let out: Float32Array;
    if (left > 0) {
      pending.set(key, left - 1);
      const start = performance.now();
      out = await upsampler.runTile(window, width, height);
      netSeconds += (performance.now() - start) / 1000;
      keptPixelsRun += (tile.x1 - tile.x0) * (tile.y1 - tile.y0);
    } else out = new Float32Array(12 * width * height);
    sampledMb = Math.max(sampledMb, mb(process.memoryUsage().rss));
    return out;
  };
  const start = performance.now();
  await upscaleRaster(run, raster, {
    onProgress: () => (sampledMb = Math.max(sampledMb, mb(process.memoryUsage().rss))),
  });
  const rate = keptPixelsRun / 1e6 / netSeconds;
  await upsampler.release();
  return {
    photo: `${raster.width}×${raster.height} (${((raster.width * raster.height) / 1e6).toFixed(2)} MP), ${depth}-bit`,
    tiles: tiles.length,
    tilesRun: upsampler.tilesRun,
    largestWindow: `${chosen[0]!.cx1 - chosen[0]!.cx0}×${chosen[0]!.cy1 - chosen[0]!.cy0}`,
    netSecondsPerTile: +(netSeconds / upsampler.tilesRun).toFixed(1),
    inputMegapixelsPerSecond: +rate.toFixed(4),
    projectedFullRunMinutes: Math.round((raster.width * raster.height) / 1e6 / rate / 60),
    wallSeconds: Math.round((performance.now() - start) / 1000),
    rssAfterOpenMb: openedMb,
    rssSampledPeakMb: sampledMb,
    peakRssMb: peakMb(),
  };
}

/** The net's float output of a window of `raster` (RGB, 8-bit), [x0, x1) × [y0, y1), all even. */
async function windowOutput(
  upsampler: Upsampler,
  raster: Raster,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): Promise<Float32Array> {
  const w = x1 - x0;
  const h = y1 - y0;
  const plane = w * h;
  const input = new Float32Array(3 * plane);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        input[c * plane + y * w + x] = raster.data[((y0 + y) * raster.width + x0 + x) * 3 + c]! / 255;
      }
    }
  }
  return upsampler.runTile(input, w, h);
}

/** Tiled against untiled on a real photo crop: float differences by distance to a cut, and at each overlap. */
async function seams(dir: string): Promise<unknown> {
  const upsampler = await Upsampler.open(dir, { providers: ['cpu'] });
  const [width, height] = [384, 256];
  const { data } = await sharp(PHOTO)
    .extract({ left: 600, top: 300, width, height })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const raster: Raster = { width, height, channels: 3, depth: 8, data: new Uint8Array(data) };
  const whole = await windowOutput(upsampler, raster, 0, 0, width, height);

  // One window cut short on the right at column `cut`: the error at output columns d input px left of
  // the cut is what a tile with overlap d makes at the edge of what it keeps.
  const cut = 256;
  const part = await windowOutput(upsampler, raster, 0, 0, cut, height);
  const [W, w, H] = [2 * width, 2 * cut, 2 * height];
  const byDistance: Record<number, number> = {};
  for (const d of [0, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128]) {
    let max = 0;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < H; y++) {
        for (const x of [2 * (cut - d) - 1, 2 * (cut - d) - 2]) {
          if (x < 0) continue;
          max = Math.max(max, Math.abs(part[c * H * w + y * w + x]! - whole[c * H * W + y * W + x]!));
        }
      }
    }
    byDistance[d] = +max.toExponential(2);
  }

  // The real tiled path (16-bit, so rounding hides little) at several overlaps, tile 128: 3×2 tiles.
  const deep: Raster = { ...raster, depth: 16, data: Uint16Array.from(raster.data, (v) => v * 257) };
  const untiled = await upscaleRaster(upsampler.runTile, deep, { tileSize: 4096 });
  const tiled: Record<number, { max16bitLevels: number; max8bitLevels: number }> = {};
  for (const overlap of [16, 32, DEFAULT_OVERLAP]) {
    const out = await upscaleRaster(upsampler.runTile, deep, { tileSize: 128, overlap });
    let max = 0;
    let max8 = 0;
    for (let i = 0; i < out.data.length; i++) {
      max = Math.max(max, Math.abs(out.data[i]! - untiled.data[i]!));
      max8 = Math.max(max8, Math.abs(Math.round(out.data[i]! / 257) - Math.round(untiled.data[i]! / 257)));
    }
    tiled[overlap] = { max16bitLevels: max, max8bitLevels: max8 };
  }
  await upsampler.release();
  return {
    crop: `${width}×${height} of ${path.basename(PHOTO)} at (600, 300)`,
    outputRange: [whole.reduce((a, b) => Math.min(a, b)), whole.reduce((a, b) => Math.max(a, b))].map(
      (v) => +v.toFixed(3),
    ),
    maxAbsDifferenceByDistanceToCut: byDistance,
    tiledVsUntiled: tiled,
  };
}

/** Runs this file with `args` in a child process and returns the JSON it prints last. */
function child(args: string[]): unknown {
  // A child per step: Linux carries a process's peak RSS over fork and exec (bench/convert.ts).
  const self = [...process.execArgv, import.meta.filename];
  const out = execFileSync(process.execPath, [...self, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

if (values.prepare) {
  const dir = values.prepare;
  const checkpoint = writeCheckpoint(dir, 'RealESRGAN_x2plus.pth', seededRrdbNet(X2PLUS, 1));
  convertUpsamplerCheckpoint(checkpoint, path.join(dir, 'converted'));
  console.log('{}');
} else if (values.run) {
  const [megapixels, runTiles, depth] = (values.measure ?? '').split(',').map(Number);
  const result = await measure(values.run, megapixels!, runTiles!, depth === 16 ? 16 : 8);
  console.log(JSON.stringify(result));
} else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heirloom-upscale-bench-'));
  try {
    child(['--prepare', dir]);
    const converted = path.join(dir, 'converted');
    const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, load ${os.loadavg()[0]!.toFixed(1)}`;
    if (values.seams) {
      console.log(JSON.stringify({ machine, seams: await seams(converted) }, null, 2));
    } else {
      const sizes = values.megapixels.split(',').map(Number);
      const runs = sizes.map((size) =>
        child(['--run', converted, '--measure', `${size},${values['run-tiles']},${values.depth}`]),
      );
      console.log(
        JSON.stringify(
          {
            machine,
            tile: DEFAULT_TILE,
            overlap: DEFAULT_OVERLAP,
            runs,
            loadAfter: os.loadavg()[0]!.toFixed(1),
            target: { peakRssMb: 3072 },
          },
          null,
          2,
        ),
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
