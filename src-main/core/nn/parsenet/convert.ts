/**
 * `parsing_parsenet.pth` → a folder with our ONNX graph, its weights (BatchNorm folded in) and a sidecar,
 * the same way CodeFormer's checkpoints are converted (models/convert.ts).
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
import { graphTensorValues, graphTensors } from './fold.ts';
import { buildParseNet } from './graph.ts';
import { PARSENET_GRAPH, PARSENET_SIDECAR, PARSENET_WEIGHTS, type ParseNetSidecar } from './sidecar.ts';
import { validateParseNetStateDict } from './state-dict.ts';

export interface ParseNetConvertOptions {
  /** The checkpoint's sha256, when the caller has hashed it already. */
  readonly sha256?: string;
}

/** Writes the folded weights, the graph over them and the sidecar into `dir`. */
function writeModel(
  dir: string,
  stateDict: ReadonlyMap<string, CheckpointTensor>,
  source: ConvertedSource,
): ParseNetSidecar {
  const values = graphTensorValues((key) => stateDict.get(key)!.float32());
  const order = graphTensors().map((t) => t.key);
  const refs = writeWeightsFile(path.join(dir, PARSENET_WEIGHTS), order, values);
  fs.writeFileSync(path.join(dir, PARSENET_GRAPH), buildParseNet(weightRefs(refs)), { flag: 'wx' });
  const sidecar: ParseNetSidecar = {
    format: 'heirloom-parsenet',
    version: 1,
    source,
    weights: PARSENET_WEIGHTS,
    graph: PARSENET_GRAPH,
  };
  writeSidecar(dir, PARSENET_SIDECAR, sidecar);
  return sidecar;
}

/**
 * Converts the official ParseNet checkpoint into `outDir`: the state dict is checked key by key and shape by
 * shape before anything is written, then the folded weights are written once and the graph references them.
 * The folder appears whole or not at all: everything goes into a temporary sibling renamed into place last.
 */
export function convertParseNet(
  checkpoint: string,
  outDir: string,
  options: ParseNetConvertOptions = {},
): ParseNetSidecar {
  return convertIntoFolder(checkpoint, outDir, options.sha256, validateParseNetStateDict, writeModel);
}
