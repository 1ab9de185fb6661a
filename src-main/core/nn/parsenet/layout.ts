/**
 * ParseNet, the face parser the official face helper runs on every restored face (CODEFORMER.md §1, §8.4
 * step 7): `ParseNet(in_size=512, out_size=512, parsing_ch=19)` from sczhou/CodeFormer
 * `facelib/parsing/parsenet.py` (adapted there from PSFRGAN), with the constructor's other defaults:
 * min_feat_size 32, base_ch 64, res_depth 10, relu_type 'LeakyReLU', norm_type 'bn', ch_range [32, 256].
 * Our docs do not describe it; the layer list below follows the official code and agrees key for key and
 * shape for shape with the 238-tensor manifest of shared/fixtures/parsenet.
 *
 * Every layer is a `ConvLayer`: [nearest ×2 upsample] → ReflectionPad2d(1) → 3×3 conv (stride 2 when it
 * scales down) → [BatchNorm2d] → [LeakyReLU 0.2]. A BatchNorm'd conv has no bias.
 */

/** The parser's input and output side: the official helper resizes every restored face to 512 first. */
export const PARSE_SIZE = 512;
/** CelebAMask-HQ's 19 classes (CODEFORMER.md §8.4 step 7 lists them). */
export const PARSING_CLASSES = 19;
/** nn.BatchNorm2d's default eps; the official code does not change it. */
export const BATCH_NORM_EPS = 1e-5;
/** relu_type 'LeakyReLU' is nn.LeakyReLU(0.2) in the official ReluLayer. */
export const LEAKY_SLOPE = 0.2;

const BASE_CH = 64;
const MIN_CH = 32;
const MAX_CH = 256;
const MIN_FEAT_SIZE = 32;
const RES_DEPTH = 10;

export type Scale = 'none' | 'down' | 'up';

export interface ConvLayer {
  /** The module's state-dict prefix, e.g. `encoder.1.conv1` (its conv is `<key>.conv2d`). */
  readonly key: string;
  readonly inCh: number;
  readonly outCh: number;
  readonly scale: Scale;
  /** BatchNorm2d after the conv (`<key>.norm.norm`); the conv then has no bias. */
  readonly batchNorm: boolean;
  /** LeakyReLU(0.2) last. */
  readonly leaky: boolean;
}

/** `identity + conv2(conv1(x))`, where identity is x itself or a plain conv when size or width changes. */
export interface ResidualBlock {
  readonly key: string;
  readonly shortcut?: ConvLayer;
  readonly conv1: ConvLayer;
  readonly conv2: ConvLayer;
}

export interface ParseNetLayout {
  /** encoder.0: 3 → 64, no norm, no activation. */
  readonly head: ConvLayer;
  readonly encoder: readonly ResidualBlock[];
  readonly body: readonly ResidualBlock[];
  readonly decoder: readonly ResidualBlock[];
  /** The 3-channel image head: in the checkpoint, but the face helper only reads the parsing logits. */
  readonly outImg: ConvLayer;
  /** The 19-class parsing logits. */
  readonly outMask: ConvLayer;
}

/** Widths are clipped to ch_range [32, 256]. */
function clip(ch: number): number {
  return Math.max(MIN_CH, Math.min(ch, MAX_CH));
}

function plain(key: string, inCh: number, outCh: number, scale: Scale = 'none'): ConvLayer {
  return { key, inCh, outCh, scale, batchNorm: false, leaky: false };
}

/**
 * A down block strides in its second conv, an up block upsamples before its first; the shortcut conv does
 * the block's scaling itself and has neither norm nor activation.
 */
function residual(key: string, inCh: number, outCh: number, scale: Scale): ResidualBlock {
  const [scale1, scale2]: [Scale, Scale] =
    scale === 'down' ? ['none', 'down'] : scale === 'up' ? ['up', 'none'] : ['none', 'none'];
  const shortcut =
    scale === 'none' && inCh === outCh ? undefined : plain(`${key}.shortcut_func`, inCh, outCh, scale);
  return {
    key,
    ...(shortcut ? { shortcut } : {}),
    conv1: { key: `${key}.conv1`, inCh, outCh, scale: scale1, batchNorm: true, leaky: true },
    conv2: { key: `${key}.conv2`, inCh: outCh, outCh, scale: scale2, batchNorm: true, leaky: false },
  };
}

/** The official constructor's loops: log2(512/32) = 4 steps down, 10 body blocks, 4 steps up. */
export function parseNetLayout(): ParseNetLayout {
  const steps = Math.log2(PARSE_SIZE / MIN_FEAT_SIZE);
  const encoder: ResidualBlock[] = [];
  let head = BASE_CH;
  for (let i = 0; i < steps; i++) {
    encoder.push(residual(`encoder.${i + 1}`, clip(head), clip(head * 2), 'down'));
    head *= 2;
  }
  const body = Array.from({ length: RES_DEPTH }, (_, i) =>
    residual(`body.${i}`, clip(head), clip(head), 'none'),
  );
  const decoder: ResidualBlock[] = [];
  for (let i = 0; i < steps; i++) {
    decoder.push(residual(`decoder.${i}`, clip(head), clip(head / 2), 'up'));
    head /= 2;
  }
  return {
    head: plain('encoder.0', 3, BASE_CH),
    encoder,
    body,
    decoder,
    outImg: plain('out_img_conv', clip(head), 3),
    outMask: plain('out_mask_conv', clip(head), PARSING_CLASSES),
  };
}

/** Every ConvLayer in state-dict order: the head, each block's shortcut, conv1, conv2, then the two heads. */
export function convLayers(layout: ParseNetLayout = parseNetLayout()): ConvLayer[] {
  const blocks = [...layout.encoder, ...layout.body, ...layout.decoder];
  return [
    layout.head,
    ...blocks.flatMap((b) => (b.shortcut ? [b.shortcut, b.conv1, b.conv2] : [b.conv1, b.conv2])),
    layout.outImg,
    layout.outMask,
  ];
}
