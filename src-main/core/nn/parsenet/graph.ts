/**
 * ParseNet as one ONNX graph: `image` [1,3,512,512] (RGB in [−1, 1]) → `logits` [1,19,512,512] (the
 * official `out[0]`) and `labels` [1,512,512] uint8, their argmax over the classes (ties go to the lower
 * class, as torch.argmax does). Its weights are the folded graph tensors of fold.ts.
 */
import { GraphBuilder, type ExternalRef } from '../onnx/graph.ts';
import { DataType } from '../onnx/proto.ts';
import { graphTensors } from './fold.ts';
import {
  LEAKY_SLOPE,
  PARSE_SIZE,
  PARSING_CLASSES,
  parseNetLayout,
  type ConvLayer,
  type ResidualBlock,
} from './layout.ts';

/** Opset 17, as CodeFormer's graphs: every op used has a CPU kernel in onnxruntime. */
const OPSET = 17;
const FLOAT_BYTES = 4;

/** A graph tensor (fold.ts) by key: its values, or where its bytes lie in a weights file. */
export type ParseNetWeightSource = (key: string) => ExternalRef | Float32Array;

interface Net {
  readonly g: GraphBuilder;
  /** The initializer of a graph tensor, created on first use. */
  readonly tensor: (key: string) => string;
  /** Padded inputs, shared by the convs that read the same value (a block's shortcut and conv1). */
  readonly padded: Map<string, string>;
}

function network(source: ParseNetWeightSource): Net {
  const g = new GraphBuilder('parsenet', OPSET);
  const shapes = new Map(graphTensors().map((t) => [t.key, t.shape]));
  const created = new Set<string>();
  const tensor = (key: string): string => {
    const dims = shapes.get(key);
    if (!dims) throw new Error(`${key} is not a ParseNet graph tensor`);
    if (created.has(key)) return key;
    const count = dims.reduce((n, d) => n * d, 1);
    const data = source(key);
    if (data instanceof Float32Array) {
      if (data.length !== count) throw new Error(`${key}: ${data.length} values, expected ${count}`);
      g.initializer(key, { dims, data });
    } else {
      if (data.length !== count * FLOAT_BYTES) {
        throw new Error(`${key}: ${data.length} bytes in ${data.location}, expected ${count * FLOAT_BYTES}`);
      }
      g.initializer(key, { dims, dtype: 'float32', external: data });
    }
    created.add(key);
    return key;
  };
  return { g, tensor, padded: new Map() };
}

/** One pixel of padding all round an NCHW map, in `mode` ('reflect': ReflectionPad2d; 'edge': replicate). */
function pad(net: Net, x: string, mode: 'reflect' | 'edge'): string {
  const memo = `${mode}:${x}`;
  const done = net.padded.get(memo);
  if (done) return done;
  const pads = net.g.constant(BigInt64Array.from([0, 0, 1, 1, 0, 0, 1, 1], BigInt));
  const out = net.g.op('Pad', [x, pads], { mode });
  net.padded.set(memo, out);
  return out;
}

/**
 * Folds a 3×3 kernel along `axis` for one output phase of a nearest ×2 upsample: an even output row 2i sees
 * the small-map rows (i−1, i, i) through taps (k0, k1, k2), so rows (i−1, i) with (k0, k1 + k2); an odd one
 * 2i+1 sees (i, i, i+1), so rows (i, i+1) with (k0 + k1, k2). The folds act on initializers only, so
 * onnxruntime computes them once at session creation.
 */
function foldKernel(net: Net, kernel: string, axis: number, phase: 0 | 1): string {
  const { g } = net;
  const tap = (i: number) => g.slice(kernel, i, i + 1, axis);
  return g.concat(phase === 0 ? [tap(0), g.add(tap(1), tap(2))] : [g.add(tap(0), tap(1)), tap(2)], axis);
}

/**
 * Nearest ×2 upsample → ReflectionPad2d(1) → 3×3 conv, computed on the small map with 4/9 of the
 * multiply-adds (the decoder's eight upsampling convs are 101 of the network's 234 GMAC at 512 px).
 *
 * Reflecting the upsampled map repeats its edge: row −1 mirrors row 1, which is a copy of row 0, both small
 * row 0. So the padded upsampled map is the upsampled edge-padded small map, and output pixel (2i+a, 2j+b)
 * is a 2×2 window of that small map through a folded kernel (`foldKernel`). One conv over the edge-padded
 * n×n map computes all four phases at its (n+1)² positions, phase p = 2a + b of channel c in channel
 * 4c + p, and output pixel (2i+a, 2j+b) sits at position (i+a, j+b). A stride-2 ConvTranspose whose kernel
 * holds a single 1 per input channel (group c, tap (1−a, 1−b)) moves each value to its pixel, exactly; its
 * padding drops the row and column of each phase that no pixel uses. The same construction as CodeFormer's
 * upsample (codeformer/vqgan.ts), there with zero padding.
 */
