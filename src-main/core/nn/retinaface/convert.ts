/**
 * Conversion of the official RetinaFace ResNet-50 checkpoint (`detection_Resnet50_Final.pth`, a bare state
 * dict whose keys start with `module.`, which the reader strips) into a folder: the folded weights once in
 * weights.bin, the graph referencing them, and the sidecar. Like CodeFormer's conversion, the checkpoint is
 * checked key by key before anything is written, and the folder appears whole or not at all.
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
import { foldedParameters, foldedTensorOf } from './fold.ts';
import { buildRetinaFace } from './graph.ts';
import {
  RETINAFACE_GRAPH,
  RETINAFACE_SIDECAR,
  RETINAFACE_WEIGHTS,
  type RetinaFaceSidecar,
} from './sidecar.ts';
import { validateStateDict } from './state-dict.ts';

/** Writes the weights, the graph and the sidecar into the empty folder `dir`. */
function writeModel(
  dir: string,
  stateDict: Map<string, CheckpointTensor>,
  source: ConvertedSource,
): RetinaFaceSidecar {
  const order = foldedParameters().map((p) => p.key);
  const refs = writeWeightsFile(path.join(dir, RETINAFACE_WEIGHTS), order, foldedTensorOf(stateDict));
  fs.writeFileSync(path.join(dir, RETINAFACE_GRAPH), buildRetinaFace(weightRefs(refs)), { flag: 'wx' });
  const sidecar: RetinaFaceSidecar = {
    format: 'heirloom-retinaface',
    version: 1,
    network: 'resnet50',
    source,
    weights: RETINAFACE_WEIGHTS,
    graph: RETINAFACE_GRAPH,
  };
  writeSidecar(dir, RETINAFACE_SIDECAR, sidecar);
  return sidecar;
}

export interface ConvertRetinaFaceOptions {
  /** The checkpoint's sha256, when the caller has hashed it already. */
  readonly sha256?: string;
}

/**
 * Converts `detection_Resnet50_Final.pth` into `outDir` (new or empty): retinaface.onnx, weights.bin and
 * retinaface.json. A checkpoint of another network (CodeFormer, the MobileNet-0.25 RetinaFace, …), a missing
 * key or a wrong shape is refused with a ConversionError before anything is written.
 */
export function convertRetinaFace(
  checkpoint: string,
  outDir: string,
  options: ConvertRetinaFaceOptions = {},
): RetinaFaceSidecar {
  return convertIntoFolder(checkpoint, outDir, options.sha256, validateStateDict, writeModel);
}
