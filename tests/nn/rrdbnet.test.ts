import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { ConversionError } from '../../src-main/core/models/convert.ts';
import { GraphBuilder } from '../../src-main/core/nn/onnx/graph.ts';
import {
  UPSAMPLER_SIDECAR,
  X2PLUS,
  convertUpsamplerCheckpoint,
  expectedStateDict,
  receptiveRadius,
} from '../../src-main/core/nn/rrdbnet/index.ts';
import { runModel } from '../support/graph-runs.ts';
import type { PthTensor } from '../support/pth-writer.ts';
import { SMALL, fixtureManifest, seededRrdbNet, writeCheckpoint } from '../support/rrdbnet.ts';
import { TINY_PRESETS, seededStateDict } from '../support/seeded-weights.ts';
import { tempDir } from '../support/temp.ts';

describe('the Real-ESRGAN ×2 state dict', () => {
  it('lists the fixture manifest’s 702 keys with their shapes, in the official order', () => {
    const manifest = fixtureManifest().map(({ key, shape }) => ({ key, shape }));
    assert.deepEqual(expectedStateDict(X2PLUS), manifest);
  });

  it('holds 16,703,171 parameters, as the fixture says', () => {
    const count = expectedStateDict(X2PLUS).reduce((n, e) => n + e.shape.reduce((a, b) => a * b, 1), 0);
    assert.equal(count, 16_703_171);
  });

  it('gives the full net a receptive radius of about 700 input pixels, the small test net 67', () => {
    assert.equal(receptiveRadius(X2PLUS), 697);
    assert.equal(receptiveRadius(SMALL), 67);
  });
});

/** Runs a one-op graph built by `build` on `x` [1, c, h, w]. */
async function runOp(
  x: Float32Array,
  dims: readonly number[],
  build: (g: GraphBuilder, input: string) => string,
): Promise<ort.Tensor> {
  const g = new GraphBuilder('op', 17);
  const input = g.input('x', 'float32', [1, dims[1]!, 'h', 'w']);
  g.output('y', 'float32', [1, 'c', 'h2', 'w2'], build(g, input));
  const { y } = await runModel(g.toBytes(), { x: new ort.Tensor('float32', x, dims) });
  return y!;
}

describe('GraphBuilder’s ops for RRDBNet', () => {
  const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

  for (const [h, w] of [
    [4, 6],
    [8, 2],
  ] as const) {
    it(`pixelUnshuffle puts pixel (2y+i, 2x+j) of channel c in channel c·4 + i·2 + j (${h}×${w}, one graph for every size)`, async () => {
      const c = 3;
      const y = await runOp(ramp(c * h * w), [1, c, h, w], (g, x) => g.pixelUnshuffle(x, c, 2));
      assert.deepEqual(y.dims, [1, 12, h / 2, w / 2]);
      const out = y.data as Float32Array;
      for (let ch = 0; ch < c; ch++) {
        for (let i = 0; i < 2; i++) {
          for (let j = 0; j < 2; j++) {
            for (let yy = 0; yy < h / 2; yy++) {
              for (let xx = 0; xx < w / 2; xx++) {
                const got = out[((ch * 4 + i * 2 + j) * (h / 2) + yy) * (w / 2) + xx];
                assert.equal(got, (ch * h + 2 * yy + i) * w + 2 * xx + j);
              }
            }
          }
        }
      }
    });
  }

  it('upsampleNearest copies each pixel into a 2×2 block, as F.interpolate(mode="nearest")', async () => {
    const y = await runOp(ramp(2 * 3 * 5), [1, 2, 3, 5], (g, x) => g.upsampleNearest(x, 2));
    assert.deepEqual(y.dims, [1, 2, 6, 10]);
    const out = y.data as Float32Array;
    for (let c = 0; c < 2; c++) {
      for (let yy = 0; yy < 6; yy++) {
        for (let xx = 0; xx < 10; xx++) {
          assert.equal(out[(c * 6 + yy) * 10 + xx], (c * 3 + (yy >> 1)) * 5 + (xx >> 1));
        }
      }
    }
  });
});

