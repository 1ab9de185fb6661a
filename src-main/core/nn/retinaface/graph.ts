/**
 * The RetinaFace ResNet-50 graph (phase 'test' of the official `RetinaFace.forward`), over the folded
 * parameters of fold.ts. Input `image` [1, 3, H, W]: BGR minus (104, 117, 123), no scaling, any H and W
 * (CODEFORMER.md §8.2). Outputs, one row per prior in the order of the official PriorBox (stride 8, 16, 32; per
 * level row-major over the feature map; two anchors per cell):
 *   `loc` [1, P, 4] box regressions, `conf` [1, P, 2] class scores after softmax (column 1 = face),
 *   `landms` [1, P, 10] landmark regressions, where P = 2 · Σ ⌈H/s⌉·⌈W/s⌉ over s = 8, 16, 32.
 */
import { GraphBuilder, type ExternalRef } from '../onnx/graph.ts';
import { foldedParameters } from './fold.ts';
import {
  FPN,
  HEAD_KINDS,
  HEAD_VALUES,
  LEVELS,
  STEM,
  backboneStages,
  head,
  sshUnits,
  type Bottleneck,
  type ConvBn,
  type HeadKind,
} from './layout.ts';

/** A float32 parameter by key: its values, or where its bytes lie in the weights file. */
export type WeightSource = (key: string) => ExternalRef | Float32Array;

/** The opset of CodeFormer's graphs; every op used here has an onnxruntime CPU kernel at it. */
const OPSET = 17;
const FLOAT_BYTES = 4;

/** The graph being built and its parameters, each made an initializer (named like its key) on first use. */
class Net {
  readonly g = new GraphBuilder('retinaface_resnet50', OPSET);
  private readonly shapes = new Map(foldedParameters().map((p) => [p.key, p.shape]));
  private readonly created = new Set<string>();

  constructor(private readonly source: WeightSource) {}

  param(key: string): string {
    if (this.created.has(key)) return key;
    const dims = this.shapes.get(key);
    if (!dims) throw new Error(`${key} is not a parameter of RetinaFace ResNet-50`);
    const count = dims.reduce((n, d) => n * d, 1);
    const source = this.source(key);
    if (source instanceof Float32Array) {
      if (source.length !== count) throw new Error(`${key}: ${source.length} values, expected ${count}`);
      this.g.initializer(key, { dims, data: source });
    } else {
      if (source.length !== count * FLOAT_BYTES) {
        throw new Error(
          `${key}: ${source.length} bytes in ${source.location}, expected ${count * FLOAT_BYTES}`,
        );
      }
      this.g.initializer(key, { dims, dtype: 'float32', external: source });
    }
    this.created.add(key);
    return key;
  }

  /** A conv whose BatchNorm is folded into its weight and bias; 'same' padding for odd kernels. */
  conv(x: string, unit: Pick<ConvBn, 'conv' | 'kernel'>, stride = 1): string {
    const pad = (unit.kernel - 1) / 2;
    return this.g.conv(x, this.param(`${unit.conv}.weight`), this.param(`${unit.conv}.bias`), {
      pads: [pad, pad, pad, pad],
      ...(stride !== 1 ? { strides: [stride, stride] as const } : {}),
    });
  }

  convRelu(x: string, unit: ConvBn, stride = 1): string {
    return this.g.relu(this.conv(x, unit, stride));
  }
}

/** torchvision Bottleneck: 1×1, 3×3 (carrying the stride), 1×1, plus the shortcut, then ReLU. */
function bottleneck(net: Net, x: string, block: Bottleneck): string {
  const { g } = net;
  return g.scoped(block.key, () => {
    const y = net.conv(net.convRelu(net.convRelu(x, block.conv1), block.conv2, block.stride), block.conv3);
    const shortcut = block.downsample ? net.conv(x, block.downsample, block.stride) : x;
    return g.relu(g.add(y, shortcut));
  });
}

/** ResNet-50 to layer4; returns the outputs of layer2, 3 and 4 (IntermediateLayerGetter, return_layers). */
function backbone(net: Net, image: string): string[] {
  const { g } = net;
  // Stem: 7×7 stride-2 conv, BN, ReLU, 3×3 stride-2 max pool with padding 1.
  let x = g.maxPool(net.convRelu(image, STEM, 2), 3, { strides: [2, 2], pads: [1, 1, 1, 1] });
  const taps: string[] = [];
  backboneStages().forEach((stage, s) => {
    for (const block of stage) x = bottleneck(net, x, block);
    if (s >= 1) taps.push(x);
  });
  return taps;
}

/**
 * The FPN. Its activation is LeakyReLU with slope 0.1 only when out_channels ≤ 64 (MobileNet); at 256 the slope
 * is 0, a plain ReLU. The coarser level is brought to the finer one's exact size by nearest neighbour
 * (`F.interpolate(size=…)`), which copes with odd sizes where 2× would not.
 */
function fpn(net: Net, [c3, c4, c5]: string[]): string[] {
  const { g } = net;
  return g.scoped('fpn', () => {
    const [o1, o2, o3] = [c3, c4, c5].map((c, i) => net.convRelu(c!, FPN.outputs[i]!));
    const up3 = g.resizeNearest(o3!, g.shape(o2!));
    const m2 = net.convRelu(g.add(o2!, up3), FPN.merge2);
    const up2 = g.resizeNearest(m2, g.shape(o1!));
    const m1 = net.convRelu(g.add(o1!, up2), FPN.merge1);
    return [m1, m2, o3!];
  });
}

/** SSH: 3×3 (out/2) beside a chain of 3×3 convs (out/4) read after two and three convs; concat, then ReLU. */
function ssh(net: Net, x: string, level: number): string {
  const { g } = net;
  const u = sshUnits(level);
  return g.scoped(`ssh${level + 1}`, () => {
    const conv3 = net.conv(x, u.conv3X3);
    const chain1 = net.convRelu(x, u.conv5X5_1);
    const conv5 = net.conv(chain1, u.conv5X5_2);
    const conv7 = net.conv(net.convRelu(chain1, u.conv7X7_2), u.conv7x7_3);
    return g.relu(g.concat([conv3, conv5, conv7], 1));
  });
}

/** One head over every level: 1×1 conv, NCHW → NHWC, [1, H·W·anchors, values], levels concatenated. */
function headRows(net: Net, features: string[], kind: HeadKind): string {
  const { g } = net;
  const values = HEAD_VALUES[kind];
  const rows = features.map((feature, level) => {
    const conv = net.conv(feature, { conv: head(kind, level).key, kernel: 1 });
    return g.reshape(g.transpose(conv, [0, 2, 3, 1]), [1, -1, values]);
  });
  return g.concat(rows, 1);
}

/** Builds the graph; `source` gives each key of `foldedParameters()`. */
export function buildRetinaFace(source: WeightSource): Uint8Array {
  const net = new Net(source);
  const { g } = net;
  const image = g.input('image', 'float32', [1, 3, 'height', 'width']);
  const pyramid = fpn(net, backbone(net, image));
  const features = Array.from({ length: LEVELS }, (_, level) => ssh(net, pyramid[level]!, level));
  const out = Object.fromEntries(HEAD_KINDS.map((kind) => [kind, headRows(net, features, kind)]));
  g.output('loc', 'float32', [1, 'priors', 4], out.BboxHead);
  g.output('conf', 'float32', [1, 'priors', 2], g.softmax(out.ClassHead!, -1));
  g.output('landms', 'float32', [1, 'priors', 10], out.LandmarkHead);
  return g.toBytes();
}
