import sharp from 'sharp';
import type { Raster, RgbImage } from './image.ts';

/** Resizes an RGB image by `scale` (rounded size); sharp reduces with area averaging, enlarges bilinearly. */
export async function resizeRgb(image: RgbImage, scale: number): Promise<RgbImage> {
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  return resizeRgbTo(image, width, height);
}

export async function resizeRgbTo(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  const { data, info } = await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(width, height, { kernel: width < image.width ? 'lanczos3' : 'linear', fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}

/**
 * Resizes a raster in its own depth and layout, bilinear with pixel centres aligned, as OpenCV's INTER_LINEAR
 * resize of the official background path (CODEFORMER.md §8.4): output pixel X reads the photo at
 * (X + ½)·(width/newWidth) − ½, edges replicated. Every band, alpha included, is interpolated on its own —
 * sharp premultiplies alpha for a resize and its round trip darkens an 8-bit RGBA photo by up to 2 levels.
 */
export function resizeRaster(raster: Raster, width: number, height: number): Raster {
  const { channels, depth, data } = raster;
  const taps = (from: number, to: number) => {
    const index = new Int32Array(to);
    const weight = new Float64Array(to);
    for (let i = 0; i < to; i++) {
      const at = Math.min(Math.max((i + 0.5) * (from / to) - 0.5, 0), from - 1);
      index[i] = Math.min(Math.floor(at), Math.max(0, from - 2));
      weight[i] = at - index[i]!;
    }
    return { index, weight, next: from > 1 ? 1 : 0 };
  };
  const xs = taps(raster.width, width);
  const ys = taps(raster.height, height);
  const out =
    depth === 16 ? new Uint16Array(width * height * channels) : new Uint8Array(width * height * channels);
  const rowStride = raster.width * channels;
  for (let y = 0; y < height; y++) {
    const top = ys.index[y]! * rowStride;
    const bottom = top + ys.next * rowStride;
    const fy = ys.weight[y]!;
    for (let x = 0; x < width; x++) {
      const left = xs.index[x]! * channels;
      const right = left + xs.next * channels;
      const fx = xs.weight[x]!;
      const o = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) {
        const upper = data[top + left + c]! + (data[top + right + c]! - data[top + left + c]!) * fx;
        const lower = data[bottom + left + c]! + (data[bottom + right + c]! - data[bottom + left + c]!) * fx;
        out[o + c] = Math.round(upper + (lower - upper) * fy);
      }
    }
  }
  return { width, height, channels, depth, data: out };
}
