/**
 * Controllable feature transformation (Fuse_sft_block), CODEFORMER.md §3.4: the encoder feature and the
 * generator feature are fused into a per-pixel scale and shift, blended in with the fidelity weight w.
 */
import { GROUPS } from './config.ts';
import type { Net } from './weights.ts';
import { groupNorm, normalizeGroups, swish } from './vqgan.ts';

/** conv3×3 → LeakyReLU(0.2) → conv3×3 (`scale` / `shift`; index 1 is the activation, §2). */
function branch(net: Net, x: string, key: string): string {
  const { g, w } = net;
  const pads = [1, 1, 1, 1] as const;
  const hidden = g.leakyRelu(g.conv(x, w.get(`${key}.0.weight`), w.get(`${key}.0.bias`), { pads }), 0.2);
  return g.conv(hidden, w.get(`${key}.2.weight`), w.get(`${key}.2.bias`), { pads });
}

/**
 * `encode_enc`, the ResBlock 2c→c on cat[enc, dec] (encoder first), computed without the concatenation:
 * with 2c/32 channels per group, norm1's groups 0–15 cover exactly `enc` and 16–31 exactly `dec`, so each
 * half is normalized on its own, and conv1 and the 1×1 conv_out become a conv of each half, summed
 * (onnxruntime accumulates one conv into the other's output). This saves copying both halves into one tensor.
 */
function encodeEnc(net: Net, enc: string, dec: string, key: string, ch: number, res: number): string {
  const { g, w } = net;
  const norm1 = (x: string, part: 0 | 1) => {
    const [from, to] = [part * ch, (part + 1) * ch];
    const [weight, bias] = [w.rows(`${key}.norm1.weight`, from, to), w.rows(`${key}.norm1.bias`, from, to)];
    return swish(net, normalizeGroups(net, x, weight, bias, GROUPS / 2, ch, res));
  };
  /** conv(cat[a, b]) = conv(a, W[:, :c]) + conv(b, W[:, c:]), the bias added once. */
  const splitConv = (a: string, b: string, conv: string, pad: number) => {
    const pads = [pad, pad, pad, pad] as const;
    const weight = w.get(`${conv}.weight`);
    const half = (part: 0 | 1) => g.slice(weight, part * ch, (part + 1) * ch, 1);
    return g.add(
      g.conv(a, half(0), w.get(`${conv}.bias`), { pads }),
      g.conv(b, half(1), undefined, { pads }),
    );
  };
  let h = splitConv(norm1(enc, 0), norm1(dec, 1), `${key}.conv1`, 1);
  h = swish(net, groupNorm(net, h, `${key}.norm2`, ch, res));
  h = g.conv(h, w.get(`${key}.conv2.weight`), w.get(`${key}.conv2.bias`), { pads: [1, 1, 1, 1] });
  return g.add(h, splitConv(enc, dec, `${key}.conv_out`, 0));
}

/** dec + w·(dec·scale + shift), with scale and shift from ResBlock(cat[enc, dec]). */
export function cft(net: Net, enc: string, dec: string, fidelity: string, res: number, ch: number): string {
  const { g } = net;
  const key = `fuse_convs_dict.${res}`;
  return g.scoped(key, () => {
    const fused = encodeEnc(net, enc, dec, `${key}.encode_enc`, ch, res);
    const scale = branch(net, fused, `${key}.scale`);
    const shift = branch(net, fused, `${key}.shift`);
    return g.add(dec, g.mul(fidelity, g.add(g.mul(dec, scale), shift)));
  });
}
