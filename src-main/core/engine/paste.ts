import { FACE_SIZE, applySimilarity, invertSimilarity, similarityScale, type Similarity } from './align.ts';
import { maskAt, type RegionMask } from './damage.ts';
import type { Raster } from './image.ts';

/** A restored face: 512×512 RGB, interleaved, float 0–255 (not yet rounded, so a round trip loses nothing). */
export type RestoredFace = Float32Array;

/**
 * OpenCV's `getGaussianKernel(k, 0)`: its fixed tables for up to 7 taps, else sampled with σ derived from the
 * size, 0.3·((k − 1)/2 − 1) + 0.8; normalised.
 */
function gaussianKernel(k: number): number[] {
  const fixed: Record<number, number[]> = {
    1: [1],
    3: [0.25, 0.5, 0.25],
    5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
    7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
  };
  if (fixed[k]) return fixed[k];
  const r = (k - 1) / 2;
  const sigma = 0.3 * (r - 1) + 0.8;
  const taps = Array.from({ length: k }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = taps.reduce((a, b) => a + b, 0);
  return taps.map((t) => t / sum);
}

/**
 * How far `cv2.erode` with a k×k square reaches: its anchor sits at ⌊k/2⌋, so an even kernel eats one pixel
 * more from the left and top than from the right and bottom. An empty kernel means 3×3 to OpenCV.
 */
function erosionReach(k: number): { before: number; after: number } {
  const size = k === 0 ? 3 : k;
  const before = Math.floor(size / 2);
  return { before, after: size - 1 - before };
}

/**
 * One side of the face square, as the blurred, eroded mask sees it. With a straight edge of outward normal n,
 * the eroded mask is a half-plane and the separable blur sums the weights w_i·w_j of the kernel taps (i, j)
 * by how far inside it they land: the mask at a pixel d pixels inside the eroded edge sums the taps with
 * i·n_x + j·n_y < d, the one or two taps right on the edge counted by the warped mask's own linear ramp
 * (`ramp` pixels wide, one template pixel). The taps are tabulated once per side, so a pixel costs two binary
 * searches.
 */
class SideRamp {
  private readonly offsets: Float64Array;
  private readonly weights: Float64Array;
  private readonly cumulative: Float64Array;
  private readonly total: number;
  /** Beyond this distance inside, every tap is wholly inside: the mask is 1. */
  readonly reach: number;

  constructor(
    nx: number,
    ny: number,
    kernel: readonly number[],
    private readonly ramp: number,
  ) {
    const r = (kernel.length - 1) / 2;
    const taps: [number, number][] = [];
    for (let i = -r; i <= r; i++) {
      for (let j = -r; j <= r; j++) taps.push([i * nx + j * ny, kernel[i + r]! * kernel[j + r]!]);
    }
    taps.sort((p, q) => p[0] - q[0]);
    this.offsets = Float64Array.from(taps, (t) => t[0]);
    this.weights = Float64Array.from(taps, (t) => t[1]);
    this.cumulative = new Float64Array(taps.length);
    let sum = 0;
    taps.forEach((t, i) => (this.cumulative[i] = sum += t[1]));
    this.total = sum;
    this.reach = this.offsets[this.offsets.length - 1]! + ramp / 2;
  }

  /** The number of taps with an offset below `d`. */
  private below(d: number): number {
    let lo = 0;
    let hi = this.offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.offsets[mid]! < d) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The mask's value `d` pixels inside the eroded edge (negative outside). */
  at(d: number): number {
    if (d >= this.reach) return 1;
    const inside = this.below(d - this.ramp / 2);
    const touched = this.below(d + this.ramp / 2);
    let sum = inside === 0 ? 0 : this.cumulative[inside - 1]!;
    for (let t = inside; t < touched; t++)
      sum += this.weights[t]! * ((d - this.offsets[t]!) / this.ramp + 0.5);
    return sum / this.total;
  }
}

/**
 * The feathered mask of the official paste-back (CODEFORMER.md §8.4 steps 2–6) without building it: the 512
 * square warped onto the canvas, eroded by int(2·upscale), eroded again by 2·w_edge with w_edge =
 * int(√area)//20, then blurred by OpenCV's Gaussian of 2·w_edge + 1 taps. Each side of the square is a
 * straight edge, so each erosion moves it inwards by the kernel's reach along its normal, and the blur turns it
 * into a `SideRamp`; the mask is the product of the four sides' ramps (exact for an upright square, whose blur
 * is separable; a close match for a turned one). Its cost follows the face's perimeter, not its area, where
 * the literal construction would blur a canvas-sized mask with kernels up to 200 taps wide.
 */
export class FeatherMask {
  private readonly sides: { ramp: SideRamp; inset: number; gu: number; gv: number; edge: number }[];

  /** `toFace` maps canvas pixels to template coordinates (pixel centres at integers). */
  constructor(toFace: Similarity, upscale: number) {
    const scale = similarityScale(toFace);
    const side = FACE_SIZE / scale; // canvas pixels from u = −½ to u = 511½ (where the warped ones fall to ½)
    // Outward normals of the sides u = −½, u = 511½, v = −½, v = 511½ in canvas coordinates (∇u = (a, −b)).
    const normals: [number, number][] = [
      [-toFace.a / scale, toFace.b / scale],
      [toFace.a / scale, -toFace.b / scale],
      [-toFace.b / scale, -toFace.a / scale],
      [toFace.b / scale, toFace.a / scale],
    ];
    const reachAlong = ([nx, ny]: [number, number], k: number): number => {
      const { before, after } = erosionReach(k);
      return (nx > 0 ? after : before) * Math.abs(nx) + (ny > 0 ? after : before) * Math.abs(ny);
    };
    const first = Math.trunc(2 * upscale);
    const insets = normals.map((n) => reachAlong(n, first));
    const area = (side - insets[0]! - insets[1]!) * (side - insets[2]! - insets[3]!);
    const edge = Math.floor(Math.trunc(Math.sqrt(Math.max(0, area))) / 20);
    const kernel = gaussianKernel(2 * edge + 1);
    this.sides = normals.map((n, i) => ({
      ramp: new SideRamp(n[0], n[1], kernel, 1 / scale),
      inset: insets[i]! + reachAlong(n, 2 * edge),
      // Distance inside a side, per template unit: u for the first two sides, v for the others.
      gu: i === 0 ? 1 / scale : i === 1 ? -1 / scale : 0,
      gv: i === 2 ? 1 / scale : i === 3 ? -1 / scale : 0,
      edge: i === 0 || i === 2 ? -0.5 : FACE_SIZE - 0.5,
    }));
  }

  /** The mask at template coordinates (u, v). */
  at(u: number, v: number): number {
    let mask = 1;
    for (const side of this.sides) {
      const distance = side.gu * (u - side.edge) + side.gv * (v - side.edge) - side.inset;
      mask *= side.ramp.at(distance);
      if (mask === 0) return 0;
    }
    return mask;
  }
}

/**
 * Pastes one restored face onto `canvas` (the photo, enlarged `upscale` times) under the feathered mask,
 * blending on the running result so later faces win where they overlap (§8.4 step 9). With a `faceMask` (the
 * parsing mask of parse-mask.ts, in template coordinates) the blend takes the smaller of the two (§8.4 step 8):
 * the face, features and hair come in, the background, neck and clothes of the photo stay. Only the face's
 * bounding box is visited: the cost follows the face, not the photo, and every other pixel stays as it was.
 * Gray canvases take the face's luma; alpha is left alone. With `only` (canvas pixels: the damage painted on the
 * face, for inpainting) the blend is also multiplied by it: every pixel outside it stays exactly as it was.
 */
export function pasteBack(
  canvas: Raster,
  face: RestoredFace,
  toTemplate: Similarity,
  upscale = 1,
  faceMask?: Float32Array,
  only?: RegionMask,
): void {
  const k = upscale;
  // Output pixel X maps to photo coordinate X/k − 0.5 when enlarged, as the official helper places faces (its
  // inverse affine ×k plus 0.5·k, §8.4): a quarter pixel from where pixel centres would put it at ×2, but the
  // same place as the official pipeline's output. At ×1, X itself.
  const shift = k > 1 ? -0.5 : 0;
  const toFace: Similarity = {
    a: toTemplate.a / k,
    b: toTemplate.b / k,
    tx: toTemplate.tx + (toTemplate.a - toTemplate.b) * shift,
    ty: toTemplate.ty + (toTemplate.b + toTemplate.a) * shift,
  };
  const mask = new FeatherMask(toFace, upscale);
  const fromFace = invertSimilarity(toFace);
  const corners = [
    [-1, -1],
    [FACE_SIZE, -1],
    [-1, FACE_SIZE],
    [FACE_SIZE, FACE_SIZE],
  ].map(([u, v]) => applySimilarity(fromFace, u!, v!));
  let x0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[0]))));
  let x1 = Math.min(canvas.width - 1, Math.ceil(Math.max(...corners.map((c) => c[0]))));
  let y0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[1]))));
  let y1 = Math.min(canvas.height - 1, Math.ceil(Math.max(...corners.map((c) => c[1]))));
  if (only) {
    x0 = Math.max(x0, only.x0);
    y0 = Math.max(y0, only.y0);
    x1 = Math.min(x1, only.x0 + only.width - 1);
    y1 = Math.min(y1, only.y0 + only.height - 1);
  }

  const { channels, width } = canvas;
  const toCanvas = (canvas.depth === 16 ? 65535 : 255) / 255;
  const last = FACE_SIZE - 1;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const u = toFace.a * x - toFace.b * y + toFace.tx;
      const v = toFace.b * x + toFace.a * y + toFace.ty;
      const square = mask.at(u, v);
      const parsed = faceMask && square > 0 ? Math.min(square, parseMaskAt(faceMask, u, v)) : square;
      const m = only && parsed > 0 ? parsed * maskAt(only, x, y) : parsed;
      if (m === 0) continue;
      // The mask can reach a little past the outermost face pixels when the face is enlarged: those read
      // the edge pixels.
      const cu = u < 0 ? 0 : u > last ? last : u;
      const cv = v < 0 ? 0 : v > last ? last : v;
      const iu = Math.min(Math.floor(cu), last - 1);
      const iv = Math.min(Math.floor(cv), last - 1);
      const fu = cu - iu;
      const fv = cv - iv;
      const i00 = (iv * FACE_SIZE + iu) * 3;
      const i01 = i00 + FACE_SIZE * 3;
      const rgb = [0, 0, 0];
      for (let c = 0; c < 3; c++) {
        const top = face[i00 + c]! + (face[i00 + 3 + c]! - face[i00 + c]!) * fu;
        const bottom = face[i01 + c]! + (face[i01 + 3 + c]! - face[i01 + c]!) * fu;
        rgb[c] = (top + (bottom - top) * fv) * toCanvas;
      }
      blendPixel(canvas, (y * width + x) * channels, rgb, m);
    }
  }
}

