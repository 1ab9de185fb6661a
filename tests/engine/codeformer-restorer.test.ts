import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CodeFormerRestorer } from '../../src-main/core/engine/codeformer.ts';
import { decodePhoto, type RgbImage } from '../../src-main/core/engine/image.ts';
import { writeGraphs } from '../../src-main/core/models/convert.ts';
import { tempDir } from '../support/cli.ts';
import { photo } from '../support/paths.ts';
import { tinyConfig, writeSeededWeights } from '../support/seeded-weights.ts';

/** A small CodeFormer so the restorer's logic runs in milliseconds. */
const TINY = tinyConfig(['32', '128', '256']);

function maxDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('CodeFormer restorer (converted folder)', () => {
  const dir = tempDir();
  let faces: RgbImage[];
  before(async () => {
    const refs = writeSeededWeights(TINY, 3, path.join(dir, 'weights.bin'));
    writeGraphs(dir, TINY, refs, {
      variant: 'restoration',
      source: { file: 'tiny.pth', bytes: 0, sha256: '' },
    });
    faces = await Promise.all(
      ['0143.png', '0240.png', '0342.png'].map(async (name) => {
        const image = await decodePhoto(fs.readFileSync(photo(`CodeFormer/inputs/cropped_faces/${name}`)));
        return image.rgb;
      }),
    );
  });

  let restorer: CodeFormerRestorer;
  before(async () => {
    restorer = await CodeFormerRestorer.open(dir, { providers: ['cpu'] });
  });
  after(async () => {
    await restorer.release();
  });

  test('a new w for a face already restored runs part B only', async () => {
    const low = await restorer.restore(faces[0]!, 0.3);
    const high = await restorer.restore(faces[0]!, 0.9);
    assert.deepEqual(restorer.runs, { partA: 1, partB: 2, partBNoCft: 0 });
    assert.ok(maxDiff(low, high) > 0.5, 'w changes the face');
  });

  test('the cached path gives exactly what a fresh restorer gives', async () => {
    const fresh = await CodeFormerRestorer.open(dir, { providers: ['cpu'] });
    try {
      const cached = await restorer.restore(faces[0]!, 0.6);
      assert.equal(maxDiff(cached, await fresh.restore(faces[0]!, 0.6)), 0);
    } finally {
      await fresh.release();
    }
  });

  test('w = 0 runs the graph without CFT, and matches part B at a w close to 0', async () => {
    const before = { ...restorer.runs };
    const zero = await restorer.restore(faces[0]!, 0);
    const tiny = await restorer.restore(faces[0]!, 1e-6);
    assert.equal(restorer.runs.partBNoCft, before.partBNoCft + 1);
    assert.equal(restorer.runs.partA, before.partA, 'part A came from the cache');
    assert.ok(maxDiff(zero, tiny) < 0.05, `difference ${maxDiff(zero, tiny)}`);
  });

  test('the part-A cache is bounded: the least recently used face is dropped', async () => {
    // Each tiny face keeps 10.6 MB (feat and skips); room for two.
    const small = await CodeFormerRestorer.open(dir, { providers: ['cpu'], cacheBytes: 25 * 1024 * 1024 });
    try {
      for (const face of faces) await small.restore(face, 0.5);
      assert.equal(small.cachedFaces, 2);
      await small.restore(faces[2]!, 0.7); // still cached
      assert.equal(small.runs.partA, 3);
      await small.restore(faces[0]!, 0.7); // was dropped
      assert.equal(small.runs.partA, 4);
    } finally {
      await small.release();
    }
  });

  test('a folder without a model description is refused clearly', async () => {
    await assert.rejects(CodeFormerRestorer.open(tempDir()), /not a converted CodeFormer model/);
  });
});
