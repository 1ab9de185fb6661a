/**
 * The background upsampler: Real-ESRGAN ×2 (a converted RealESRGAN_x2plus.pth, nn/rrdbnet) over a whole
 * photo, the way the official pipeline's RealESRGANer enlarges the background (CODEFORMER.md §8.4), in tiles
 * so that memory does not grow with the photo.
 *
 * What follows RealESRGANer and what does not:
 * - RGB in [0,1] (8-bit /255, 16-bit /65535), reflect-padded by one row/column when a side is odd (its mod
 *   pad; CodeFormer's pipeline uses pre_pad 0), output clamped to [0,1], ×255 or ×65535, rounded half to even,
 *   cropped to 2W × 2H. A gray photo goes through as RGB and comes back gray (0.299 R + 0.587 G + 0.114 B).
 * - The depth comes from the photo, not from RealESRGANer's "max > 256" test, which takes a dark 16-bit photo
 *   for an 8-bit one.
 * - Tiles: RealESRGANer's tile_pad (10 by default, 40 in CodeFormer's scripts) can leave seams: the net's
 *   receptive field reaches ~700 px. Here each tile sees `overlap` px of real photo around it (default 64,
 *   see DEFAULT_OVERLAP), and only its centre is kept, so every output pixel is written once, straight into
 *   the output raster: no float copy of the enlarged photo is ever held.
 * - Alpha is enlarged bilinearly (RealESRGANer's alpha_upsampler other than 'realesrgan'), not by a second
 *   run of the net, which would double the cost for a band that is almost always flat.
 * - Any other outscale: ×2 by the net, then a resize to ⌊W·outscale⌋ × ⌊H·outscale⌋ as RealESRGANer does,
 *   with sharp's lanczos3 where it uses OpenCV's LANCZOS4 (see `resizeColour`).
 */
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { UPSAMPLER_SIDECAR, type UpsamplerSidecar } from '../nn/rrdbnet/sidecar.ts';
import { EngineError } from './errors.ts';
import type { Raster } from './image.ts';
import { resizeRaster } from './resize.ts';
import type { ModelIdentity } from './restore.ts';
import { checkpoint } from './serve.ts';
import { openSession, type ExecutionProvider, type SessionOptions } from './sessions.ts';

/** The net's own enlargement. */
export const NATIVE_SCALE = 2;
/**
 * Input pixels per tile side before the overlap; tiles come out near-equal, so a window is at most
 * (448 + 2·64)² = 576². Memory is the photo, the ×2 output in the photo's depth, and one window's run:
 * bench/upscale.ts measured a peak RSS of 1.96 GB for a 40 MP 8-bit photo and 2.51 GB for 16-bit
 * (window 558×550), against 1.34 GB for 4 MP: nothing but the two rasters grows with the photo. Tile 512
 * (windows up to 640²) peaked at 2.67 GB for 16-bit, too near 3 GB; 448 costs ~6% more overlap.
 */
export const DEFAULT_TILE = 448;
/**
 * Real photo each tile sees beyond the pixels it keeps, per side. The full net's receptive field reaches
 * ~697 px, but what a far pixel changes fades fast. With the seeded full-size net on a real photo crop
 * (bench/upscale.ts --seams), the output at d px from a tile's cut edge differs from the untiled one by
 * 0.19 at d = 4, 5.5e-3 at 8, 1.2e-4 at 12, 3.8e-6 at 16 and float noise (~1e-6) from 24 on; tiled at 16,
 * 32 or 64 differs from untiled by at most one 16-bit level. Trained weights may reach further than random
 * ones, so the default is 4× where the seeded net reaches float noise, above the 40 of CodeFormer's own
 * scripts and the 32–48 users found seam-free for the RealESRNet tiles of GPEN (yangxy/GPEN#129). Its price: an interior
 * tile computes (448 + 128)² pixels to keep 448², about 1.6× the untiled work on a 40 MP photo.
 */
export const DEFAULT_OVERLAP = 64;

/** One tile: the input pixels whose enlargement it keeps, and the larger window the net sees. */
export interface Tile {
  /** Kept: [x0, x1) × [y0, y1) of the (even-padded) input. */
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  /** Seen: the kept area and `overlap` more on each side, within the padded input. */
  readonly cx0: number;
  readonly cy0: number;
  readonly cx1: number;
  readonly cy1: number;
}

