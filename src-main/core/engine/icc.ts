// 16-bit photos with a matrix/TRC colour profile (Adobe RGB, ProPhoto, Display P3: what archival scanners and
// cameras embed), converted to sRGB exactly. sharp converts a 16-bit photo's profile to Display P3, not sRGB,
// and a further conversion to sRGB through lcms's 16-bit transform misses saturated colours by up to 12 levels
// (P3 of sRGB green, (117, 251, 76), came back as (12, 253, 9) instead of the (3, 255, 0) that the arithmetic
// and sharp's 8-bit path give). So the pixels are read as stored, and the profile's tone curves and colorants
// (ICC.1:2010 §10) are applied here in floating point, with the relative colorimetric intent that lcms also
// uses for these profiles. Profiles built on lookup tables (A2B tags) are left to sharp. The profile is read by
// icc-profile.ts, which icc-inverse.ts shares for the way back at export.

import { SRGB_D50, invert3, multiply3, readProfile } from './icc-profile.ts';

function srgbEncode(linear: number): number {
  const v = linear <= 0 ? 0 : linear >= 1 ? 1 : linear;
  return v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055;
}

/** Whether `icc` is a matrix/TRC RGB profile, which `convertRgb16ToSrgb` converts. */
export function isMatrixProfile(icc: Uint8Array): boolean {
  return readProfile(icc)?.kind === 'rgb';
}

/**
 * Converts interleaved 16-bit RGB(A) pixels from a matrix/TRC RGB profile to sRGB, in place (alpha untouched).
 * Returns false, changing nothing, when `icc` is not such a profile.
 */
export function convertRgb16ToSrgb(icc: Uint8Array, data: Uint16Array, channels: 3 | 4): boolean {
  const profile = readProfile(icc);
  if (profile?.kind !== 'rgb') return false;
  const { toXyz, curves } = profile;
  // The profile's linear RGB → XYZ (D50) → sRGB linear.
  const matrix = multiply3(invert3(SRGB_D50), toXyz);
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
