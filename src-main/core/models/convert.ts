import fs from 'node:fs';
import path from 'node:path';
import { PRESETS, type CodeFormerConfig, type CodeFormerVariant } from '../nn/codeformer/config.ts';
import { buildPartA, buildPartB, buildPartBNoCft, buildWhole } from '../nn/codeformer/graphs.ts';
import { detectVariant, expectedStateDict, validateStateDict } from '../nn/codeformer/state-dict.ts';
import type { ExternalRef } from '../nn/onnx/graph.ts';
import type { CheckpointTensor } from '../nn/pth/index.ts';
import { SIDECAR, unsupportedVariant, type ConvertedSidecar } from '../engine/codeformer.ts';
import { convertIntoFolder, weightRefs, writeSidecar, writeWeightsFile } from '../nn/convert-folder.ts';

const WEIGHTS = 'weights.bin';
const GRAPHS = {
  partA: 'part-a.onnx',
  partB: 'part-b.onnx',
  partBNoCft: 'part-b-no-cft.onnx',
  whole: 'whole.onnx',
};

export { ConversionError, writeWeightsFile } from '../nn/convert-folder.ts';

/** Builds the four graphs over a weights file and writes them and the sidecar into `dir`. */
export function writeGraphs(
  dir: string,
  config: CodeFormerConfig,
  refs: ReadonlyMap<string, ExternalRef>,
  sidecar: Omit<ConvertedSidecar, 'graphs' | 'weights' | 'format' | 'version' | 'config'>,
): ConvertedSidecar {
  const source = weightRefs(refs);
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
  writeSidecar(dir, SIDECAR, full);
  return full;
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
  const check = (stateDict: Map<string, CheckpointTensor>): CodeFormerVariant => {
    const variant = detectVariant(stateDict);
    validateStateDict(PRESETS[variant], stateDict);
    if (options.variants && !options.variants.includes(variant)) {
      throw new Error(unsupportedVariant(variant, options.variants));
    }
    return variant;
  };
  return convertIntoFolder(checkpoint, outDir, options.sha256, check, (dir, stateDict, source, variant) => {
    const config: CodeFormerConfig = PRESETS[variant];
    const order = expectedStateDict(config).map((e) => e.key);
    const refs = writeWeightsFile(path.join(dir, WEIGHTS), order, (key) => stateDict.get(key)!.float32());
    return writeGraphs(dir, config, refs, { variant, source });
  });
}
