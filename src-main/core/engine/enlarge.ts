import { EngineError } from './errors.ts';
import { DEFAULT_MAX_PIXELS, type Raster } from './image.ts';
import { resizeRaster } from './resize.ts';
import type { UpscaleOptions } from './upscale.ts';

/*
 * An export's enlargement of the whole photo (the official `--upscale`, CODEFORMER.md §8.4 "Background"): the
 * photo is enlarged first, then the restored faces are pasted onto it at that scale. Light to import (no
 * onnxruntime): the core asks `largestUpscale` to plan an export.
 */

/** The most an export enlarges: the Export dialog's "4×". */
export const MOST_UPSCALE = 4;

/**
 * The largest whole enlargement, 1 to MOST_UPSCALE, that keeps a width × height photo within `maxPixels`: a 40 MP
 * photo ×2 is 160 MP, ×3 would be 360 MP. 1 when even the photo itself is over (decoding refuses it then).
 */
export function largestUpscale(width: number, height: number, maxPixels = DEFAULT_MAX_PIXELS): number {
  let upscale = MOST_UPSCALE;
  while (upscale > 1 && width * height * upscale * upscale > maxPixels) upscale--;
  return upscale;
}

function megapixels(pixels: number): string {
  return `${Math.round(pixels / 1e6)} MP`;
}

/**
 * Refuses an enlargement past the engine's limit before a pixel of it is made (the enlarged photo is held
 * whole, in the photo's depth), saying the largest one this photo allows.
 */
export function checkEnlargement(
  width: number,
  height: number,
  upscale: number,
  maxPixels = DEFAULT_MAX_PIXELS,
): void {
  const [w, h] = [width * upscale, height * upscale];
  if (w * h <= maxPixels) return;
  const largest = largestUpscale(width, height, maxPixels);
  throw new EngineError(
    'image-too-large',
    `enlarged ${upscale}× this photo would be ${w}×${h} (${megapixels(w * h)}), more than the ${megapixels(maxPixels)} Heirloom can make: export it ${largest > 1 ? `at ${largest}× or smaller` : 'at its original size'}`,
  );
}

/** What enlarges a whole photo with detail: Real-ESRGAN ×2 (upscale.ts Upsampler), or a test's stand-in. */
export interface PhotoEnlarger {
  upscale(raster: Raster, options: UpscaleOptions): Promise<Raster>;
}

/** How an export was enlarged: not at all, by the enlarger (Real-ESRGAN), or by plain (bilinear) resizing. */
export type EnlargedBy = 'none' | 'real-esrgan' | 'resizing';

/** The photo enlarged `upscale` times, bilinear as the official background path (§8.4); a copy at ×1. */
export function enlargeRaster(raster: Raster, upscale: number): Raster {
  if (upscale === 1) return { ...raster, data: raster.data.slice() };
  return resizeRaster(raster, raster.width * upscale, raster.height * upscale);
}

/**
 * `pixels` enlarged `upscale` times, a new raster in their depth and layout (a copy at ×1), for the faces to be
 * pasted onto (the CLI's `--upscale`, an export's size): by `enlarger` when there is one, tile by tile with
 * `options` (progress, cancel between tiles), else bilinear as the official pipeline does without its
 * background upsampler.
 */
export async function enlargePhoto(
  pixels: Raster,
  upscale: number,
  enlarger: PhotoEnlarger | undefined,
  options: Pick<UpscaleOptions, 'onProgress' | 'signal' | 'between'> = {},
): Promise<{ canvas: Raster; enlargedBy: EnlargedBy }> {
  if (upscale === 1) return { canvas: enlargeRaster(pixels, 1), enlargedBy: 'none' };
  if (!enlarger) return { canvas: enlargeRaster(pixels, upscale), enlargedBy: 'resizing' };
  return {
    canvas: await enlarger.upscale(pixels, { ...options, outscale: upscale }),
    enlargedBy: 'real-esrgan',
  };
}
