import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { convertParseNet } from '../../src-main/core/nn/parsenet/index.ts';
import { photo } from '../support/paths.ts';
import { runModel } from '../support/graph-runs.ts';
import { PARSENET_FIXTURE, imageTensor, readFloat32, writeSeededParseNet } from '../support/parsenet.ts';
import { tempDir } from '../support/temp.ts';

const SIZE = 512;
const PLANE = SIZE * SIZE;
const CLASSES = 19;
/** The fixture's logits are taken at every 8th row and column: [1, 19, 64, 64]. */
const STEP = 8;
/** Where the top two logits are closer than this, float32 rounding may pick either (dev_stats.json). */
const MIN_MARGIN = 1e-3;

/*
 * ParseNet through the path a user's checkpoint takes: the fixture's seeded weights (seed 1) written as a bare
 * state dict in the manifest's order, converted by convertParseNet, and the converted graph run on the
 * fixture's face, against the official implementation's outputs (shared/fixtures/parsenet).
 */
describe('ParseNet parity with the official implementation (seed 1, through conversion)', () => {
  let logits: Float32Array;
  let labels: Uint8Array;

  before(async () => {
    const dir = tempDir('parsenet-parity-');
    const checkpoint = path.join(dir, 'parsing_parsenet.pth');
    writeSeededParseNet(checkpoint, 1);
    const sidecar = convertParseNet(checkpoint, path.join(dir, 'parsenet'));
    const image = await imageTensor(photo('CodeFormer/inputs/cropped_faces/0143.png'));
    const outputs = await runModel(path.join(dir, 'parsenet', sidecar.graph), {
      image: new ort.Tensor('float32', image, [1, 3, SIZE, SIZE]),
    });
    logits = outputs.logits!.data as Float32Array;
    labels = outputs.labels!.data as Uint8Array;
  });

  it('gives the official logits within 1e-4 at every 8th pixel', () => {
    const expected = readFloat32(path.join(PARSENET_FIXTURE, 'dev_logits_every8.f32'));
    const side = SIZE / STEP;
    let max = 0;
    for (let c = 0; c < CLASSES; c++) {
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) {
          const actual = logits[c * PLANE + y * STEP * SIZE + x * STEP]!;
          max = Math.max(max, Math.abs(actual - expected[(c * side + y) * side + x]!));
        }
      }
    }
    assert.ok(max <= 1e-4, `max abs difference ${max}`);
  });

  it('gives the official label wherever the top two logits are at least 1e-3 apart', () => {
    const expected = fs.readFileSync(path.join(PARSENET_FIXTURE, 'dev_labels.u8'));
    const differing: number[] = [];
    for (let i = 0; i < PLANE; i++) {
      let first = -Infinity;
      let second = -Infinity;
      for (let c = 0; c < CLASSES; c++) {
        const v = logits[c * PLANE + i]!;
        if (v > first) [first, second] = [v, first];
        else if (v > second) second = v;
      }
      if (first - second >= MIN_MARGIN && labels[i] !== expected[i]) differing.push(i);
    }
    assert.deepEqual(differing.slice(0, 10), [], `${differing.length} pixels differ`);
  });
});
