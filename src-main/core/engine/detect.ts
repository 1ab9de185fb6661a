import ort from 'onnxruntime-node';
import type { RgbImage } from './image.ts';
import { resizeRgb } from './resize.ts';
import { EngineError } from './errors.ts';
import { openSession } from './sessions.ts';

/** A face as the detector found it, in the photo's pixel coordinates. */
export interface DetectedFace {
  /** [x, y, width, height] */
  readonly box: [number, number, number, number];
  /** OpenCV's YuNet score, sqrt(cls · obj), in [0, 1]. */
  readonly score: number;
  /** Left eye, right eye, nose tip, left and right mouth corner, "left" meaning the image's left. */
  readonly landmarks: [number, number][];
}

export interface DetectOptions {
  /** Default 0.8. Measured on shared/photos: every face of Solvay 1927 (≥ 0.90) and of the aligned crops
   *  (≥ 0.86) stays; the 1850Geography globe (0.78), a banister post (0.69) and edge fragments (≤ 0.61) go. */
  readonly threshold?: number;
  readonly nmsIou?: number;
}

const STRIDES = [8, 16, 32] as const;
/** The opencv_zoo README: YuNet finds faces of about 10 to 300 px. */
const MAX_FACE = 300;
/** The coarsest scan fits the photo in 400 px, so a face that fills the photo is still under 300 px. */
const OVERVIEW = 400;
/** Tiles keep the detector's memory bounded on big scans; the overlap holds any face it can find whole. */
const TILE = 1024;
const OVERLAP = 320;

/** YuNet (shared/models/README.md): BGR 0–255 NCHW, any size that is a multiple of 32. */
export class FaceDetector {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async open(modelPath: string): Promise<FaceDetector> {
    // A 230 kB model on photo-sized inputs: the CPU is as fast as a GPU round trip, and always there.
    const { session } = await openSession(modelPath, { providers: ['cpu'] });
    const outputs = new Set(session.outputNames);
    const missing = STRIDES.flatMap((s) => [`cls_${s}`, `obj_${s}`, `bbox_${s}`, `kps_${s}`]).filter(
      (n) => !outputs.has(n),
    );
    if (session.inputNames.length !== 1 || missing.length > 0) {
      await session.release();
      throw new EngineError(
        'bad-model',
        `${modelPath} is not a YuNet face detector (missing ${missing.join(', ')})`,
      );
    }
    return new FaceDetector(session);
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  /**
   * Finds faces at every scale where they fall inside the detector's 10–300 px range: the photo at native
   * size (enlarged when its short side is under 640, as the official pipeline does), then smaller by 3× per
   * step down to an overview that fits 400 px. Big scans are cut into overlapping tiles.
   */
  async detect(image: RgbImage, options: DetectOptions = {}): Promise<DetectedFace[]> {
    const threshold = options.threshold ?? 0.8;
    const found: DetectedFace[] = [];
    const scales = detectionScales(image.width, image.height);
    for (const [k, scale] of scales.entries()) {
      const scaled = scale === 1 ? image : await resizeRgb(image, scale);
      const coarsest = k === scales.length - 1;
      for (const tile of tiles(scaled.width, scaled.height)) {
        const faces = await this.runTile(scaled, tile, threshold);
        for (const face of faces) {
          const [x, y, w, h] = face.box;
          // Faces too big for this scale are found whole at the next, coarser one.
          if (!coarsest && Math.max(w, h) > MAX_FACE) continue;
          const cx = x + w / 2;
          const cy = y + h / 2;
          if (cx < tile.coreX0 || cx >= tile.coreX1 || cy < tile.coreY0 || cy >= tile.coreY1) continue;
          found.push(rescale(face, 1 / scale));
        }
      }
    }
    return nonMaximumSuppression(found, options.nmsIou ?? 0.3);
  }

