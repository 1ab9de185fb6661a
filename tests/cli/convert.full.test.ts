import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { PRESETS } from '../../src-main/core/nn/codeformer/config.ts';
import { runCli, tempDir } from '../support/cli.ts';
import { assertMatchesOfficial, restoreFace } from '../support/official.ts';
import { writePth } from '../support/pth-writer.ts';
import { seededStateDict } from '../support/seeded-weights.ts';

// Full size (npm run test:full). npm test runs these behaviours on tiny checkpoints (convert.test.ts) and one
// full-size end-to-end parity check (codeformer-parity.test.ts).

describe('heirloom convert, then restore with the converted CodeFormer (full size, seeded weights)', () => {
  const work = tempDir();
  const checkpoint = path.join(work, 'codeformer.pth');
  const converted = path.join(work, 'converted');

  before(() => {
    writePth(checkpoint, seededStateDict(PRESETS.restoration, 1), 1500);
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

  test('a full-size checkpoint with a missing and a misshapen tensor: exit 1, naming the first offending keys', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'broken.pth');
    const weights = seededStateDict(PRESETS.colorization, 2);
    weights.delete('encoder.blocks.1.conv1.weight');
    const pos = weights.get('position_emb')!;
    weights.set('position_emb', { shape: [128, 1024], data: pos.data });
    writePth(file, weights);
    const run = await runCli(['convert', file, '--out', path.join(dir, 'out')]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /missing 1: encoder\.blocks\.1\.conv1\.weight/);
    assert.match(run.stderr, /wrong shape 1: position_emb expected \[256,512\] got \[128,1024\]/);
    assert.deepEqual(fs.readdirSync(dir), ['broken.pth'], 'nothing is left behind');
  });
});