/**
 * An aligned 512×512 photo takes the restored face whole: every colour value is replaced (gray photos take its
 * luma) and alpha stays.
 */
export function replaceFace(canvas: Raster, face: RestoredFace): void {
  if (canvas.width !== FACE_SIZE || canvas.height !== FACE_SIZE)
    throw new Error('an aligned face is 512×512');
  const toCanvas = (canvas.depth === 16 ? 65535 : 255) / 255;
  const rgb = [0, 0, 0];
  for (let i = 0; i < FACE_SIZE * FACE_SIZE; i++) {
    for (let c = 0; c < 3; c++) rgb[c] = face[i * 3 + c]! * toCanvas;
    blendPixel(canvas, i * canvas.channels, rgb, 1);
  }
}

/** Blends one pixel's colour (RGB in the canvas's range) in at `mask`; gray canvases take its luma (§8.4). */
function blendPixel(canvas: Raster, o: number, rgb: readonly number[], mask: number): void {
  const { data } = canvas;
  const maxValue = canvas.depth === 16 ? 65535 : 255;
  if (canvas.channels >= 3) {
    for (let c = 0; c < 3; c++) data[o + c] = blend(data[o + c]!, rgb[c]!, mask, maxValue);
  } else {
    const luma = 0.2989 * rgb[0]! + 0.587 * rgb[1]! + 0.114 * rgb[2]!;
    data[o] = blend(data[o]!, luma, mask, maxValue);
  }
}

