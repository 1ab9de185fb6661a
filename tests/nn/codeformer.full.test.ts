import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { PRESETS, buildPartA, buildPartBNoCft, buildWhole } from '../../src-main/core/nn/codeformer.ts';
import type { CodeFormerConfig, WeightSource } from '../../src-main/core/nn/codeformer.ts';
import { tempDir } from '../support/temp.ts';
import { assertClose, runModel, sourceOf } from '../support/graph-runs.ts';
import { FACE, FIXTURE } from '../support/official.ts';
import { writeSeededWeights } from '../support/seeded-weights.ts';

// Full size (npm run test:full): the graphs against the official implementation's tensors, step by step.
// npm test's one full-size check is tests/nn/codeformer-parity.test.ts (the codes, and part A then part B at
// w = 0.5); tests/cli/codeformer-parity.full.test.ts goes from a checkpoint to a restored PNG.

function readFixture(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURE, name));
}

function float32Fixture(name: string): Float32Array {
  const bytes = readFixture(name);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
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
    dir = tempDir('codeformer-parity-');
    weights = sourceOf(writeSeededWeights(config, 1, path.join(dir, 'codeformer.weights')));
    face = await loadFace();
    partA = await runModel(writeModel('part_a', buildPartA), { image: face });
  });

  it('part A reproduces lq_feat and the logits within 1e-4', () => {
    assertClose(partA.lq_feat, float32Fixture('dev_lq_feat.f32'), 1e-4, 'lq_feat');
    assertClose(partA.logits, float32Fixture('dev_logits.f32'), 1e-4, 'logits');
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
