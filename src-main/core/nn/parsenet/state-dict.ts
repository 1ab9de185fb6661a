/**
 * The state dict of `parsing_parsenet.pth` (a bare state dict, `torch.save(state_dict)`), derived from the
 * layout: keys, shapes and order as `ParseNet(...).state_dict()` lists them, so a checkpoint is checked before
 * anything is built.
 */
import { convLayers, parseNetLayout, type ConvLayer } from './layout.ts';
import { checkStateDict, type TensorInfo } from '../state-dict-check.ts';

export interface ParseNetStateDictEntry {
  readonly key: string;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int64';
}

export type { TensorInfo } from '../state-dict-check.ts';

/** BatchNorm's parameters and running statistics, in the order nn.BatchNorm2d registers them. */
export const BATCH_NORM_FLOATS = ['weight', 'bias', 'running_mean', 'running_var'] as const;
/** BatchNorm2d's int64 step counter: saved, but never read in eval mode. */
const COUNTER = 'num_batches_tracked';

function layerEntries(layer: ConvLayer): ParseNetStateDictEntry[] {
  const entries: ParseNetStateDictEntry[] = [
    { key: `${layer.key}.conv2d.weight`, shape: [layer.outCh, layer.inCh, 3, 3], dtype: 'float32' },
  ];
  if (!layer.batchNorm) {
    entries.push({ key: `${layer.key}.conv2d.bias`, shape: [layer.outCh], dtype: 'float32' });
    return entries;
  }
  for (const name of BATCH_NORM_FLOATS) {
    entries.push({ key: `${layer.key}.norm.norm.${name}`, shape: [layer.outCh], dtype: 'float32' });
  }
  entries.push({ key: `${layer.key}.norm.norm.${COUNTER}`, shape: [], dtype: 'int64' });
  return entries;
}

/** All 238 entries, in order (the fixture's manifest.json lists the same). */
export function expectedParseNetStateDict(): ParseNetStateDictEntry[] {
  return convLayers(parseNetLayout()).flatMap(layerEntries);
}

/**
 * Checkpoints a user may pick by mistake, told apart by a key only they have: the other files of the same
 * release (CODEFORMER.md §1) and the upsampler.
 */
const LOOKALIKES: readonly { readonly name: string; readonly has: (key: string) => boolean }[] = [
  { name: 'a CodeFormer restorer (codeformer*.pth)', has: (key) => key === 'quantize.embedding.weight' },
  { name: 'a Real-ESRGAN RRDBNet upsampler', has: (key) => key === 'conv_first.weight' },
  { name: 'the BiSeNet face parser (parsing_bisenet.pth)', has: (key) => key.startsWith('cp.') },
  { name: 'a RetinaFace detector', has: (key) => key.startsWith('ClassHead.') },
];

function lookalike(keys: readonly string[]): string | undefined {
  return LOOKALIKES.find(({ has }) => keys.some(has))?.name;
}

/**
 * Throws unless `actual` holds exactly ParseNet's tensors with the same shapes and a floating-point dtype.
 * `num_batches_tracked` may be missing (checkpoints from before PyTorch 0.4.1 lack it, and eval mode never
 * reads it); when present it must be an integer scalar. The message names the first offending keys of each
 * kind, in state-dict order, and what the file looks like when it is one of the release's other models.
 */
export function validateParseNetStateDict(actual: ReadonlyMap<string, TensorInfo>): void {
  const expected = expectedParseNetStateDict();
  const expectedKeys = new Set(expected.map((e) => e.key));
  const unexpected = [...actual.keys()].filter((key) => !expectedKeys.has(key));
  const other = lookalike(unexpected);
  if (other && unexpected.length > actual.size / 2) {
    throw new Error(`this is ${other}, not the ParseNet face parser (parsing_parsenet.pth)`);
  }
  checkStateDict('the ParseNet face parser', expected, actual, (key) => key.endsWith(COUNTER));
}
