import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import {
  PRESETS,
  buildPartA,
  buildPartB,
  buildPartBNoCft,
  buildWhole,
  detectVariant,
  expectedStateDict,
  validateStateDict,
} from '../../src-main/core/nn/codeformer.ts';
import type { CodeFormerConfig, TensorInfo, WeightSource } from '../../src-main/core/nn/codeformer.ts';
import type { ExternalRef } from '../../src-main/core/nn/onnx/graph.ts';
import { seededStateDict, seededTensor, tinyConfig, writeSeededWeights } from '../support/seeded-weights.ts';

const SHARED = path.resolve(import.meta.dirname, '../../../shared');
const FIXTURES = path.join(SHARED, 'fixtures/codeformer');
const FACE = path.join(SHARED, 'photos/CodeFormer/inputs/cropped_faces/0143.png');

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
};

function readFixture(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, name));
}

function float32Fixture(name: string): Float32Array {
  const bytes = readFixture(name);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

function maxAbsDiff(actual: ort.Tensor | undefined, expected: Float32Array): number {
  const data = actual?.data as Float32Array;
  assert.equal(data.length, expected.length);
  let max = 0;
  for (let i = 0; i < data.length; i++)
    max = Math.max(max, Math.abs((data[i] as number) - (expected[i] as number)));
  return max;
}

/** The fixture's preprocessing: RGB uint8 → /255 → (v − 0.5)/0.5 → NCHW float32. */
async function loadFace(): Promise<ort.Tensor> {
  const { data, info } = await sharp(FACE).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const plane = info.width * info.height;
  const image = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) image[c * plane + i] = ((data[i * 3 + c] as number) / 255 - 0.5) / 0.5;
  }
  return new ort.Tensor('float32', image, [1, 3, info.height, info.width]);
}

function sourceOf(tensors: ReadonlyMap<string, ExternalRef | Float32Array>): WeightSource {
  return (key) => {
    const tensor = tensors.get(key);
    if (!tensor) throw new Error(`no weights for ${key}`);
    return tensor;
  };
}

/** Fails with the measured difference in the message. */
function assertClose(
  actual: ort.Tensor | undefined,
  expected: Float32Array,
  tolerance: number,
  what: string,
) {
  const diff = maxAbsDiff(actual, expected);
  assert.ok(diff <= tolerance, `${what}: max abs difference ${diff} > ${tolerance}`);
}

function infoMap(config: CodeFormerConfig): Map<string, TensorInfo> {
  return new Map(expectedStateDict(config).map(({ key, shape }) => [key, { shape, dtype: 'float32' }]));
}

describe('seeded test weights', () => {
  it('reproduce the check values of the fixture README', () => {
    const dict = expectedStateDict(PRESETS.restoration);
    const first = (t: number, n: number) => [
      ...seededTensor(1, t, dict[t]!.key, dict[t]!.shape).subarray(0, n),
    ];
    const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - (b[i] as number)) < 5e-10);
    assert.ok(close(first(0, 3), [-0.0379833989, -0.0250275061, -0.0425269343]), 'position_emb');
    assert.ok(close(first(1, 1), [0.019276537]), 'encoder.blocks.0.weight');
    assert.ok(close(first(2, 1), [0.0334122479]), 'encoder.blocks.0.bias');
  });
});

describe('expectedStateDict', () => {
  it('equals the official restoration state dict (keys, shapes, order)', () => {
    const manifest = JSON.parse(readFixture('manifest.json').toString('utf8')) as {
      total_params: number;
      tensors: { key: string; shape: number[] }[];
    };
    const expected = expectedStateDict(PRESETS.restoration);
    assert.deepEqual(
      expected.map(({ key, shape }) => ({ key, shape })),
      manifest.tensors.map(({ key, shape }) => ({ key, shape })),
    );
    const total = expected.reduce((n, e) => n + e.shape.reduce((p, d) => p * d, 1), 0);
    assert.equal(total, 94_112_707);
    assert.equal(total, manifest.total_params);
  });

  it('drops the 256 px CFT block for colorization', () => {
    const restoration = expectedStateDict(PRESETS.restoration);
    const colorization = expectedStateDict(PRESETS.colorization);
    assert.deepEqual(
      colorization,
      restoration.filter((e) => !e.key.startsWith('fuse_convs_dict.256.')),
    );
    assert.equal(restoration.length - colorization.length, 18);
  });

  it('gives inpainting a 512-row codebook and logit layer', () => {
    const shapes = new Map(expectedStateDict(PRESETS.inpainting).map((e) => [e.key, e.shape]));
    assert.deepEqual(shapes.get('quantize.embedding.weight'), [512, 256]);
    assert.deepEqual(shapes.get('idx_pred_layer.1.weight'), [512, 512]);
    assert.equal(shapes.has('fuse_convs_dict.256.scale.0.weight'), false);
  });
});

