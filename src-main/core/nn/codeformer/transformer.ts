/**
 * CodeFormer's code prediction (codeformer_arch.py), CODEFORMER.md §3.3: tokens from `lq_feat`, 9 pre-norm
 * transformer layers with a learned position embedding on queries and keys, logits over the codebook, the
 * argmax code per token, the codebook lookup and AdaIN.
 */
import type { CodeFormerConfig } from './config.ts';
import { LATENT_SIZE, TOKENS } from './config.ts';
import type { Net } from './weights.ts';

/** nn.LayerNorm default eps (§3.3), unlike GroupNorm's 1e-6. */
const LAYER_NORM_EPS = 1e-5;
/** calc_mean_std's eps, added to the unbiased variance (§3.3). */
const ADAIN_EPS = 1e-5;

function linear(net: Net, x: string, key: string): string {
  return net.g.gemm(x, net.w.get(`${key}.weight`), net.w.get(`${key}.bias`), { transB: true });
}

function layerNorm(net: Net, x: string, key: string): string {
  return net.g.layerNorm(x, net.w.get(`${key}.weight`), net.w.get(`${key}.bias`), LAYER_NORM_EPS);
}

/** Exact GELU, 0.5·x·(1 + erf(x/√2)); onnxruntime fuses this pattern into one Gelu kernel. */
function gelu(net: Net, x: string): string {
  const { g } = net;
  const erf = g.erf(g.div(x, g.scalar(Math.SQRT2)));
  const one = g.scalar(1);
  return g.mul(g.mul(x, g.add(erf, one)), g.scalar(0.5));
}

/**
 * nn.MultiheadAttention as the layer calls it: q = k = norm(x) + pos, v = norm(x). `in_proj_weight` stacks
 * the q, k and v rows in that order (§2); q is divided by √(head dim) after its projection.
 */
function selfAttention(net: Net, x: string, pos: string, key: string, config: CodeFormerConfig): string {
  const { g, w } = net;
  const d = config.dimEmbd;
  const heads = config.nHead;
  const headDim = d / heads;
  const project = (input: string, part: number) =>
    g.gemm(
      input,
      w.rows(`${key}.in_proj_weight`, part * d, (part + 1) * d),
      w.rows(`${key}.in_proj_bias`, part * d, (part + 1) * d),
      { transB: true },
    );
  const withPos = g.add(x, pos);
  const q = g.div(project(withPos, 0), g.scalar(Math.sqrt(headDim)));
  const k = project(withPos, 1);
  const v = project(x, 2);
  // [tokens, d] → [heads, tokens, headDim]; keys as [heads, headDim, tokens] for the score product.
  const split = (t: string, perm: number[]) => g.transpose(g.reshape(t, [TOKENS, heads, headDim]), perm);
  const scores = g.matMul(split(q, [1, 0, 2]), split(k, [1, 2, 0]));
  const context = g.matMul(g.softmax(scores, -1), split(v, [1, 0, 2]));
  const merged = g.reshape(g.transpose(context, [1, 0, 2]), [TOKENS, d]);
  return linear(net, merged, `${key}.out_proj`);
}

/** TransformerSALayer: pre-norm attention and feed-forward (512 → 1024 → 512), each with a residual. */
function transformerLayer(net: Net, x: string, pos: string, key: string, config: CodeFormerConfig): string {
  const { g } = net;
  return g.scoped(key, () => {
    const attended = g.add(
      x,
      selfAttention(net, layerNorm(net, x, `${key}.norm1`), pos, `${key}.self_attn`, config),
    );
    const hidden = gelu(net, linear(net, layerNorm(net, attended, `${key}.norm2`), `${key}.linear1`));
    return g.add(attended, linear(net, hidden, `${key}.linear2`));
  });
}

export interface CodePrediction {
  /** [TOKENS, codebookSize] */
  readonly logits: string;
  /** int64 [TOKENS], the code chosen for each token */
  readonly indices: string;
}

/**
 * `lq_feat` [1, embedDim, 16, 16] → logits and codes. Token t is row·16 + col (row-major flatten). The
 * official top-1 of the softmax equals the argmax of the logits (§3.3).
 */
export function predictCodes(net: Net, lqFeat: string, config: CodeFormerConfig): CodePrediction {
  const { g, w } = net;
  return g.scoped('transformer', () => {
    const tokens = g.transpose(g.reshape(lqFeat, [config.embedDim, TOKENS]), [1, 0]);
    let x = linear(net, tokens, 'feat_emb');
    const pos = w.get('position_emb');
    for (let layer = 0; layer < config.nLayers; layer++) {
      x = transformerLayer(net, x, pos, `ft_layers.${layer}`, config);
    }
    const normed = layerNorm(net, x, 'idx_pred_layer.0');
    const logits = g.gemm(normed, w.get('idx_pred_layer.1.weight'), undefined, { transB: true });
    return { logits, indices: g.argMax(logits, 1) };
  });
}

/** One-hot × codebook equals a row gather exactly (§3.3); rows → [1, embedDim, 16, 16]. */
export function codebookLookup(net: Net, indices: string, config: CodeFormerConfig): string {
  const { g, w } = net;
  const rows = g.gather(w.get('quantize.embedding.weight'), indices);
  return g.reshape(g.transpose(rows, [1, 0]), [1, config.embedDim, LATENT_SIZE, LATENT_SIZE]);
}

/** Per-channel mean and std over the 16×16 positions, with the unbiased variance + eps (§3.3). */
function meanStd(net: Net, x: string): { mean: string; std: string } {
  const { g } = net;
  const mean = g.reduceMean(x, [2, 3]);
  const sumSq = g.reduceSumSquare(g.sub(x, mean), [2, 3]);
  const variance = g.div(sumSq, g.scalar(TOKENS - 1));
  return { mean, std: g.sqrt(g.add(variance, g.scalar(ADAIN_EPS))) };
}

/** adaptive_instance_normalization(content, style): content re-normalised to the style's statistics. */
export function adain(net: Net, content: string, style: string): string {
  const { g } = net;
  return g.scoped('adain', () => {
    const c = meanStd(net, content);
    const s = meanStd(net, style);
    return g.add(g.mul(g.div(g.sub(content, c.mean), c.std), s.std), s.mean);
  });
}
