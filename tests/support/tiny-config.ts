import type { CodeFormerConfig, CodeFormerVariant } from '../../src-main/core/nn/codeformer/config.ts';

/**
 * A small CodeFormer: the official structure (same blocks, 512×512 input, 16×16 latent) at narrow widths, so
 * graphs build in milliseconds and run in a fraction of a second. `connectList` picks its CFT blocks.
 */
export function tinyConfig(connectList: CodeFormerConfig['connectList']): CodeFormerConfig {
  return {
    codebookSize: 64,
    embedDim: 32,
    dimEmbd: 64,
    nHead: 2,
    nLayers: 2,
    channels: [32, 32, 32, 32, 32, 64],
    connectList,
    adain: true,
  };
}

/**
 * The three released checkpoints at tiny widths, with the differences between them that variant detection
 * reads (CODEFORMER.md §1): colorization and inpainting drop the 256 px CFT block, inpainting halves the
 * codebook and runs without AdaIN.
 */
export const TINY_PRESETS = {
  restoration: tinyConfig(['32', '64', '128', '256']),
  colorization: tinyConfig(['32', '64', '128']),
  inpainting: { ...tinyConfig(['32', '64', '128']), codebookSize: 32, adain: false },
} as const satisfies Record<CodeFormerVariant, CodeFormerConfig>;
