/**
 * The building blocks of CodeFormer's VQGAN encoder and generator (vqgan_arch.py), CODEFORMER.md §3.2, on
 * NCHW float32 with a batch of 1.
 */
import { GROUPS } from './config.ts';
import type { Block } from './config.ts';
import type { Net } from './weights.ts';

/** GroupNorm eps is 1e-6, not PyTorch's default 1e-5 (§3.2, §9.4). */
const GROUP_NORM_EPS = 1e-6;

/** GroupNorm(32 groups) with affine, over [1, ch, res, res]. */
export function groupNorm(net: Net, x: string, key: string, ch: number, res: number): string {
  return normalizeGroups(net, x, net.w.get(`${key}.weight`), net.w.get(`${key}.bias`), GROUPS, ch, res);
}

/** Values per partial sum of Σx² (see `normalizeGroups`). */
const SQUARES_PER_BLOCK = 4096;

/**
 * Group normalization of [1, ch, res, res] in `groups` groups, then the per-channel affine `weight`, `bias`.
 *
 * Accuracy: onnxruntime's InstanceNormalization and LayerNormalization kernels sum a whole group (up to
 * 1M values) into float32 running sums; as the GroupNorm of an export that moved `lq_feat` 1.6e-4 from
 * PyTorch, over the 1e-4 parity tolerance. Here every statistic is summed in two levels, Σx per image row
 * and Σx² per block of at most 4096 values, then over the rows or blocks (lq_feat within 2e-5). The
 * variance is E[x²] − mean², which needs no pass over x − mean; its relative error grows like float eps ·
 * (mean / std)², harmless unless a group's mean is hundreds of times its spread, and it is clamped at 0 so
 * that rounding cannot make it negative.
 *
 * Speed: onnxruntime's ReduceSumSquare lacks the fast kernel of its ReduceMean, so Σx² of each block is a
 * grouped Conv of x with itself as the kernel (for 64 channels at 512 px: 2.5 ms instead of 5.9 for
 * ReduceSumSquare per row, and a relative error of 1.5e-7 instead of 4.7e-7 over a 512² channel). The
 * statistics then become one scale and one shift per channel, applied by a depthwise 1×1 Conv with those
 * runtime weights: one pass on two threads, where BatchNormalization (same arithmetic, same results) uses
 * one thread.
 */
export function normalizeGroups(
  net: Net,
  x: string,
  weight: string,
  bias: string,
  groups: number,
  ch: number,
  res: number,
): string {
  const { g } = net;
  const perGroup = ch / groups;
  const mean = g.reduceMean(g.reduceMean(g.reshape(x, [groups, perGroup * res, res]), [2]), [1]);
  // Blocks of whole rows, halved until they hold at most SQUARES_PER_BLOCK values.
  let rowsPerBlock = res;
  while (rowsPerBlock * res > SQUARES_PER_BLOCK && rowsPerBlock % 2 === 0) rowsPerBlock /= 2;
  const blocks = (ch * res) / rowsPerBlock;
  // Group i of this Conv is block i of x against itself as the kernel: one dot product.
  const blockInput = g.reshape(x, [1, blocks, rowsPerBlock, res]);
  const blockKernel = g.reshape(x, [blocks, 1, rowsPerBlock, res]);
  const sumSquares = g.conv(blockInput, blockKernel, undefined, { group: blocks });
  const perBlock = g.reshape(sumSquares, [groups, blocks / groups, 1]);
  const meanSquare = g.div(g.reduceMean(perBlock, [1]), g.scalar(rowsPerBlock * res));
  const variance = g.relu(g.sub(meanSquare, g.mul(mean, mean)));
  const invStd = g.reciprocal(g.sqrt(g.add(variance, g.scalar(GROUP_NORM_EPS))));
  // Channel c belongs to group ⌊c / perGroup⌋.
  const groupOf = g.constant(BigInt64Array.from({ length: ch }, (_, c) => BigInt(Math.floor(c / perGroup))));
  const perChannel = (stat: string) => g.gather(g.reshape(stat, [groups]), groupOf);
  const scale = g.mul(weight, perChannel(invStd));
  const shift = g.sub(bias, g.mul(perChannel(mean), scale));
  return g.conv(x, g.reshape(scale, [ch, 1, 1, 1]), shift, { group: ch });
}

/** swish(x) = x·sigmoid(x); onnxruntime fuses the pair into one kernel (QuickGelu with alpha 1). */
export function swish(net: Net, x: string): string {
  return net.g.mul(x, net.g.sigmoid(x));
}

function conv(net: Net, x: string, key: string, pad: number): string {
  return net.g.conv(x, net.w.get(`${key}.weight`), net.w.get(`${key}.bias`), { pads: [pad, pad, pad, pad] });
}

