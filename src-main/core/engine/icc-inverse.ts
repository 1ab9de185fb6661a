// The way back from the sRGB working copy into the source's own colour profile, so that an export carries the
// source's profile with pixels that match it: an Adobe RGB photo comes back in Adobe RGB, its colours unchanged.
// Matrix/TRC RGB profiles (Adobe RGB, ProPhoto, Display P3, sRGB: what cameras and scanners embed) and gray TRC
// profiles are inverted exactly, in floating point at both depths, with the intent decoding used: relative
// colorimetric (icc.ts at 16 bits; at 8, sharp asks lcms for perceptual, which a matrix profile does not have, so
// lcms uses the colorimetric matrix). sharp cannot do this at 16 bits: its withIccProfile takes a 16-bit image to
// be Display P3, not sRGB (src/pipeline.cc, "processingProfile"). At 8 bits it could (measured on a real photo in
// Adobe RGB: lcms ±1 level, this ±2, 0.007 on average; lcms 0.2 s of CPU per 24 MP against 0.9 s here), but only
// from a profile file on disk; this keeps the export a function of its inputs, one path for both depths.
//
// The profile is read by icc-profile.ts (ICC.1:2010 §10: curv and para curves, XYZ colorants), the reader icc.ts
// uses at decode, so that both directions take the same profiles to be matrix/TRC or gray TRC.

import {
  SRGB_D50,
  invert3,
  multiply3,
  readProfile,
  type GrayProfile,
  type ToneCurve,
} from './icc-profile.ts';
import type { Raster } from './image.ts';

type Row = readonly [number, number, number];
type Matrix = readonly [Row, Row, Row];

/**
 * sRGB linear → XYZ (D50) → the profile's linear RGB, from the profile's colorants (`toXyz`); undefined when they
 * cannot be inverted (primaries that are not independent), as such a profile has no pixels for most sRGB colours.
 */
function fromSrgb(toXyz: readonly (readonly number[])[]): Matrix | undefined {
  const fromXyz = invert3(toXyz);
  if (fromXyz.flat().some((v) => !Number.isFinite(v))) return undefined;
  const m = multiply3(fromXyz, SRGB_D50);
  const row = (r: number): Row => [m[r]![0]!, m[r]![1]!, m[r]![2]!];
  return [row(0), row(1), row(2)];
}

