/**
 * RetinaFace ResNet-50, the official pipeline's default face detector (CODEFORMER.md §8.2), run from a folder
 * made by `convertRetinaFace` (nn/retinaface). It returns the same faces as YuNet's FaceDetector, so the app can
 * use either. Priors, decoding and NMS are plain functions of numbers, testable without a network.
 */
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { RETINAFACE_SIDECAR, asRetinaFaceSidecar } from '../nn/retinaface/sidecar.ts';
import type { DetectedFace } from './detect.ts';
import { EngineError } from './errors.ts';
import type { RgbImage } from './image.ts';
import { resizeRaster, resizeRgbTo } from './resize.ts';
import { openSession, type ExecutionProvider, type SessionOptions } from './sessions.ts';

/** cfg_re50 of the official retinaface.py: per level, its stride and the two anchor sizes of each cell. */
const LEVELS = [
  { step: 8, minSizes: [16, 32] },
  { step: 16, minSizes: [64, 128] },
  { step: 32, minSizes: [256, 512] },
] as const;
/** cfg 'variance': centre offsets are in units of 0.1 prior size, log sizes in units of 0.2. */
const CENTER_VARIANCE = 0.1;
const SIZE_VARIANCE = 0.2;
/** The network's input is BGR minus this mean, without scaling (`mean_tensor` of retinaface.py). */
const MEAN_BGR = [104, 117, 123] as const;
/**
 * `get_face_landmarks_5(resize=640)`: the image is enlarged until its short side is 640, never shrunk. The
 * official facelib computes `scale = resize / min(h, w)` and then `scale = max(1, scale) # always scale up`
 * (sczhou/CodeFormer, facelib/utils/face_restoration_helper.py), so its INTER_AREA branch for `scale < 1` is
 * never taken: a photo whose short side is over 640 is detected at its own size.
 */
const DETECT_SHORT_SIDE = 640;
/** `read_image` enlarges a photo whose short side is under this to it before anything else (§8.2). */
const READ_SHORT_SIDE = 512;
/** `inference_codeformer.py` passes `eye_dist_threshold=5` (§8.1). */
const DEFAULT_EYE_DISTANCE_THRESHOLD = 5;
/**
 * Like YuNet's detector (detect.ts), the enlargement also stops where the long side reaches this: a thin strip
 * (20000×20) would otherwise grow to 640000×640.
 */
const MAX_ENLARGED_SIDE = 4096;
/** See `detectionScale`. */
const DEFAULT_MAX_PIXELS = 8_000_000;

/**
 * The priors of an H×W input, as the official PriorBox makes them (clip off): level by level, the feature map
 * (⌈H/step⌉ × ⌈W/step⌉) row-major, each cell's anchors in min-size order. Four values per prior, relative to the
 * input: centre x, centre y, width, height.
 */
export function retinaFacePriors(height: number, width: number): Float64Array {
  let count = 0;
  for (const { step, minSizes } of LEVELS) {
    count += Math.ceil(height / step) * Math.ceil(width / step) * minSizes.length;
  }
  const priors = new Float64Array(count * 4);
  let p = 0;
  for (const { step, minSizes } of LEVELS) {
    const rows = Math.ceil(height / step);
    const cols = Math.ceil(width / step);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        for (const size of minSizes) {
          priors[p++] = ((j + 0.5) * step) / width;
          priors[p++] = ((i + 0.5) * step) / height;
          priors[p++] = size / width;
          priors[p++] = size / height;
        }
      }
    }
  }
  return priors;
}

/** Box `i` (official `decode`): [x1, y1, x2, y2] relative to the input. */
export function decodeBox(loc: ArrayLike<number>, priors: ArrayLike<number>, i: number): number[] {
  const [cx, cy, pw, ph] = [priors[4 * i]!, priors[4 * i + 1]!, priors[4 * i + 2]!, priors[4 * i + 3]!];
  const x = cx + loc[4 * i]! * CENTER_VARIANCE * pw;
  const y = cy + loc[4 * i + 1]! * CENTER_VARIANCE * ph;
  const w = pw * Math.exp(loc[4 * i + 2]! * SIZE_VARIANCE);
  const h = ph * Math.exp(loc[4 * i + 3]! * SIZE_VARIANCE);
  return [x - w / 2, y - h / 2, x + w / 2, y + h / 2];
}