/** Runs the net on one NCHW RGB tile [1,3,height,width] in [0,1]; returns [1,3,2·height,2·width]. */
export type TileRunner = (tile: Float32Array, width: number, height: number) => Promise<Float32Array>;

export interface UpscaleProgress {
  readonly done: number;
  readonly total: number;
}

export interface UpscaleOptions {
  /** Output size ⌊W·outscale⌋ × ⌊H·outscale⌋; default 2, the net's own. */
  readonly outscale?: number;
  /** Input pixels per tile side, before the overlap (rounded up to even). */
  readonly tileSize?: number;
  /** Input pixels of context per tile side (rounded up to even). */
  readonly overlap?: number;
  /** Called after each tile. */
  readonly onProgress?: (progress: UpscaleProgress) => void;
  /** Checked between tiles (a tile's run cannot be interrupted). */
  readonly signal?: AbortSignal;
  /** Awaited between tiles instead of checking `signal`: the engine's pause (serve.ts), which checks it too. */
  readonly between?: () => Promise<void>;
}

function even(n: number): number {
  return 2 * Math.ceil(n / 2);
}

/**
 * Edges of `count` near-equal spans over [0, size), all at even positions: the pixel-unshuffle pairs pixels
 * (2k, 2k+1), so a tile starting at an odd pixel would pair them differently from the untiled run.
 */
function spans(size: number, count: number): number[] {
  return Array.from({ length: count + 1 }, (_, k) => 2 * Math.round((k * size) / (2 * count)));
}

/**
 * The tiles over a `width` × `height` input, padded to even sides: as few as `tileSize` allows, all near the
 * same size (RealESRGANer's last tile of a row can be a sliver, which costs a whole overlap for a few pixels).
 */
export function planTiles(width: number, height: number, tileSize: number, overlap: number): Tile[] {
  const paddedWidth = even(width);
  const paddedHeight = even(height);
  const size = Math.max(2, even(tileSize));
  const margin = even(overlap);
  const xs = spans(paddedWidth, Math.ceil(paddedWidth / size));
  const ys = spans(paddedHeight, Math.ceil(paddedHeight / size));
  const tiles: Tile[] = [];
  for (let j = 0; j + 1 < ys.length; j++) {
    for (let i = 0; i + 1 < xs.length; i++) {
      const [x0, x1, y0, y1] = [xs[i]!, xs[i + 1]!, ys[j]!, ys[j + 1]!];
      tiles.push({
        x0,
        y0,
        x1,
        y1,
        cx0: Math.max(0, x0 - margin),
        cy0: Math.max(0, y0 - margin),
        cx1: Math.min(paddedWidth, x1 + margin),
        cy1: Math.min(paddedHeight, y1 + margin),
      });
    }
  }
  return tiles;
}

/** The source index of padded coordinate `i`: RealESRGANer's reflect mod pad maps index `size` to `size − 2`. */
function reflect(i: number, size: number): number {
  return i < size ? i : Math.max(0, 2 * size - 2 - i);
}

/** The tile's window of the photo as NCHW RGB in [0,1]; a gray band is copied to R, G and B. */
function readWindow(raster: Raster, tile: Tile): Float32Array {
  const { width, height, channels, data } = raster;
  const w = tile.cx1 - tile.cx0;
  const h = tile.cy1 - tile.cy0;
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  const scale = 1 / (raster.depth === 16 ? 65535 : 255);
  const colour = channels >= 3;
  for (let y = 0; y < h; y++) {
    const row = reflect(tile.cy0 + y, height) * width;
    for (let x = 0; x < w; x++) {
      const s = (row + reflect(tile.cx0 + x, width)) * channels;
      const o = y * w + x;
      out[o] = data[s]! * scale;
      out[plane + o] = data[colour ? s + 1 : s]! * scale;
      out[2 * plane + o] = data[colour ? s + 2 : s]! * scale;
    }
  }
  return out;
}

/** numpy's round (half to even), which RealESRGANer applies before its integer cast. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * Writes the kept part of a tile's output into `out` (the colour bands of the ×2 image, interleaved, 1 band
 * for a gray photo, 3 otherwise): clamped to [0,1], scaled to the depth, rounded; pixels of the mod pad are
 * dropped. Gray is taken from the clamped RGB with OpenCV's BGR2GRAY weights, as RealESRGANer does.
 */
