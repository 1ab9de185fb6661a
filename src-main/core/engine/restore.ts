import { createHash } from 'node:crypto';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { sha256File } from '../hash.ts';
import { FACE_SIZE } from './align.ts';
import { EngineError } from './errors.ts';
import type { DamageMask } from './damage.ts';
import type { Raster, RgbImage } from './image.ts';
import type { RestoredFace } from './paste.ts';
import { openSession, type ExecutionProvider, type SessionOptions } from './sessions.ts';

/** Which model restores: what an export's provenance and history name. */
export interface ModelIdentity {
  readonly name: string;
  /** Of the file the user gave (the official checkpoint, for a converted CodeFormer). */
  readonly sha256: string;
}

/**
 * What is done to each face, one released CodeFormer checkpoint each (codeformer.ts FACE_TASKS): restore
 * (codeformer.pth), colorize a black-and-white face (codeformer_colorization.pth), inpaint a damaged region
 * (codeformer_inpainting.pth).
 */
export type FaceTask = 'restore' | 'colorize' | 'inpaint';

/** Restores one aligned 512×512 face at a fidelity w ∈ [0, 1]. */
export interface Restorer {
  readonly model: ModelIdentity;
  readonly provider: ExecutionProvider;
  readonly fallbackReason?: string;
  restore(face: RgbImage, fidelity: number): Promise<RestoredFace>;
  release(): Promise<void>;
}

const PLANE = FACE_SIZE * FACE_SIZE;

/** Aligned face → [1,3,512,512] float32 RGB in [−1, 1] (CODEFORMER.md §3.1: /255, then (x−0.5)/0.5). */
export function faceToTensor(face: RgbImage): Float32Array {
  if (face.width !== FACE_SIZE || face.height !== FACE_SIZE) throw new Error('a face must be 512×512');
  const out = new Float32Array(3 * PLANE);
  for (let i = 0; i < PLANE; i++) {
    out[i] = face.data[i * 3]! / 127.5 - 1;
    out[PLANE + i] = face.data[i * 3 + 1]! / 127.5 - 1;
    out[2 * PLANE + i] = face.data[i * 3 + 2]! / 127.5 - 1;
  }
  return out;
}

/** Network output → interleaved RGB 0–255, clamped to [−1, 1] first as `tensor2img` does (§3.1). */
export function tensorToFace(tensor: Float32Array): RestoredFace {
  const out = new Float32Array(3 * PLANE);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < PLANE; i++) {
      const v = tensor[c * PLANE + i]!;
      out[i * 3 + c] = ((v < -1 ? -1 : v > 1 ? 1 : v) + 1) * 127.5;
    }
  }
  return out;
}

/**
 * inference_inpainting.py's rule: a pixel is damaged where it is pure white, all three channels 255 (it takes
 * the pixels whose three normalised channels sum to 3, which only 1.0 each reaches). The mask is hard, 0 or 1.
 */
export function whitePixels(image: RgbImage): DamageMask {
  const n = image.width * image.height;
  const data = new Float32Array(n);
  const d = image.data;
  for (let i = 0; i < n; i++)
    if (d[i * 3] === 255 && d[i * 3 + 1] === 255 && d[i * 3 + 2] === 255) data[i] = 1;
  return { width: image.width, height: image.height, data };
}

/**
 * A painted mask (white = damaged): each pixel's mean colour value over the maximum, times its opacity, so a
 * black-and-white mask is the hard mask of the official rule and a soft brush edge blends softly.
 */
export function damageFromRaster(raster: Raster): DamageMask {
  const { width, height, channels, data } = raster;
  const max = raster.depth === 16 ? 65535 : 255;
  const colours = channels >= 3 ? 3 : 1;
  const alpha = channels === 2 || channels === 4;
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const o = i * channels;
    let sum = 0;
    for (let c = 0; c < colours; c++) sum += data[o + c]!;
    out[i] = (sum / (colours * max)) * (alpha ? data[o + channels - 1]! / max : 1);
  }
  return { width, height, data: out };
}

/** True when nothing is marked damaged. */
export function isUndamaged(mask: DamageMask): boolean {
  return mask.data.every((m) => m === 0);
}

/**
 * The image with its damage painted white, as the inpainting model saw damage in training (white brush strokes,
 * basicsr/data/data_util.py `brush_stroke_mask`): v + m·(255 − v). Pure-white pixels stay as they are.
 */
export function paintDamageWhite(image: RgbImage, mask: DamageMask): RgbImage {
  const data = image.data.slice();
  for (let i = 0; i < mask.data.length; i++) {
    const m = mask.data[i]!;
    if (m === 0) continue;
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.round(data[i * 3 + c]! + m * (255 - data[i * 3 + c]!));
  }
  return { ...image, data };
}

/**
 * inference_inpainting.py's blend, `(1 − mask)·input + mask·output`, on a raster: `repaired` (the same photo with
 * the faces pasted in, `upscale` times the mask's size) comes into `canvas` through the mask, each canvas pixel
 * taking the mask of the photo pixel it enlarges. Where the mask is 0 the canvas keeps its values exactly.
 */
