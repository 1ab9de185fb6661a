import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { convertRetinaFace } from '../../src-main/core/nn/retinaface/index.ts';
import { assertClose, runModel } from '../support/graph-runs.ts';
import { readF32, writeSeededDetectorPth } from '../support/retinaface.ts';
import { tempDir } from '../support/temp.ts';

/*
 * RetinaFace ResNet-50 through the path a user's checkpoint takes: the fixture's seeded weights written as
 * detection_Resnet50_Final.pth is laid out (bare state dict, `module.` keys, BatchNorm buffers), converted
 * (BatchNorm folded) and run on the fixture's input, against the official network's outputs
 * (shared/fixtures/retinaface_r50).
 */
describe('parity of the converted RetinaFace ResNet-50 with the official implementation (seed 1)', () => {
  let out: ort.InferenceSession.OnnxValueMapType;
  let model: string;

  before(async () => {
    const dir = tempDir('retinaface-parity-');
    const checkpoint = writeSeededDetectorPth(path.join(dir, 'detection_Resnet50_Final.pth'));
    model = path.join(dir, 'converted');
    const sidecar = convertRetinaFace(checkpoint, model);
    const image = new ort.Tensor('float32', readF32('dev_input.f32'), [1, 3, 320, 640]);
    out = await runModel(path.join(model, sidecar.graph), { image });
  });

  it('has one row per prior: 8400 for 320×640', () => {
    assert.deepEqual(out.loc?.dims, [1, 8400, 4]);
    assert.deepEqual(out.conf?.dims, [1, 8400, 2]);
    assert.deepEqual(out.landms?.dims, [1, 8400, 10]);
  });

  it('box regressions within 1e-4', () => {
    assertClose(out.loc, readF32('dev_loc.f32'), 1e-4, 'loc');
  });

  it('class scores (after softmax) within 1e-4', () => {
    assertClose(out.conf, readF32('dev_conf.f32'), 1e-4, 'conf');
  });

  it('landmark regressions within 1e-4', () => {
    assertClose(out.landms, readF32('dev_landms.f32'), 1e-4, 'landms');
  });

  it('writes the graph, its weights and the sidecar, nothing else', () => {
    assert.deepEqual(fs.readdirSync(model).sort(), ['retinaface.json', 'retinaface.onnx', 'weights.bin']);
  });
});