/** The five landmarks of prior `i` (official `decode_landm`): [x, y] × 5 relative to the input. */
export function decodeLandmarks(landms: ArrayLike<number>, priors: ArrayLike<number>, i: number): number[] {
  const [cx, cy, pw, ph] = [priors[4 * i]!, priors[4 * i + 1]!, priors[4 * i + 2]!, priors[4 * i + 3]!];
  const points: number[] = [];
  for (let k = 0; k < 5; k++) {
    points.push(cx + landms[10 * i + 2 * k]! * CENTER_VARIANCE * pw);
    points.push(cy + landms[10 * i + 2 * k + 1]! * CENTER_VARIANCE * ph);
  }
  return points;
}

/** A decoded detection in input pixels, before NMS. */
export interface Candidate {
  /** [x1, y1, x2, y2] */
  readonly box: readonly [number, number, number, number];
  readonly score: number;
  /** [x, y] × 5 in the official order: left eye, right eye, nose, left and right mouth corner. */
  readonly landmarks: readonly number[];
}

/** torchvision's `box_iou` arithmetic: corner boxes, areas without the +1 of older NMS code. */
function iou(a: Candidate['box'], b: Candidate['box']): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return inter / union;
}

/**
 * Greedy NMS as the official `py_cpu_nms` (torchvision.ops.nms): candidates in the order given (the caller's
 * descending score), each kept unless its IoU with a kept one is above `iouThreshold`. Keeps that order.
 */
export function suppressOverlaps(candidates: readonly Candidate[], iouThreshold: number): Candidate[] {
  const kept: Candidate[] = [];
  for (const c of candidates) {
    if (kept.every((k) => !(iou(k.box, c.box) > iouThreshold))) kept.push(c);
  }
  return kept;
}

export interface RetinaFaceOptions {
  /** Scores above this are kept; default 0.8, the official `conf_threshold`. */
  readonly threshold?: number;
  /** Default 0.4, the official `nms_threshold`. */
  readonly nmsIou?: number;
  /** Larger photos are reduced to this many pixels first (see `detectionScale`); default 8 MP. */
  readonly maxPixels?: number;
  /**
   * Faces whose official "eye distance" is below this are dropped (see `withoutNarrowEyes`); default 5, as
   * inference_codeformer.py passes it. 0 keeps every face.
   */
  readonly eyeDistanceThreshold?: number;
}

/** The network's outputs for one input, each row-major [priors, values]. */
export interface RetinaFaceOutputs {
  readonly loc: ArrayLike<number>;
  readonly conf: ArrayLike<number>;
  readonly landms: ArrayLike<number>;
}

/**
 * The official `detect_faces` after the network: decode, keep scores > threshold, sort by descending score
 * (ties: the later prior first, as numpy's `argsort()[::-1]` leaves them), NMS. Coordinates are in the
 * `width`×`height` input's pixels.
 */
export function facesFromOutputs(
  out: RetinaFaceOutputs,
  priors: Float64Array,
  width: number,
  height: number,
  options: RetinaFaceOptions = {},
): Candidate[] {
  // numpy compares the float32 scores with the threshold in float32: a score of exactly 0.8f is not above 0.8.
  const threshold = Math.fround(options.threshold ?? 0.8);
  const picked: number[] = [];
  const count = priors.length / 4;
  for (let i = 0; i < count; i++) if (out.conf[2 * i + 1]! > threshold) picked.push(i);
  picked.sort((a, b) => out.conf[2 * b + 1]! - out.conf[2 * a + 1]! || b - a);
  const candidates = picked.map((i): Candidate => {
    const [x1, y1, x2, y2] = decodeBox(out.loc, priors, i) as [number, number, number, number];
    const points = decodeLandmarks(out.landms, priors, i);
    return {
      box: [x1 * width, y1 * height, x2 * width, y2 * height],
      score: out.conf[2 * i + 1]!,
      landmarks: points.map((v, k) => v * (k % 2 === 0 ? width : height)),
    };
  });
  return suppressOverlaps(candidates, options.nmsIou ?? 0.4);
}

/**
 * The factor from photo to network input: the official enlargement to a short side of 640 (1 when it is 640 or
 * more), or, for a photo over `maxPixels`, the reduction to that many pixels. The official runs a big photo
 * whole, but the network holds about 230 bytes of activations per input pixel (measured on the CPU: +720 MB
 * at 2048×1536), so a 50 MP scan would need 11 GB. At 8 MP (about 1.9 GB) a 24 MP camera photo keeps 58% of
 * its linear size: its faces stay far above the 16 px of the smallest anchor.
 */
export function detectionScale(width: number, height: number, maxPixels = DEFAULT_MAX_PIXELS): number {
  const enlarged = Math.max(1, DETECT_SHORT_SIDE / Math.min(width, height));
  const scale = Math.max(1, Math.min(enlarged, MAX_ENLARGED_SIDE / Math.max(width, height)));
  const pixels = width * height * scale * scale;
  return pixels > maxPixels ? Math.sqrt(maxPixels / (width * height)) : scale;
}

