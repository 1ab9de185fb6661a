/**
 * BatchNorm folding. In eval mode a BatchNorm after a conv is a fixed per-channel affine map, so the pair is one
 * conv with bias: w' = w · s and b' = β − μ · s per output channel, with s = γ / √(σ² + ε). The graph then has
 * 82 convs and no BatchNormalization nodes (73 of the convs had one), and the weights file holds 2 tensors per
 * unit instead of 5.
 */
import { BN_EPS, FPN_CHANNELS, convBnUnits, heads, type ConvBn } from './layout.ts';

/** A parameter of the converted graph: keyed like the official conv it replaces, its bias added. */
export interface Parameter {
  readonly key: string;
  readonly shape: readonly number[];
}

/** The converted model's parameters in weights-file order: each conv+BatchNorm unit as weight and bias, then the heads. */
export function foldedParameters(): Parameter[] {
  const params: Parameter[] = [];
  for (const { conv, outCh, inCh, kernel } of convBnUnits()) {
    params.push({ key: `${conv}.weight`, shape: [outCh, inCh, kernel, kernel] });
    params.push({ key: `${conv}.bias`, shape: [outCh] });
  }
  for (const { key, outCh } of heads()) {
    params.push({ key: `${key}.weight`, shape: [outCh, FPN_CHANNELS, 1, 1] });
    params.push({ key: `${key}.bias`, shape: [outCh] });
  }
  return params;
}

/** The four per-channel tensors of an eval-mode BatchNorm. */
export interface BatchNormStats {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly runningMean: Float32Array;
  readonly runningVar: Float32Array;
}

/** s = γ / √(σ² + ε), in double precision. */
function channelScale(bn: BatchNormStats, eps: number): Float64Array {
  return Float64Array.from(bn.weight, (gamma, c) => gamma / Math.sqrt(bn.runningVar[c]! + eps));
}

/** w' = w · s, each output channel's row by its own s; rounded to float32 once. */
export function foldWeight(weight: Float32Array, bn: BatchNormStats, eps = BN_EPS): Float32Array {
  const scale = channelScale(bn, eps);
  const perChannel = weight.length / scale.length;
  if (!Number.isInteger(perChannel)) {
    throw new Error(`a conv weight of ${weight.length} values does not split into ${scale.length} channels`);
  }
  const out = new Float32Array(weight.length);
  for (let i = 0; i < weight.length; i++) out[i] = weight[i]! * scale[Math.floor(i / perChannel)]!;
  return out;
}

/** b' = β − μ · s (the conv had no bias of its own). */
export function foldBias(bn: BatchNormStats, eps = BN_EPS): Float32Array {
  const scale = channelScale(bn, eps);
  return Float32Array.from(bn.bias, (beta, c) => beta - bn.runningMean[c]! * scale[c]!);
}

/** Anything with float32 values by key: a checkpoint's tensors. */
export type TensorsByKey = ReadonlyMap<string, { float32(): Float32Array }>;

function stats(dict: TensorsByKey, unit: ConvBn): BatchNormStats {
  const get = (name: string) => {
    const tensor = dict.get(`${unit.bn}.${name}`);
    if (!tensor) throw new Error(`${unit.bn}.${name} is missing`);
    return tensor.float32();
  };
  return {
    weight: get('weight'),
    bias: get('bias'),
    runningMean: get('running_mean'),
    runningVar: get('running_var'),
  };
}

/**
 * The values of each `foldedParameters()` key, computed from an official state dict when asked for: one
 * folded tensor in memory at a time, so conversion never holds a second copy of the weights.
 */
export function foldedTensorOf(dict: TensorsByKey): (key: string) => Float32Array {
  const units = new Map(convBnUnits().map((unit) => [unit.conv, unit]));
  return (key) => {
    const cut = key.lastIndexOf('.');
    const unit = units.get(key.slice(0, cut));
    const kind = key.slice(cut + 1);
    if (unit && kind === 'bias') return foldBias(stats(dict, unit));
    const tensor = dict.get(key);
    if (!tensor) throw new Error(`${key} is missing`);
    return unit ? foldWeight(tensor.float32(), stats(dict, unit)) : tensor.float32();
  };
}
