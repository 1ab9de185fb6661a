import type { RgbImage } from './image.ts';
import { estimateSimilarityLmeds } from './lmeds.ts';

export const FACE_SIZE = 512;

/**
 * CodeFormer's 5-point template for a 512×512 face (CODEFORMER.md §8.3): left eye, right eye, nose,
 * left and right mouth corner, "left" meaning the image's left.
 */
export const TEMPLATE_512: readonly (readonly [number, number])[] = [
  [192.98138, 239.94708],
  [318.90277, 240.1936],
  [256.63416, 314.01935],
  [201.26117, 371.41043],
  [313.08905, 371.15118],
];

/** The border colour of the official warp, (135,133,132) in BGR, written here as RGB. */
const BORDER_RGB = [132, 133, 135] as const;

/**
 * A similarity transform [a, -b, tx; b, a, ty] from photo pixel coordinates to template coordinates,
 * pixel centres at integer positions (OpenCV's warpAffine convention).
 */
export interface Similarity {
  readonly a: number;
  readonly b: number;
  readonly tx: number;
  readonly ty: number;
}

export function applySimilarity(t: Similarity, x: number, y: number): [number, number] {
  return [t.a * x - t.b * y + t.tx, t.b * x + t.a * y + t.ty];
}

export function invertSimilarity(t: Similarity): Similarity {
  const d = t.a * t.a + t.b * t.b;
  const a = t.a / d;
  const b = -t.b / d;
  return { a, b, tx: -(a * t.tx - b * t.ty), ty: -(b * t.tx + a * t.ty) };
}

/** Template pixels per photo pixel. */
export function similarityScale(t: Similarity): number {
  return Math.hypot(t.a, t.b);
}

/**
 * The similarity (rotation, uniform scale, translation) taking the 5 landmarks onto the template, as the official
 * code fits it: OpenCV's LMEDS (CODEFORMER.md §8.3), which drops a landmark that disagrees with the others (an
 * occluded mouth corner no longer tilts the crop), then the least-squares fit of the landmarks it kept.
 *
 * The landmarks kept are exactly OpenCV's (lmeds.ts reproduces its random subsets and float32 medians). The final
 * least squares is solved here in float64 from the caller's coordinates, where OpenCV's refinement converges to
 * the same fit from coordinates rounded to float32 first: the two differ by that rounding only (at the crop
 * corners a median 2e-4 px, at most 0.0075 px over tests/fixtures/lmeds; invisible once the warp puts its samples
 * on a 1/32-px grid), and exact landmarks keep giving the exact similarity.
 * Where LMEDS finds no model (OpenCV returns an empty matrix, which the official code does not handle and would
 * crash on), all landmarks are fitted by least squares instead: only degenerate sets get there, and a crop from
 * them is still better than a failed photo.
 */
export function alignToTemplate(
  landmarks: readonly (readonly [number, number])[],
  template: readonly (readonly [number, number])[] = TEMPLATE_512,
): Similarity {
  const n = landmarks.length;
  if (n !== template.length || n < 2)
    throw new Error(`alignment needs ${template.length} landmarks, got ${n}`);
  const kept = estimateSimilarityLmeds(landmarks, template)?.inliers ?? landmarks.map(() => true);
  return leastSquaresSimilarity(
    landmarks.filter((_, i) => kept[i]),
    template.filter((_, i) => kept[i]),
  );
}

