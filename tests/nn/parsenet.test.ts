import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { ConversionError } from '../../src-main/core/models/convert.ts';
import { expectedStateDict } from '../../src-main/core/nn/codeformer/state-dict.ts';
import {
  buildParseNet,
  convertParseNet,
  expectedParseNetStateDict,
  foldBatchNorm,
  graphTensorValues,
  validateParseNetStateDict,
  type TensorInfo,
} from '../../src-main/core/nn/parsenet/index.ts';
import { runModel } from '../support/graph-runs.ts';
import { buildReferenceParseNet, manifestEntries } from '../support/parsenet.ts';
import { writePth, type PthTensor } from '../support/pth-writer.ts';
import { TINY_PRESETS, seededManifestTensors, seededStateDict } from '../support/seeded-weights.ts';
import { tempDir } from '../support/temp.ts';

/** The fixture's manifest as a checkpoint reader reports it. */
function manifestInfo(): Map<string, TensorInfo> {
  return new Map(manifestEntries().map((e) => [e.key, { shape: e.shape, dtype: e.dtype }]));
}

function refusal(actual: ReadonlyMap<string, TensorInfo>): string {
  try {
    validateParseNetStateDict(actual);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('the state dict was accepted');
}

describe('ParseNet state dict', () => {
  it('lists the fixture manifest: 238 tensors, same keys, shapes, dtypes and order', () => {
    const expected = expectedParseNetStateDict().map((e) => ({ key: e.key, shape: e.shape, dtype: e.dtype }));
    assert.deepEqual(expected, manifestEntries());
  });

  it('holds the README count of 21,319,894 float parameters', () => {
    const floats = expectedParseNetStateDict().filter((e) => e.dtype === 'float32');
    assert.equal(
      floats.reduce((n, e) => n + e.shape.reduce((m, d) => m * d, 1), 0),
      21_319_894,
    );
  });

  it('accepts the official state dict, with or without the BatchNorm step counters', () => {
    validateParseNetStateDict(manifestInfo());
    const withoutCounters = manifestInfo();
    for (const key of withoutCounters.keys())
      if (key.endsWith('num_batches_tracked')) withoutCounters.delete(key);
    validateParseNetStateDict(withoutCounters);
  });
});

describe('a wrong checkpoint is refused with a message naming what is wrong', () => {
  it('a CodeFormer state dict: named as CodeFormer', () => {
    const codeformer = new Map(
      expectedStateDict(TINY_PRESETS.restoration).map((e) => [e.key, { shape: e.shape, dtype: 'float32' }]),
    );
    assert.match(refusal(codeformer), /this is a CodeFormer restorer .*not the ParseNet face parser/);
  });

  it('an RRDBNet state dict: named as Real-ESRGAN', () => {
    const rrdb = new Map<string, TensorInfo>([
      ['conv_first.weight', { shape: [64, 3, 3, 3], dtype: 'float32' }],
      ['conv_first.bias', { shape: [64], dtype: 'float32' }],
      ['body.0.rdb1.conv1.weight', { shape: [32, 64, 3, 3], dtype: 'float32' }],
    ]);
    assert.match(refusal(rrdb), /this is a Real-ESRGAN RRDBNet upsampler/);
  });

  it('a missing key: named', () => {
    const dict = manifestInfo();
    dict.delete('decoder.2.conv1.norm.norm.running_var');
    assert.match(refusal(dict), /missing 1: decoder\.2\.conv1\.norm\.norm\.running_var$/);
  });

  it('a wrong shape: the key with the expected and found shapes', () => {
    const dict = manifestInfo();
    dict.set('out_mask_conv.conv2d.weight', { shape: [11, 64, 3, 3], dtype: 'float32' });
    assert.match(
      refusal(dict),
      /wrong shape 1: out_mask_conv\.conv2d\.weight expected \[19,64,3,3\] got \[11,64,3,3\]/,
    );
  });

  it('an unexpected key and a non-float weight: both named', () => {
    const dict = manifestInfo();
    dict.set('encoder.0.conv2d.weight', { shape: [64, 3, 3, 3], dtype: 'int64' });
    dict.set('extra.weight', { shape: [1], dtype: 'float32' });
    const message = refusal(dict);
    assert.match(message, /unexpected 1: extra\.weight/);
    assert.match(message, /wrong type 1: encoder\.0\.conv2d\.weight is int64/);
  });

  it('convertParseNet: a CodeFormer checkpoint is refused in one line naming the file, and nothing is written', () => {
    const dir = tempDir('parsenet-refusal-');
    const file = path.join(dir, 'codeformer.pth');
    const tensors = new Map<string, PthTensor>(
      [...seededStateDict(TINY_PRESETS.restoration, 1)].map(([key, t]) => [key, t]),
    );
    writePth(file, tensors);
    const out = path.join(dir, 'out');
    assert.throws(
      () => convertParseNet(file, out),
      (error: Error) =>
        error instanceof ConversionError &&
        /^codeformer\.pth: this is a CodeFormer restorer/.test(error.message) &&
        !error.message.includes('\n'),
    );
    assert.deepEqual(fs.readdirSync(dir), ['codeformer.pth']);
  });

  it('convertParseNet: a bare state dict with missing keys and a wrong shape names both', () => {
    const dir = tempDir('parsenet-refusal-');
    const file = path.join(dir, 'parsing_parsenet.pth');
    writePth(
      file,
      new Map<string, PthTensor>([
        ['encoder.0.conv2d.bias', { shape: [32], data: new Float32Array(32) }],
        ['out_mask_conv.conv2d.bias', { shape: [19], data: new Float32Array(19) }],
      ]),
      { root: 'bare' },
    );
    assert.throws(
      () => convertParseNet(file, path.join(dir, 'out')),
      /^ConversionError: parsing_parsenet\.pth: state dict does not match the ParseNet face parser: missing 200: encoder\.0\.conv2d\.weight, .*wrong shape 1: encoder\.0\.conv2d\.bias expected \[64\] got \[32\]/,
    );
  });
});

describe('BatchNorm folding', () => {
  it('a folded conv gives the conv followed by eval-mode BatchNorm', () => {
    // Two output channels of a 1-input 3×3 conv, at one position.
    const kernel = Float32Array.from({ length: 18 }, (_, i) => Math.sin(i + 1));
    const norm = {
      weight: Float32Array.of(1.3, 0.7),
      bias: Float32Array.of(0.2, -0.1),
      mean: Float32Array.of(0.5, -0.25),
      variance: Float32Array.of(2, 0.5),
    };
    const x = Float32Array.from({ length: 9 }, (_, i) => Math.cos(i));
    const folded = foldBatchNorm(kernel, norm);
    for (let o = 0; o < 2; o++) {
      let conv = 0;
      let convFolded = 0;
      for (let i = 0; i < 9; i++) {
        conv += kernel[o * 9 + i]! * x[i]!;
        convFolded += folded.weight[o * 9 + i]! * x[i]!;
      }
      const batchNormed =
        ((conv - norm.mean[o]!) / Math.sqrt(norm.variance[o]! + 1e-5)) * norm.weight[o]! + norm.bias[o]!;
      assert.ok(Math.abs(convFolded + folded.bias[o]! - batchNormed) < 1e-6, `channel ${o}`);
    }
  });
});

describe('the graph against a literal reference of the official forward (seed 1, 64×64)', () => {
  it('folded BatchNorm, upsample phases and shared pads give the same logits within 1e-5', async () => {
    const size = 64;
    const tensors = seededManifestTensors(manifestEntries(), 1);
    const values = graphTensorValues((key) => tensors.get(key)!.data as Float32Array);
    const graph = buildParseNet(values, size);
    const reference = buildReferenceParseNet(tensors, size);
    // A smooth pattern in [−1, 1] with different rows, columns and channels, edges included.
    const image = Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(i * 0.37) * 0.9);
    const feeds = { image: new ort.Tensor('float32', image, [1, 3, size, size]) };
    const actual = (await runModel(graph, feeds)).logits!.data as Float32Array;
    const expected = (await runModel(reference, feeds)).logits!.data as Float32Array;
    let max = 0;
    for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(actual[i]! - expected[i]!));
    assert.ok(max < 1e-5, `max abs difference ${max}`);
  });
});
