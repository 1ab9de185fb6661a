import { createHash } from 'node:crypto';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { sha256File } from '../hash.ts';
import { FACE_SIZE } from './align.ts';
import { EngineError } from './errors.ts';
import type { RgbImage } from './image.ts';
import type { RestoredFace } from './paste.ts';
import { openSession, type ExecutionProvider, type SessionOptions } from './sessions.ts';

/** Which model restores: what an export's provenance and history name. */
export interface ModelIdentity {
  readonly name: string;
  /** Of the file the user gave (the official checkpoint, for a converted CodeFormer). */
  readonly sha256: string;
}

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
