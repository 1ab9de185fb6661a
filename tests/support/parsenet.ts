/**
 * The ParseNet parity fixture (shared/fixtures/parsenet/README.md): its manifest, its seeded weights as an
 * official-layout checkpoint, its input face, and a literal reference graph of the official network.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { BATCH_NORM_EPS, LEAKY_SLOPE, parseNetLayout } from '../../src-main/core/nn/parsenet/layout.ts';
import type { ConvLayer, ResidualBlock } from '../../src-main/core/nn/parsenet/layout.ts';
import { GraphBuilder } from '../../src-main/core/nn/onnx/graph.ts';
import { SHARED } from './paths.ts';
import { writePth } from './pth-writer.ts';
import { seededManifestTensors, type ManifestEntry } from './seeded-weights.ts';

export const PARSENET_FIXTURE = path.join(SHARED, 'fixtures/parsenet');
export const PASTEBACK_FIXTURE = path.join(SHARED, 'fixtures/pasteback');

/** The fixture's 238 state-dict entries, in order. */
export function manifestEntries(): ManifestEntry[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(PARSENET_FIXTURE, 'manifest.json'), 'utf8')) as {
    tensors: ManifestEntry[];
  };
  return manifest.tensors;
}

export type SeededParseNet = ReturnType<typeof seededManifestTensors>;

/** The seeded state dict (README "Weights") written as `parsing_parsenet.pth` is: a bare state dict. */
export function writeSeededParseNet(file: string, seed: number): SeededParseNet {
  const tensors = seededManifestTensors(manifestEntries(), seed);
  writePth(file, tensors, { root: 'bare' });
  return tensors;
}

/** A float32 binary file of the fixture as an array. */
export function readFloat32(file: string): Float32Array {
  const bytes = fs.readFileSync(file);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** An RGB PNG → NCHW float32, /255 then (v − 0.5)/0.5: the fixture's preprocessing. */
export async function imageTensor(file: string): Promise<Float32Array> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const plane = info.width * info.height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = data[i * 3 + c]! / 127.5 - 1;
  }
  return out;
}

/**
 * The official forward written op for op as parsenet.py does it, on the unfolded state dict: nearest ×2
 * Resize, ReflectionPad2d(1) as Pad 'reflect', Conv, BatchNormalization with the running statistics,
 * LeakyReLU. No folding, no upsample phases, no shared pads: the reference for the app's graph. `image`
 * [1,3,size,size] → `logits`.
 */
export function buildReferenceParseNet(tensors: SeededParseNet, size: number): Uint8Array {
  const g = new GraphBuilder('parsenet_reference', 17);
  const param = (key: string): string => {
    const tensor = tensors.get(key);
    if (!tensor || !(tensor.data instanceof Float32Array)) throw new Error(`no float tensor ${key}`);
    return g.initializer(key, { dims: tensor.shape, data: tensor.data });
  };
  const int64 = (values: number[]) => g.constant(BigInt64Array.from(values, BigInt));
  const convLayer = (x: string, layer: ConvLayer): string => {
    let y = x;
    if (layer.scale === 'up') {
      const scales = g.constant(Float32Array.of(1, 1, 2, 2));
      y = g.op('Resize', [y, '', scales], {
        mode: 'nearest',
        coordinate_transformation_mode: 'asymmetric',
        nearest_mode: 'floor',
      });
    }
    y = g.op('Pad', [y, int64([0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'reflect' });
    const conv = `${layer.key}.conv2d`;
    const bias = layer.batchNorm ? undefined : param(`${conv}.bias`);
    y = g.conv(y, param(`${conv}.weight`), bias, { strides: layer.scale === 'down' ? [2, 2] : [1, 1] });
    if (layer.batchNorm) {
      const norm = `${layer.key}.norm.norm`;
      const stats = ['weight', 'bias', 'running_mean', 'running_var'].map((n) => param(`${norm}.${n}`));
      y = g.op('BatchNormalization', [y, ...stats], { epsilon: { float: BATCH_NORM_EPS } });
    }
    return layer.leaky ? g.leakyRelu(y, LEAKY_SLOPE) : y;
  };
  const block = (x: string, b: ResidualBlock): string =>
    g.add(b.shortcut ? convLayer(x, b.shortcut) : x, convLayer(convLayer(x, b.conv1), b.conv2));
  const layout = parseNetLayout();
  let feat = convLayer(g.input('image', 'float32', [1, 3, size, size]), layout.head);
  for (const b of layout.encoder) feat = block(feat, b);
  let x = feat;
  for (const b of layout.body) x = block(x, b);
  x = g.add(feat, x);
  for (const b of layout.decoder) x = block(x, b);
  g.output('logits', 'float32', [1, 19, size, size], convLayer(x, layout.outMask));
  return g.toBytes();
}
