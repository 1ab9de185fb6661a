import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PRESETS, type CodeFormerConfig, type CodeFormerVariant } from '../nn/codeformer/config.ts';
import { buildPartA, buildPartB, buildPartBNoCft, buildWhole } from '../nn/codeformer/graphs.ts';
import { detectVariant, expectedStateDict, validateStateDict } from '../nn/codeformer/state-dict.ts';
import type { ExternalRef } from '../nn/onnx/graph.ts';
import { readCheckpoint, readCheckpointBytes, stateDictOf, type CheckpointTensor } from '../nn/pth/index.ts';
import { SIDECAR, unsupportedVariant, type ConvertedSidecar } from '../engine/codeformer.ts';

const WEIGHTS = 'weights.bin';
const GRAPHS = {
  partA: 'part-a.onnx',
  partB: 'part-b.onnx',
  partBNoCft: 'part-b-no-cft.onnx',
  whole: 'whole.onnx',
};

export class ConversionError extends Error {
  override name = 'ConversionError';
}

/**
 * Writes the state dict's float32 values back to back in `order` (the official state-dict order), one tensor
 * at a time — a contiguous float32 tensor goes straight from the checkpoint's bytes to the file — and returns
 * where each tensor lies. Every graph of the model references this one file, so the weights are stored once.
 */
export function writeWeightsFile(
  file: string,
  order: readonly string[],
  tensorOf: (key: string) => Float32Array,
): Map<string, ExternalRef> {
  const location = path.basename(file);
  const refs = new Map<string, ExternalRef>();
  const fd = fs.openSync(file, 'wx');
  try {
    let offset = 0;
    for (const key of order) {
      const data = tensorOf(key);
      fs.writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      refs.set(key, { location, offset, length: data.byteLength });
      offset += data.byteLength;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return refs;
}

/** Builds the four graphs over a weights file and writes them and the sidecar into `dir`. */
export function writeGraphs(
  dir: string,
  config: CodeFormerConfig,
  refs: ReadonlyMap<string, ExternalRef>,
  sidecar: Omit<ConvertedSidecar, 'graphs' | 'weights' | 'format' | 'version' | 'config'>,
): ConvertedSidecar {
  const source = (key: string): ExternalRef => {
    const ref = refs.get(key);
    if (!ref) throw new ConversionError(`no weights for ${key}`);
    return ref;
  };
  const builders = { partA: buildPartA, partB: buildPartB, partBNoCft: buildPartBNoCft, whole: buildWhole };
  for (const [name, build] of Object.entries(builders)) {
    fs.writeFileSync(path.join(dir, GRAPHS[name as keyof typeof GRAPHS]), build(config, source), {
      flag: 'wx',
    });
  }
  const full: ConvertedSidecar = {
    format: 'heirloom-codeformer',
    version: 1,
    config,
    weights: WEIGHTS,
    graphs: GRAPHS,
    ...sidecar,
  };
  fs.writeFileSync(path.join(dir, SIDECAR), `${JSON.stringify(full, null, 2)}\n`, { flag: 'wx' });
  return full;
}

/** The output must be new or an empty folder, and reachable: said in one line before any work is done. */
function refuseUnusableOutput(outDir: string): void {
  let usable: boolean;
  try {
    const existing = fs.statSync(outDir, { throwIfNoEntry: false });
    usable = !existing || (existing.isDirectory() && fs.readdirSync(outDir).length === 0);
  } catch (error) {
    throw new ConversionError(`cannot write ${outDir}: ${(error as Error).message}`, { cause: error });
  }
  if (!usable) throw new ConversionError(`${outDir} already exists and is not an empty folder`);
}

export interface ConvertOptions {
  /** The checkpoint's sha256, when the caller has hashed it already: a 376 MB file need not be hashed twice. */
  readonly sha256?: string;
  /** Only these variants are converted; another is refused before anything is written. Default: all. */
  readonly variants?: readonly CodeFormerVariant[];
}

/**
 * Converts an official CodeFormer checkpoint (restoration, colorization or inpainting) into `outDir`: the
 * state dict is checked key by key and shape by shape before anything is built, then the weights are written
 * once and the graphs reference them. The folder appears whole or not at all: everything is written into a
 * temporary sibling that is renamed into place at the end.
 */
export function convertCheckpoint(
  checkpoint: string,
  outDir: string,
  options: ConvertOptions = {},
): ConvertedSidecar {
  const bytes = readCheckpointBytes(checkpoint);
  refuseUnusableOutput(outDir);
  const sha256 = options.sha256 ?? createHash('sha256').update(bytes).digest('hex');
  let stateDict: Map<string, CheckpointTensor>;
  let variant: CodeFormerVariant;
  try {
    stateDict = stateDictOf(readCheckpoint(bytes));
    variant = detectVariant(stateDict);
    validateStateDict(PRESETS[variant], stateDict);
  } catch (error) {
    // One line that names the file: what is wrong with it, from the reader or from the network's checks.
    throw new ConversionError(`${path.basename(checkpoint)}: ${(error as Error).message}`, { cause: error });
  }
  if (options.variants && !options.variants.includes(variant)) {
    throw new ConversionError(`${path.basename(checkpoint)}: ${unsupportedVariant(variant)}`);
  }
  const config: CodeFormerConfig = PRESETS[variant];

  const parent = path.dirname(path.resolve(outDir));
  const temp = path.join(parent, `.${path.basename(outDir)}.${randomBytes(6).toString('hex')}.partial`);
  try {
    fs.mkdirSync(parent, { recursive: true });
    fs.mkdirSync(temp);
    const order = expectedStateDict(config).map((e) => e.key);
    const refs = writeWeightsFile(path.join(temp, WEIGHTS), order, (key) => stateDict.get(key)!.float32());
    const sidecar = writeGraphs(temp, config, refs, {
      variant,
      source: { file: path.basename(checkpoint), bytes: bytes.byteLength, sha256 },
    });
    if (fs.existsSync(outDir)) fs.rmdirSync(outDir);
    fs.renameSync(temp, outDir);
    return sidecar;
  } catch (error) {
    fs.rmSync(temp, { recursive: true, force: true });
    // A full disk or a read-only folder is the output's fault, not the checkpoint's; say so in one line.
    if (error instanceof Error && 'syscall' in error) {
      throw new ConversionError(`cannot write ${outDir}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
