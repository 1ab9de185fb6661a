import { createHash } from 'node:crypto';
import path from 'node:path';
import ort from 'onnxruntime-node';
import fs from 'node:fs';
import type { CodeFormerConfig, CodeFormerVariant } from '../nn/codeformer/config.ts';
import { EngineError } from './errors.ts';
import { FACE_SIZE } from './align.ts';
import type { RgbImage } from './image.ts';
import type { RestoredFace } from './paste.ts';
import { faceToTensor, tensorToFace, type FaceTask, type ModelIdentity, type Restorer } from './restore.ts';
import { openSession, type ExecutionProvider, type SessionChoice, type SessionOptions } from './sessions.ts';

/** The sidecar beside a converted model (`heirloom convert`): where it came from and how to run it. */
export interface ConvertedSidecar {
  readonly format: 'heirloom-codeformer';
  readonly version: 1;
  readonly variant: CodeFormerVariant;
  readonly config: CodeFormerConfig;
  readonly source: { readonly file: string; readonly bytes: number; readonly sha256: string };
  readonly weights: string;
  readonly graphs: {
    readonly partA: string;
    readonly partB: string;
    readonly partBNoCft: string;
    readonly whole: string;
  };
}

export const SIDECAR = 'codeformer.json';

/** Reads and checks the sidecar of a converted model folder. */
export function readSidecar(dir: string): ConvertedSidecar {
  const file = path.join(dir, SIDECAR);
  let parsed: Partial<ConvertedSidecar>;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ConvertedSidecar>;
  } catch (error) {
    throw new EngineError(
      'bad-model',
      `${dir} is not a converted CodeFormer model (no readable ${SIDECAR})`,
      {
        cause: error,
      },
    );
  }
  if (parsed.format !== 'heirloom-codeformer' || parsed.version !== 1 || !parsed.graphs || !parsed.config) {
    throw new EngineError('bad-model', `${file} is not a model description this version of Heirloom reads`);
  }
  return parsed as ConvertedSidecar;
}

/**
 * What each of CodeFormer's tasks runs, as its official script runs it (CODEFORMER.md §1): the checkpoint it
 * needs, and the fidelity w the script fixes. Restoration takes the user's w; inference_colorization.py runs at
 * w = 0 (its CFT blocks were never trained, says its comment) and inference_inpainting.py at w = 1. AdaIN (on
 * for restoration and colorization, off for inpainting) is baked into each checkpoint's graphs (config.ts).
 */
export const FACE_TASKS = {
  restore: { variant: 'restoration', file: 'codeformer.pth', modelId: 'codeformer', fidelity: undefined },
  colorize: {
    variant: 'colorization',
    file: 'codeformer_colorization.pth',
    modelId: 'codeformer-colorization',
    fidelity: 0,
  },
  inpaint: {
    variant: 'inpainting',
    file: 'codeformer_inpainting.pth',
    modelId: 'codeformer-inpainting',
    fidelity: 1,
  },
} as const satisfies Record<
  FaceTask,
  { variant: CodeFormerVariant; file: string; modelId: string; fidelity: number | undefined }
>;

/** The task a checkpoint variant is for. */
export function taskOf(variant: CodeFormerVariant): FaceTask {
  return (Object.keys(FACE_TASKS) as FaceTask[]).find((task) => FACE_TASKS[task].variant === variant)!;
}

/** Every variant Heirloom converts also runs, each for its own task (FACE_TASKS). */
export const RUNNABLE_VARIANTS: readonly CodeFormerVariant[] = ['restoration', 'colorization', 'inpainting'];

/**
 * Why a checkpoint of `variant` is not the one wanted, in one line: what it is, and, when known, the file the
 * wanted variants come in.
 */
export function unsupportedVariant(
  variant: CodeFormerVariant,
  wanted?: readonly CodeFormerVariant[],
): string {
  const files = (wanted ?? []).map((v) => FACE_TASKS[taskOf(v)].file);
  const needed = files.length > 0 ? ` — this needs ${files.join(' or ')}` : '';
  return `it is CodeFormer's ${variant} model (${FACE_TASKS[taskOf(variant)].file})${needed}`;
}

/** Part A's results for one face: everything part B needs, so a new w re-runs part B only. */
interface PartAResult {
  readonly feeds: ReadonlyMap<string, { data: Float32Array; dims: readonly number[] }>;
  readonly bytes: number;
}

export interface CodeFormerOptions extends SessionOptions {
  /** Memory for cached part-A results (~47 MB per face at full size). Default 512 MB. */
  readonly cacheBytes?: number;
}

/**
 * CodeFormer from a converted model folder (`heirloom convert`): part A (encoder, transformer, code lookup,
 * AdaIN) runs once per face and its results are cached; part B (generator + CFT, the only part that depends
 * on w) runs per w, and w = 0 takes the graph without CFT, as the official code skips the CFT there (§3.4).
 * The colorization and inpainting checkpoints run at the w their official scripts fix (FACE_TASKS), whatever
 * w they are given: their CFT blocks are meant for that w only.
 */
export class CodeFormerRestorer implements Restorer {
  /** Runs of each graph since opening: what a new w really cost (part B only when part A was cached). */
  readonly runs = { partA: 0, partB: 0, partBNoCft: 0 };
  private readonly cache = new Map<string, PartAResult>();
  private cachedBytes = 0;
  private noCft: Promise<ort.InferenceSession> | undefined;

