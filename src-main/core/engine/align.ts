import type { RgbImage } from './image.ts';

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
 * The least-squares similarity (rotation, uniform scale, translation) taking the 5 landmarks onto the
 * template. The official code uses OpenCV's LMEDS estimator, which equals least squares whenever it keeps
 * all five points (CODEFORMER.md §8.3); least squares is deterministic and never drops a point.
 */
export function alignToTemplate(
  landmarks: readonly (readonly [number, number])[],
  template: readonly (readonly [number, number])[] = TEMPLATE_512,
): Similarity {
  const n = landmarks.length;
  if (n !== template.length || n < 2)
    throw new Error(`alignment needs ${template.length} landmarks, got ${n}`);
  let sx = 0;
  let sy = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < n; i++) {
    sx += landmarks[i]![0];
    sy += landmarks[i]![1];
    dx += template[i]![0];
    dy += template[i]![1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const px = landmarks[i]![0] - sx;
    const py = landmarks[i]![1] - sy;
    const qx = template[i]![0] - dx;
    const qy = template[i]![1] - dy;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (norm === 0) throw new Error('alignment needs landmarks that are not all the same point');
  const a = dot / norm;
  const b = cross / norm;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

/**
 * Warps the face to the 512×512 template: bilinear, constant grey border (CODEFORMER.md §8.3).
 * `toTemplate` maps photo coordinates to template coordinates.
 */
export function warpToTemplate(image: RgbImage, toTemplate: Similarity, size = FACE_SIZE): RgbImage {
  const back = invertSimilarity(toTemplate);
  const out = new Uint8Array(size * size * 3);
  const { width, height, data } = image;
  for (let v = 0; v < size; v++) {
    // Walk the row incrementally: x and y are affine in u.
    let x = back.tx - back.b * v;
    let y = back.ty + back.a * v;
    for (let u = 0; u < size; u++, x += back.a, y += back.b) {
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
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
