/**
 * RRDBNet's state dict as `RRDBNet(...).state_dict()` lists it (rrdbnet_arch.py): every conv is 3×3 with a
 * bias; there are no norms and no buffers. A checkpoint is read against it before anything is built, and one
 * that is not a Real-ESRGAN ×2 net is refused with what it is instead, where that can be told.
 */
import {
  CONVS_PER_RDB,
  IMAGE_CHANNELS,
  RDBS_PER_RRDB,
  UNSHUFFLE,
  X2PLUS,
  checkConfig,
  rdbConvInputs,
  rdbConvOutputs,
} from './config.ts';
import type { RrdbNetConfig } from './config.ts';
import { checkStateDict as compareStateDict, type TensorInfo } from '../state-dict-check.ts';

export interface StateDictEntry {
  readonly key: string;
  readonly shape: readonly number[];
}

export type { TensorInfo } from '../state-dict-check.ts';

const KERNEL = 3;

function conv(entries: StateDictEntry[], key: string, outCh: number, inCh: number): void {
  entries.push({ key: `${key}.weight`, shape: [outCh, inCh, KERNEL, KERNEL] });
  entries.push({ key: `${key}.bias`, shape: [outCh] });
}

/** Keys, shapes and order of the ×2 net: conv_first, body.N.rdbM.convK, conv_body, conv_up1/2, conv_hr, conv_last. */
export function expectedStateDict(config: RrdbNetConfig): StateDictEntry[] {
  checkConfig(config);
  const entries: StateDictEntry[] = [];
  const f = config.numFeat;
  conv(entries, 'conv_first', f, IMAGE_CHANNELS * UNSHUFFLE * UNSHUFFLE);
  for (let block = 0; block < config.numBlock; block++) {
    for (let rdb = 1; rdb <= RDBS_PER_RRDB; rdb++) {
      for (let n = 1; n <= CONVS_PER_RDB; n++) {
        const key = `body.${block}.rdb${rdb}.conv${n}`;
        conv(entries, key, rdbConvOutputs(config, n), rdbConvInputs(config, n));
      }
    }
  }
  for (const name of ['conv_body', 'conv_up1', 'conv_up2', 'conv_hr']) conv(entries, name, f, f);
  conv(entries, 'conv_last', IMAGE_CHANNELS, f);
  return entries;
}

/** The first element of `items`, and how many more there are: enough to act on, short enough for one line. */

/**
 * What a checkpoint that is not a Real-ESRGAN ×2 RRDBNet is, in words, when its tensors say so: CodeFormer's
 * own weights, or an RRDBNet of another scale (the ×4 nets feed `conv_first` the 3 RGB channels directly, the
 * ×1 nets 48 channels of a pixel-unshuffle by 4). Undefined when nothing gives it away.
 */
function otherNetwork(actual: ReadonlyMap<string, TensorInfo>): string | undefined {
  if (actual.has('quantize.embedding.weight') || actual.has('position_emb')) {
    return 'it is a CodeFormer checkpoint (face restoration)';
  }
  const first = actual.get('conv_first.weight');
  if (!first) {
    return 'it is not an RRDBNet (Real-ESRGAN / ESRGAN) state dict: conv_first.weight is missing';
  }
  const inputs = first.shape[1];
  const expected = IMAGE_CHANNELS * UNSHUFFLE * UNSHUFFLE;
  if (first.shape.length !== 4 || inputs === expected) return undefined;
  const scale = inputs === IMAGE_CHANNELS ? '×4' : inputs === IMAGE_CHANNELS * 16 ? '×1' : undefined;
  const what = scale ? `an RRDBNet ${scale} checkpoint` : 'an RRDBNet of another scale or channel count';
  return (
    `it is ${what} (conv_first takes ${inputs} input channels; the ×2 net takes ${expected}, ` +
    'its RGB input pixel-unshuffled by 2)'
  );
}

/** numFeat, numBlock and numGrowCh as the state dict's shapes give them, or undefined if they cannot be read. */
function sizeOf(actual: ReadonlyMap<string, TensorInfo>): RrdbNetConfig | undefined {
  const numFeat = actual.get('conv_first.weight')?.shape[0];
  const numGrowCh = actual.get('body.0.rdb1.conv1.weight')?.shape[0];
  let numBlock = 0;
  for (const key of actual.keys()) {
    const match = /^body\.(\d+)\./.exec(key);
    if (match) numBlock = Math.max(numBlock, Number(match[1]) + 1);
  }
  if (numFeat === undefined || numGrowCh === undefined || numBlock === 0) return undefined;
  return { numFeat, numBlock, numGrowCh };
}

function describeSize(config: RrdbNetConfig): string {
  return `${config.numBlock} blocks, ${config.numFeat} features, growth ${config.numGrowCh}`;
}

/** What to give instead, said after every refusal that names another network. */
const NEEDED = ' — the background upsampler is Real-ESRGAN ×2 (RealESRGAN_x2plus.pth)';

/**
 * Throws unless `actual` holds exactly the keys of `expectedStateDict(config)` with the same shapes and a
 * floating-point dtype: the official loader uses strict=True, so a key too many is as wrong as one missing.
 * The message names the first offending keys of each kind, in state-dict order.
 */
export function validateStateDict(config: RrdbNetConfig, actual: ReadonlyMap<string, TensorInfo>): void {
  compareStateDict('the Real-ESRGAN ×2 network', expectedStateDict(config), actual);
}

/**
 * Throws a one-line reason unless `actual` is the state dict of the RRDBNet ×2 `config` (default: x2plus),
 * every tensor checked. A whole RRDBNet ×2 of another size is named as such rather than listed key by key.
 */
export function checkStateDict(
  actual: ReadonlyMap<string, TensorInfo>,
  config: RrdbNetConfig = X2PLUS,
): void {
  const other = otherNetwork(actual);
  if (other) throw new Error(`${other}${NEEDED}`);
  const found = sizeOf(actual);
  const sameSize = found && describeSize(found) === describeSize(config);
  if (found && !sameSize && matches(found, actual)) {
    throw new Error(
      `it is an RRDBNet ×2 of another size (${describeSize(found)}), not the expected ${describeSize(config)}` +
        NEEDED,
    );
  }
  validateStateDict(config, actual);
}

function matches(config: RrdbNetConfig, actual: ReadonlyMap<string, TensorInfo>): boolean {
  try {
    validateStateDict(config, actual);
    return true;
  } catch {
    return false;
  }
}