describe('validateStateDict', () => {
  const config = PRESETS.restoration;

  it('accepts the official state dict', () => {
    validateStateDict(config, infoMap(config));
  });

  it('names a missing key', () => {
    const actual = infoMap(config);
    actual.delete('generator.blocks.9.conv_out.bias');
    assert.throws(() => validateStateDict(config, actual), /missing 1: generator\.blocks\.9\.conv_out\.bias/);
  });

  it('names an unexpected key', () => {
    const actual = infoMap(config);
    actual.set('encoder.blocks.25.weight', { shape: [3], dtype: 'float32' });
    assert.throws(() => validateStateDict(config, actual), /unexpected 1: encoder\.blocks\.25\.weight/);
  });

  it('names a wrong shape with the expected and actual shapes', () => {
    const actual = infoMap(config);
    actual.set('quantize.embedding.weight', { shape: [512, 256], dtype: 'float32' });
    assert.throws(
      () => validateStateDict(config, actual),
      /wrong shape 1: quantize\.embedding\.weight expected \[1024,256\] got \[512,256\]/,
    );
  });

  it('rejects integer tensors', () => {
    const actual = infoMap(config);
    actual.set('position_emb', { shape: [256, 512], dtype: 'int64' });
    assert.throws(() => validateStateDict(config, actual), /not floating point 1: position_emb is int64/);
  });
});

describe('detectVariant', () => {
  it('recognises the three released checkpoints', () => {
    for (const variant of ['restoration', 'colorization', 'inpainting'] as const) {
      assert.equal(detectVariant(infoMap(PRESETS[variant])), variant);
    }
  });

  it('refuses something that is not CodeFormer', () => {
    assert.throws(
      () => detectVariant(new Map([['conv.weight', { shape: [1], dtype: 'float32' }]])),
      /not a CodeFormer/,
    );
  });
});

async function runModel(model: string | Uint8Array, feeds: Record<string, ort.Tensor>) {
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model, SESSION_OPTIONS)
      : await ort.InferenceSession.create(model, SESSION_OPTIONS);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

describe('a tiny configuration', () => {
  const tiny = tinyConfig(['32', '256']);
  const weights = sourceOf(new Map([...seededStateDict(tiny, 7)].map(([key, { data }]) => [key, data])));
  const image = new ort.Tensor(
    'float32',
    Float32Array.from({ length: 3 * 512 * 512 }, (_, i) => Math.sin(i / 997)),
    [1, 3, 512, 512],
  );
  const fidelity = new ort.Tensor('float32', Float32Array.of(0.5), [1]);
  let partA: ort.InferenceSession.OnnxValueMapType;

  before(async () => {
    partA = await runModel(buildPartA(tiny, weights), { image });
  });

  it('part A gives the features, skips, codes and logits', () => {
    assert.deepEqual(partA.feat?.dims, [1, 32, 16, 16]);
    assert.deepEqual(partA.skip32?.dims, [1, 32, 32, 32]);
    assert.deepEqual(partA.skip256?.dims, [1, 32, 256, 256]);
    assert.equal(partA.skip64, undefined);
    assert.deepEqual(partA.logits?.dims, [1, 256, 64]);
    assert.equal(partA.indices?.type, 'int64');
    assert.deepEqual(partA.indices?.dims, [1, 256]);
  });

  it('part A then part B equals the whole graph', async () => {
    const { feat, skip32, skip256 } = partA;
    assert.ok(feat && skip32 && skip256);
    const split = await runModel(buildPartB(tiny, weights), { feat, skip32, skip256, fidelity });
    const whole = await runModel(buildWhole(tiny, weights), { image, fidelity });
    assert.deepEqual(split.image?.dims, [1, 3, 512, 512]);
    assertClose(whole.restored, split.image?.data as Float32Array, 1e-5, 'whole vs A + B');
  });

  it('the no-CFT graph equals part B at w = 0, apart from rounding', async () => {
    const { feat, skip32, skip256 } = partA;
    assert.ok(feat && skip32 && skip256);
    const zero = new ort.Tensor('float32', Float32Array.of(0), [1]);
    const withCft = await runModel(buildPartB(tiny, weights), { feat, skip32, skip256, fidelity: zero });
    const withoutCft = await runModel(buildPartBNoCft(tiny, weights), { feat });
    assertClose(withoutCft.image, withCft.image?.data as Float32Array, 1e-4, 'no-CFT vs w = 0');
  });
});

