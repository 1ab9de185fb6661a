/**
 * ParseNet (sczhou/CodeFormer facelib/parsing/parsenet.py), the official face parser, as one ONNX graph
 * built from its checkpoint. layout.ts says where the architecture comes from.
 */
export { BATCH_NORM_EPS, LEAKY_SLOPE, PARSE_SIZE, PARSING_CLASSES, parseNetLayout } from './layout.ts';
export type { ConvLayer, ParseNetLayout, ResidualBlock, Scale } from './layout.ts';
export { expectedParseNetStateDict, validateParseNetStateDict } from './state-dict.ts';
export type { ParseNetStateDictEntry, TensorInfo } from './state-dict.ts';
export { foldBatchNorm, graphTensorValues, graphTensors } from './fold.ts';
export { buildParseNet, type ParseNetWeightSource } from './graph.ts';
export { convertParseNet, type ParseNetConvertOptions } from './convert.ts';
export {
  PARSENET_GRAPH,
  PARSENET_SIDECAR,
  PARSENET_WEIGHTS,
  checkParseNetSidecar,
  type ParseNetSidecar,
} from './sidecar.ts';