/** The least-squares similarity taking `from` onto `to` (closed form about the centroids). */
function leastSquaresSimilarity(
  from: readonly (readonly [number, number])[],
  to: readonly (readonly [number, number])[],
): Similarity {
  const n = from.length;
  let sx = 0;
  let sy = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < n; i++) {
    sx += from[i]![0];
    sy += from[i]![1];
    dx += to[i]![0];
    dy += to[i]![1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const px = from[i]![0] - sx;
    const py = from[i]![1] - sy;
    const qx = to[i]![0] - dx;
    const qy = to[i]![1] - dy;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (norm === 0) throw new Error('alignment needs landmarks that are not all the same point');
  const a = dot / norm;
  const b = cross / norm;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

/** Pixels the warp samples from, and the map from template coordinates to theirs. */
interface Source {
  readonly width: number;
  readonly height: number;
  readonly data: ArrayLike<number>;
  readonly fromTemplate: Similarity;
}

/**
 * Warps the face to the 512×512 template: bilinear, constant grey border (CODEFORMER.md §8.3).
 * `toTemplate` maps photo coordinates to template coordinates. A face larger than the template (a 600-dpi scan
 * easily has 800 px faces) is low-pass filtered first, so the crop does not alias: bilinear sampling alone
 * reads only 4 pixels per output pixel, whatever the shrink.
 */
export function warpToTemplate(image: RgbImage, toTemplate: Similarity, size = FACE_SIZE): RgbImage {
  const back = invertSimilarity(toTemplate);
  const shrink = similarityScale(back);
  const source: Source =
    shrink > 1 ? antiAliasedRegion(image, back, size, shrink) : { ...image, fromTemplate: back };
  const out = new Uint8Array(size * size * 3);
  const { width, height, data, fromTemplate: t } = source;
  for (let v = 0; v < size; v++) {
    // Walk the row incrementally: x and y are affine in u.
    let x = t.tx - t.b * v;
    let y = t.ty + t.a * v;
    for (let u = 0; u < size; u++, x += t.a, y += t.b) {
      // OpenCV's warpAffine places samples on a 1/32-pixel grid (INTER_BITS = 5); so do we, which keeps the
      // crops within a level of the official ones on sharp edges (shared/fixtures/pasteback).
      const xq = Math.round(x * 32) / 32;
      const yq = Math.round(y * 32) / 32;
      const x0 = Math.floor(xq);
      const y0 = Math.floor(yq);
      const fx = xq - x0;
      const fy = yq - y0;
      const o = (v * size + u) * 3;
      const inside = x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height;
      const i00 = (y0 * width + x0) * 3;
      const i10 = i00 + 3;
      const i01 = i00 + width * 3;
      const i11 = i01 + 3;
      for (let c = 0; c < 3; c++) {
        let p00: number, p10: number, p01: number, p11: number;
        if (inside) {
          p00 = data[i00 + c]!;
          p10 = data[i10 + c]!;
          p01 = data[i01 + c]!;
          p11 = data[i11 + c]!;
        } else {
          // Neighbours outside the photo read the border colour, as BORDER_CONSTANT does.
          const border = BORDER_RGB[c]!;
          const xIn0 = x0 >= 0 && x0 < width;
          const xIn1 = x0 + 1 >= 0 && x0 + 1 < width;
          const yIn0 = y0 >= 0 && y0 < height;
          const yIn1 = y0 + 1 >= 0 && y0 + 1 < height;
          p00 = xIn0 && yIn0 ? data[i00 + c]! : border;
          p10 = xIn1 && yIn0 ? data[i10 + c]! : border;
          p01 = xIn0 && yIn1 ? data[i01 + c]! : border;
          p11 = xIn1 && yIn1 ? data[i11 + c]! : border;
        }
        const top = p00 + (p10 - p00) * fx;
        const bottom = p01 + (p11 - p01) * fx;
        out[o + c] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return { width: size, height: size, data: out };
}

/**
 * The part of the photo the warp reads, low-pass filtered for a shrink of `shrink` photo pixels per template
 * pixel. A crop pixel should carry a blur of half its own width (σ = shrink/2 photo pixels, as a pyramid's
 * 5-tap kernel does for a 2× shrink); a photo pixel already carries half of one, so a Gaussian adds the
 * difference in quadrature, σ = ½·√(shrink² − 1) (the scale-space rule for going from one blur to another; no
 * filter at shrink 1). 3-px stripes shrunk 2.3× alias to ±36 levels of moiré unfiltered, ±8 filtered.
 * The blurred photo is only evaluated every n = ⌊shrink⌋ pixels, which it is smooth enough for, so the cost
 * follows the crop rather than the face (a 2000-px face: ~50 ms, not 1.5 s). Only the face's square is
 * filtered, plus the kernel's reach, clipped to the photo; at the photo's edge the kernel is renormalised over
 * the pixels that exist, and what lies beyond still reads the border colour in the warp.
 */
function antiAliasedRegion(image: RgbImage, back: Similarity, size: number, shrink: number): Source {
  const n = Math.floor(shrink);
  const sigma = 0.5 * Math.sqrt(shrink * shrink - 1);
  const radius = Math.ceil(3 * sigma);
  const kernel = Float64Array.from({ length: 2 * radius + 1 }, (_, i) =>
    Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)),
  );
  const corners = [
    [0, 0],
    [size - 1, 0],
    [0, size - 1],
    [size - 1, size - 1],
  ].map(([u, v]) => applySimilarity(back, u!, v!));
  const reach = radius + 2 * n;
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[0]))) - reach);
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[1]))) - reach);
  const x1 = Math.min(image.width, Math.ceil(Math.max(...corners.map((c) => c[0]))) + reach);
  const y1 = Math.min(image.height, Math.ceil(Math.max(...corners.map((c) => c[1]))) + reach);
  const width = Math.max(0, Math.ceil((x1 - x0) / n));
  const height = Math.max(0, Math.ceil((y1 - y0) / n));
  // Rows first (every photo row of the region, every n-th column), then columns (every n-th row).
  const rows = new Float32Array(width * (y1 - y0) * 3);
  for (let y = y0; y < y1; y++) {
    blurAt(
      image.data,
      y * image.width * 3,
      3,
      image.width,
      x0,
      n,
      width,
      kernel,
      rows,
      (y - y0) * width * 3,
      3,
    );
  }
  const region = new Float32Array(width * height * 3);
  for (let j = 0; j < width; j++)
    blurAt(rows, j * 3, width * 3, y1 - y0, 0, n, height, kernel, region, j * 3, width * 3);
  // Source pixel (j, i) is the photo's (x0 + n·j, y0 + n·i).
  const fromTemplate: Similarity = {
    a: back.a / n,
    b: back.b / n,
    tx: (back.tx - x0) / n,
    ty: (back.ty - y0) / n,
  };
  return { width, height, data: region, fromTemplate };
}

