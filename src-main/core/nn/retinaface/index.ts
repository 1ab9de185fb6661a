/**
 * RetinaFace ResNet-50 (the official pipeline's default face detector, CODEFORMER.md §8.2) as an ONNX graph
 * built from its checkpoint. The engine's detector (engine/retinaface.ts) runs the converted folder.
 */
export { convertRetinaFace, type ConvertRetinaFaceOptions } from './convert.ts';
export { buildRetinaFace, type WeightSource } from './graph.ts';
export { foldedParameters, foldedTensorOf } from './fold.ts';
export { expectedStateDict, validateStateDict, type StateDictEntry, type TensorInfo } from './state-dict.ts';
export {
  RETINAFACE_GRAPH,
  RETINAFACE_SIDECAR,
  RETINAFACE_WEIGHTS,
  asRetinaFaceSidecar,
  type RetinaFaceSidecar,
} from './sidecar.ts';
