/**
 * CodeFormer's hyper-parameters and the block layout of its VQGAN encoder and generator, derived the way the
 * official `vqgan_arch.py` builds them (CODEFORMER.md §3.2). The state dict, the validation and the graphs
 * all walk this one layout, so they cannot disagree about which block sits where.
 */

/** Feature-map widths at which a CFT block joins encoder and generator (the official `connect_list`). */
export type CftResolution = '32' | '64' | '128' | '256';

export interface CodeFormerConfig {
  /** Rows of the codebook: 1024, or 512 for the inpainting model (CODEFORMER.md §1). */
  readonly codebookSize: number;
  /** Width of `lq_feat` and of each code (256). */
  readonly embedDim: number;
  /** Transformer width (512). */
  readonly dimEmbd: number;
  readonly nHead: number;
  readonly nLayers: number;
  /** Encoder/generator widths at 512, 256, 128, 64, 32 and 16 px: 64,128,128,256,256,512 officially. */
  readonly channels: readonly [number, number, number, number, number, number];
  readonly connectList: readonly CftResolution[];
  /**
   * Re-normalise the looked-up codes to lq_feat's statistics (§3.3). The official scripts switch it on for
   * restoration and colorization and off for inpainting, so it is baked into the graphs per checkpoint.
   */
  readonly adain: boolean;
}

const OFFICIAL = {
  codebookSize: 1024,
  embedDim: 256,
  dimEmbd: 512,
  nHead: 8,
  nLayers: 9,
  channels: [64, 128, 128, 256, 256, 512],
  adain: true,
} as const;

/** The three released checkpoints (CODEFORMER.md §1). */
export const PRESETS = {
  restoration: { ...OFFICIAL, connectList: ['32', '64', '128', '256'] },
  colorization: { ...OFFICIAL, connectList: ['32', '64', '128'] },
  inpainting: { ...OFFICIAL, codebookSize: 512, connectList: ['32', '64', '128'], adain: false },
} as const satisfies Record<string, CodeFormerConfig>;

export type CodeFormerVariant = keyof typeof PRESETS;

/** The code hard-codes a 512×512 input and a 16×16 latent (256 tokens, 256 position rows), §3.1. */
export const IMAGE_SIZE = 512;
export const LATENT_SIZE = 16;
export const TOKENS = LATENT_SIZE * LATENT_SIZE;
/** GroupNorm always has 32 groups (§3.2). */
export const GROUPS = 32;
const RES_BLOCKS_PER_LEVEL = 2;

export type Block =
  | { readonly kind: 'conv'; readonly inCh: number; readonly outCh: number; readonly res: number }
  | { readonly kind: 'res'; readonly inCh: number; readonly outCh: number; readonly res: number }
  | { readonly kind: 'attn' | 'down' | 'up' | 'norm'; readonly ch: number; readonly res: number };

/** Widths at 512 / 2^level. */
export function channelsAt(config: CodeFormerConfig, res: number): number {
  const level = Math.log2(IMAGE_SIZE / res);
  const ch = config.channels[level];
  if (ch === undefined) throw new Error(`no feature level at ${res} px`);
  return ch;
}

export function checkConfig(config: CodeFormerConfig): void {
  const problems: string[] = [];
  if (config.channels.some((c) => c <= 0 || c % GROUPS !== 0)) {
    problems.push(`channels ${config.channels} must be positive multiples of ${GROUPS} (GroupNorm groups)`);
  }
  if (config.dimEmbd % config.nHead !== 0)
    problems.push(`dimEmbd ${config.dimEmbd} is not divisible by nHead`);
  if (new Set(config.connectList).size !== config.connectList.length) problems.push('connectList repeats');
  for (const n of [config.codebookSize, config.embedDim, config.dimEmbd, config.nHead, config.nLayers]) {
    if (!Number.isInteger(n) || n <= 0) problems.push(`${n} is not a positive integer`);
  }
  if (problems.length > 0) throw new Error(`invalid CodeFormer config: ${problems.join('; ')}`);
}

/** `Encoder` of vqgan_arch.py; block index = position in this list (table in §3.2). */
export function encoderLayout(config: CodeFormerConfig): Block[] {
  const ch = config.channels;
  let res = IMAGE_SIZE;
  let inCh = ch[0];
  const blocks: Block[] = [{ kind: 'conv', inCh: 3, outCh: inCh, res }];
  ch.forEach((outCh, level) => {
    for (let i = 0; i < RES_BLOCKS_PER_LEVEL; i++) {
      blocks.push({ kind: 'res', inCh, outCh, res });
      inCh = outCh;
      if (res === LATENT_SIZE) blocks.push({ kind: 'attn', ch: inCh, res });
    }
    if (level !== ch.length - 1) {
      res /= 2;
      blocks.push({ kind: 'down', ch: inCh, res });
    }
  });
  blocks.push(
    { kind: 'res', inCh, outCh: inCh, res },
    { kind: 'attn', ch: inCh, res },
    { kind: 'res', inCh, outCh: inCh, res },
    { kind: 'norm', ch: inCh, res },
    { kind: 'conv', inCh, outCh: config.embedDim, res },
  );
  return blocks;
}

/** `Generator` of vqgan_arch.py (table in §3.2). */
export function generatorLayout(config: CodeFormerConfig): Block[] {
  const ch = config.channels;
  let res = LATENT_SIZE;
  let inCh = ch[5];
  const blocks: Block[] = [
    { kind: 'conv', inCh: config.embedDim, outCh: inCh, res },
    { kind: 'res', inCh, outCh: inCh, res },
    { kind: 'attn', ch: inCh, res },
    { kind: 'res', inCh, outCh: inCh, res },
  ];
  for (let level = ch.length - 1; level >= 0; level--) {
    const outCh = ch[level] as number;
    for (let i = 0; i < RES_BLOCKS_PER_LEVEL; i++) {
      blocks.push({ kind: 'res', inCh, outCh, res });
      inCh = outCh;
      if (res === LATENT_SIZE) blocks.push({ kind: 'attn', ch: inCh, res });
    }
    if (level !== 0) {
      res *= 2;
      blocks.push({ kind: 'up', ch: inCh, res });
    }
  }
  blocks.push({ kind: 'norm', ch: inCh, res }, { kind: 'conv', inCh, outCh: 3, res });
  return blocks;
}

/**
 * The encoder block whose output feeds the CFT at `res`: the last ResBlock before the downsample
 * (official `fuse_encoder_block`: '256'→5, '128'→8, '64'→11, '32'→14).
 */
export function skipBlockIndex(layout: readonly Block[], res: number): number {
  return layout.findLastIndex((b) => b.kind === 'res' && b.res === res);
}

/**
 * The generator block after which the CFT at `res` is applied: the first ResBlock after the upsample
 * (official `fuse_generator_block`: '32'→9, '64'→12, '128'→15, '256'→18).
 */
export function cftBlockIndex(layout: readonly Block[], res: number): number {
  return layout.findIndex((b) => b.kind === 'res' && b.res === res);
}
