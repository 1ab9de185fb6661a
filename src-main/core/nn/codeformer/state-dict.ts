/**
 * The official state dict, derived from the layout (CODEFORMER.md §2): keys, shapes and order exactly as
 * `CodeFormer(...).state_dict()` lists them, so a checkpoint can be checked before anything is built.
 */
import { PRESETS, TOKENS, channelsAt, checkConfig, encoderLayout, generatorLayout } from './config.ts';
import type { Block, CodeFormerConfig, CodeFormerVariant } from './config.ts';
import { checkStateDict, type TensorInfo } from '../state-dict-check.ts';

export interface StateDictEntry {
  readonly key: string;
  readonly shape: readonly number[];
}

export type { TensorInfo } from '../state-dict-check.ts';

type Emit = (key: string, shape: readonly number[]) => void;

function conv(emit: Emit, key: string, outCh: number, inCh: number, kernel: number): void {
  emit(`${key}.weight`, [outCh, inCh, kernel, kernel]);
  emit(`${key}.bias`, [outCh]);
}

function affine(emit: Emit, key: string, ch: number): void {
  emit(`${key}.weight`, [ch]);
  emit(`${key}.bias`, [ch]);
}

/** ResBlock: norm1, conv1, norm2, conv2, then `conv_out` (1×1) only when the width changes. */
function resBlock(emit: Emit, key: string, inCh: number, outCh: number): void {
  affine(emit, `${key}.norm1`, inCh);
  conv(emit, `${key}.conv1`, outCh, inCh, 3);
  affine(emit, `${key}.norm2`, outCh);
  conv(emit, `${key}.conv2`, outCh, outCh, 3);
  if (inCh !== outCh) conv(emit, `${key}.conv_out`, outCh, inCh, 1);
}

function block(emit: Emit, key: string, b: Block): void {
  switch (b.kind) {
    case 'conv':
      return conv(emit, key, b.outCh, b.inCh, 3);
    case 'res':
      return resBlock(emit, key, b.inCh, b.outCh);
    case 'attn':
      affine(emit, `${key}.norm`, b.ch);
      for (const name of ['q', 'k', 'v', 'proj_out']) conv(emit, `${key}.${name}`, b.ch, b.ch, 1);
      return;
    case 'down':
    case 'up':
      return conv(emit, `${key}.conv`, b.ch, b.ch, 3);
    case 'norm':
      return affine(emit, key, b.ch);
  }
}

export function expectedStateDict(config: CodeFormerConfig): StateDictEntry[] {
  checkConfig(config);
  const entries: StateDictEntry[] = [];
  const emit: Emit = (key, shape) => entries.push({ key, shape });
  const d = config.dimEmbd;

  emit('position_emb', [TOKENS, d]);
  encoderLayout(config).forEach((b, i) => block(emit, `encoder.blocks.${i}`, b));
  emit('quantize.embedding.weight', [config.codebookSize, config.embedDim]);
  generatorLayout(config).forEach((b, i) => block(emit, `generator.blocks.${i}`, b));
  emit('feat_emb.weight', [d, config.embedDim]);
  emit('feat_emb.bias', [d]);
  for (let layer = 0; layer < config.nLayers; layer++) {
    const key = `ft_layers.${layer}`;
    emit(`${key}.self_attn.in_proj_weight`, [3 * d, d]);
    emit(`${key}.self_attn.in_proj_bias`, [3 * d]);
    emit(`${key}.self_attn.out_proj.weight`, [d, d]);
    emit(`${key}.self_attn.out_proj.bias`, [d]);
    // The feed-forward width is twice the model width (dim_mlp = 2·dim_embd), §3.3.
    emit(`${key}.linear1.weight`, [2 * d, d]);
    emit(`${key}.linear1.bias`, [2 * d]);
    emit(`${key}.linear2.weight`, [d, 2 * d]);
    emit(`${key}.linear2.bias`, [d]);
    affine(emit, `${key}.norm1`, d);
    affine(emit, `${key}.norm2`, d);
  }
  affine(emit, 'idx_pred_layer.0', d);
  emit('idx_pred_layer.1.weight', [config.codebookSize, d]);
  for (const res of config.connectList) {
    const key = `fuse_convs_dict.${res}`;
    const ch = channelsAt(config, Number(res));
    resBlock(emit, `${key}.encode_enc`, 2 * ch, ch);
    for (const branch of ['scale', 'shift']) {
      conv(emit, `${key}.${branch}.0`, ch, ch, 3);
      conv(emit, `${key}.${branch}.2`, ch, ch, 3);
    }
  }
  return entries;
}

/**
 * Throws unless `actual` holds exactly the keys of `expectedStateDict(config)` with the same shapes and a
 * floating-point dtype. The message names the first offending keys of each kind, in state-dict order.
 */
export function validateStateDict(config: CodeFormerConfig, actual: ReadonlyMap<string, TensorInfo>): void {
  checkStateDict('the CodeFormer network', expectedStateDict(config), actual);
}

/**
 * Tells the released checkpoints apart (CODEFORMER.md §1): restoration has a CFT at 256 px, inpainting has a
 * 512-row codebook, colorization has neither. It only looks at those tensors; `validateStateDict` with the
 * returned preset checks the rest.
 */
export function detectVariant(actual: ReadonlyMap<string, TensorInfo>): CodeFormerVariant {
  const codebook = actual.get('quantize.embedding.weight');
  if (!codebook) throw new Error('not a CodeFormer state dict: quantize.embedding.weight is missing');
  const rows = codebook.shape[0];
  const has256 = [...actual.keys()].some((key) => key.startsWith('fuse_convs_dict.256.'));
  const found = (Object.keys(PRESETS) as CodeFormerVariant[]).find((variant) => {
    const preset = PRESETS[variant];
    return preset.codebookSize === rows && preset.connectList.some((r) => r === '256') === has256;
  });
  if (!found) {
    throw new Error(
      `unknown CodeFormer variant: ${rows}-row codebook, ${has256 ? 'with' : 'without'} a CFT block at 256 px`,
    );
  }
  return found;
}
