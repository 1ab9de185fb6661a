import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { retinaFacePriors } from '../../src-main/core/engine/retinaface.ts';
import { ConversionError } from '../../src-main/core/models/convert.ts';
import { expectedStateDict as codeFormerStateDict, PRESETS } from '../../src-main/core/nn/codeformer.ts';
import {
  buildRetinaFace,
  convertRetinaFace,
  expectedStateDict,
  foldedParameters,
  validateStateDict,
  type TensorInfo,
} from '../../src-main/core/nn/retinaface/index.ts';
import { foldBias, foldWeight } from '../../src-main/core/nn/retinaface/fold.ts';
import { runModel } from '../support/graph-runs.ts';
import { writePth } from '../support/pth-writer.ts';
import {
  mobileNetEntries,
  retinaFaceManifest,
  writeDetectorPth,
  writeSeededDetectorPth,
} from '../support/retinaface.ts';
import {
  seededManifestTensors,
  seededStateDict,
  seededTensor,
  TINY_PRESETS,
} from '../support/seeded-weights.ts';
import { tempDir } from '../support/temp.ts';

function infoOf(entries: readonly { key: string; shape: readonly number[]; dtype?: string }[]) {
  return new Map<string, TensorInfo>(
    entries.map((e) => [e.key, { shape: e.shape, dtype: e.dtype ?? 'float32' }]),
  );
}

describe('the RetinaFace ResNet-50 state dict', () => {
  it('is the official one: the fixture manifest’s 456 keys, shapes and types, in order', () => {
    const manifest = retinaFaceManifest();
    assert.equal(manifest.length, 456);
    assert.deepEqual(
      expectedStateDict().map((e) => ({ key: e.key, shape: [...e.shape], dtype: e.dtype })),
      manifest.map((e) => ({ key: e.key, shape: [...e.shape], dtype: e.dtype })),
    );
  });

  it('accepts the official layout, with or without BatchNorm’s step counters', () => {
    const manifest = retinaFaceManifest();
    validateStateDict(infoOf(manifest));
    validateStateDict(infoOf(manifest.filter((e) => !e.key.endsWith('num_batches_tracked'))));
  });

  it('refuses a missing key, naming it', () => {
    const entries = retinaFaceManifest().filter((e) => e.key !== 'ssh2.conv5X5_1.1.running_var');
    assert.throws(() => validateStateDict(infoOf(entries)), /missing 1: ssh2\.conv5X5_1\.1\.running_var/);
  });

  it('refuses a wrong shape, saying what was expected', () => {
    const entries = retinaFaceManifest().map((e) =>
      e.key === 'fpn.merge1.0.weight' ? { ...e, shape: [256, 256, 1, 1] } : e,
    );
    assert.throws(
      () => validateStateDict(infoOf(entries)),
      /wrong shape 1: fpn\.merge1\.0\.weight expected \[256,256,3,3\] got \[256,256,1,1\]/,
    );
  });

  it('refuses integer weights and keys the network does not have', () => {
    const entries = [
      ...retinaFaceManifest().map((e) => (e.key === 'body.conv1.weight' ? { ...e, dtype: 'int64' } : e)),
      { key: 'body.fc.weight', shape: [1000, 2048], dtype: 'float32' },
    ];
    assert.throws(
      () => validateStateDict(infoOf(entries)),
      (error: Error) => {
        assert.match(error.message, /unexpected 1: body\.fc\.weight/);
        assert.match(error.message, /wrong type 1: body\.conv1\.weight is int64/);
        return true;
      },
    );
  });

  it('names the MobileNet-0.25 RetinaFace and CodeFormer when given them', () => {
    assert.throws(() => validateStateDict(infoOf(mobileNetEntries())), /detection_mobilenet0\.25_Final\.pth/);
    assert.throws(
      () => validateStateDict(infoOf(codeFormerStateDict(PRESETS.restoration))),
      /this is a CodeFormer restoration model, not the RetinaFace ResNet-50 detector/,
    );
  });
});

