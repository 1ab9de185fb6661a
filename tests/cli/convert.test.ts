import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import sharp from 'sharp';
import { PRESETS } from '../../src-main/core/nn/codeformer/config.ts';
import { runCli, tempDir } from '../support/cli.ts';
import { SHARED, photo } from '../support/paths.ts';
import { writePth } from '../support/pth-writer.ts';
import { seededStateDict } from '../support/seeded-weights.ts';

const FIXTURE = path.join(SHARED, 'fixtures/codeformer');
const FACE = photo('CodeFormer/inputs/cropped_faces/0143.png');

/** The official `tensor2img` of a reference output: clamp to [−1,1], to 0–255, round half to even. */
function officialImage(file: string): Uint8Array {
  const raw = fs.readFileSync(file);
  const tensor = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const plane = 512 * 512;
  const out = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const v = ((Math.min(1, Math.max(-1, tensor[c * plane + i]!)) + 1) / 2) * 255;
      const r = Math.round(v);
      out[i * 3 + c] = r - v === 0.5 && r % 2 === 1 ? r - 1 : r;
    }
  }
  return out;
}

/** Asserts that ≥ 99.9% of the image's 8-bit values are within one level of the official output. */
async function assertMatchesOfficial(file: string, reference: string): Promise<void> {
  const expected = officialImage(path.join(FIXTURE, reference));
  const pixels = await sharp(file).removeAlpha().raw().toBuffer();
  assert.equal(pixels.length, expected.length);
  let close = 0;
  for (let i = 0; i < pixels.length; i++) if (Math.abs(pixels[i]! - expected[i]!) <= 1) close++;
  const share = close / pixels.length;
  assert.ok(share >= 0.999, `${(share * 100).toFixed(3)}% within one level`);
}

/** `restore --aligned` of the fixture's face; returns the restored file. */
async function restoreFace(
  restorer: string,
  w: string,
  out: string,
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  const run = await runCli(
    ['restore', FACE, '--aligned', '--w', w, '--restorer', restorer, '--out', out],
    env,
  );
  assert.equal(run.code, 0, run.stderr);
  return run.stdout.split(' → ')[1]!.split(' (')[0]!;
}

describe('heirloom convert, then restore with the converted CodeFormer (full size, seeded weights)', () => {
  const work = tempDir();
  const checkpoint = path.join(work, 'codeformer.pth');
  const converted = path.join(work, 'converted');

  before(() => {
    const weights = seededStateDict(PRESETS.restoration, 1);
    writePth(checkpoint, weights, 1500);
  });

  test('convert writes the graphs, one shared weights file and a sidecar naming the source', async () => {
    const run = await runCli(['convert', checkpoint, '--out', converted]);
    assert.equal(run.code, 0, run.stderr);
    const sidecar = JSON.parse(fs.readFileSync(path.join(converted, 'codeformer.json'), 'utf8'));
    assert.equal(sidecar.variant, 'restoration');
    assert.equal(
      sidecar.source.sha256,
      createHash('sha256').update(fs.readFileSync(checkpoint)).digest('hex'),
    );
    assert.deepEqual(sidecar.config.connectList, ['32', '64', '128', '256']);
    const weights = fs.statSync(path.join(converted, sidecar.weights)).size;
    assert.equal(weights, 94_112_707 * 4);
    for (const graph of Object.values(sidecar.graphs) as string[]) {
      // The graphs reference the weights file; none carries a copy of the weights.
      assert.ok(fs.statSync(path.join(converted, graph)).size < 2_000_000, graph);
    }
  });

  test('restore --aligned at w = 0.5 matches the official network within one level on ≥ 99.9% of values', async () => {
    await assertMatchesOfficial(await restoreFace(converted, '0.5', tempDir()), 'dev_output_w0.5.f32');
  });

  test('the exported whole network is a plain ONNX restorer with the same output', async () => {
    const whole = path.join(converted, 'whole.onnx');
    await assertMatchesOfficial(await restoreFace(whole, '0.5', tempDir()), 'dev_output_w0.5.f32');
  });

  test('restore --restorer <.pth> converts once into the data folder and runs w = 0 without CFT', async () => {
    const data = tempDir();
    const out = tempDir();
    const first = await restoreFace(checkpoint, '0', out, { HEIRLOOM_DATA: data });
    const cached = fs.readdirSync(path.join(data, 'models/converted'));
    assert.equal(cached.length, 1);
    const sidecarFile = path.join(data, 'models/converted', cached[0]!, 'codeformer.json');
    const convertedAt = fs.statSync(sidecarFile).mtimeMs;
    await assertMatchesOfficial(first, 'dev_output_w0.0.f32');

    await restoreFace(checkpoint, '0', out, { HEIRLOOM_DATA: data });
    assert.equal(fs.statSync(sidecarFile).mtimeMs, convertedAt, 'converted again');
    assert.deepEqual(fs.readdirSync(out).sort(), ['0143-1.png', '0143.png']);
  });
});

describe('heirloom convert refuses what is not an official CodeFormer checkpoint', () => {
  test('a checkpoint with a missing and a misshapen tensor: exit 1, naming the first offending keys', async () => {
    const work = tempDir();
    const file = path.join(work, 'broken.pth');
    const weights = seededStateDict(PRESETS.colorization, 2);
    weights.delete('encoder.blocks.1.conv1.weight');
    const pos = weights.get('position_emb')!;
    weights.set('position_emb', { shape: [128, 1024], data: pos.data });
    writePth(file, weights);
    const run = await runCli(['convert', file, '--out', path.join(work, 'out')]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /missing 1: encoder\.blocks\.1\.conv1\.weight/);
    assert.match(run.stderr, /wrong shape 1: position_emb expected \[256,512\] got \[128,1024\]/);
    assert.equal(fs.existsSync(path.join(work, 'out')), false, 'nothing is left behind');
  });

  test('the legacy (pre-1.6) format is refused with a message that says how to re-save it', async () => {
    const run = await runCli([
      'convert',
      path.join(SHARED, 'fixtures/pth/small_legacy.pth'),
      '--out',
      tempDir(),
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /legacy .*torch\.save/);
  });

  test('a checkpoint that is not CodeFormer is refused before anything is built', async () => {
    const run = await runCli(['convert', path.join(SHARED, 'fixtures/pth/small.pth'), '--out', tempDir()]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /quantize\.embedding\.weight is missing/);
  });
});
