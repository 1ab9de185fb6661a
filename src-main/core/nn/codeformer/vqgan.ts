/**
 * The building blocks of CodeFormer's VQGAN encoder and generator (vqgan_arch.py), CODEFORMER.md §3.2, on
 * NCHW float32 with a batch of 1.
 */
import { GROUPS } from './config.ts';
import type { Block } from './config.ts';
import type { Net } from './weights.ts';

/** GroupNorm eps is 1e-6, not PyTorch's default 1e-5 (§3.2, §9.4). */
const GROUP_NORM_EPS = 1e-6;

/**
 * GroupNorm(32 groups) with affine, over [1, ch, res, res].
 *
 * Accuracy: onnxruntime's InstanceNormalization and LayerNormalization kernels sum a whole group (up to
 * 1M values) into float32 running sums; as the GroupNorm of an export that moved `lq_feat` 1.6e-4 from
 * PyTorch, over the 1e-4 parity tolerance. Here each statistic is summed per image row first, then over the
 * rows (2e-5), and the variance is taken around the mean rather than as E[x²] − mean², so a group whose mean
 * is large against its spread loses nothing to cancellation.
 *
 * Speed: BatchNormalization then applies mean, variance, eps and the affine per channel in one pass, where the
 * exported form needs three (InstanceNormalization, Mul, Add) plus a single-threaded kernel.
 */
export function groupNorm(net: Net, x: string, key: string, ch: number, res: number): string {
  const { g, w } = net;
  const perGroup = ch / GROUPS;
  const grouped = g.reshape(x, [GROUPS, perGroup * res, res]);
  const mean = g.reduceMean(g.reduceMean(grouped, [2]), [1]);
  const rowSumSq = g.reduceSumSquare(g.sub(grouped, mean), [2]);
  const variance = g.div(g.reduceMean(rowSumSq, [1]), g.scalar(res));
  const perChannel = (stat: string) =>
    g.reshape(g.expand(g.reshape(stat, [GROUPS, 1]), [GROUPS, perGroup]), [ch]);
  const [weight, bias] = [w.get(`${key}.weight`), w.get(`${key}.bias`)];
  return g.batchNorm(x, weight, bias, perChannel(mean), perChannel(variance), GROUP_NORM_EPS);
}

/** swish(x) = x·sigmoid(x); onnxruntime fuses the pair into one kernel (QuickGelu with alpha 1). */
function swish(net: Net, x: string): string {
  return net.g.mul(x, net.g.sigmoid(x));
}

function conv(net: Net, x: string, key: string, pad: number): string {
  return net.g.conv(x, net.w.get(`${key}.weight`), net.w.get(`${key}.bias`), { pads: [pad, pad, pad, pad] });
}

/** norm1 → swish → conv1 → norm2 → swish → conv2, plus the skip (1×1 `conv_out` when the width changes). */
export function resBlock(net: Net, x: string, key: string, inCh: number, outCh: number, res: number): string {
  let h = swish(net, groupNorm(net, x, `${key}.norm1`, inCh, res));
  h = conv(net, h, `${key}.conv1`, 1);
  h = swish(net, groupNorm(net, h, `${key}.norm2`, outCh, res));
  h = conv(net, h, `${key}.conv2`, 1);
  const skip = inCh === outCh ? x : conv(net, x, `${key}.conv_out`, 0);
  return net.g.add(h, skip);
}

/** Single-head self-attention over all positions, scores scaled by 1/√C, softmax over keys (§3.2). */
function attnBlock(net: Net, x: string, key: string, ch: number, res: number): string {
  const { g } = net;
  const n = res * res;
  const h = groupNorm(net, x, `${key}.norm`, ch, res);
  const q = g.transpose(g.reshape(conv(net, h, `${key}.q`, 0), [ch, n]), [1, 0]);
  const k = g.reshape(conv(net, h, `${key}.k`, 0), [ch, n]);
  const v = g.reshape(conv(net, h, `${key}.v`, 0), [ch, n]);
  const attention = g.softmax(g.mul(g.matMul(q, k), g.scalar(1 / Math.sqrt(ch))), -1);
  const out = g.reshape(g.matMul(v, g.transpose(attention, [1, 0])), [1, ch, res, res]);
  return g.add(x, conv(net, out, `${key}.proj_out`, 0));
}

/** Zero-pad one pixel on the right and bottom only, then a stride-2 3×3 conv (§3.2). */
function downsample(net: Net, x: string, key: string): string {
  const { g, w } = net;
  return g.conv(x, w.get(`${key}.conv.weight`), w.get(`${key}.conv.bias`), {
    pads: [0, 0, 1, 1],
    strides: [2, 2],
  });
}

/**
 * Folds a 3×3 kernel along `axis` for one output phase of a nearest ×2 upsample. An output pixel of phase 0
 * (even row) sees the small-map rows (−1, 0) with kernel rows (k0, k1 + k2); phase 1 (odd) sees (0, +1) with
 * (k0 + k1, k2). The folds act on initializers only, so onnxruntime computes them once at session creation.
 */
function foldKernel(net: Net, kernel: string, axis: number, phase: 0 | 1): string {
  const { g } = net;
  const tap = (i: number) => g.slice(kernel, i, i + 1, axis);
  return g.concat(phase === 0 ? [tap(0), g.add(tap(1), tap(2))] : [g.add(tap(0), tap(1)), tap(2)], axis);
}

/**
 * Nearest ×2 upsample then a 3×3 conv (§3.2), computed as four 2×2 convs on the small map, one per output
 * phase (row parity a, column parity b), interleaved by DepthToSpace. Same result, 4/9 of the multiply-adds:
 * these convs are 63 of the generator's 184 GMACs at full size, 38.7 of them at 512 px.
 */
function upsample(net: Net, x: string, key: string): string {
  const { g, w } = net;
  const weight = w.get(`${key}.conv.weight`);
  const bias = w.get(`${key}.conv.bias`);
  const byRow = [foldKernel(net, weight, 2, 0), foldKernel(net, weight, 2, 1)] as const;
  const phases = ([0, 1] as const).flatMap((a) =>
    ([0, 1] as const).map((b) => {
      // Phase 0 reaches one pixel back (pad before), phase 1 one pixel ahead (pad after).
      const pads = [1 - a, 1 - b, a, b] as const;
      return g.conv(x, foldKernel(net, byRow[a], 3, b), bias, { pads });
    }),
  );
  return g.depthToSpace(g.concat(phases, 1), 2);
}

/** One entry of the encoder or generator layout (config.ts). */
export function vqBlock(net: Net, x: string, key: string, block: Block): string {
  return net.g.scoped(key, () => {
    switch (block.kind) {
      case 'conv':
        return conv(net, x, key, 1);
      case 'res':
        return resBlock(net, x, key, block.inCh, block.outCh, block.res);
      case 'attn':
        return attnBlock(net, x, key, block.ch, block.res);
      case 'down':
        return downsample(net, x, key);
      case 'up':
        return upsample(net, x, key);
      case 'norm':
        return groupNorm(net, x, key, block.ch, block.res);
    }
  });
}
