/**
 * Real-ESRGAN ×2 (basicsr's RRDBNet, RealESRGAN_x2plus.pth): the background upsampler of the official
 * pipeline (CODEFORMER.md §8.4), as an ONNX graph built from its state dict, and the conversion of the checkpoint.
 */
export { SCALE, X2PLUS, checkConfig, receptiveRadius } from './config.ts';
export type { RrdbNetConfig } from './config.ts';
export { checkStateDict, expectedStateDict, validateStateDict } from './state-dict.ts';
export type { StateDictEntry, TensorInfo } from './state-dict.ts';
export { buildRrdbNet } from './graph.ts';
export type { WeightSource } from './graph.ts';
export { convertUpsamplerCheckpoint } from './convert.ts';
export type { ConvertUpsamplerOptions } from './convert.ts';
export { UPSAMPLER_SIDECAR } from './sidecar.ts';
export type { UpsamplerSidecar } from './sidecar.ts';