export function blendThroughDamage(canvas: Raster, repaired: Raster, mask: DamageMask, upscale = 1): void {
  const { width, height, channels } = canvas;
  if (repaired.width !== width || repaired.height !== height || repaired.channels !== channels) {
    throw new Error('the repaired raster must match the canvas');
  }
  for (let y = 0; y < height; y++) {
    const row = Math.min(mask.height - 1, Math.floor(y / upscale)) * mask.width;
    for (let x = 0; x < width; x++) {
      const m = mask.data[row + Math.min(mask.width - 1, Math.floor(x / upscale))]!;
      if (m === 0) continue;
      const o = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) {
        const under = canvas.data[o + c]!;
        canvas.data[o + c] = Math.round(under + (repaired.data[o + c]! - under) * m);
      }
    }
  }
}

/**
 * For a black-and-white photo (§8.4): the restored face turned gray, then matched per channel to the mean
 * and std of the input crop (population variance + 1e-5), so the face keeps the photo's tone.
 */
export function matchGrayTone(restored: RestoredFace, crop: RgbImage): RestoredFace {
  const gray = new Float32Array(PLANE);
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < PLANE; i++) {
    const g = 0.2989 * restored[i * 3]! + 0.587 * restored[i * 3 + 1]! + 0.114 * restored[i * 3 + 2]!;
    gray[i] = g;
    sum += g;
    sumSq += g * g;
  }
  const mean = sum / PLANE;
  const std = Math.sqrt(sumSq / PLANE - mean * mean + 1e-5);
  const out = new Float32Array(3 * PLANE);
  for (let c = 0; c < 3; c++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < PLANE; i++) {
      const v = crop.data[i * 3 + c]!;
      s += v;
      s2 += v * v;
    }
    const targetMean = s / PLANE;
    const targetStd = Math.sqrt(s2 / PLANE - targetMean * targetMean + 1e-5);
    for (let i = 0; i < PLANE; i++) out[i * 3 + c] = ((gray[i]! - mean) / std) * targetStd + targetMean;
  }
  return out;
}

function isFaceShape(dims: readonly (number | string)[]): boolean {
  return dims.length === 4 && dims[1] === 3 && dims[2] === FACE_SIZE && dims[3] === FACE_SIZE;
}

/**
 * Any ONNX model with one image input [1,3,512,512] float32 RGB in [−1, 1], an optional fidelity scalar
 * (float32 or float64, shape [1] or []) and one [1,3,512,512] output. Names and types are read from the model.
 */
export class OnnxRestorer implements Restorer {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly imageInput: string,
    private readonly fidelityInput: { name: string; type: 'float32' | 'float64'; dims: number[] } | undefined,
    readonly provider: ExecutionProvider,
    readonly fallbackReason: string | undefined,
    readonly model: ModelIdentity,
  ) {}

  static async open(model: string | Uint8Array, options: SessionOptions = {}): Promise<OnnxRestorer> {
    const choice = await openSession(model, options);
    const { session } = choice;
    const name = typeof model === 'string' ? model : 'the restorer';
    const fail = async (why: string): Promise<never> => {
      await session.release();
      throw new EngineError('bad-model', `${name} is not a face restorer: ${why}`);
    };
    const tensors = session.inputMetadata.filter((m) => m.isTensor);
    const image = tensors.find((m) => m.isTensor && m.type === 'float32' && isFaceShape(m.shape));
    if (!image) return fail('it needs an input of shape [1,3,512,512] float32');
    const others = tensors.filter((m) => m.name !== image.name);
    if (others.length > 1 || tensors.length !== session.inputMetadata.length) {
      return fail(`unexpected inputs ${others.map((m) => m.name).join(', ')}`);
    }
    let fidelityInput: { name: string; type: 'float32' | 'float64'; dims: number[] } | undefined;
    const fidelity = others[0];
    if (fidelity && fidelity.isTensor) {
      const scalar = fidelity.shape.length === 0 || (fidelity.shape.length === 1 && fidelity.shape[0] === 1);
      if ((fidelity.type !== 'float32' && fidelity.type !== 'float64') || !scalar) {
        return fail(`input ${fidelity.name} is not a fidelity scalar (float32/float64, shape [1] or [])`);
      }
      fidelityInput = {
        name: fidelity.name,
        type: fidelity.type,
        dims: fidelity.shape.length === 0 ? [] : [1],
      };
    }
    const outputs = session.outputMetadata.filter((m) => m.isTensor && isFaceShape(m.shape));
    if (session.outputMetadata.length !== 1 || outputs.length !== 1) {
      return fail('it needs exactly one output of shape [1,3,512,512]');
    }
    const identity = {
      name: typeof model === 'string' ? path.basename(model) : 'ONNX restorer',
      sha256:
        typeof model === 'string'
          ? await sha256File(model)
          : createHash('sha256').update(model).digest('hex'),
    };
    return new OnnxRestorer(
      session,
      image.name,
      fidelityInput,
      choice.provider,
      choice.fallbackReason,
      identity,
    );
  }

  async restore(face: RgbImage, fidelity: number): Promise<RestoredFace> {
    const feeds: Record<string, ort.Tensor> = {
      [this.imageInput]: new ort.Tensor('float32', faceToTensor(face), [1, 3, FACE_SIZE, FACE_SIZE]),
    };
    if (this.fidelityInput) {
      const { name, type, dims } = this.fidelityInput;
      feeds[name] =
        type === 'float64'
          ? new ort.Tensor('float64', Float64Array.of(fidelity), dims)
          : new ort.Tensor('float32', Float32Array.of(fidelity), dims);
    }
    const result = await this.session.run(feeds);
    const output = result[this.session.outputNames[0]!]!;
    const face32 = tensorToFace(output.data as Float32Array);
    output.dispose();
    return face32;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