function writeTile(
  out: Uint8Array | Uint16Array,
  outWidth: number,
  outHeight: number,
  bands: 1 | 3,
  tile: Tile,
  result: Float32Array,
): void {
  const max = out instanceof Uint16Array ? 65535 : 255;
  const w = NATIVE_SCALE * (tile.cx1 - tile.cx0);
  const plane = w * NATIVE_SCALE * (tile.cy1 - tile.cy0);
  const xEnd = Math.min(NATIVE_SCALE * tile.x1, outWidth);
  const yEnd = Math.min(NATIVE_SCALE * tile.y1, outHeight);
  for (let y = NATIVE_SCALE * tile.y0; y < yEnd; y++) {
    const row = (y - NATIVE_SCALE * tile.cy0) * w - NATIVE_SCALE * tile.cx0;
    for (let x = NATIVE_SCALE * tile.x0; x < xEnd; x++) {
      const i = row + x;
      const r = clamp01(result[i]!);
      const g = clamp01(result[plane + i]!);
      const b = clamp01(result[2 * plane + i]!);
      const o = (y * outWidth + x) * bands;
      if (bands === 1) out[o] = roundHalfEven((0.299 * r + 0.587 * g + 0.114 * b) * max);
      else {
        out[o] = roundHalfEven(r * max);
        out[o + 1] = roundHalfEven(g * max);
        out[o + 2] = roundHalfEven(b * max);
      }
    }
  }
}

/** The colour bands of `raster` enlarged ×2 by the net, tile by tile: 1 band for gray, 3 for colour. */
async function enlargeColour(run: TileRunner, raster: Raster, options: UpscaleOptions): Promise<Raster> {
  const bands = raster.channels >= 3 ? 3 : 1;
  const width = NATIVE_SCALE * raster.width;
  const height = NATIVE_SCALE * raster.height;
  const count = width * height * bands;
  const data = raster.depth === 16 ? new Uint16Array(count) : new Uint8Array(count);
  const tiles = planTiles(
    raster.width,
    raster.height,
    options.tileSize ?? DEFAULT_TILE,
    options.overlap ?? DEFAULT_OVERLAP,
  );
  for (const [done, tile] of tiles.entries()) {
    if (options.between) await options.between();
    else if (options.signal) await checkpoint(options.signal);
    const w = tile.cx1 - tile.cx0;
    const h = tile.cy1 - tile.cy0;
    const result = await run(readWindow(raster, tile), w, h);
    if (result.length !== 3 * NATIVE_SCALE * w * NATIVE_SCALE * h) {
      throw new EngineError('bad-model', `the upsampler gave ${result.length} values for a ${w}×${h} tile`);
    }
    writeTile(data, width, height, bands, tile, result);
    options.onProgress?.({ done: done + 1, total: tiles.length });
  }
  return { width, height, channels: bands, depth: raster.depth, data };
}

/**
 * The ×2 colour resized to the output size. sharp's lanczos3 where RealESRGANer uses OpenCV's LANCZOS4:
 * sharp resizes 8- and 16-bit bands as they are, streams through libvips instead of holding float copies,
 * and, shrinking (outscale < 2), widens its kernel by the factor, where LANCZOS4's fixed 8×8 taps alias.
 * Alpha is never in the image it resizes: sharp would premultiply it (see resize.ts).
 */
async function resizeColour(colour: Raster, width: number, height: number): Promise<Raster> {
  const deep = colour.depth === 16;
  const { data, info } = await sharp(colour.data, {
    raw: { width: colour.width, height: colour.height, channels: colour.channels },
    limitInputPixels: false,
  })
    .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
    // Said outright: sharp would hand 16-bit back scaled to 8-bit levels, and one band as three.
    .toColourspace(colour.channels === 1 ? (deep ? 'grey16' : 'b-w') : deep ? 'rgb16' : 'srgb')
    .raw({ depth: deep ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const pixels = deep
    ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return {
    width: info.width,
    height: info.height,
    channels: colour.channels,
    depth: colour.depth,
    data: pixels,
  };
}

/** The alpha band of `raster`, enlarged bilinearly to width × height (resize.ts: INTER_LINEAR's geometry). */
function enlargeAlpha(raster: Raster, width: number, height: number): Raster {
  const { channels } = raster;
  const n = raster.width * raster.height;
  const alpha = raster.depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) alpha[i] = raster.data[i * channels + channels - 1]!;
  return resizeRaster({ ...raster, channels: 1, data: alpha }, width, height);
}

/** Colour bands and an alpha band of the same size, interleaved into one raster. */
function withAlpha(colour: Raster, alpha: Raster): Raster {
  const bands = colour.channels;
  const channels = (bands + 1) as 2 | 4;
  const n = colour.width * colour.height;
  const data = colour.depth === 16 ? new Uint16Array(n * channels) : new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < bands; c++) data[i * channels + c] = colour.data[i * bands + c]!;
    data[i * channels + bands] = alpha.data[i]!;
  }
  return { ...colour, channels, data };
}

