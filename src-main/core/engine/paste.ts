import { FACE_SIZE, applySimilarity, invertSimilarity, similarityScale, type Similarity } from './align.ts';
import type { Raster } from './image.ts';

/** A restored face: 512×512 RGB, interleaved, float 0–255 (not yet rounded, so a round trip loses nothing). */
export type RestoredFace = Float32Array;

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/**
 * The feathered mask of the official paste-back (CODEFORMER.md §8.4 steps 2–6), in closed form: the warped
 * 512 square, eroded by ~1 px and then by `edge` = ⌊√area⌋/20 px, blurred by a Gaussian of kernel 2·edge+1.
 * Blurring a (rotated) square with an isotropic Gaussian is separable along the square's own axes, so the
 * mask is a product of two 1-D ramps of the distance to the edges. The ramp is the Gaussian CDF cut at the
 * kernel radius, as OpenCV's finite kernel cuts it: exactly 0 near the square's edge and exactly 1 inside.
 */
export class FeatherRamp {
  private readonly inset: number;
  private readonly radius: number;
  private readonly sigma: number;
  private readonly lo: number;
  private readonly span: number;

  constructor(faceSideInOutputPixels: number) {
    const edge = Math.max(1, Math.floor(faceSideInOutputPixels / 20));
    this.inset = edge + 1;
    this.radius = edge;
    // OpenCV's sigma for a kernel of size 2·edge+1 when sigma is 0.
    this.sigma = 0.3 * (edge - 1) + 0.8;
    this.lo = normalCdf(-this.radius / this.sigma);
    this.span = normalCdf(this.radius / this.sigma) - this.lo;
  }

  /** Mask value at `distance` output pixels inside the square's edge. */
  at(distance: number): number {
    const d = distance - this.inset;
    if (d <= -this.radius) return 0;
    if (d >= this.radius) return 1;
    return (normalCdf(d / this.sigma) - this.lo) / this.span;
  }
}

/**
 * Pastes one restored face onto `canvas` (the photo, enlarged `upscale` times) under the feathered mask,
 * blending on the running result so later faces win where they overlap (§8.4 step 9). Only the face's
 * bounding box is visited: the cost follows the face, not the photo, and every other pixel stays as it was.
 * Gray canvases take the face's luma; alpha is left alone.
 */
export function pasteBack(canvas: Raster, face: RestoredFace, toTemplate: Similarity, upscale = 1): void {
  const k = upscale;
  // Output pixel X maps to photo coordinate (X + 0.5)/k − 0.5: pixel centres line up at any integer scale.
  const toFace: Similarity = {
    a: toTemplate.a / k,
    b: toTemplate.b / k,
    tx: toTemplate.tx + (toTemplate.a - toTemplate.b) * (0.5 / k - 0.5),
    ty: toTemplate.ty + (toTemplate.b + toTemplate.a) * (0.5 / k - 0.5),
  };
  const pixelsPerTemplate = 1 / similarityScale(toFace);
  const ramp = new FeatherRamp(FACE_SIZE * pixelsPerTemplate);
  const fromFace = invertSimilarity(toFace);
  const corners = [
    [0, 0],
    [FACE_SIZE - 1, 0],
    [0, FACE_SIZE - 1],
    [FACE_SIZE - 1, FACE_SIZE - 1],
  ].map(([u, v]) => applySimilarity(fromFace, u!, v!));
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[0]))));
  const x1 = Math.min(canvas.width - 1, Math.ceil(Math.max(...corners.map((c) => c[0]))));
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[1]))));
  const y1 = Math.min(canvas.height - 1, Math.ceil(Math.max(...corners.map((c) => c[1]))));

  const { channels, data, width } = canvas;
  const colour = channels >= 3;
  const maxValue = canvas.depth === 16 ? 65535 : 255;
  const toCanvas = maxValue / 255;
  const last = FACE_SIZE - 1;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const u = toFace.a * x - toFace.b * y + toFace.tx;
      const v = toFace.b * x + toFace.a * y + toFace.ty;
      if (u < 0 || v < 0 || u > last || v > last) continue;
      const mask =
        ramp.at(Math.min(u, last - u) * pixelsPerTemplate) *
        ramp.at(Math.min(v, last - v) * pixelsPerTemplate);
      if (mask === 0) continue;
      const iu = Math.min(Math.floor(u), last - 1);
      const iv = Math.min(Math.floor(v), last - 1);
      const fu = u - iu;
      const fv = v - iv;
      const i00 = (iv * FACE_SIZE + iu) * 3;
      const i01 = i00 + FACE_SIZE * 3;
      const rgb = [0, 0, 0];
      for (let c = 0; c < 3; c++) {
        const top = face[i00 + c]! + (face[i00 + 3 + c]! - face[i00 + c]!) * fu;
        const bottom = face[i01 + c]! + (face[i01 + 3 + c]! - face[i01 + c]!) * fu;
        rgb[c] = (top + (bottom - top) * fv) * toCanvas;
      }
      const o = (y * width + x) * channels;
      if (colour) {
        for (let c = 0; c < 3; c++) data[o + c] = blend(data[o + c]!, rgb[c]!, mask, maxValue);
      } else {
        const luma = 0.2989 * rgb[0]! + 0.587 * rgb[1]! + 0.114 * rgb[2]!;
        data[o] = blend(data[o]!, luma, mask, maxValue);
      }
    }
  }
}

function blend(under: number, over: number, mask: number, maxValue: number): number {
  const value = Math.round(under + (over - under) * mask);
  return value < 0 ? 0 : value > maxValue ? maxValue : value;
}
