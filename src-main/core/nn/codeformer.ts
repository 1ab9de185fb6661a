/**
 * CodeFormer (sczhou/CodeFormer) as ONNX graphs built from its state dict. The facts it follows are in
 * shared/docs/CODEFORMER.md; the modules under codeformer/ cite the sections.
 */
export { PRESETS, checkConfig } from './codeformer/config.ts';
export type { CftResolution, CodeFormerConfig, CodeFormerVariant } from './codeformer/config.ts';
export { detectVariant, expectedStateDict, validateStateDict } from './codeformer/state-dict.ts';
export type { StateDictEntry, TensorInfo } from './codeformer/state-dict.ts';
export { buildPartA, buildPartB, buildPartBNoCft, buildWhole } from './codeformer/graphs.ts';
export type { WeightSource } from './codeformer/weights.ts';