/**
 * `raster` (gray, gray+alpha, RGB or RGBA, 8- or 16-bit) enlarged to ⌊W·outscale⌋ × ⌊H·outscale⌋ in its own
 * depth and layout: the net's ×2 in tiles through `run`, then a resize for any other outscale. Memory: the
 * photo, the ×2 output in the photo's depth, and one tile.
 */
export async function upscaleRaster(
  run: TileRunner,
  raster: Raster,
  options: UpscaleOptions = {},
): Promise<Raster> {
  const outscale = options.outscale ?? NATIVE_SCALE;
  if (!(outscale > 0)) throw new RangeError(`outscale must be positive, got ${outscale}`);
  const width = Math.max(1, Math.floor(raster.width * outscale));
  const height = Math.max(1, Math.floor(raster.height * outscale));
  let colour = await enlargeColour(run, raster, options);
  if (colour.width !== width || colour.height !== height) colour = await resizeColour(colour, width, height);
  if (raster.channels % 2 === 1) return colour;
  return withAlpha(colour, enlargeAlpha(raster, width, height));
}

/** Reads and checks the sidecar of a converted upsampler folder. */
export function readUpsamplerSidecar(dir: string): UpsamplerSidecar {
  const file = path.join(dir, UPSAMPLER_SIDECAR);
  let parsed: Partial<UpsamplerSidecar>;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<UpsamplerSidecar>;
  } catch (error) {
    throw new EngineError(
      'bad-model',
      `${dir} is not a converted Real-ESRGAN model (no readable ${UPSAMPLER_SIDECAR})`,
      {
        cause: error,
      },
    );
  }
  if (
    parsed.format !== 'heirloom-rrdbnet' ||
    parsed.version !== 1 ||
    parsed.scale !== NATIVE_SCALE ||
    !parsed.graph
  ) {
    throw new EngineError('bad-model', `${file} is not a model description this version of Heirloom reads`);
  }
  return parsed as UpsamplerSidecar;
}

/** Real-ESRGAN ×2 on one onnxruntime session: a converted folder, or (tests, benches) a built graph. */
export class Upsampler {
  /** Tiles run since opening. */
  tilesRun = 0;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: ExecutionProvider,
    readonly fallbackReason: string | undefined,
    readonly model: ModelIdentity,
  ) {}

  /** Opens a folder written by convertUpsamplerCheckpoint. */
  static async open(dir: string, options: SessionOptions = {}): Promise<Upsampler> {
    const sidecar = readUpsamplerSidecar(dir);
    return Upsampler.openGraph(path.join(dir, sidecar.graph), options, {
      name: `Real-ESRGAN ×2 (${sidecar.source.file})`,
      sha256: sidecar.source.sha256,
    });
  }

  /** Opens a graph built by buildRrdbNet (input `image`, output `upscaled`). */
  static async openGraph(
    model: string | Uint8Array,
    options: SessionOptions = {},
    identity: ModelIdentity = { name: 'Real-ESRGAN ×2', sha256: '' },
  ): Promise<Upsampler> {
    const { session, provider, fallbackReason } = await openSession(model, options);
    return new Upsampler(session, provider, fallbackReason, identity);
  }

  /** Runs the net on one tile; see TileRunner. */
  readonly runTile: TileRunner = async (tile, width, height) => {
    const image = new ort.Tensor('float32', tile, [1, 3, height, width]);
    const { upscaled } = await this.session.run({ image });
    this.tilesRun++;
    if (!upscaled || upscaled.type !== 'float32') {
      throw new EngineError('bad-model', 'the upsampler model has no float32 output called upscaled');
    }
    return upscaled.data as Float32Array;
  };

  /** `raster` enlarged ⌊W·outscale⌋ × ⌊H·outscale⌋ (default ×2); see upscaleRaster. */
  upscale(raster: Raster, options: UpscaleOptions = {}): Promise<Raster> {
    return upscaleRaster(this.runTile, raster, options);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
