/**
 * The state dict of `detection_Resnet50_Final.pth` (CODEFORMER.md §1), derived from the layout: keys, shapes
 * and order as `RetinaFace(network_name='resnet50').state_dict()` lists them (456 entries, BatchNorm buffers
 * included; shared/fixtures/retinaface_r50/manifest.json), so a checkpoint is checked before anything is built.
 */
import { FPN_CHANNELS, convBnUnits, heads } from './layout.ts';
import { checkStateDict, type TensorInfo } from '../state-dict-check.ts';

export interface StateDictEntry {
  readonly key: string;
  readonly shape: readonly number[];
  /** float32 for parameters and running statistics; int64 for BatchNorm's `num_batches_tracked`. */
  readonly dtype: 'float32' | 'int64';
}

export type { TensorInfo } from '../state-dict-check.ts';

const BN_STATS = ['weight', 'bias', 'running_mean', 'running_var'] as const;

export function expectedStateDict(): StateDictEntry[] {
  const entries: StateDictEntry[] = [];
  for (const unit of convBnUnits()) {
    entries.push({
      key: `${unit.conv}.weight`,
      shape: [unit.outCh, unit.inCh, unit.kernel, unit.kernel],
      dtype: 'float32',
    });
    for (const stat of BN_STATS)
      entries.push({ key: `${unit.bn}.${stat}`, shape: [unit.outCh], dtype: 'float32' });
    entries.push({ key: `${unit.bn}.num_batches_tracked`, shape: [], dtype: 'int64' });
  }
  for (const { key, outCh } of heads()) {
    entries.push({ key: `${key}.weight`, shape: [outCh, FPN_CHANNELS, 1, 1], dtype: 'float32' });
    entries.push({ key: `${key}.bias`, shape: [outCh], dtype: 'float32' });
  }
  return entries;
}

/**
 * The checkpoints a user may pick by mistake, told apart by a key only they have: the message then says which
 * file was given and which one is wanted, instead of listing hundreds of missing keys.
 */
const LOOKALIKES: readonly { key: string; what: string }[] = [
  {
    key: 'body.stage1.0.0.weight',
    what: 'the RetinaFace MobileNet-0.25 detector (detection_mobilenet0.25_Final.pth)',
  },
  { key: 'quantize.embedding.weight', what: 'a CodeFormer restoration model' },
  { key: 'conv_first.weight', what: 'a Real-ESRGAN upsampler' },
];
const WANTED = 'the RetinaFace ResNet-50 detector (detection_Resnet50_Final.pth)';

/** BatchNorm's step counter is not used at inference; checkpoints saved before PyTorch 0.4.1 lack it. */
function isOptional(key: string): boolean {
  return key.endsWith('.num_batches_tracked');
}

/**
 * Throws unless `actual` holds the keys of `expectedStateDict()` with the same shapes, floating-point tensors
 * where the network has floats and integer step counters (which may be missing). The message names the first
 * offending keys of each kind, in state-dict order, or the other model the file is.
 */
export function validateStateDict(actual: ReadonlyMap<string, TensorInfo>): void {
  const lookalike = LOOKALIKES.find(({ key }) => actual.has(key));
  if (lookalike && !actual.has('body.layer1.0.conv1.weight')) {
    throw new Error(`this is ${lookalike.what}, not ${WANTED}`);
  }
  checkStateDict(WANTED, expectedStateDict(), actual, isOptional);
}