function blend(under: number, over: number, mask: number, maxValue: number): number {
  const value = Math.round(under + (over - under) * mask);
  return value < 0 ? 0 : value > maxValue ? maxValue : value;
}

/**
 * The parsing mask at template coordinates (u, v), pixel centres at integers: bilinear, as the official
 * `cv2.warpAffine(parse_mask, inverse_affine, …, flags=3)` samples it onto the photo (INTER_AREA acts as
 * bilinear in a warp, §8.4 step 7). Outside the face it is 0, like warpAffine's constant border; the cleared
 * frame makes the edge handling moot. OpenCV also rounds (u, v) to 1/32 px, which moves a mask this smooth
 * by under 1e-3. Step 8 then takes the minimum of this and the soft square mask.
 */
export function parseMaskAt(mask: Float32Array, u: number, v: number): number {
  const last = FACE_SIZE - 1;
  if (!(u >= 0 && v >= 0 && u <= last && v <= last)) return 0;
  const iu = Math.min(Math.floor(u), last - 1);
  const iv = Math.min(Math.floor(v), last - 1);
  const fu = u - iu;
  const fv = v - iv;
  const i = iv * FACE_SIZE + iu;
  const top = mask[i]! + (mask[i + 1]! - mask[i]!) * fu;
  const bottom = mask[i + FACE_SIZE]! + (mask[i + FACE_SIZE + 1]! - mask[i + FACE_SIZE]!) * fu;
  return top + (bottom - top) * fv;
}
