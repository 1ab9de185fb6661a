/**
 * The parsing mask of the official paste-back (CODEFORMER.md §8.4 step 7; `paste_faces_to_input_image`,
 * use_parse branch): ParseNet labels the restored face, the face classes become a 0/1 map, two Gaussian blurs
 * feather it, and a 10-pixel frame is cleared. The result is in face-template coordinates; the caller warps
 * it onto the photo and takes the minimum with the soft square mask (step 8).
 */
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { PARSENET_SIDECAR, checkParseNetSidecar, type ParseNetSidecar } from '../nn/parsenet/sidecar.ts';
import { FACE_SIZE } from './align.ts';
import { EngineError } from './errors.ts';
import type { RestoredFace } from './paste.ts';
import type { ModelIdentity } from './restore.ts';
import { openSession, type ExecutionProvider, type SessionOptions } from './sessions.ts';

const PLANE = FACE_SIZE * FACE_SIZE;

/**
 * The official MASK_COLORMAP: 255 for classes 1–13 and 15 (skin, nose, glasses, eyes, brows, ears, mouth,
 * lips, hair, earring), 0 for 0, 14, 16, 17, 18 (background, hat, necklace, neck, cloth). Labels outside
 * 0–18 cannot come from the 19-class argmax; they count as background.
 */
export const KEPT_CLASSES: ReadonlySet<number> = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15]);

/** `cv2.GaussianBlur(parse_mask, (101, 101), 11)`, applied twice. */
const BLUR_TAPS = 101;
const BLUR_SIGMA = 11;
/** `thres = 10`: rows and columns cleared on each side after the blurs. */
const BORDER = 10;

/**
 * OpenCV's `getGaussianKernel(101, 11, CV_64F)`: exp(−x²/(2σ²)) at x = −50 … 50, normalised to sum 1 (no
 * fixed table: those are for up to 7 taps with σ ≤ 0). Only the centre and one side are kept; it is even.
 */
