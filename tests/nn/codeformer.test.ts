import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import ort from 'onnxruntime-node';
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
import type { CodeFormerConfig, TensorInfo } from '../../src-main/core/nn/codeformer.ts';
import { assertClose, runModel, sourceOf } from '../support/graph-runs.ts';
import { SHARED } from '../support/paths.ts';
import { seededStateDict, seededTensor, tinyConfig } from '../support/seeded-weights.ts';

// The graphs' parity with the official implementation at full size: codeformer.full.test.ts (npm run
// test:full); npm test's one full-size check is tests/cli/codeformer-parity.test.ts.

const FIXTURES = path.join(SHARED, 'fixtures/codeformer');

function readFixture(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, name));
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
    assert.throws(() => validateStateDict(config, actual), /wrong type 1: position_emb is int64/);
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
