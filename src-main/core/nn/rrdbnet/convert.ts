/**
 * Conversion of the official Real-ESRGAN ×2 checkpoint (RealESRGAN_x2plus.pth, weights under 'params_ema',
 * else 'params', as CodeFormer's RealESRGANer loads it) into a folder: the weights file, one graph that
 * references it, and the sidecar. The same path as CodeFormer's conversion (models/convert.ts): the state dict
 * is checked key by key before anything is written, and the folder appears whole or not at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  convertIntoFolder,
  weightRefs,
  writeSidecar,
  writeWeightsFile,
  type ConvertedSource,
} from '../convert-folder.ts';
import type { CheckpointTensor } from '../pth/index.ts';
import { SCALE, X2PLUS, type RrdbNetConfig } from './config.ts';
import { buildRrdbNet } from './graph.ts';
import { UPSAMPLER_SIDECAR, type UpsamplerSidecar } from './sidecar.ts';
import { checkStateDict, expectedStateDict } from './state-dict.ts';

const WEIGHTS = 'weights.bin';
const GRAPH = 'rrdbnet-x2.onnx';

export interface ConvertUpsamplerOptions {
  /** The checkpoint's sha256, when the caller has hashed it already. */
  readonly sha256?: string;
  /** The network the checkpoint must hold; default RealESRGAN_x2plus (tests convert smaller ones). */
  readonly config?: RrdbNetConfig;
}

/** Writes the weights, the graph and the sidecar into `dir`. */
function writeModel(
  dir: string,
  config: RrdbNetConfig,
  stateDict: ReadonlyMap<string, CheckpointTensor>,
  source: ConvertedSource,
): UpsamplerSidecar {
  const order = expectedStateDict(config).map((e) => e.key);
  const refs = writeWeightsFile(path.join(dir, WEIGHTS), order, (key) => stateDict.get(key)!.float32());
  const graph = buildRrdbNet(config, weightRefs(refs));
  fs.writeFileSync(path.join(dir, GRAPH), graph, { flag: 'wx' });
  const sidecar: UpsamplerSidecar = {
    format: 'heirloom-rrdbnet',
    version: 1,
    scale: SCALE,
    config,
    source,
    weights: WEIGHTS,
    graph: GRAPH,
  };
  writeSidecar(dir, UPSAMPLER_SIDECAR, sidecar);
  return sidecar;
}

/**
 * Converts RealESRGAN_x2plus.pth into `outDir` (new or empty). A checkpoint of another network (CodeFormer's,
 * a ×4 or ×1 RRDBNet, a missing key, a wrong shape) is refused with one line that names the file.
 */
export function convertUpsamplerCheckpoint(
  checkpoint: string,
  outDir: string,
  options: ConvertUpsamplerOptions = {},
): UpsamplerSidecar {
  const config = options.config ?? X2PLUS;
  return convertIntoFolder(
    checkpoint,
    outDir,
    options.sha256,
    (stateDict) => checkStateDict(stateDict, config),
    (dir, stateDict, source) => writeModel(dir, config, stateDict, source),
  );
}