function halfKernel(taps: number, sigma: number): Float64Array {
  const radius = (taps - 1) / 2;
  const full = Array.from({ length: taps }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = full.reduce((a, b) => a + b, 0);
  return Float64Array.from(full.slice(radius), (t) => t / sum);
}

const HALF_KERNEL = halfKernel(BLUR_TAPS, BLUR_SIGMA);

/**
 * Blurs every row of a size×size map with an even kernel (centre and one side), OpenCV's default border
 * BORDER_REFLECT_101 (…2 1 | 0 1 2 … n−1 | n−2 …), and writes the result transposed: two calls blur both
 * axes and restore the orientation. The blur is a separable float64 filter, as OpenCV's for a float64 map.
 */
function blurRowsTransposed(src: Float64Array, size: number, half: Float64Array): Float64Array {
  const radius = half.length - 1;
  const out = new Float64Array(src.length);
  const padded = new Float64Array(size + 2 * radius);
  for (let y = 0; y < size; y++) {
    const row = y * size;
    for (let x = 0; x < size; x++) padded[radius + x] = src[row + x]!;
    for (let k = 1; k <= radius; k++) {
      padded[radius - k] = src[row + k]!;
      padded[radius + size - 1 + k] = src[row + size - 1 - k]!;
    }
    for (let x = 0; x < size; x++) {
      const centre = radius + x;
      let sum = half[0]! * padded[centre]!;
      for (let k = 1; k <= radius; k++) sum += half[k]! * (padded[centre - k]! + padded[centre + k]!);
      out[x * size + y] = sum;
    }
  }
  return out;
}

/** A 2-D Gaussian blur of a square map: rows, then (transposed) columns. */
function gaussianBlur(map: Float64Array, size: number, half: Float64Array): Float64Array {
  return blurRowsTransposed(blurRowsTransposed(map, size, half), size, half);
}

/**
 * The parsing mask of a 512×512 label map (row-major): 1 on kept classes, 0 elsewhere, blurred twice by the
 * 101-tap σ = 11 Gaussian, then zero on the 10 outer rows and columns of each side. Values in [0, 1].
 *
 * The official code blurs 0/255 and divides by 255 after clearing the frame; the blur is linear, so blurring
 * 0/1 gives the same mask up to float64 rounding.
 */
export function parseMask(labels: Uint8Array): Float32Array {
  if (labels.length !== PLANE) throw new Error(`a label map is ${FACE_SIZE}×${FACE_SIZE}`);
  const kept = new Float64Array(PLANE);
  for (let i = 0; i < PLANE; i++) kept[i] = KEPT_CLASSES.has(labels[i]!) ? 1 : 0;
  const blurred = gaussianBlur(gaussianBlur(kept, FACE_SIZE, HALF_KERNEL), FACE_SIZE, HALF_KERNEL);
  const mask = new Float32Array(PLANE);
  for (let y = BORDER; y < FACE_SIZE - BORDER; y++) {
    for (let x = BORDER; x < FACE_SIZE - BORDER; x++) mask[y * FACE_SIZE + x] = blurred[y * FACE_SIZE + x]!;
  }
  return mask;
}

export { parseMaskAt } from './paste.ts';

/**
 * A restored face → the parser's input [1,3,512,512], RGB in [−1, 1] (/255, then (v − 0.5)/0.5). The
 * official helper parses the uint8 face that `tensor2img` rounded, so the values are rounded first: for a
 * colour photo that is the official input exactly. (A gray photo's tone-matched face is float there; ours
 * differs from it by about half a level either way, which moves labels only at near-ties.)
 */
export function parserInput(face: RestoredFace): Float32Array {
  if (face.length !== 3 * PLANE) throw new Error(`a restored face is ${FACE_SIZE}×${FACE_SIZE} RGB`);
  const out = new Float32Array(3 * PLANE);
  for (let i = 0; i < PLANE; i++) {
    for (let c = 0; c < 3; c++) out[c * PLANE + i] = Math.round(face[i * 3 + c]!) / 127.5 - 1;
  }
  return out;
}

/** Reads and checks the sidecar of a converted ParseNet folder. */
export function readParseNetSidecar(dir: string): ParseNetSidecar {
  const file = path.join(dir, PARSENET_SIDECAR);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new EngineError(
      'bad-model',
      `${dir} is not a converted ParseNet (no readable ${PARSENET_SIDECAR})`,
      {
        cause: error,
      },
    );
  }
  try {
    return checkParseNetSidecar(parsed);
  } catch (error) {
    throw new EngineError('bad-model', `${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** The converted ParseNet, open: labels and parsing masks of restored faces. */
export class FaceParser {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: ExecutionProvider,
    readonly fallbackReason: string | undefined,
    readonly model: ModelIdentity,
  ) {}

  /** Opens the folder `convertParseNet` wrote. */
  static async open(dir: string, options: SessionOptions = {}): Promise<FaceParser> {
    const sidecar = readParseNetSidecar(dir);
    const { session, provider, fallbackReason } = await openSession(path.join(dir, sidecar.graph), options);
    return new FaceParser(session, provider, fallbackReason, {
      name: `ParseNet (${sidecar.source.file})`,
      sha256: sidecar.source.sha256,
    });
  }

  /** The 19-class label of every pixel of a restored 512×512 face (row-major, 0–18). */
  async labels(face: RestoredFace): Promise<Uint8Array> {
    const image = new ort.Tensor('float32', parserInput(face), [1, 3, FACE_SIZE, FACE_SIZE]);
    // Only the labels leave the session: the 19 logit planes (20 MB) are not copied out.
    const { labels } = await this.session.run({ image }, ['labels']);
    const data = new Uint8Array(labels!.data as Uint8Array);
    labels!.dispose();
    return data;
  }

  /** The parsing mask of a restored face (`parseMask` of its labels). */
  async mask(face: RestoredFace): Promise<Float32Array> {
    return parseMask(await this.labels(face));
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