  private constructor(
    private readonly dir: string,
    private readonly graphs: { partA: string; partB: string; partBNoCft: string },
    private readonly partA: ort.InferenceSession,
    private readonly partB: ort.InferenceSession,
    private readonly options: CodeFormerOptions,
    readonly provider: ExecutionProvider,
    readonly fallbackReason: string | undefined,
    readonly model: ModelIdentity,
    /** Which released checkpoint it was converted from, and so which task it is for. */
    readonly variant: CodeFormerVariant,
    /** The checkpoint's file name, as it was converted. */
    readonly source: string,
  ) {}

  /** The task this model is for (restore, colorize or inpaint). */
  get task(): FaceTask {
    return taskOf(this.variant);
  }

  /** The w every face is restored at, or undefined where it is the caller's (restoration). */
  get fixedFidelity(): number | undefined {
    return FACE_TASKS[this.task].fidelity;
  }

  static async open(dir: string, options: CodeFormerOptions = {}): Promise<CodeFormerRestorer> {
    const sidecar = readSidecar(dir);
    const a = await openSession(path.join(dir, sidecar.graphs.partA), options);
    let b: SessionChoice;
    try {
      b = await openSession(path.join(dir, sidecar.graphs.partB), { ...options, providers: [a.provider] });
    } catch (error) {
      // Part A alone is hundreds of MB at full size; nobody else holds it.
      await a.session.release();
      throw error;
    }
    return new CodeFormerRestorer(
      dir,
      sidecar.graphs,
      a.session,
      b.session,
      options,
      a.provider,
      a.fallbackReason,
      { name: `CodeFormer (${sidecar.source.file})`, sha256: sidecar.source.sha256 },
      sidecar.variant,
      sidecar.source.file,
    );
  }

  /** Restores an aligned face; the same face at a new w costs part B only. */
  async restore(face: RgbImage, requested: number): Promise<RestoredFace> {
    const fidelity = this.fixedFidelity ?? requested;
    let session: ort.InferenceSession;
    const feeds: Record<string, ort.Tensor> = {};
    if (fidelity > 0) {
      session = this.partB;
      feeds.fidelity = new ort.Tensor('float32', Float32Array.of(fidelity), [1]);
    } else {
      // Negative w behaves like 0 in the official code (§3.4). Opened before part A runs, so a graph that
      // cannot be opened costs no part-A run.
      session = await this.openNoCft();
    }
    const partA = await this.runPartA(face);
    for (const name of session.inputNames) {
      const value = partA.feeds.get(name);
      if (value) feeds[name] = new ort.Tensor('float32', value.data, value.dims);
    }
    const result = await session.run(feeds);
    if (fidelity > 0) this.runs.partB++;
    else this.runs.partBNoCft++;
    const image = result.image!;
    const restored = tensorToFace(image.data as Float32Array);
    image.dispose();
    return restored;
  }

  /**
   * The w = 0 graph, opened on first use. A failed open is not kept: the next w = 0 request tries again
   * (and says again what is wrong), and `release()` is not blocked by it.
   */
  private openNoCft(): Promise<ort.InferenceSession> {
    if (!this.noCft) {
      const opening = openSession(path.join(this.dir, this.graphs.partBNoCft), {
        ...this.options,
        providers: [this.provider],
      }).then((choice) => choice.session);
      this.noCft = opening;
      opening.catch(() => {
        if (this.noCft === opening) this.noCft = undefined;
      });
    }
    return this.noCft;
  }

  private async runPartA(face: RgbImage): Promise<PartAResult> {
    const key = createHash('sha1').update(face.data).digest('hex');
    const hit = this.cache.get(key);
    if (hit) {
      // Most recently used last: Map keeps insertion order.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const input = new ort.Tensor('float32', faceToTensor(face), [1, 3, FACE_SIZE, FACE_SIZE]);
    const wanted = this.partB.inputNames.filter((n) => n !== 'fidelity');
    const outputs = await this.partA.run({ image: input }, wanted);
    this.runs.partA++;
    const feeds = new Map<string, { data: Float32Array; dims: readonly number[] }>();
    let bytes = 0;
    for (const name of wanted) {
      const tensor = outputs[name]!;
      const data = tensor.data as Float32Array;
      feeds.set(name, { data, dims: tensor.dims });
      bytes += data.byteLength;
    }
    const entry = { feeds, bytes };
    this.remember(key, entry);
    return entry;
  }

  private remember(key: string, entry: PartAResult): void {
    const limit = this.options.cacheBytes ?? 512 * 1024 * 1024;
    if (entry.bytes > limit) return;
    this.cache.set(key, entry);
    this.cachedBytes += entry.bytes;
    for (const [oldest, value] of this.cache) {
      if (this.cachedBytes <= limit) break;
      this.cache.delete(oldest);
      this.cachedBytes -= value.bytes;
    }
  }

  /** How many faces have their part-A results in memory. */
  get cachedFaces(): number {
    return this.cache.size;
  }

  async release(): Promise<void> {
    this.cache.clear();
    this.cachedBytes = 0;
    // A w = 0 graph that failed to open holds nothing; one still opening is released once it is open.
    const noCft = await this.noCft?.catch(() => undefined);
    this.noCft = undefined;
    await this.partA.release();
    await this.partB.release();
    await noCft?.release();
  }
}
