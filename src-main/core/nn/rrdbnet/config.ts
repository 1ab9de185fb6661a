/**
 * The hyper-parameters of basicsr's RRDBNet (basicsr/archs/rrdbnet_arch.py), the network of Real-ESRGAN. The
 * official pipeline's background upsampler is `RealESRGAN_x2plus.pth` (CODEFORMER.md §1, §8.4):
 * RRDBNet(num_in_ch=3, num_out_ch=3, num_feat=64, num_block=23, num_grow_ch=32, scale=2).
 */

export interface RrdbNetConfig {
  /** Channels of `conv_first`, of every RRDB and of the upsampling convs (64). */
  readonly numFeat: number;
  /** RRDBs in the trunk (`body.0` … `body.{numBlock−1}`; 23). */
  readonly numBlock: number;
  /** Channels each of the first four convs of a dense block adds (32). */
  readonly numGrowCh: number;
}

/** RealESRGAN_x2plus.pth. */
export const X2PLUS: RrdbNetConfig = { numFeat: 64, numBlock: 23, numGrowCh: 32 };

/** The only scale Heirloom runs: ×2, whose net starts with a pixel-unshuffle by 2. */
export const SCALE = 2;
/** The official ×2 net folds each 2×2 block of the RGB input into 12 channels before `conv_first`. */
export const UNSHUFFLE = 2;
/** RGB in, RGB out (num_in_ch = num_out_ch = 3). */
export const IMAGE_CHANNELS = 3;
/** Convs per residual dense block (conv1…conv5), and dense blocks per RRDB (rdb1…rdb3). */
export const CONVS_PER_RDB = 5;
export const RDBS_PER_RRDB = 3;

export function checkConfig(config: RrdbNetConfig): void {
  for (const [name, value] of Object.entries(config)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`RRDBNet ${name} must be a positive integer`);
  }
}

/** Input channels of dense-block conv `n` (1…5): the block's input and the growth of every earlier conv. */
export function rdbConvInputs(config: RrdbNetConfig, n: number): number {
  return config.numFeat + (n - 1) * config.numGrowCh;
}

/** Output channels of dense-block conv `n`: the growth, except conv5, which returns to the trunk width. */
export function rdbConvOutputs(config: RrdbNetConfig, n: number): number {
  return n === CONVS_PER_RDB ? config.numFeat : config.numGrowCh;
}

/**
 * How far, in input pixels, the output at one pixel can see: every 3×3 conv before the upsampling runs at
 * half resolution (radius 2 input px each: conv_first, 15 per RRDB, conv_body), conv_up1 at the input's
 * resolution (1 px), conv_up2, conv_hr and conv_last at twice it (½ px each). 697 px for x2plus.
 */
export function receptiveRadius(config: RrdbNetConfig): number {
  const halfResolutionConvs = 1 + config.numBlock * RDBS_PER_RRDB * CONVS_PER_RDB + 1;
  return Math.ceil(UNSHUFFLE * halfResolutionConvs + 1 + 3 / SCALE);
}