  private async runTile(image: RgbImage, tile: Tile, threshold: number): Promise<DetectedFace[]> {
    const width = Math.ceil(tile.w / 32) * 32;
    const height = Math.ceil(tile.h / 32) * 32;
    const plane = width * height;
    // Zero padding right and bottom, as OpenCV pads: coordinates need no offset.
    const tensor = new Float32Array(3 * plane);
    for (let y = 0; y < tile.h; y++) {
      let src = ((tile.y + y) * image.width + tile.x) * 3;
      let dst = y * width;
      for (let x = 0; x < tile.w; x++, src += 3, dst++) {
        tensor[dst] = image.data[src + 2]!;
        tensor[plane + dst] = image.data[src + 1]!;
        tensor[2 * plane + dst] = image.data[src]!;
      }
    }
    const inputName = this.session.inputNames[0]!;
    const out = await this.session.run({
      [inputName]: new ort.Tensor('float32', tensor, [1, 3, height, width]),
    });
    const faces: DetectedFace[] = [];
    for (const stride of STRIDES) {
      const cls = out[`cls_${stride}`]!.data as Float32Array;
      const obj = out[`obj_${stride}`]!.data as Float32Array;
      const bbox = out[`bbox_${stride}`]!.data as Float32Array;
      const kps = out[`kps_${stride}`]!.data as Float32Array;
      const cols = width / stride;
      for (let i = 0; i < cls.length; i++) {
        const score = Math.sqrt(clamp01(cls[i]!) * clamp01(obj[i]!));
        if (score < threshold) continue;
        const col = i % cols;
        const row = Math.floor(i / cols);
        const cx = (col + bbox[i * 4]!) * stride;
        const cy = (row + bbox[i * 4 + 1]!) * stride;
        const w = Math.exp(bbox[i * 4 + 2]!) * stride;
        const h = Math.exp(bbox[i * 4 + 3]!) * stride;
        const landmarks: [number, number][] = [];
        for (let p = 0; p < 5; p++) {
          landmarks.push([
            (kps[i * 10 + 2 * p]! + col) * stride + tile.x,
            (kps[i * 10 + 2 * p + 1]! + row) * stride + tile.y,
          ]);
        }
        faces.push({ box: [cx - w / 2 + tile.x, cy - h / 2 + tile.y, w, h], score, landmarks });
      }
    }
    for (const tensorOut of Object.values(out)) tensorOut.dispose();
    return faces;
  }
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * The official pipeline enlarges a photo until its short side is 640 (CODEFORMER.md §8.2); a thin strip would
 * grow without bound that way (20000×20 → 640000×640, 70 s of detection), so the enlargement also stops where
 * the long side reaches this.
 */
const MAX_ENLARGED_SIDE = 4096;

/** Scales to run, finest first (see `detect`). */
export function detectionScales(width: number, height: number): number[] {
  const finest = Math.max(
    1,
    Math.min(640 / Math.min(width, height), MAX_ENLARGED_SIDE / Math.max(width, height)),
  );
  const overview = OVERVIEW / Math.max(width, height);
  const scales = [finest];
  while (scales[scales.length - 1]! / 3 > overview) scales.push(scales[scales.length - 1]! / 3);
  if (scales[scales.length - 1]! > overview * 1.5) scales.push(overview);
  return scales;
}

interface Tile {
  x: number;
  y: number;
  w: number;
  h: number;
  /** The part of the tile that owns the faces centred in it (ties between overlapping tiles go to one). */
  coreX0: number;
  coreX1: number;
  coreY0: number;
  coreY1: number;
}

function tileStarts(size: number): number[] {
  if (size <= TILE) return [0];
  const step = TILE - OVERLAP;
  const starts: number[] = [];
  for (let s = 0; s + TILE < size; s += step) starts.push(s);
  starts.push(size - TILE);
  return starts;
}

function tiles(width: number, height: number): Tile[] {
  const xs = tileStarts(width);
  const ys = tileStarts(height);
  const core = (starts: number[], i: number, size: number): [number, number] => {
    const start = starts[i]!;
    const lo = i === 0 ? 0 : (start + (starts[i - 1]! + Math.min(TILE, size))) / 2;
    const hi = i === starts.length - 1 ? size : (starts[i + 1]! + start + Math.min(TILE, size)) / 2;
    return [lo, hi];
  };
  const result: Tile[] = [];
  for (let j = 0; j < ys.length; j++) {
    for (let i = 0; i < xs.length; i++) {
      const [coreX0, coreX1] = core(xs, i, width);
      const [coreY0, coreY1] = core(ys, j, height);
      result.push({
        x: xs[i]!,
        y: ys[j]!,
        w: Math.min(TILE, width),
        h: Math.min(TILE, height),
        coreX0,
        coreX1,
        coreY0,
        coreY1,
      });
    }
  }
  return result;
}

function rescale(face: DetectedFace, factor: number): DetectedFace {
  const [x, y, w, h] = face.box;
  return {
    box: [x * factor, y * factor, w * factor, h * factor],
    score: face.score,
    landmarks: face.landmarks.map(([lx, ly]) => [lx * factor, ly * factor]),
  };
}

function iou(a: DetectedFace, b: DetectedFace): number {
  const [ax, ay, aw, ah] = a.box;
  const [bx, by, bw, bh] = b.box;
  const ix = Math.max(0, Math.min(ax + aw, bx + bw) - Math.max(ax, bx));
  const iy = Math.max(0, Math.min(ay + ah, by + bh) - Math.max(ay, by));
  const inter = ix * iy;
  return inter / (aw * ah + bw * bh - inter);
}

/** Greedy NMS, best score first; the survivors come out in that order. */
export function nonMaximumSuppression(faces: DetectedFace[], iouThreshold: number): DetectedFace[] {
  const sorted = [...faces].sort((a, b) => b.score - a.score);
  const kept: DetectedFace[] = [];
  for (const face of sorted) {
    if (kept.every((k) => iou(k, face) <= iouThreshold)) kept.push(face);
  }
  return kept;
}