describe('a tiny configuration without AdaIN (as the inpainting model runs)', () => {
  it('feeds the generator the looked-up codebook rows unchanged', async () => {
    const config = { ...tinyConfig(['32']), adain: false };
    const dict = seededStateDict(config, 5);
    const weights = sourceOf(new Map([...dict].map(([key, { data }]) => [key, data])));
    const image = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 3 * 512 * 512 }, (_, i) => Math.cos(i / 313)),
      [1, 3, 512, 512],
    );
    const { feat, indices } = await runModel(buildPartA(config, weights), { image });
    const codebook = dict.get('quantize.embedding.weight')!.data;
    const codes = indices!.data as BigInt64Array;
    const values = feat!.data as Float32Array;
    for (let token = 0; token < 256; token++) {
      for (let c = 0; c < config.embedDim; c++) {
        assert.equal(values[c * 256 + token], codebook[Number(codes[token]) * config.embedDim + c]);
      }
    }
  });
});

describe('parity with the official implementation (restoration, seed 1)', () => {
  const config = PRESETS.restoration;
  let dir: string;
  let face: ort.Tensor;
  let partA: ort.InferenceSession.OnnxValueMapType;
  const half = new ort.Tensor('float32', Float32Array.of(0.5), [1]);

  let weights: WeightSource;

  /** The models reference the weights file beside them, as the conversion of a checkpoint does. */
  function writeModel(name: string, build: (c: CodeFormerConfig, w: WeightSource) => Uint8Array): string {
    const file = path.join(dir, `${name}.onnx`);
    fs.writeFileSync(file, build(config, weights));
    return file;
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codeformer-parity-'));
    weights = sourceOf(writeSeededWeights(config, 1, path.join(dir, 'codeformer.weights')));
    face = await loadFace();
    partA = await runModel(writeModel('part_a', buildPartA), { image: face });
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('part A reproduces lq_feat and the logits within 1e-4', () => {
    assertClose(partA.lq_feat, float32Fixture('dev_lq_feat.f32'), 1e-4, 'lq_feat');
    assertClose(partA.logits, float32Fixture('dev_logits.f32'), 1e-4, 'logits');
  });

  it('part A chooses the same 256 codes', () => {
    const bytes = readFixture('dev_indices.i32');
    const expected = new Int32Array(bytes.buffer, bytes.byteOffset, 256);
    assert.deepEqual([...(partA.indices?.data as BigInt64Array)].map(Number), [...expected]);
  });

  it('part A then part B reproduce the w = 0.5 output within 1e-3', async () => {
    const { feat, skip32, skip64, skip128, skip256 } = partA;
    assert.ok(feat && skip32 && skip64 && skip128 && skip256);
    const feeds = { feat, skip32, skip64, skip128, skip256, fidelity: half };
    const { image } = await runModel(writeModel('part_b', buildPartB), feeds);
    assertClose(image, float32Fixture('dev_output_w0.5.f32'), 1e-3, 'output at w = 0.5');
  });

  it('the no-CFT graph reproduces the w = 0 output within 1e-3', async () => {
    assert.ok(partA.feat);
    const { image } = await runModel(writeModel('part_b_no_cft', buildPartBNoCft), { feat: partA.feat });
    assertClose(image, float32Fixture('dev_output_w0.0.f32'), 1e-3, 'output at w = 0');
  });

  it('the whole graph reproduces the w = 0.5 output within 1e-3', async () => {
    const { restored } = await runModel(writeModel('whole', buildWhole), { image: face, fidelity: half });
    assertClose(restored, float32Fixture('dev_output_w0.5.f32'), 1e-3, 'output at w = 0.5');
  });
});