describe('BatchNorm folding', () => {
  it('gives the conv followed by the eval-mode BatchNorm, per output channel', () => {
    // Two output channels, one input channel, 1×1 kernel: y_c = γ_c (w_c·x − μ_c) / √(σ²_c + ε) + β_c.
    const bn = {
      weight: Float32Array.of(1.5, -0.5),
      bias: Float32Array.of(0.25, 2),
      runningMean: Float32Array.of(1, -3),
      runningVar: Float32Array.of(4, 0.25),
    };
    const weight = Float32Array.of(2, -1);
    const eps = 1e-5;
    const w = foldWeight(weight, bn, eps);
    const b = foldBias(bn, eps);
    for (const x of [0, 1.7, -4]) {
      const expected = [
        (1.5 * (2 * x - 1)) / Math.sqrt(4 + eps) + 0.25,
        (-0.5 * (-1 * x + 3)) / Math.sqrt(0.25 + eps) + 2,
      ];
      expected.forEach((y, c) => assert.ok(Math.abs(w[c]! * x + b[c]! - y) < 1e-5, `channel ${c} at x=${x}`));
    }
  });

  it('leaves 2 tensors per conv+BatchNorm unit and the heads as they are', () => {
    const params = foldedParameters();
    assert.equal(params.length, 73 * 2 + 9 * 2);
    const floats = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);
    const official = expectedStateDict().filter((e) => e.dtype === 'float32' && !e.key.includes('running'));
    // Each BatchNorm's γ and β become the conv's bias: 73 units lose one per-channel vector each.
    const bnChannels = expectedStateDict()
      .filter((e) => e.key.endsWith('running_mean'))
      .reduce((n, e) => n + floats(e.shape), 0);
    assert.equal(
      params.reduce((n, p) => n + floats(p.shape), 0),
      official.reduce((n, e) => n + floats(e.shape), 0) - bnChannels,
    );
  });
});

describe('the RetinaFace graph', () => {
  it('takes any height and width: one row per prior of a 333×517 input', async () => {
    const source = (key: string) => {
      const param = foldedParameters().find((p) => p.key === key)!;
      return seededTensor(2, 0, key, param.shape);
    };
    const image = new ort.Tensor('float32', new Float32Array(3 * 333 * 517).fill(10), [1, 3, 333, 517]);
    const out = await runModel(buildRetinaFace(source), { image });
    const priors = retinaFacePriors(333, 517).length / 4;
    assert.deepEqual(out.loc?.dims, [1, priors, 4]);
    assert.deepEqual(out.conf?.dims, [1, priors, 2]);
    assert.deepEqual(out.landms?.dims, [1, priors, 10]);
    const conf = out.conf!.data as Float32Array;
    for (let i = 0; i < priors; i += 97) assert.ok(Math.abs(conf[2 * i]! + conf[2 * i + 1]! - 1) < 1e-5);
  });
});

describe('converting a checkpoint that is not detection_Resnet50_Final.pth', () => {
  function refused(checkpoint: string, message: RegExp): void {
    const out = path.join(path.dirname(checkpoint), 'converted');
    assert.throws(
      () => convertRetinaFace(checkpoint, out),
      (error: Error) => {
        assert.ok(error instanceof ConversionError, `a ConversionError, got ${error.name}`);
        assert.match(error.message, new RegExp(`^${path.basename(checkpoint).replace('.', '\\.')}: `));
        assert.match(error.message, message);
        return true;
      },
    );
    assert.equal(fs.existsSync(out), false, 'nothing is written');
  }

  it('refuses the MobileNet-0.25 RetinaFace', () => {
    const dir = tempDir('retinaface-refuse-');
    const file = writeDetectorPth(
      path.join(dir, 'detection_mobilenet0.25_Final.pth'),
      seededManifestTensors(mobileNetEntries(), 1),
    );
    refused(file, /this is the RetinaFace MobileNet-0\.25 detector \(detection_mobilenet0\.25_Final\.pth\)/);
  });

  it('refuses a CodeFormer checkpoint', () => {
    const dir = tempDir('retinaface-refuse-');
    const file = path.join(dir, 'codeformer.pth');
    writePth(file, seededStateDict(TINY_PRESETS.restoration, 1));
    refused(file, /this is a CodeFormer restoration model/);
  });

  it('refuses an official-layout checkpoint with a key missing', () => {
    const dir = tempDir('retinaface-refuse-');
    const entries = retinaFaceManifest().filter((e) => e.key !== 'LandmarkHead.2.conv1x1.bias');
    const file = writeSeededDetectorPth(path.join(dir, 'detection_Resnet50_Final.pth'), entries);
    refused(file, /missing 1: LandmarkHead\.2\.conv1x1\.bias/);
  });
});