describe('converting a Real-ESRGAN checkpoint', () => {
  /** Converts `tensors` written as a checkpoint; returns the error message, or undefined if it converted. */
  function conversionError(
    tensors: ReadonlyMap<string, PthTensor>,
    name = 'RealESRGAN_x2plus.pth',
    config = SMALL,
  ): string | undefined {
    const dir = tempDir('rrdbnet-convert-');
    const out = path.join(dir, 'converted');
    try {
      convertUpsamplerCheckpoint(writeCheckpoint(dir, name, tensors), out, { config });
      return undefined;
    } catch (error) {
      assert.ok(error instanceof ConversionError, String(error));
      assert.equal(fs.existsSync(out), false, 'a refused checkpoint leaves no output folder');
      assert.deepEqual(
        fs.readdirSync(dir).filter((f) => f.endsWith('.partial')),
        [],
        'nor a partial one',
      );
      return error.message;
    }
  }

  it('writes the weights, the graph and a sidecar naming the source and the config', () => {
    const dir = tempDir('rrdbnet-convert-');
    const checkpoint = writeCheckpoint(dir, 'small.pth', seededRrdbNet(SMALL, 1));
    const sidecar = convertUpsamplerCheckpoint(checkpoint, path.join(dir, 'out'), { config: SMALL });
    assert.deepEqual(
      fs.readdirSync(path.join(dir, 'out')).sort(),
      [sidecar.graph, UPSAMPLER_SIDECAR, sidecar.weights].sort(),
    );
    assert.equal(sidecar.scale, 2);
    assert.deepEqual(sidecar.config, SMALL);
    assert.equal(sidecar.source.file, 'small.pth');
    assert.equal(sidecar.source.bytes, fs.statSync(checkpoint).size);
    assert.match(sidecar.source.sha256, /^[0-9a-f]{64}$/);
  });

  it('refuses CodeFormer’s checkpoint, saying what it is', () => {
    const message = conversionError(seededStateDict(TINY_PRESETS.restoration, 1), 'codeformer.pth');
    assert.match(
      message ?? '',
      /^codeformer\.pth: it is a CodeFormer checkpoint \(face restoration\) — the background upsampler is Real-ESRGAN ×2/,
    );
  });

  it('refuses a ×4 RRDBNet, whose conv_first takes the 3 RGB channels instead of 12', () => {
    const x4 = seededRrdbNet(SMALL, 1);
    x4.set('conv_first.weight', { shape: [8, 3, 3, 3], data: new Float32Array(8 * 3 * 9) });
    const message = conversionError(x4, 'RealESRGAN_x4plus.pth');
    assert.match(message ?? '', /RealESRGAN_x4plus\.pth: it is an RRDBNet ×4 checkpoint/);
    assert.match(message ?? '', /conv_first takes 3 input channels; the ×2 net takes 12/);
  });

  it('refuses a checkpoint with a missing key, naming it', () => {
    const missing = seededRrdbNet(SMALL, 1);
    missing.delete('body.1.rdb2.conv3.bias');
    assert.match(conversionError(missing) ?? '', /missing 1: body\.1\.rdb2\.conv3\.bias/);
  });

  it('refuses a tensor of the wrong shape, with both shapes', () => {
    const wrong = seededRrdbNet(SMALL, 1);
    wrong.set('conv_hr.weight', { shape: [8, 8, 1, 1], data: new Float32Array(64) });
    assert.match(
      conversionError(wrong) ?? '',
      /wrong shape 1: conv_hr\.weight expected \[8,8,3,3\] got \[8,8,1,1\]/,
    );
  });

  it('refuses a key the network does not have (the official loader is strict)', () => {
    const extra = seededRrdbNet(SMALL, 1);
    extra.set('conv_up3.bias', { shape: [8], data: new Float32Array(8) });
    assert.match(conversionError(extra) ?? '', /unexpected 1: conv_up3\.bias/);
  });

  it('refuses an RRDBNet ×2 of another size than RealESRGAN_x2plus by default, naming both sizes', () => {
    const message = conversionError(seededRrdbNet(SMALL, 1), 'small.pth', X2PLUS);
    assert.match(
      message ?? '',
      /another size \(2 blocks, 8 features, growth 4\), not the expected 23 blocks, 64/,
    );
  });

  it('refuses a file that is not a checkpoint, and a non-empty output folder, before writing', () => {
    const dir = tempDir('rrdbnet-convert-');
    const text = path.join(dir, 'notes.pth');
    fs.writeFileSync(text, 'not a checkpoint');
    assert.throws(() => convertUpsamplerCheckpoint(text, path.join(dir, 'a')), /notes\.pth|checkpoint/);
    const checkpoint = writeCheckpoint(dir, 'small.pth', seededRrdbNet(SMALL, 1));
    fs.mkdirSync(path.join(dir, 'full'));
    fs.writeFileSync(path.join(dir, 'full', 'x'), '');
    assert.throws(
      () => convertUpsamplerCheckpoint(checkpoint, path.join(dir, 'full'), { config: SMALL }),
      /already exists and is not an empty folder/,
    );
  });
});
