import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { PRESETS, buildPartA, buildPartB } from '../../src-main/core/nn/codeformer.ts';
import { assertClose, runModel, sourceOf } from '../support/graph-runs.ts';
import { FACE, FIXTURE } from '../support/official.ts';
import { writeSeededWeights } from '../support/seeded-weights.ts';
import { tempDir } from '../support/temp.ts';

/*
 * npm test's one full-size check: CodeFormer's graphs, built from the official state dict's layout with the
 * fixture's seeded weights, against the official implementation's output (shared/fixtures/codeformer). The
 * path around them (reading and checking a .pth, converting, restoring from the CLI) runs on tiny
 * checkpoints in tests/cli/convert.test.ts; at full size in npm run test:full.
 */
describe('parity of the full-size network with the official implementation (restoration, seed 1)', () => {
  let partA: ort.InferenceSession.OnnxValueMapType;
  let partB: string;

  before(async () => {
    const dir = tempDir('codeformer-parity-');
    const weights = sourceOf(
      writeSeededWeights(PRESETS.restoration, 1, path.join(dir, 'codeformer.weights')),
    );
    const partAFile = path.join(dir, 'part_a.onnx');
    fs.writeFileSync(partAFile, buildPartA(PRESETS.restoration, weights));
    partB = path.join(dir, 'part_b.onnx');
    fs.writeFileSync(partB, buildPartB(PRESETS.restoration, weights));
    // The fixture's preprocessing: RGB uint8 → /255 → (v − 0.5)/0.5 → NCHW float32.
    const { data } = await sharp(FACE).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const plane = 512 * 512;
    const image = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) image[c * plane + i] = data[i * 3 + c]! / 127.5 - 1;
    }
    partA = await runModel(partAFile, { image: new ort.Tensor('float32', image, [1, 3, 512, 512]) });
  });

  it('part A chooses the same 256 codebook entries', () => {
    const bytes = fs.readFileSync(path.join(FIXTURE, 'dev_indices.i32'));
    const expected = new Int32Array(bytes.buffer, bytes.byteOffset, 256);
    assert.deepEqual([...(partA.indices?.data as BigInt64Array)].map(Number), [...expected]);
  });

  it('part A then part B reproduce the official output at w = 0.5 within 1e-3', async () => {
    const { feat, skip32, skip64, skip128, skip256 } = partA;
    assert.ok(feat && skip32 && skip64 && skip128 && skip256);
    const fidelity = new ort.Tensor('float32', Float32Array.of(0.5), [1]);
    const { image } = await runModel(partB, { feat, skip32, skip64, skip128, skip256, fidelity });
    const bytes = fs.readFileSync(path.join(FIXTURE, 'dev_output_w0.5.f32'));
    assertClose(
      image,
      new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4),
      1e-3,
      'output',
    );
  });
});
