/**
 * The graph's weights, made from the checkpoint's at conversion: every conv's kernel and bias with its
 * BatchNorm folded in, so the graph is convs, adds and activations only.
 */
import { BATCH_NORM_EPS, convLayers, parseNetLayout, type ConvLayer } from './layout.ts';

export interface GraphTensor {
  readonly key: string;
  readonly shape: readonly number[];
}

/**
 * The layers the graph runs: all but `out_img_conv`, whose 3-channel image the face helper never reads
 * (`self.face_parse(face_input)[0]` keeps the logits only).
 */
export function graphLayers(): ConvLayer[] {
  const { outImg } = parseNetLayout();
  return convLayers().filter((layer) => layer !== outImg);
}

/** `<layer>.weight` [out, in, 3, 3] and `<layer>.bias` [out] per graph layer, in layer order. */
export function graphTensors(): GraphTensor[] {
  return graphLayers().flatMap((layer) => [
    { key: `${layer.key}.weight`, shape: [layer.outCh, layer.inCh, 3, 3] },
    { key: `${layer.key}.bias`, shape: [layer.outCh] },
  ]);
}

/** A checkpoint tensor's values as float32, by state-dict key. */
export type CheckpointValues = (key: string) => Float32Array;

/**
 * Folds an eval-mode BatchNorm into the conv before it. BatchNorm computes γ·(y − μ)/√(σ² + ε) + β per
 * channel from the running mean μ and variance σ²; with s = γ/√(σ² + ε) and y = W∗x (these convs have no
 * bias) that is (s·W)∗x + (β − s·μ). So channel o's kernel is scaled by s[o] and its bias is β − s·μ,
 * computed in double precision and rounded once to float32.
 *
 * Which layers: conv1 and conv2 of every residual block (encoder.1–4, body.0–9, decoder.0–3); in ParseNet
 * every BatchNorm sits directly after its conv (ConvLayer: conv2d → norm → relu), so no norm is left over
 * to apply as a separate scale and shift. The head, the shortcut convs and out_mask_conv have no norm and
 * keep their own kernel and bias.
 */
export function foldBatchNorm(
  kernel: Float32Array,
  norm: { weight: Float32Array; bias: Float32Array; mean: Float32Array; variance: Float32Array },
): { weight: Float32Array; bias: Float32Array } {
  const channels = norm.weight.length;
  const perChannel = kernel.length / channels;
  const weight = new Float32Array(kernel.length);
  const bias = new Float32Array(channels);
  for (let o = 0; o < channels; o++) {
    const s = norm.weight[o]! / Math.sqrt(norm.variance[o]! + BATCH_NORM_EPS);
    for (let i = o * perChannel; i < (o + 1) * perChannel; i++) weight[i] = kernel[i]! * s;
    bias[o] = norm.bias[o]! - s * norm.mean[o]!;
  }
  return { weight, bias };
}

/** One graph layer's kernel and bias from the checkpoint: as saved, or with its BatchNorm folded in. */
export function layerWeights(
  layer: ConvLayer,
  values: CheckpointValues,
): { weight: Float32Array; bias: Float32Array } {
  const kernel = values(`${layer.key}.conv2d.weight`);
  if (!layer.batchNorm) return { weight: kernel, bias: values(`${layer.key}.conv2d.bias`) };
  const norm = `${layer.key}.norm.norm`;
  return foldBatchNorm(kernel, {
    weight: values(`${norm}.weight`),
    bias: values(`${norm}.bias`),
    mean: values(`${norm}.running_mean`),
    variance: values(`${norm}.running_var`),
  });
}

/**
 * The graph tensors one at a time (a layer's pair is folded once, for its `.weight`), so conversion can write
 * them to the weights file without holding all of them.
 */
export function graphTensorValues(values: CheckpointValues): (key: string) => Float32Array {
  const layers = new Map(graphLayers().map((layer) => [layer.key, layer]));
  let last: { key: string; weight: Float32Array; bias: Float32Array } | undefined;
  return (key) => {
    const dot = key.lastIndexOf('.');
    const layerKey = key.slice(0, dot);
    const part = key.slice(dot + 1);
    const layer = layers.get(layerKey);
    if (!layer || (part !== 'weight' && part !== 'bias')) throw new Error(`${key} is not a graph tensor`);
    if (last?.key !== layerKey) last = { key: layerKey, ...layerWeights(layer, values) };
    return part === 'weight' ? last.weight : last.bias;
  };
}
