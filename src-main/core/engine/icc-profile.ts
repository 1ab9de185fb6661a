// Reading the ICC profiles that colour management here handles itself: matrix/TRC RGB profiles (Adobe RGB,
// ProPhoto, Display P3, sRGB) and gray TRC profiles, their tone curves and colorants (ICC.1:2010 §10: curv and
// para curves, XYZ colorants). icc.ts reads them to convert 16-bit photos to sRGB at decode, icc-inverse.ts to
// convert the sRGB working copy back into them at export; one reader, so both agree on what such a profile is.
// Profiles built on lookup tables (A2B tags) are not read: colour management uses the tables rather than the
// matrix or curves where they are present, and those are left to sharp.

/** A tone curve: encoded value in [0, 1] → linear light. */
export type ToneCurve = (x: number) => number;

/** sRGB's colorants adapted to the ICC's D50 connection space (the values of the standard sRGB profile). */
export const SRGB_D50: readonly (readonly number[])[] = [
  [0.436066, 0.385147, 0.143066],
  [0.222488, 0.716873, 0.060608],
  [0.013916, 0.097076, 0.714096],
];

/** The inverse of a 3×3 matrix; entries not finite where it is singular. */
export function invert3(m: readonly (readonly number[])[]): number[][] {
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

/** The product `a` × `b` of two 3×3 matrices. */
export function multiply3(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] {
  return [0, 1, 2].map((row) =>
    [0, 1, 2].map((col) => [0, 1, 2].reduce((s, k) => s + a[row]![k]! * b[k]![col]!, 0)),
  );
}

function signature(view: DataView, at: number): string {
  return String.fromCharCode(
    view.getUint8(at),
    view.getUint8(at + 1),
    view.getUint8(at + 2),
    view.getUint8(at + 3),
  );
}

/** An s15Fixed16Number. */
const fixed = (view: DataView, at: number): number => view.getInt32(at) / 65536;

/** The profile's tags by signature: where each one's data lies; undefined when the tag table does not fit. */
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

/** A curveType ('curv') or parametricCurveType ('para') tag; undefined for a missing tag or anything else. */
function readCurve(tag: DataView | undefined): ToneCurve | undefined {
  if (!tag) return undefined;
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
  if (type !== 'para') return undefined;
  const kind = tag.getUint16(8);
  const needed = [1, 3, 4, 5, 7][kind];
  if (needed === undefined || 12 + 4 * needed > tag.byteLength) return undefined;
  const [g, a, b, c, d, e, f] = Array.from({ length: 7 }, (_, i) =>
    i < needed ? fixed(tag, 12 + 4 * i) : 0,
  );
  const power = (x: number): number => (x > 0 ? x ** g! : 0);
  if (kind === 0) return power;
  if (kind === 1) return (x) => (x >= -b! / a! ? power(a! * x + b!) : 0);
  if (kind === 2) return (x) => (x >= -b! / a! ? power(a! * x + b!) + c! : c!);
  if (kind === 3) return (x) => (x >= d! ? power(a! * x + b!) : c! * x);
  return (x) => (x >= d! ? power(a! * x + b!) + e! : c! * x + f!);
}

export interface RgbProfile {
  readonly kind: 'rgb';
  /** The colorants, D50-adapted: rows X, Y, Z; columns the primaries. */
  readonly toXyz: number[][];
  /** The red, green and blue tone curves. */
  readonly curves: ToneCurve[];
}

export interface GrayProfile {
  readonly kind: 'gray';
  readonly curve: ToneCurve;
  /** Whether the connection space is Lab (the curve then gives L* over 100) rather than XYZ (luminance). */
  readonly lab: boolean;
}

export type Profile = RgbProfile | GrayProfile;

/**
 * A matrix/TRC RGB profile (XYZ connection space) or a gray TRC profile (XYZ or Lab); undefined for any other
 * profile, for one with lookup tables (which colour management would use instead), and for one whose tags are
 * missing, truncated or of another type.
 */
export function readProfile(icc: Uint8Array): Profile | undefined {
  const tags = readTags(icc);
  if (!tags || tags.has('A2B0') || tags.has('A2B1')) return undefined;
  const view = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  const [space, pcs] = [signature(view, 16), signature(view, 20)];
  if (space === 'GRAY' && (pcs === 'XYZ ' || pcs === 'Lab ')) {
    const curve = readCurve(tags.get('kTRC'));
    return curve && { kind: 'gray', curve, lab: pcs === 'Lab ' };
  }
  if (space !== 'RGB ' || pcs !== 'XYZ ') return undefined;
  const colorants = ['rXYZ', 'gXYZ', 'bXYZ'].map((s) => tags.get(s));
  const curves = ['rTRC', 'gTRC', 'bTRC'].map((s) => readCurve(tags.get(s)));
  if (colorants.some((t) => !t || signature(t, 0) !== 'XYZ ' || t.byteLength < 20)) return undefined;
  if (curves.some((c) => !c)) return undefined;
  return {
    kind: 'rgb',
    toXyz: [0, 1, 2].map((row) => colorants.map((t) => fixed(t!, 8 + 4 * row))),
    curves: curves as ToneCurve[],
  };
}
