/**
 * RRDBNet ×2 (basicsr/archs/rrdbnet_arch.py, the network of RealESRGAN_x2plus.pth) as one ONNX graph:
 * `image` [1,3,H,W] (RGB in [0,1], H and W even, any size) → `upscaled` [1,3,2H,2W], unclamped like the
 * official forward; RealESRGANer clamps afterwards.
 */
import { GraphBuilder, type ExternalRef } from '../onnx/graph.ts';
import { CONVS_PER_RDB, IMAGE_CHANNELS, RDBS_PER_RRDB, UNSHUFFLE, checkConfig } from './config.ts';
import type { RrdbNetConfig } from './config.ts';
import { expectedStateDict } from './state-dict.ts';

/** A float32 tensor by state-dict key: its values (tests), or where its bytes lie in a weights file. */
export type WeightSource = (key: string) => ExternalRef | Float32Array;

/** Every op used has had a CPU kernel in onnxruntime since long before opset 17 (CodeFormer's opset). */
const OPSET = 17;
/** nn.LeakyReLU(negative_slope=0.2) after every conv but conv5, conv_first, conv_body and conv_last. */
const LEAKY_SLOPE = 0.2;
/** "Empirically, we use 0.2 to scale the residual": both the dense block's and the RRDB's. */
const RESIDUAL_SCALE = 0.2;
const FLOAT_BYTES = 4;

/** The graph and the state dict it draws its initializers from, each created once, named like its key. */
class Net {
  readonly g = new GraphBuilder('rrdbnet_x2', OPSET);
  private readonly shapes: ReadonlyMap<string, readonly number[]>;
  private readonly residualScale = this.g.scalar(RESIDUAL_SCALE);

  constructor(
    config: RrdbNetConfig,
    private readonly source: WeightSource,
  ) {
    this.shapes = new Map(expectedStateDict(config).map((e) => [e.key, e.shape]));
  }

  /** A 3×3 conv with padding 1 (all of RRDBNet's convs), its weights from `key`.weight and `key`.bias. */
  conv(x: string, key: string): string {
    return this.g.conv(x, this.param(`${key}.weight`), this.param(`${key}.bias`), { pads: [1, 1, 1, 1] });
  }

  leaky(x: string): string {
    return this.g.leakyRelu(x, LEAKY_SLOPE);
  }

  /** x + 0.2·residual. */
  scaledResidual(x: string, residual: string): string {
    return this.g.add(this.g.mul(residual, this.residualScale), x);
  }

  private param(key: string): string {
    const shape = this.shapes.get(key);
    if (!shape) throw new Error(`${key} is not a parameter of this RRDBNet config`);
    const count = shape.reduce((n, d) => n * d, 1);
    const source = this.source(key);
    if (source instanceof Float32Array) {
      if (source.length !== count) throw new Error(`${key}: ${source.length} values, expected ${count}`);
      return this.g.initializer(key, { dims: shape, data: source });
    }
    if (source.length !== count * FLOAT_BYTES) {
      throw new Error(
        `${key}: ${source.length} bytes in ${source.location}, expected ${count * FLOAT_BYTES}`,
      );
    }
    return this.g.initializer(key, { dims: shape, dtype: 'float32', external: source });
  }
}

/**
 * ResidualDenseBlock: conv1…conv4 each see the block's input and every earlier conv's output (concatenated
 * along channels) and add num_grow_ch channels; conv5 maps them all back to num_feat, with no activation,
 * and its output is added to the input scaled by 0.2.
 */
function denseBlock(net: Net, x: string, key: string): string {
  const features = [x];
  for (let n = 1; n < CONVS_PER_RDB; n++) {
    features.push(net.leaky(net.conv(net.g.concat(features, 1), `${key}.conv${n}`)));
  }
  return net.scaledResidual(x, net.conv(net.g.concat(features, 1), `${key}.conv${CONVS_PER_RDB}`));
}

/** RRDB: three dense blocks in a row, the result added to the input scaled by 0.2. */
function rrdb(net: Net, x: string, key: string): string {
  let out = x;
  for (let rdb = 1; rdb <= RDBS_PER_RRDB; rdb++) {
    out = net.g.scoped(`rdb${rdb}`, () => denseBlock(net, out, `${key}.rdb${rdb}`));
  }
  return net.scaledResidual(x, out);
}

/**
 * The ×2 forward: pixel-unshuffle by 2, conv_first, the RRDB trunk and conv_body with a long skip around
 * both, then two nearest ×2 enlargements each followed by a conv and LeakyReLU (half resolution → ×2 in all),
 * conv_hr with LeakyReLU and conv_last.
 */
export function buildRrdbNet(config: RrdbNetConfig, source: WeightSource): Uint8Array {
  checkConfig(config);
  const net = new Net(config, source);
  const { g } = net;
  const image = g.input('image', 'float32', [1, IMAGE_CHANNELS, 'height', 'width']);
  const feat = net.conv(g.pixelUnshuffle(image, IMAGE_CHANNELS, UNSHUFFLE), 'conv_first');
  let body = feat;
  for (let block = 0; block < config.numBlock; block++) {
    body = g.scoped(`body.${block}`, () => rrdb(net, body, `body.${block}`));
  }
  let up = g.add(feat, net.conv(body, 'conv_body'));
  up = net.leaky(net.conv(g.upsampleNearest(up, 2), 'conv_up1'));
  up = net.leaky(net.conv(g.upsampleNearest(up, 2), 'conv_up2'));
  const out = net.conv(net.leaky(net.conv(up, 'conv_hr')), 'conv_last');
  g.output('upscaled', 'float32', [1, IMAGE_CHANNELS, 'upscaled_height', 'upscaled_width'], out);
  return g.toBytes();
}
