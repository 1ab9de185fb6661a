/**
 * The deterministic pseudo-random CodeFormer weights of the parity fixture
 * (shared/fixtures/codeformer/README.md, "The weights (seed 1)"), for any config's state dict.
 */
import { expectedStateDict } from '../../src-main/core/nn/codeformer/state-dict.ts';
import type { CodeFormerConfig } from '../../src-main/core/nn/codeformer/config.ts';
import type { ExternalRef } from '../../src-main/core/nn/onnx/graph.ts';
import { writeWeightsFile } from '../../src-main/core/models/convert.ts';

/**
 * A small CodeFormer: the official structure (same blocks, 512×512 input, 16×16 latent) at narrow widths, so
 * graphs build and run in milliseconds. `connectList` picks its CFT blocks.
 */
export function tinyConfig(connectList: CodeFormerConfig['connectList']): CodeFormerConfig {
  return {
    codebookSize: 64,
    embedDim: 32,
    dimEmbd: 64,
    nHead: 2,
    nLayers: 2,
    channels: [32, 32, 32, 32, 32, 64],
    connectList,
    adain: true,
  };
}

export interface SeededTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

const TWO_POW_32 = 2 ** 32;

/**
 * The README words the rules for keys ending in `.weight` / `.bias`; `self_attn.in_proj_bias` ends in `_bias`
 * and follows the bias rule (the parity test confirms it).
 */
function rank1Rule(key: string): [offset: number, scale: number] {
  if (key.endsWith('weight')) return [1, 0.1];
  if (key.endsWith('bias')) return [0, 0.05];
  throw new Error(`no seeded-weight rule for rank-1 tensor ${key}`);
}

/**
 * Tensor number `t` of the state dict. The hash runs on wrapping uint32 arithmetic (Math.imul); the value is
 * computed in double precision and rounded once to float32 by the typed-array store.
 */
export function seededTensor(seed: number, t: number, key: string, shape: readonly number[]): Float32Array {
  const count = shape.reduce((n, d) => n * d, 1);
  const out = new Float32Array(count);
  const base = (Math.imul(seed, 0x9e3779b1) + Math.imul(t, 0x85ebca77)) | 0;
  // rank >= 2: v / sqrt(fan-in); rank 1: 1 + 0.1·v for weights, 0.05·v for biases.
  const rootFanIn = shape.length >= 2 ? Math.sqrt(count / (shape[0] as number)) : 0;
  const [offset, scale] = rootFanIn > 0 ? [0, 0] : rank1Rule(key);
  for (let i = 0; i < count; i++) {
    let x = (base + Math.imul(i, 0xc2b2ae3d)) | 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x85ebca6b);
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35);
    x ^= x >>> 16;
    const v = 2 * ((x >>> 0) / TWO_POW_32) - 1;
    out[i] = rootFanIn > 0 ? v / rootFanIn : offset + scale * v;
  }
  return out;
}

/** All tensors of `expectedStateDict(config)`, in order. */
export function seededStateDict(config: CodeFormerConfig, seed: number): Map<string, SeededTensor> {
  const dict = new Map<string, SeededTensor>();
  expectedStateDict(config).forEach(({ key, shape }, t) => {
    dict.set(key, { shape, data: seededTensor(seed, t, key, shape) });
  });
  return dict;
}

/** Writes the seeded tensors as a weights file the way conversion does, one tensor in memory at a time. */
export function writeSeededWeights(
  config: CodeFormerConfig,
  seed: number,
  file: string,
): Map<string, ExternalRef> {
  const entries = expectedStateDict(config);
  const index = new Map(entries.map((e, t) => [e.key, t]));
  return writeWeightsFile(
    file,
    entries.map((e) => e.key),
    (key) => seededTensor(seed, index.get(key)!, key, entries[index.get(key)!]!.shape),
  );
}
