import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { decodePhoto } from '../../src-main/core/engine/image.ts';
import { OnnxRestorer } from '../../src-main/core/engine/restore.ts';
import { openRestorer } from '../../src-main/core/models/open.ts';
import { expectedStateDict } from '../../src-main/core/nn/codeformer/state-dict.ts';
import { runMain, tempDir } from '../support/cli.ts';
import { FACE, assertCloseImage, restoreFace } from '../support/official.ts';
import { SHARED } from '../support/paths.ts';
import { writePth } from '../support/pth-writer.ts';
import { TINY_PRESETS, seededStateDict } from '../support/seeded-weights.ts';
// Checkpoints are recognised and checked against the tiny presets in this process (the CLI runs in it).
import '../support/use-tiny-presets.ts';

// The same behaviours at full size, against the official outputs: convert.full.test.ts (npm run test:full).

function sha256Of(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

describe('heirloom convert, then restore with the converted CodeFormer (tiny presets, seeded weights)', () => {
  const work = tempDir();
  const checkpoint = path.join(work, 'codeformer.pth');
  const converted = path.join(work, 'converted');
  /** The face the CLI restored from the checkpoint at w = 0. */
  let restoredAtZero: string;

  before(() => {
    writePth(checkpoint, seededStateDict(TINY_PRESETS.restoration, 1), 1500);
  });

  test('convert writes the graphs, one shared weights file and a sidecar naming the source', async () => {
    const run = await runMain(['convert', checkpoint, '--out', converted], {});
    assert.equal(run.code, 0, run.stderr);
    const sidecar = JSON.parse(fs.readFileSync(path.join(converted, 'codeformer.json'), 'utf8'));
    assert.equal(sidecar.variant, 'restoration');
    assert.equal(sidecar.source.file, 'codeformer.pth');
    assert.equal(sidecar.source.sha256, sha256Of(checkpoint));
    assert.deepEqual(sidecar.config, TINY_PRESETS.restoration);
    const params = expectedStateDict(TINY_PRESETS.restoration).reduce(
      (n, { shape }) => n + shape.reduce((p, d) => p * d, 1),
      0,
    );
    const weights = fs.statSync(path.join(converted, sidecar.weights)).size;
    assert.equal(weights, params * 4);
    for (const graph of Object.values(sidecar.graphs) as string[]) {
      // The graphs reference the weights file; none carries a copy of the weights.
      assert.ok(fs.statSync(path.join(converted, graph)).size < weights / 4, graph);
    }
  });

  test('restore --restorer <.pth> converts once into the data folder, under its sha256', async () => {
    const data = tempDir();
    const out = tempDir();
    restoredAtZero = await restoreFace(checkpoint, '0', out, { HEIRLOOM_DATA: data }, runMain);
    const folder = path.join(data, 'models/converted', sha256Of(checkpoint));
    assert.deepEqual(fs.readdirSync(path.dirname(folder)), [path.basename(folder)]);
    const convertedAt = fs.statSync(path.join(folder, 'codeformer.json')).mtimeMs;

    await restoreFace(checkpoint, '0', out, { HEIRLOOM_DATA: data }, runMain);
    assert.equal(fs.statSync(path.join(folder, 'codeformer.json')).mtimeMs, convertedAt, 'converted again');
    assert.deepEqual(fs.readdirSync(out).sort(), ['0143-1.png', '0143.png']);
  });

  test('the exported whole network opens as a plain ONNX restorer and gives the face restore gave at w = 0', async () => {
    const whole = await openRestorer(path.join(converted, 'whole.onnx'), tempDir(), { providers: ['cpu'] });
    try {
      assert.ok(whole instanceof OnnxRestorer);
      const face = (await decodePhoto(fs.readFileSync(FACE))).rgb;
      // The whole network runs its CFT blocks at weight 0 where restore's w = 0 path skips them (the graph
      // without CFT): the same face, apart from rounding (tests/nn/codeformer.test.ts).
      const restored = Uint8Array.from(await whole.restore(face, 0), (v) => Math.round(v));
      await assertCloseImage(restoredAtZero, restored);
    } finally {
      await whole.release();
    }
  });
});

describe('heirloom convert refuses what is not an official CodeFormer checkpoint', () => {
  test('restore --restorer <colorization .pth> is refused in one line: the task needs another model', async () => {
    const work = tempDir();
    const file = path.join(work, 'codeformer_colorization.pth');
    writePth(file, seededStateDict(TINY_PRESETS.colorization, 2));
    const run = await runMain(['restore', FACE, '--aligned', '--restorer', file, '--out', tempDir()], {
      HEIRLOOM_DATA: tempDir(),
    });
    assert.equal(run.code, 2);
    assert.equal(
      run.stderr,
      `heirloom: ${file} is CodeFormer's colorization model; --task restore (the default) needs codeformer.pth ` +
        '(or use it with --task colorize)\n',
    );
  });

  test('a checkpoint with a missing and a misshapen tensor: exit 1, naming the first offending keys', async () => {
    const work = tempDir();
    const file = path.join(work, 'broken.pth');
    const weights = seededStateDict(TINY_PRESETS.colorization, 2);
    weights.delete('encoder.blocks.1.conv1.weight');
    const pos = weights.get('position_emb')!;
    weights.set('position_emb', { shape: [128, 128], data: pos.data });
    writePth(file, weights);
    const run = await runMain(['convert', file, '--out', path.join(work, 'out')], {});
    assert.equal(run.code, 1);
    assert.match(run.stderr, /missing 1: encoder\.blocks\.1\.conv1\.weight/);
    assert.match(run.stderr, /wrong shape 1: position_emb expected \[256,64\] got \[128,128\]/);
    assert.deepEqual(fs.readdirSync(work), ['broken.pth'], 'nothing is left behind');
  });

  test('the legacy (pre-1.6) format is read: small_legacy.pth is refused only as not CodeFormer', async () => {
    const run = await runMain([
      'convert',
      path.join(SHARED, 'fixtures/pth/small_legacy.pth'),
      '--out',
      tempDir(),
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /quantize\.embedding\.weight is missing/);
  });

  test('a checkpoint that is not CodeFormer is refused before anything is built', async () => {
    const run = await runMain(['convert', path.join(SHARED, 'fixtures/pth/small.pth'), '--out', tempDir()]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /quantize\.embedding\.weight is missing/);
  });
});
