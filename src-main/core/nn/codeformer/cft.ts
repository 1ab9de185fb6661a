/**
 * Controllable feature transformation (Fuse_sft_block), CODEFORMER.md §3.4: the encoder feature and the
 * generator feature are fused into a per-pixel scale and shift, blended in with the fidelity weight w.
 */
import type { Net } from './weights.ts';
import { resBlock } from './vqgan.ts';

/** conv3×3 → LeakyReLU(0.2) → conv3×3 (`scale` / `shift`; index 1 is the activation, §2). */
function branch(net: Net, x: string, key: string): string {
  const { g, w } = net;
  const pads = [1, 1, 1, 1] as const;
  const hidden = g.leakyRelu(g.conv(x, w.get(`${key}.0.weight`), w.get(`${key}.0.bias`), { pads }), 0.2);
  return g.conv(hidden, w.get(`${key}.2.weight`), w.get(`${key}.2.bias`), { pads });
}

/** dec + w·(dec·scale + shift), with scale and shift from ResBlock(cat[enc, dec]) (encoder first). */
export function cft(net: Net, enc: string, dec: string, fidelity: string, res: number, ch: number): string {
  const { g } = net;
  const key = `fuse_convs_dict.${res}`;
  return g.scoped(key, () => {
    const fused = resBlock(net, g.concat([enc, dec], 1), `${key}.encode_enc`, 2 * ch, ch, res);
    const scale = branch(net, fused, `${key}.scale`);
    const shift = branch(net, fused, `${key}.shift`);
    return g.add(dec, g.mul(fidelity, g.add(g.mul(dec, scale), shift)));
  });
}
