import { applySimilarity, invertSimilarity, type Similarity } from './align.ts';

/**
 * The damage a user painted on a face (the editor's brush), as the inpainting task uses it: the same strokes,
 * given in the photo's pixels, become a hard mask wherever it is needed — on the aligned 512 face the network
 * sees (painted white there, as the inpainting model's training strokes were) and on the output the repaired
 * face is pasted into (every pixel outside the strokes stays exactly as it was).
 */

/** Where an image is damaged, for inpainting: 0 (intact) to 1 (damaged) per pixel, row-major. */
export interface DamageMask {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/**
 * One brush stroke: the line through `points`, `radius` each side of it, in photo pixels from the photo's top-left
 * corner (x right, y down; pixel (i, j) spans i…i+1 and j…j+1, its centre at i + 0.5, j + 0.5).
 */
export interface Stroke {
  readonly radius: number;
  readonly points: readonly (readonly [number, number])[];
}

/** A mask of part of an image: `width`×`height` values from pixel (x0, y0); outside it, 0. */
export interface RegionMask extends DamageMask {
  readonly x0: number;
  readonly y0: number;
}

/** The squared distance from (px, py) to the segment from (ax, ay) to (bx, by). */
function distanceSq(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const length = dx * dx + dy * dy;
  const t = length === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / length));
  const ex = px - ax - t * dx;
  const ey = py - ay - t * dy;
  return ex * ex + ey * ey;
}

/**
 * The pixels of a `width`×`height` image whose centres, taken to the photo by `pixelToPhoto`, lie within a
 * stroke (its radius plus `grow` photo pixels): 1 there, 0 elsewhere. Only the strokes' bounding box is kept
 * (undefined when the strokes miss the image), so a few strokes on a 40 MP export cost what they cover.
 */
export function strokeMask(
  width: number,
  height: number,
  strokes: readonly Stroke[],
  pixelToPhoto: Similarity,
  grow = 0,
): RegionMask | undefined {
  const toPixel = invertSimilarity(pixelToPhoto);
  // Each segment's box in the image's pixels: the photo box's corners mapped (a rotation moves them).
  const boxOf = (ax: number, ay: number, bx: number, by: number, r: number) => {
    const corners = [
      [Math.min(ax, bx) - r, Math.min(ay, by) - r],
      [Math.max(ax, bx) + r, Math.min(ay, by) - r],
      [Math.min(ax, bx) - r, Math.max(ay, by) + r],
      [Math.max(ax, bx) + r, Math.max(ay, by) + r],
    ].map(([x, y]) => applySimilarity(toPixel, x!, y!));
    return {
      x0: Math.max(0, Math.floor(Math.min(...corners.map((c) => c[0])))),
      y0: Math.max(0, Math.floor(Math.min(...corners.map((c) => c[1])))),
      x1: Math.min(width - 1, Math.ceil(Math.max(...corners.map((c) => c[0])))),
      y1: Math.min(height - 1, Math.ceil(Math.max(...corners.map((c) => c[1])))),
    };
  };
  const segments: {
    ax: number;
    ay: number;
    bx: number;
    by: number;
    r: number;
    box: ReturnType<typeof boxOf>;
  }[] = [];
  for (const { radius, points } of strokes) {
    const r = radius + grow;
    for (let i = 0; i < points.length; i++) {
      const [ax, ay] = points[i === 0 ? 0 : i - 1]!;
      const [bx, by] = points[i]!;
      if (i > 0 || points.length === 1) {
        const box = boxOf(ax, ay, bx, by, r);
        if (box.x0 <= box.x1 && box.y0 <= box.y1) segments.push({ ax, ay, bx, by, r, box });
      }
    }
  }
  if (segments.length === 0) return undefined;
  const x0 = Math.min(...segments.map((s) => s.box.x0));
  const y0 = Math.min(...segments.map((s) => s.box.y0));
  const w = Math.max(...segments.map((s) => s.box.x1)) - x0 + 1;
  const h = Math.max(...segments.map((s) => s.box.y1)) - y0 + 1;
  const data = new Float32Array(w * h);
  for (const { ax, ay, bx, by, r, box } of segments) {
    const rr = r * r;
    for (let y = box.y0; y <= box.y1; y++) {
      for (let x = box.x0; x <= box.x1; x++) {
        const i = (y - y0) * w + (x - x0);
        if (data[i] === 1) continue;
        const [px, py] = applySimilarity(pixelToPhoto, x, y);
        if (distanceSq(px, py, ax, ay, bx, by) <= rr) data[i] = 1;
      }
    }
  }
  return { x0, y0, width: w, height: h, data };
}

/** A region mask spread over a whole `width`×`height` image. */
export function wholeMask(region: RegionMask | undefined, width: number, height: number): DamageMask {
  const data = new Float32Array(width * height);
  if (region) {
    for (let y = 0; y < region.height; y++) {
      const from = y * region.width;
      data.set(region.data.subarray(from, from + region.width), (region.y0 + y) * width + region.x0);
    }
  }
  return { width, height, data };
}

/** The value of a region mask at pixel (x, y). */
export function maskAt(region: RegionMask, x: number, y: number): number {
  const u = x - region.x0;
  const v = y - region.y0;
  if (u < 0 || v < 0 || u >= region.width || v >= region.height) return 0;
  return region.data[v * region.width + u]!;
}

/**
 * How far the aligned face's mask reaches past the strokes, in photo pixels: the network then sees every pixel
 * the output takes from it as damage (white), never a pixel of the damage it was not told of.
 */
export const ALIGNED_GROW = 1.5;
