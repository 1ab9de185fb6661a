import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FaceToRestore } from '../../src-main/core/engine/pipeline.ts';
import { RestoredFaces, type RestoredBy } from '../../src-main/core/engine/restored-faces.ts';

const BY: RestoredBy = {
  model: { name: 'CodeFormer (codeformer.pth)', sha256: 'a'.repeat(64) },
  provider: 'cpu',
};
const FACE: FaceToRestore = {
  landmarks: [
    [100, 120],
    [140, 120],
    [120, 140],
    [104, 160],
    [136, 160],
  ],
  fidelity: 0.5,
};
const PHOTO = 'b'.repeat(64);

function face(value: number): Float32Array {
  return new Float32Array(4).fill(value);
}

describe('restored faces in memory', () => {
  test('keeps the most recently used faces up to its limit', () => {
    const memory = new RestoredFaces(2);
    memory.set('one', face(1));
    memory.set('two', face(2));
    assert.ok(memory.get('one'), 'used again: now the most recent');
    memory.set('three', face(3));
    assert.equal(memory.size, 2);
    assert.equal(memory.get('two'), undefined, 'the least recently used went');
    assert.deepEqual(memory.get('one'), face(1));
    assert.deepEqual(memory.get('three'), face(3));
  });

  test('a limit of 0 keeps nothing', () => {
    const memory = new RestoredFaces(0);
    memory.set('one', face(1));
    assert.equal(memory.size, 0);
  });

  test('recalls a face only for the same photo, points, w, damage, model and provider', () => {
    const memory = new RestoredFaces();
    memory.of(PHOTO).remember(FACE, BY, face(1));
    assert.deepEqual(
      memory.of(PHOTO).recall({ ...FACE, landmarks: FACE.landmarks.map((p) => [...p]) }, BY),
      face(1),
    );
    const misses: [string, string, RestoredBy, FaceToRestore][] = [
      ['another photo', 'c'.repeat(64), BY, FACE],
      ['another model', PHOTO, { ...BY, model: { ...BY.model, sha256: 'd'.repeat(64) } }, FACE],
      ['another provider', PHOTO, { ...BY, provider: 'cuda' }, FACE],
      ['another w', PHOTO, BY, { ...FACE, fidelity: 0.5004 }],
      ['a point moved', PHOTO, BY, { ...FACE, landmarks: [[100.5, 120], ...FACE.landmarks.slice(1)] }],
      [
        'other damage',
        PHOTO,
        BY,
        { ...FACE, task: 'inpaint', damage: [{ radius: 3, points: [[100, 120]] }] },
      ],
    ];
    for (const [what, photo, by, f] of misses) assert.equal(memory.of(photo).recall(f, by), undefined, what);
  });

  test('forgets everything when cleared', () => {
    const memory = new RestoredFaces();
    memory.of(PHOTO).remember(FACE, BY, face(1));
    memory.clear();
    assert.equal(memory.of(PHOTO).recall(FACE, BY), undefined);
  });
});