/** The network's input for a photo, and the scale from photo pixels to input pixels. */
export interface RetinaFaceInput {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
  readonly scale: number;
}

/**
 * OpenCV's bilinear resize when enlarging, as the official helper does. Reducing is only ever our memory cap
 * (the official never shrinks), done by sharp through resizeRgbTo.
 */
async function scaled(image: RgbImage, width: number, height: number): Promise<Uint8Array> {
  if (width === image.width && height === image.height) return image.data;
  if (width > image.width)
    return resizeRaster({ ...image, channels: 3, depth: 8 }, width, height).data as Uint8Array;
  return (await resizeRgbTo(image, width, height)).data;
}

/** Interleaved RGB → the network's planar BGR minus (104, 117, 123), unscaled. */
export function bgrMinusMean(image: RgbImage): Float32Array {
  const plane = image.width * image.height;
  const data = new Float32Array(3 * plane);
  const pixels = image.data;
  for (let i = 0, src = 0; i < plane; i++, src += 3) {
    data[i] = pixels[src + 2]! - MEAN_BGR[0];
    data[plane + i] = pixels[src + 1]! - MEAN_BGR[1];
    data[2 * plane + i] = pixels[src]! - MEAN_BGR[2];
  }
  return data;
}

/**
 * As the official helper prepares it: resized by `detectionScale` to ⌊w·s⌋ × ⌊h·s⌋, then BGR minus the mean
 * (CODEFORMER.md §8.2).
 */
export async function retinaFaceInput(
  image: RgbImage,
  maxPixels = DEFAULT_MAX_PIXELS,
): Promise<RetinaFaceInput> {
  const scale = detectionScale(image.width, image.height, maxPixels);
  const width = Math.max(1, Math.trunc(image.width * scale));
  const height = Math.max(1, Math.trunc(image.height * scale));
  const data = bgrMinusMean({ width, height, data: await scaled(image, width, height) });
  return { data, width, height, scale };
}

