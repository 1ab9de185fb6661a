import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CodeFormerRestorer, type ConvertedSidecar } from '../../src-main/core/engine/codeformer.ts';
import { decodePhoto, type RgbImage } from '../../src-main/core/engine/image.ts';
import { liveSessionCount } from '../../src-main/core/engine/sessions.ts';
import { writeGraphs } from '../../src-main/core/models/convert.ts';
import type { CodeFormerConfig } from '../../src-main/core/nn/codeformer/config.ts';
import { photo } from '../support/paths.ts';
import { tinyConfig, writeSeededWeights } from '../support/seeded-weights.ts';
import { tempDir } from '../support/temp.ts';

/** A small CodeFormer (tests/support/tiny-config.ts), so the restorer's logic runs in a fraction of a second. */
const TINY = tinyConfig(['32', '128', '256']);

/** A converted folder of a tiny model with seeded weights, as `heirloom convert` writes it. */
function convertedFolder(
  config: CodeFormerConfig,
  variant: ConvertedSidecar['variant'],
  file = 'tiny.pth',
): string {
  const dir = tempDir();
  const refs = writeSeededWeights(config, 3, path.join(dir, 'weights.bin'));
  writeGraphs(dir, config, refs, { variant, source: { file, bytes: 0, sha256: '' } });
  return dir;
}

/** A copy of a converted folder in which `graph` holds bytes that are not an ONNX model. */
function withBrokenGraph(dir: string, graph: string): string {
  const copy = tempDir();
  fs.cpSync(dir, copy, { recursive: true });
  fs.writeFileSync(path.join(copy, graph), 'not an ONNX model');
  return copy;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

let dir: string;
let faces: RgbImage[];
before(async () => {
  dir = convertedFolder(TINY, 'restoration');
  faces = await Promise.all(
    ['0143.png', '0240.png', '0342.png'].map(async (name) => {
      const image = await decodePhoto(fs.readFileSync(photo(`CodeFormer/inputs/cropped_faces/${name}`)));
      return image.rgb;
    }),
  );
});

describe('CodeFormer restorer (converted folder)', () => {
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
      await small.restore(faces[0]!, 0.5);
      await small.restore(faces[1]!, 0.5);
      await small.restore(faces[0]!, 0.7); // now the most recently used
      await small.restore(faces[2]!, 0.5); // no room: face 1 goes, not face 0
      assert.equal(small.cachedFaces, 2);
      assert.equal(small.runs.partA, 3);
      await small.restore(faces[0]!, 0.5); // still cached
      assert.equal(small.runs.partA, 3);
      await small.restore(faces[1]!, 0.7); // was dropped
      assert.equal(small.runs.partA, 4);
    } finally {
      await small.release();
    }
  });

  test('a folder without a model description is refused clearly', async () => {
    await assert.rejects(CodeFormerRestorer.open(tempDir()), /not a converted CodeFormer model/);
  });
});

describe('CodeFormer restorer: a graph that cannot be opened', () => {
  test('part B: opening fails naming the file, and part A is released', async () => {
    const broken = withBrokenGraph(dir, 'part-b.onnx');
    const open = liveSessionCount();
    await assert.rejects(
      CodeFormerRestorer.open(broken, { providers: ['cpu'] }),
      /part-b\.onnx could not be loaded/,
    );
    assert.equal(liveSessionCount(), open, 'sessions left open');
  });

  test('the w = 0 graph: each w = 0 request says why, and the next one tries again', async () => {
    const broken = withBrokenGraph(dir, 'part-b-no-cft.onnx');
    const restorer = await CodeFormerRestorer.open(broken, { providers: ['cpu'] });
    try {
      await assert.rejects(restorer.restore(faces[0]!, 0), /part-b-no-cft\.onnx could not be loaded/);
      await assert.rejects(restorer.restore(faces[0]!, 0), /part-b-no-cft\.onnx could not be loaded/);
      fs.copyFileSync(path.join(dir, 'part-b-no-cft.onnx'), path.join(broken, 'part-b-no-cft.onnx'));
      await restorer.restore(faces[0]!, 0);
      assert.equal(restorer.runs.partBNoCft, 1);
    } finally {
      await restorer.release();
    }
  });

  test('the w = 0 graph: release() still releases every session', async () => {
    const broken = withBrokenGraph(dir, 'part-b-no-cft.onnx');
    const open = liveSessionCount();
    const restorer = await CodeFormerRestorer.open(broken, { providers: ['cpu'] });
    await assert.rejects(restorer.restore(faces[0]!, 0));
    await restorer.release();
    assert.equal(liveSessionCount(), open, 'sessions left open');
  });
});