/**
 * onnxruntime's blocked (NCHWc) convs compute output channels in blocks of 16 (8 without AVX-512), so the
 * generator's last conv, 64→3 at 512 px (§3.2), costs as much as a 64→16 one.
 */
const CONV_CHANNEL_BLOCK = 16;

/**
 * A 3×3 conv (padding 1) with fewer output channels than a block, over an even-sized map, as one stride-2
 * 4×4 conv whose 4·outCh output channels are the four output phases, interleaved by DepthToSpace. Phase
 * (a, b) holds output pixel (2i+a, 2j+b), whose 3×3 window starts a rows and b columns into the 4×4 window
 * at (2i−1, 2j−1): its kernel is the 3×3 one zero-padded by (a, b) before and (1−a, 1−b) after. For 64→3 at
 * 512 px that computes 12 (of 16) channels at a quarter of the positions: 1.1 GMAC of work instead of 2.4,
 * 12 ms with the DepthToSpace instead of 22.
 */
function phaseConv(net: Net, x: string, key: string): string {
  const { g, w } = net;
  const weight = w.get(`${key}.weight`);
  const bias = w.get(`${key}.bias`);
  const phases = [0, 1].flatMap((a) => [0, 1].map((b) => g.pad(weight, [0, 0, a, b, 0, 0, 1 - a, 1 - b])));
  const y = g.conv(x, g.concat(phases, 0), g.concat([bias, bias, bias, bias], 0), {
    pads: [1, 1, 1, 1],
    strides: [2, 2],
  });
  return g.depthToSpace(y, 2);
}

/** norm1 → swish → conv1 → norm2 → swish → conv2, plus the skip (1×1 `conv_out` when the width changes). */
function resBlock(net: Net, x: string, key: string, inCh: number, outCh: number, res: number): string {
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
 * Nearest ×2 upsample then a 3×3 conv (§3.2), computed on the small map: output pixel (2i+a, 2j+b), of row
 * phase a and column phase b, sees a 2×2 window of the small map through a folded kernel. Same result, 4/9
 * of the multiply-adds: these convs are 63 of the generator's 184 GMACs at full size, 38.7 of them at 512 px.
 *
 * One conv computes the four phases of an n×n map at once: with one pixel of zero padding all round, its
 * (n+1)² positions hold phase (a, b) of channel c in channel 4c + 2a + b, and output pixel (2i+a, 2j+b) is
 * position (i+a, j+b). A stride-2 ConvTranspose whose kernel holds a single 1 per input channel (group c,
 * tap (1−a, 1−b)) then moves each value to its pixel, exactly, and its padding drops the row and the column
 * of each phase that no pixel uses. In onnxruntime this takes about two thirds of the time that Concat and
 * DepthToSpace took over four separate phase convs.
 */
function upsample(net: Net, x: string, key: string, ch: number): string {
  const { g, w } = net;
  const weight = w.get(`${key}.conv.weight`);
  const byRow = [foldKernel(net, weight, 2, 0), foldKernel(net, weight, 2, 1)] as const;
  const phases = ([0, 1] as const).flatMap((a) =>
    ([0, 1] as const).map((b) => g.reshape(foldKernel(net, byRow[a], 3, b), [ch, 1, ch, 2, 2])),
  );
  const kernel = g.reshape(g.concat(phases, 1), [4 * ch, ch, 2, 2]);
  // Each channel's bias, once per phase.
  const bias = g.reshape(g.expand(g.reshape(w.get(`${key}.conv.bias`), [ch, 1]), [ch, 4]), [4 * ch]);
  const allPhases = g.conv(x, kernel, bias, { pads: [1, 1, 1, 1] });
  // Phase p = 2a + b of channel c: input channel 4c + p, kernel tap (1−a, 1−b) = flat tap 3 − p.
  const place = new Float32Array(4 * ch * 4);
  for (let i = 0; i < 4 * ch; i++) place[i * 4 + 3 - (i % 4)] = 1;
  return g.convTranspose(allPhases, g.constant(place, [4 * ch, 1, 2, 2]), [2, 2], {
    pads: [1, 1, 1, 1],
    strides: [2, 2],
    group: ch,
  });
}

/** One entry of the encoder or generator layout (config.ts). */
export function vqBlock(net: Net, x: string, key: string, block: Block): string {
  return net.g.scoped(key, () => {
    switch (block.kind) {
      case 'conv':
        return block.outCh < CONV_CHANNEL_BLOCK && block.res % 2 === 0
          ? phaseConv(net, x, key)
          : conv(net, x, key, 1);
      case 'res':
        return resBlock(net, x, key, block.inCh, block.outCh, block.res);
      case 'attn':
        return attnBlock(net, x, key, block.ch, block.res);
      case 'down':
        return downsample(net, x, key);
      case 'up':
        return upsample(net, x, key, block.ch);
      case 'norm':
        return groupNorm(net, x, key, block.ch, block.res);
    }
  });
}
