import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { Upsampler } from '../../src-main/core/engine/upscale.ts';
import { convertUpsamplerCheckpoint } from '../../src-main/core/nn/rrdbnet/convert.ts';
import { runModel } from '../support/graph-runs.ts';
import { fixtureFloats, fixtureManifest, writeCheckpoint } from '../support/rrdbnet.ts';
import { seededManifestTensors } from '../support/seeded-weights.ts';
import { tempDir } from '../support/temp.ts';

/*
 * The full-size Real-ESRGAN ×2 net through the path a user's checkpoint takes: the fixture's seeded weights
 * (seed 1) written as RealESRGAN_x2plus.pth in the manifest's order, converted, and run on the fixture's input,
 * against the official implementation's output (shared/fixtures/rrdbnet_x2).
 */
describe('parity of the converted Real-ESRGAN ×2 net with the official implementation (seed 1)', () => {
  let output: Float32Array;
  let converted: string;
  const expected = fixtureFloats('dev_output.f32');

  before(async () => {
    const dir = tempDir('rrdbnet-parity-');
    const checkpoint = writeCheckpoint(
      dir,
      'RealESRGAN_x2plus.pth',
      seededManifestTensors(fixtureManifest(), 1),
    );
    converted = path.join(dir, 'converted');
    const sidecar = convertUpsamplerCheckpoint(checkpoint, converted);
    const image = new ort.Tensor('float32', fixtureFloats('dev_input.f32'), [1, 3, 64, 64]);
    const { upscaled } = await runModel(path.join(converted, sidecar.graph), { image });
    assert.deepEqual(upscaled?.dims, [1, 3, 128, 128]);
    output = upscaled!.data as Float32Array;
  });

  it('enlarges the 64×64 input to 128×128 within 1e-4 of the official output, before clamping', () => {
    let max = 0;
    for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(output[i]! - expected[i]!));
    assert.ok(max <= 1e-4, `max abs difference ${max}`);
  });

  it('upscales the input as an 8-bit photo to the official output clamped, ×255 and rounded, within a level', async () => {
    // The fixture's input is an 8-bit PNG crop divided by 255: its levels come back exactly.
    const input = fixtureFloats('dev_input.f32');
    const plane = 64 * 64;
    const data = new Uint8Array(3 * plane);
    for (let i = 0; i < plane; i++)
      for (let c = 0; c < 3; c++) data[3 * i + c] = Math.round(input[c * plane + i]! * 255);
    const upsampler = await Upsampler.open(converted, { providers: ['cpu'] });
    try {
      const out = await upsampler.upscale({ width: 64, height: 64, channels: 3, depth: 8, data });
      assert.deepEqual([out.width, out.height, out.channels], [128, 128, 3]);
      const outPlane = 128 * 128;
      let max = 0;
      for (let i = 0; i < outPlane; i++) {
        for (let c = 0; c < 3; c++) {
          const official = Math.min(1, Math.max(0, expected[c * outPlane + i]!)) * 255;
          max = Math.max(max, Math.abs(out.data[3 * i + c]! - official));
        }
      }
      assert.ok(max <= 0.5 + 255e-4, `max difference ${max} levels`);
    } finally {
      await upsampler.release();
    }
  });
});