/**
 * One line of a separable Gaussian blur of interleaved RGB, evaluated at every n-th pixel: `length` pixels
 * `step` apart from `start` in `src`, outputs at pixels first, first + n, … (`count` of them) written `outStep`
 * apart from `outStart`. Taps past the line's ends are left out and the rest renormalised.
 */
function blurAt(
  src: ArrayLike<number>,
  start: number,
  step: number,
  length: number,
  first: number,
  n: number,
  count: number,
  kernel: Float64Array,
  out: Float32Array,
  outStart: number,
  outStep: number,
): void {
  const radius = (kernel.length - 1) / 2;
  for (let j = 0; j < count; j++) {
    const centre = first + j * n;
    const lo = Math.max(-radius, -centre);
    const hi = Math.min(radius, length - 1 - centre);
    let r = 0;
    let g = 0;
    let b = 0;
    let weight = 0;
    for (let k = lo; k <= hi; k++) {
      const w = kernel[k + radius]!;
      const at = start + (centre + k) * step;
      r += src[at]! * w;
      g += src[at + 1]! * w;
      b += src[at + 2]! * w;
      weight += w;
    }
    const o = outStart + j * outStep;
    out[o] = r / weight;
    out[o + 1] = g / weight;
    out[o + 2] = b / weight;
  }
}