/** A converted folder (its sidecar names the graph), or the .onnx file itself. */
function graphFile(model: string): string {
  if (!fs.statSync(model, { throwIfNoEntry: false })?.isDirectory()) return model;
  const file = path.join(model, RETINAFACE_SIDECAR);
  let sidecar = null;
  try {
    sidecar = asRetinaFaceSidecar(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch (error) {
    const message = `${model} is not a converted RetinaFace (no readable ${RETINAFACE_SIDECAR})`;
    throw new EngineError('bad-model', message, { cause: error });
  }
  if (!sidecar)
    throw new EngineError('bad-model', `${file} is not a model description this version of Heirloom reads`);
  return path.join(model, sidecar.graph);
}

const OUTPUTS = ['loc', 'conf', 'landms'] as const;

export class RetinaFaceDetector {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: ExecutionProvider,
  ) {}

  /** Opens a converted RetinaFace; `options` choose the providers (default: the platform's best, then CPU). */
  static async open(model: string, options: SessionOptions = {}): Promise<RetinaFaceDetector> {
    const { session, provider } = await openSession(graphFile(model), options);
    const missing = OUTPUTS.filter((name) => !session.outputNames.includes(name));
    if (session.inputNames.length !== 1 || session.inputNames[0] !== 'image' || missing.length > 0) {
      await session.release();
      throw new EngineError(
        'bad-model',
        `${model} is not a RetinaFace face detector (missing ${missing.join(', ') || 'image'})`,
      );
    }
    return new RetinaFaceDetector(session, provider);
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  /**
   * Faces in the photo's pixels, best score first, as the official `get_face_landmarks_5` finds them:
   * enlarged so the short side is 640 (never shrunk; a photo over 8 MP reduced instead, see `detectionScale`),
   * one run of the network, decode, score > 0.8, NMS at IoU 0.4, then its eye-distance filter with the bug
   * kept (`withoutNarrowEyes`, at the scale the official measures in: `officialReadScale`).
   */
  async detect(image: RgbImage, options: RetinaFaceOptions = {}): Promise<DetectedFace[]> {
    const input = await retinaFaceInput(image, options.maxPixels);
    const tensor = new ort.Tensor('float32', input.data, [1, 3, input.height, input.width]);
    const out = await this.session.run({ image: tensor });
    try {
      const outputs = {
        loc: out.loc!.data as Float32Array,
        conf: out.conf!.data as Float32Array,
        landms: out.landms!.data as Float32Array,
      };
      const priors = retinaFacePriors(input.height, input.width);
      if (outputs.conf.length !== priors.length / 2) {
        throw new EngineError(
          'bad-model',
          `the detector gave ${outputs.conf.length / 2} rows for ${priors.length / 4} priors`,
        );
      }
      const faces = facesFromOutputs(outputs, priors, input.width, input.height, options).map((c) =>
        toDetectedFace(c, input.scale),
      );
      const threshold = options.eyeDistanceThreshold ?? DEFAULT_EYE_DISTANCE_THRESHOLD;
      return withoutNarrowEyes(faces, threshold, officialReadScale(image.width, image.height));
    } finally {
      for (const value of Object.values(out)) value.dispose();
    }
  }
}

/** [x1, y1, x2, y2] in input pixels → the app's face in photo pixels (the official divides by the scale). */
function toDetectedFace(c: Candidate, scale: number): DetectedFace {
  const [x1, y1, x2, y2] = c.box.map((v) => v / scale) as [number, number, number, number];
  const landmarks: [number, number][] = [];
  for (let k = 0; k < 5; k++) landmarks.push([c.landmarks[2 * k]! / scale, c.landmarks[2 * k + 1]! / scale]);
  return {
    box: [x1, y1, x2 - x1, y2 - y1],
    score: c.score,
    landmarks,
  };
}

/**
 * Per axis [x, y], how many of the official helper's pixels one photo pixel is where it measures faces: its
 * `read_image` enlarges a photo whose short side is under 512 to 512 (`cv2.resize(fx=f, fy=f)`, f = 512 /
 * short side, each size rounded: the short side becomes 512 exactly, and the long side never lands on a half,
 * so OpenCV's round-half-to-even needs no care), and everything after, the eye-distance filter included, runs
 * on that image. [1, 1] for a photo whose short side is 512 or more.
 */
export function officialReadScale(width: number, height: number): [number, number] {
  const short = Math.min(width, height);
  if (short >= READ_SHORT_SIDE) return [1, 1];
  const f = READ_SHORT_SIDE / short;
  return [Math.round(width * f) / width, Math.round(height * f) / height];
}

/**
 * The official `eye_dist` of a face, bug kept (CODEFORMER.md §8.2): over a row [x1, y1, x2, y2, score, le.x,
 * le.y, re.x, re.y, nose.x, nose.y, …] it takes the norm of (row[6] − row[8], row[7] − row[9]), which is
 * (left-eye y − right-eye y, right-eye x − nose x): NOT the distance between the eyes. `unit` scales x and y
 * differences into the pixels the official measures in (`officialReadScale`).
 */
export function officialEyeDistance(
  landmarks: readonly (readonly [number, number])[],
  unit: readonly [number, number] = [1, 1],
): number {
  const [leftEye, rightEye, nose] = landmarks as [[number, number], [number, number], [number, number]];
  return Math.hypot((leftEye[1] - rightEye[1]) * unit[1], (rightEye[0] - nose[0]) * unit[0]);
}

/**
 * The official filter `if eye_dist < eye_dist_threshold: continue`, order kept. The official applies it after
 * dividing the rows by the detection scale (`bboxes = bboxes / scale` comes first in get_face_landmarks_5), so
 * it measures in the helper's image — the photo as `read_image` left it, enlarged to a short side of 512 when
 * smaller — not in the 640-short-side detection input: pass `officialReadScale` of the photo as `unit` for
 * faces in photo pixels. A face whose value is NaN is kept, as `NaN < 5` is false in numpy too.
 */
export function withoutNarrowEyes<T extends Pick<DetectedFace, 'landmarks'>>(
  faces: readonly T[],
  threshold = DEFAULT_EYE_DISTANCE_THRESHOLD,
  unit: readonly [number, number] = [1, 1],
): T[] {
  return faces.filter((face) => !(officialEyeDistance(face.landmarks, unit) < threshold));
}

/**
 * `--only-center-face` (official `get_center_face`): the one face whose box centre is nearest the image centre
 * (width / 2, height / 2), Euclidean; on a tie the earlier face (best score first), as Python's
 * `list.index(min(...))` takes the first. [] for no faces. The official measures in its `read_image` image;
 * that is the photo scaled by one factor (up to the rounding of its size), which leaves the nearest face the
 * same, so photo pixels are used here, for YuNet's faces as well as RetinaFace's.
 */
export function centerFace<T extends Pick<DetectedFace, 'box'>>(
  faces: readonly T[],
  width: number,
  height: number,
): T[] {
  let best: T | undefined;
  let bestDistance = Infinity;
  for (const face of faces) {
    const [x, y, w, h] = face.box;
    const distance = Math.hypot(x + w / 2 - width / 2, y + h / 2 - height / 2);
    if (best === undefined || distance < bestDistance) [best, bestDistance] = [face, distance];
  }
  return best === undefined ? [] : [best];
}
