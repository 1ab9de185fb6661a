/**
 * The deterministic pseudo-random CodeFormer weights of the parity fixture
 * (shared/fixtures/codeformer/README.md, "The weights (seed 1)"), for any config's state dict.
 */
import { expectedStateDict } from '../../src-main/core/nn/codeformer/state-dict.ts';
import type { CodeFormerConfig } from '../../src-main/core/nn/codeformer/config.ts';
import type { ExternalRef } from '../../src-main/core/nn/onnx/graph.ts';
import { writeWeightsFile } from '../../src-main/core/models/convert.ts';

export { TINY_PRESETS, tinyConfig } from './tiny-config.ts';

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
  if (key.endsWith('weight') || key.endsWith('running_var')) return [1, 0.1];
  if (key.endsWith('bias') || key.endsWith('running_mean')) return [0, 0.05];
  throw new Error(`no seeded-weight rule for rank-1 tensor ${key}`);
}

/** The README's hash of element `i`, as a double in [−1, 1) (wrapping uint32 arithmetic via Math.imul). */
function uniform(base: number, i: number): number {
  let x = (base + Math.imul(i, 0xc2b2ae3d)) | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return 2 * ((x >>> 0) / TWO_POW_32) - 1;
}

/**
 * Tensor number `t` of the state dict. The value is computed in double precision and rounded once to float32
 * by the typed-array store. One loop per rule, with no branch inside, is 2 to 3 times faster than one loop
 * that picks the rule per value (a 512×512×3×3 tensor: 37 → 11 ms); the full size has 94 M values.
 */
export function seededTensor(seed: number, t: number, key: string, shape: readonly number[]): Float32Array {
  const count = shape.reduce((n, d) => n * d, 1);
  const out = new Float32Array(count);
  const base = (Math.imul(seed, 0x9e3779b1) + Math.imul(t, 0x85ebca77)) | 0;
  if (shape.length >= 2) {
    // rank >= 2: v / sqrt(fan-in).
    const rootFanIn = Math.sqrt(count / (shape[0] as number));
    for (let i = 0; i < count; i++) out[i] = uniform(base, i) / rootFanIn;
  } else {
    // rank 1: 1 + 0.1·v for weights, 0.05·v for biases.
    const [offset, scale] = rank1Rule(key);
    for (let i = 0; i < count; i++) out[i] = offset + scale * uniform(base, i);
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

/** An entry of a parity fixture's manifest.json (shared/fixtures/parsenet/README.md and its siblings). */
export interface ManifestEntry {
  readonly key: string;
  readonly shape: readonly number[];
  readonly dtype: string;
}

/**
 * The seeded state dict of a fixture's manifest (shared/fixtures/parsenet/README.md, "Weights"): the same
 * generator, with BatchNorm's running_var like a weight and running_mean like a bias, and the int64
 * `num_batches_tracked` counters 0. The index t counts every entry, the int64 ones included.
 */
export function seededManifestTensors(
  entries: readonly ManifestEntry[],
  seed: number,
): Map<string, { shape: readonly number[]; dtype: string; data: Float32Array | BigInt64Array }> {
  const dict = new Map<
    string,
    { shape: readonly number[]; dtype: string; data: Float32Array | BigInt64Array }
  >();
  entries.forEach(({ key, shape, dtype }, t) => {
    if (dtype === 'int64') {
      dict.set(key, {
        shape,
        dtype,
        data: new BigInt64Array(
          Math.max(
            1,
            shape.reduce((n, d) => n * d, 1),
          ),
        ),
      });
    } else if (dtype === 'float32') {
      dict.set(key, { shape, dtype, data: seededTensor(seed, t, key, shape) });
    } else throw new Error(`no seeded-weight rule for ${key} of dtype ${dtype}`);
  });
  return dict;
}
