/**
 * RetinaFace with a ResNet-50 backbone, as the official face helper builds it (sczhou/CodeFormer
 * facelib/detection/retinaface: `RetinaFace(network_name='resnet50')`, cfg_re50): torchvision's ResNet-50 cut
 * after layer4 by IntermediateLayerGetter (layer2/3/4 feed the FPN), an FPN, one SSH block per level and 1×1
 * class, box and landmark heads. This file only names the layers and their shapes; the state dict, the BatchNorm
 * folding and the graph are all read from it.
 */

/** A convolution without bias followed by an eval-mode BatchNorm: folded into one biased conv at conversion. */
export interface ConvBn {
  /** State-dict prefix of the conv (its `.weight`). */
  readonly conv: string;
  /** State-dict prefix of the BatchNorm (`.weight`, `.bias`, `.running_mean`, `.running_var`). */
  readonly bn: string;
  readonly outCh: number;
  readonly inCh: number;
  readonly kernel: number;
}

/** torchvision's Bottleneck (ResNet v1.5: the stride sits on the 3×3 conv). */
export interface Bottleneck {
  readonly key: string;
  readonly conv1: ConvBn;
  readonly conv2: ConvBn;
  readonly conv3: ConvBn;
  /** Only the first block of a stage, where the width or the stride changes. */
  readonly downsample?: ConvBn;
  readonly stride: number;
}

/** A 1×1 head conv with bias: `anchors × values` channels. */
export interface Head {
  readonly key: string;
  readonly outCh: number;
}

/** cfg_re50: in_channel 256 (so the FPN reads 512, 1024, 2048 channels), out_channel 256. */
export const FPN_CHANNELS = 256;
/** make_class_head / make_bbox_head / make_landmark_head: anchor_num=2 (one per min size of a level). */
export const ANCHORS = 2;
/** Values per anchor: two class logits, a box (dx, dy, dw, dh), five landmarks (x, y). */
export const HEAD_VALUES = { ClassHead: 2, BboxHead: 4, LandmarkHead: 10 } as const;
export type HeadKind = keyof typeof HEAD_VALUES;
export const HEAD_KINDS = Object.keys(HEAD_VALUES) as HeadKind[];
export const LEVELS = 3;

/** BatchNorm2d's default eps; neither the backbone nor the RetinaFace modules change it. */
export const BN_EPS = 1e-5;

/** ResNet-50: blocks per stage and the bottleneck width; the output is 4× the width. */
const STAGES = [
  { blocks: 3, width: 64, stride: 1 },
  { blocks: 4, width: 128, stride: 2 },
  { blocks: 6, width: 256, stride: 2 },
  { blocks: 3, width: 512, stride: 2 },
] as const;
const EXPANSION = 4;
const STEM_CH = 64;

function convBn(conv: string, bn: string, outCh: number, inCh: number, kernel: number): ConvBn {
  return { conv, bn, outCh, inCh, kernel };
}

/** The Sequential(conv, bn[, act]) units of the RetinaFace modules: conv at `.0`, BatchNorm at `.1`. */
function sequential(key: string, outCh: number, inCh: number, kernel: number): ConvBn {
  return convBn(`${key}.0`, `${key}.1`, outCh, inCh, kernel);
}

export const STEM: ConvBn = convBn('body.conv1', 'body.bn1', STEM_CH, 3, 7);

/** The four stages as lists of blocks; the FPN taps the outputs of stages 2, 3 and 4. */
export function backboneStages(): Bottleneck[][] {
  let inCh = STEM_CH;
  return STAGES.map(({ blocks, width, stride }, s) =>
    Array.from({ length: blocks }, (_, b) => {
      const key = `body.layer${s + 1}.${b}`;
      const outCh = width * EXPANSION;
      const block: Bottleneck = {
        key,
        conv1: convBn(`${key}.conv1`, `${key}.bn1`, width, inCh, 1),
        conv2: convBn(`${key}.conv2`, `${key}.bn2`, width, width, 3),
        conv3: convBn(`${key}.conv3`, `${key}.bn3`, outCh, width, 1),
        ...(b === 0 ? { downsample: sequential(`${key}.downsample`, outCh, inCh, 1) } : {}),
        stride: b === 0 ? stride : 1,
      };
      inCh = outCh;
      return block;
    }),
  );
}

/** FPN lateral 1×1 convs (`output1..3`, from stages 2..4) and the 3×3 `merge1`, `merge2`. */
export const FPN = {
  outputs: [512, 1024, 2048].map((inCh, i) => sequential(`fpn.output${i + 1}`, FPN_CHANNELS, inCh, 1)),
  merge1: sequential('fpn.merge1', FPN_CHANNELS, FPN_CHANNELS, 3),
  merge2: sequential('fpn.merge2', FPN_CHANNELS, FPN_CHANNELS, 3),
};

/**
 * SSH: a 3×3 branch of out/2 channels, and a chain of 3×3 convs of out/4 channels whose second and third
 * outputs are the "5×5" and "7×7" branches. The key `conv7x7_3` really has a lower-case x.
 */
export function sshUnits(level: number) {
  const key = `ssh${level + 1}`;
  const half = FPN_CHANNELS / 2;
  const quarter = FPN_CHANNELS / 4;
  return {
    conv3X3: sequential(`${key}.conv3X3`, half, FPN_CHANNELS, 3),
    conv5X5_1: sequential(`${key}.conv5X5_1`, quarter, FPN_CHANNELS, 3),
    conv5X5_2: sequential(`${key}.conv5X5_2`, quarter, quarter, 3),
    conv7X7_2: sequential(`${key}.conv7X7_2`, quarter, quarter, 3),
    conv7x7_3: sequential(`${key}.conv7x7_3`, quarter, quarter, 3),
  };
}

export function head(kind: HeadKind, level: number): Head {
  return { key: `${kind}.${level}.conv1x1`, outCh: ANCHORS * HEAD_VALUES[kind] };
}

/** Every conv+BatchNorm unit, in state-dict order. */
export function convBnUnits(): ConvBn[] {
  const units: ConvBn[] = [STEM];
  for (const stage of backboneStages()) {
    for (const block of stage) {
      units.push(block.conv1, block.conv2, block.conv3);
      if (block.downsample) units.push(block.downsample);
    }
  }
  units.push(...FPN.outputs, FPN.merge1, FPN.merge2);
  for (let level = 0; level < LEVELS; level++) units.push(...Object.values(sshUnits(level)));
  return units;
}

/** Every head, in state-dict order: the three class heads, then the box heads, then the landmark heads. */
export function heads(): Head[] {
  return HEAD_KINDS.flatMap((kind) => Array.from({ length: LEVELS }, (_, level) => head(kind, level)));
}
