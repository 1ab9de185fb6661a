// 16-bit photos with a matrix/TRC colour profile (Adobe RGB, ProPhoto, Display P3: what archival scanners and
// cameras embed), converted to sRGB exactly. sharp converts a 16-bit photo's profile to Display P3, not sRGB,
// and a further conversion to sRGB through lcms's 16-bit transform misses saturated colours by up to 12 levels
// (P3 of sRGB green, (117, 251, 76), came back as (12, 253, 9) instead of the (3, 255, 0) that the arithmetic
// and sharp's 8-bit path give). So the pixels are read as stored, and the profile's tone curves and colorants
// (ICC.1:2010 §10) are applied here in floating point, with the relative colorimetric intent that lcms also
// uses for these profiles. Profiles built on lookup tables (A2B tags) are left to sharp.

/** A tone curve: encoded value in [0, 1] → linear light. */
type ToneCurve = (x: number) => number;

/** sRGB's colorants adapted to the ICC's D50 connection space (the values of the standard sRGB profile). */
const SRGB_D50 = [
  [0.436066, 0.385147, 0.143066],
  [0.222488, 0.716873, 0.060608],
  [0.013916, 0.097076, 0.714096],
];

function invert3(m: readonly (readonly number[])[]): number[][] {
  const [a, b, c] = m[0]!;
  const [d, e, f] = m[1]!;
  const [g, h, i] = m[2]!;
  const det = a! * (e! * i! - f! * h!) - b! * (d! * i! - f! * g!) + c! * (d! * h! - e! * g!);
  return [
    [(e! * i! - f! * h!) / det, (c! * h! - b! * i!) / det, (b! * f! - c! * e!) / det],
    [(f! * g! - d! * i!) / det, (a! * i! - c! * g!) / det, (c! * d! - a! * f!) / det],
    [(d! * h! - e! * g!) / det, (b! * g! - a! * h!) / det, (a! * e! - b! * d!) / det],
  ];
}

/** The profile's tags by signature: where each one's data lies. */
function readTags(icc: Uint8Array): Map<string, DataView> | undefined {
  if (icc.byteLength < 132) return undefined;
  const view = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  const count = view.getUint32(128);
  if (132 + count * 12 > icc.byteLength) return undefined;
  const tags = new Map<string, DataView>();
  for (let t = 0; t < count; t++) {
    const at = 132 + t * 12;
    const offset = view.getUint32(at + 4);
    const size = view.getUint32(at + 8);
    if (offset + size > icc.byteLength || size < 12) return undefined;
    tags.set(signature(view, at), new DataView(icc.buffer, icc.byteOffset + offset, size));
  }
  return tags;
}

function signature(view: DataView, at: number): string {
  return String.fromCharCode(
    view.getUint8(at),
    view.getUint8(at + 1),
    view.getUint8(at + 2),
    view.getUint8(at + 3),
  );
}

const fixed = (view: DataView, at: number): number => view.getInt32(at) / 65536;

/** A curveType ('curv') or parametricCurveType ('para') tag; undefined for anything else. */
function readCurve(tag: DataView): ToneCurve | undefined {
  const type = signature(tag, 0);
  if (type === 'curv') {
    const n = tag.getUint32(8);
    if (12 + 2 * n > tag.byteLength) return undefined;
    if (n === 0) return (x) => x;
    if (n === 1) {
      const gamma = tag.getUint16(12) / 256;
      return (x) => x ** gamma;
    }
    const table = Float64Array.from({ length: n }, (_, i) => tag.getUint16(12 + 2 * i) / 65535);
    return (x) => {
      const at = Math.min(Math.max(x, 0), 1) * (n - 1);
      const i = Math.min(Math.floor(at), n - 2);
      return table[i]! + (table[i + 1]! - table[i]!) * (at - i);
    };
  }
  if (type === 'para') {
    const kind = tag.getUint16(8);
    const needed = [1, 3, 4, 5, 7][kind];
    if (needed === undefined || 12 + 4 * needed > tag.byteLength) return undefined;
    const [g, a, b, c, d, e, f] = Array.from({ length: 7 }, (_, i) =>
      i < needed ? fixed(tag, 12 + 4 * i) : 0,
    );
    const power = (x: number): number => (x > 0 ? x ** g! : 0);
    switch (kind) {
      case 0:
        return (x) => power(x);
      case 1:
        return (x) => (x >= -b! / a! ? power(a! * x + b!) : 0);
      case 2:
        return (x) => (x >= -b! / a! ? power(a! * x + b!) + c! : c!);
      case 3:
        return (x) => (x >= d! ? power(a! * x + b!) : c! * x);
      default:
        return (x) => (x >= d! ? power(a! * x + b!) + e! : c! * x + f!);
    }
  }
  return undefined;
}

function srgbEncode(linear: number): number {
  const v = linear <= 0 ? 0 : linear >= 1 ? 1 : linear;
  return v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055;
}

interface MatrixProfile {
  /** Rows X, Y, Z; columns the primaries. */
  readonly toXyz: number[][];
  readonly curves: ToneCurve[];
}

/** The colorants and tone curves of a matrix/TRC RGB profile; undefined for any other profile. */
function readMatrixProfile(icc: Uint8Array): MatrixProfile | undefined {
  const tags = readTags(icc);
  const view = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  if (!tags || signature(view, 16) !== 'RGB ' || signature(view, 20) !== 'XYZ ') return undefined;
  // With lookup tables present, colour management uses them rather than the matrix.
  if (tags.has('A2B0') || tags.has('A2B1')) return undefined;
  const colorants = ['rXYZ', 'gXYZ', 'bXYZ'].map((s) => tags.get(s));
  const curves = ['rTRC', 'gTRC', 'bTRC'].map((s) => (tags.has(s) ? readCurve(tags.get(s)!) : undefined));
  if (colorants.some((t) => !t || signature(t, 0) !== 'XYZ ' || t.byteLength < 20)) return undefined;
  if (curves.some((c) => !c)) return undefined;
  return {
    toXyz: [0, 1, 2].map((row) => colorants.map((t) => fixed(t!, 8 + 4 * row))),
    curves: curves as ToneCurve[],
  };
}

/** Whether `icc` is a matrix/TRC RGB profile, which `convertRgb16ToSrgb` converts. */
export function isMatrixProfile(icc: Uint8Array): boolean {
  return readMatrixProfile(icc) !== undefined;
}

/**
 * Converts interleaved 16-bit RGB(A) pixels from a matrix/TRC RGB profile to sRGB, in place (alpha untouched).
 * Returns false, changing nothing, when `icc` is not such a profile.
 */
export function convertRgb16ToSrgb(icc: Uint8Array, data: Uint16Array, channels: 3 | 4): boolean {
  const profile = readMatrixProfile(icc);
  if (!profile) return false;
  const { toXyz, curves } = profile;
  const fromXyz = invert3(SRGB_D50);
  const matrix = fromXyz.map((row) =>
    [0, 1, 2].map((col) => row.reduce((s, v, k) => s + v * toXyz[k]![col]!, 0)),
  );
  const linear = curves.map((curve) => Float64Array.from({ length: 65536 }, (_, v) => curve(v / 65535)));
  for (let i = 0; i < data.length; i += channels) {
    const r = linear[0]![data[i]!]!;
    const g = linear[1]![data[i + 1]!]!;
    const b = linear[2]![data[i + 2]!]!;
    for (let c = 0; c < 3; c++) {
      const m = matrix[c]!;
      data[i + c] = Math.round(srgbEncode(m[0]! * r + m[1]! * g + m[2]! * b) * 65535);
    }
  }
  return true;
}