function upConv(net: Net, x: string, layer: ConvLayer): string {
  const { g } = net;
  const ch = layer.outCh;
  const weight = net.tensor(`${layer.key}.weight`);
  const byRow = [foldKernel(net, weight, 2, 0), foldKernel(net, weight, 2, 1)] as const;
  const phases = ([0, 1] as const).flatMap((a) =>
    ([0, 1] as const).map((b) => g.reshape(foldKernel(net, byRow[a], 3, b), [ch, 1, layer.inCh, 2, 2])),
  );
  const kernel = g.reshape(g.concat(phases, 1), [4 * ch, layer.inCh, 2, 2]);
  const bias = g.reshape(g.expand(g.reshape(net.tensor(`${layer.key}.bias`), [ch, 1]), [ch, 4]), [4 * ch]);
  const allPhases = g.conv(pad(net, x, 'edge'), kernel, bias);
  const place = new Float32Array(4 * ch * 4);
  for (let i = 0; i < 4 * ch; i++) place[i * 4 + 3 - (i % 4)] = 1;
  return g.convTranspose(allPhases, g.constant(place, [4 * ch, 1, 2, 2]), [2, 2], {
    pads: [1, 1, 1, 1],
    strides: [2, 2],
    group: ch,
  });
}

/** The official ConvLayer with its BatchNorm folded in: [upsample] → reflect pad → conv → [LeakyReLU]. */
function convLayer(net: Net, x: string, layer: ConvLayer): string {
  const { g } = net;
  const y =
    layer.scale === 'up'
      ? upConv(net, x, layer)
      : g.conv(pad(net, x, 'reflect'), net.tensor(`${layer.key}.weight`), net.tensor(`${layer.key}.bias`), {
          strides: layer.scale === 'down' ? [2, 2] : [1, 1],
        });
  return layer.leaky ? g.leakyRelu(y, LEAKY_SLOPE) : y;
}

/** identity + conv2(conv1(x)), with no activation after the sum. */
function residualBlock(net: Net, x: string, block: ResidualBlock): string {
  return net.g.scoped(block.key, () => {
    const identity = block.shortcut ? convLayer(net, x, block.shortcut) : x;
    const res = convLayer(net, convLayer(net, x, block.conv1), block.conv2);
    return net.g.add(identity, res);
  });
}

/** Four stride-2 steps down, and the smallest map must still be reflectable (ReflectionPad2d needs 2 px). */
const SIZE_STEP = 16;

/**
 * The whole parser (see the file comment for its inputs and outputs). The network is fully convolutional:
 * the app runs it at 512 as the official helper does; tests also build it small (`size` a multiple of 16,
 * at least 32).
 */
export function buildParseNet(source: ParseNetWeightSource, size = PARSE_SIZE): Uint8Array {
  if (size % SIZE_STEP !== 0 || size < 2 * SIZE_STEP) throw new Error(`ParseNet cannot run at ${size} px`);
  const net = network(source);
  const { g } = net;
  const layout = parseNetLayout();
  const image = g.input('image', 'float32', [1, 3, size, size]);
  let feat = convLayer(net, image, layout.head);
  for (const block of layout.encoder) feat = residualBlock(net, feat, block);
  // The official forward adds the encoder's output around the whole body: feat + body(feat).
  let x = feat;
  for (const block of layout.body) x = residualBlock(net, x, block);
  x = g.add(feat, x);
  for (const block of layout.decoder) x = residualBlock(net, x, block);
  const logits = convLayer(net, x, layout.outMask);
  // Both outputs are declared after the last node: declaring one renames its producer's output.
  const labels = g.op('Cast', [g.argMax(logits, 1)], { to: DataType.UINT8 });
  g.output('logits', 'float32', [1, PARSING_CLASSES, size, size], logits);
  g.output('labels', 'uint8', [1, size, size], labels);
  return g.toBytes();
}