function srgbDecode(v: number): number {
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** CIE 1976 lightness (L* over 100) of a relative luminance, for gray profiles whose connection space is Lab. */
function lightness(y: number): number {
  return (y > 216 / 24389 ? 116 * Math.cbrt(y) - 16 : (24389 / 27) * y) / 100;
}

/**
 * The inverse of a tone curve at `levels` codes: linear light → the nearest code, rounded in the encoded domain.
 * Code c stands for the values between the curve at c − ½ and at c + ½, so the answer is the number of those
 * midpoints below the value (`midpoints`, made non-decreasing: a curve that dips is read as flat there); `index`
 * over √value says where to start counting, at most a step or two short for the curves profiles use.
 */
interface InverseCurve {
  readonly midpoints: Float64Array;
  readonly index: Uint32Array;
}

/** Index entries per code: enough that a gamma 1 curve moves less than one code per entry. */
const INDEX_PER_CODE = 4;

function inverseCurve(curve: ToneCurve, levels: number): InverseCurve {
  const last = levels - 1;
  const midpoints = new Float64Array(last);
  let highest = -Infinity;
  for (let c = 0; c < last; c++) {
    highest = Math.max(highest, curve((c + 0.5) / last));
    midpoints[c] = highest;
  }
  const steps = INDEX_PER_CODE * levels;
  const index = new Uint32Array(steps + 1);
  for (let k = 0, c = 0; k <= steps; k++) {
    const linear = (k / steps) ** 2;
    while (c < last && midpoints[c]! < linear) c++;
    index[k] = c;
  }
  return { midpoints, index };
}

function toCode({ midpoints, index }: InverseCurve, linear: number): number {
  const v = linear > 0 ? (linear < 1 ? linear : 1) : 0;
  const last = midpoints.length;
  let c = index[(Math.sqrt(v) * (index.length - 1)) | 0]!;
  while (c < last && midpoints[c]! < v) c++;
  return c;
}

/** sRGB code → linear light, for every code of a depth. */
function srgbTable(levels: number): Float64Array {
  return Float64Array.from({ length: levels }, (_, v) => srgbDecode(v / (levels - 1)));
}

/** The conversion of every pixel: sRGB codes → linear light → the profile's linear light → its codes. */
function convertRgbSamples<T extends Uint8Array | Uint16Array>(
  data: T,
  out: T,
  channels: number,
  linear: Float64Array,
  [[a, b, c], [d, e, f], [g, h, k]]: Matrix,
  [toR, toG, toB]: readonly InverseCurve[],
): void {
  for (let i = 0; i < data.length; i += channels) {
    const r = linear[data[i]!]!;
    const gr = linear[data[i + 1]!]!;
    const bl = linear[data[i + 2]!]!;
    out[i] = toCode(toR!, a * r + b * gr + c * bl);
    out[i + 1] = toCode(toG!, d * r + e * gr + f * bl);
    out[i + 2] = toCode(toB!, g * r + h * gr + k * bl);
  }
}

/**
 * Whether the profile is sRGB in all but its bytes (cameras embed sRGB profiles from several makers, colorants a few
 * 1e-4 apart), so that the pixels can be kept as they are rather than converted to nearly the same numbers at a cost
 * near that of encoding them. Judged on a lattice of colours (33 levels a side) and every gray: at 8 bits none may
 * move by more than a level (sharp's and ArgyllCMS's sRGB profiles move 0.3–0.5% of samples by one, none by two);
 * at 16 bits, where archival scans want their numbers back exactly, none may move at all.
 */
function isSrgbInAllButName(
  matrix: Matrix,
  inverses: readonly InverseCurve[],
  linear: Float64Array,
): boolean {
  const last = linear.length - 1;
  const tolerance = last === 255 ? 1 : 0;
  const axis = Array.from({ length: 33 }, (_, i) => Math.round((i * last) / 32));
  const data = last === 255 ? new Uint8Array(3 * (33 ** 3 + 256)) : new Uint16Array(3 * (33 ** 3 + 65536));
  let at = 0;
  const put = (r: number, g: number, b: number): void => {
    data[at++] = r;
    data[at++] = g;
    data[at++] = b;
  };
  for (const r of axis) for (const g of axis) for (const b of axis) put(r, g, b);
  for (let v = 0; v <= last; v++) put(v, v, v);
  const out = last === 255 ? new Uint8Array(data.length) : new Uint16Array(data.length);
  convertRgbSamples(data, out, 3, linear, matrix, inverses);
  return out.every((v, i) => Math.abs(v - data[i]!) <= tolerance);
}

function convertRgb(raster: Raster, matrix: Matrix, curves: readonly ToneCurve[]): Raster {
  const { data, channels } = raster;
  const levels = raster.depth === 16 ? 65536 : 256;
  const linear = srgbTable(levels);
  const inverses = curves.map((curve) => inverseCurve(curve, levels));
  if (isSrgbInAllButName(matrix, inverses, linear)) return raster;
  // A new array rather than a copy: every colour sample is written, alpha (the fourth) copied on its own.
  let out: Uint8Array | Uint16Array;
  if (data instanceof Uint16Array) {
    out = new Uint16Array(data.length);
    convertRgbSamples(data, out, channels, linear, matrix, inverses);
  } else {
    out = new Uint8Array(data.length);
    convertRgbSamples(data, out, channels, linear, matrix, inverses);
  }
  if (channels === 4) for (let i = 3; i < data.length; i += 4) out[i] = data[i]!;
  return { ...raster, data: out };
}

function convertGray(raster: Raster, profile: GrayProfile): Raster {
  const levels = raster.depth === 16 ? 65536 : 256;
  const inverse = inverseCurve(profile.curve, levels);
  const table = Array.from(srgbTable(levels), (y) => toCode(inverse, profile.lab ? lightness(y) : y));
  const { data, channels } = raster;
  const out = data.slice();
  for (let i = 0; i < data.length; i += channels) out[i] = table[data[i]!]!;
  return { ...raster, data: out };
}

/**
 * `raster` (sRGB, as decodePhoto made it) in the colour space of `icc`, the profile it came with; undefined when
 * the profile cannot describe these pixels this way (lookup-table profiles, CMYK, Lab, a profile of the other
 * kind than the raster), and the export is then written in sRGB without it.
 */
export function convertFromSrgb(raster: Raster, icc: Uint8Array): Raster | undefined {
  const profile = readProfile(icc);
  if (profile?.kind === 'rgb') {
    const matrix = fromSrgb(profile.toXyz);
    return matrix && raster.channels >= 3 ? convertRgb(raster, matrix, profile.curves) : undefined;
  }
  if (profile?.kind !== 'gray' || raster.channels > 2) return undefined;
  // decodePhoto leaves 16-bit gray as stored: sharp applies no profile to grey16 (src/pipeline.cc skips the
  // embedded-profile transform for it), so those pixels already match their profile.
  return raster.depth === 16 ? raster : convertGray(raster, profile);
}
