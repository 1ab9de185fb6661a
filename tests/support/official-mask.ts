// The soft mask of the official paste-back, built step by step as CODEFORMER.md §8.4 (steps 2–6) describes it:
// warp a ones-mask, erode it, measure the edge, erode again, Gaussian-blur. A slow, literal reference for the
// engine's closed-form mask; it follows OpenCV's conventions (even kernels anchored at their centre, sigma from
// the kernel size, reflect-101 border for the blur).
import { applySimilarity, type Similarity } from '../../src-main/core/engine/align.ts';

const FACE = 512;

/** Bilinear sample of a 512×512 ones image with a zero border, along one axis. */
function coverage(t: number): number {
  if (t <= -1 || t >= FACE) return 0;
  if (t < 0) return 1 + t;
  if (t > FACE - 1) return FACE - t;
  return 1;
}

/**
 * OpenCV's erode with a k×k square kernel: the minimum over offsets −⌊k/2⌋ … k−1−⌊k/2⌋, no border effect. An
 * empty kernel (np.ones((0, 0)), what a face under 20 px gets) means 3×3 to OpenCV.
 */
function erode(mask: Float64Array, width: number, height: number, size: number): Float64Array {
  const k = size === 0 ? 3 : size;
  const lo = -Math.floor(k / 2);
  const hi = k - 1 + lo;
  const pass = (src: Float64Array, horizontal: boolean): Float64Array => {
    const out = new Float64Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let m = Infinity;
        for (let d = lo; d <= hi; d++) {
          const xx = horizontal ? x + d : x;
          const yy = horizontal ? y : y + d;
          if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
          m = Math.min(m, src[yy * width + xx]!);
        }
        out[y * width + x] = m;
      }
    }
    return out;
  };
  return pass(pass(mask, true), false);
}

/** cv2.GaussianBlur(mask, (k, k), 0) with its default reflect-101 border. */
function gaussianBlur(mask: Float64Array, width: number, height: number, k: number): Float64Array {
  const r = (k - 1) / 2;
  const sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8;
  const kernel = Array.from({ length: k }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  const reflect = (i: number, n: number): number => {
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
  };
  const pass = (src: Float64Array, horizontal: boolean): Float64Array => {
    const out = new Float64Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        for (let i = 0; i < k; i++) {
          const xx = horizontal ? reflect(x + i - r, width) : x;
          const yy = horizontal ? y : reflect(y + i - r, height);
          sum += kernel[i]! * src[yy * width + xx]!;
        }
        out[y * width + x] = sum / total;
      }
    }
    return out;
  };
  return pass(pass(mask, true), false);
}

/**
 * The official soft mask on a `width`×`height` canvas, for a face whose canvas pixels map to template
 * coordinates by `toTemplate` (canvas pixel centres at integers), at enlargement `upscale`.
 */
export function officialSoftMask(
  width: number,
  height: number,
  toTemplate: Similarity,
  upscale: number,
): Float64Array {
  let mask: Float64Array = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [u, v] = applySimilarity(toTemplate, x, y);
      mask[y * width + x] = coverage(u) * coverage(v);
    }
  }
  mask = erode(mask, width, height, Math.trunc(2 * upscale));
  const area = mask.reduce((a, b) => a + b, 0);
  const edge = Math.floor(Math.trunc(Math.sqrt(area)) / 20);
  mask = erode(mask, width, height, 2 * edge);
  return gaussianBlur(mask, width, height, 2 * edge + 1);
}
