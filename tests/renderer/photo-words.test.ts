import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Photo } from '../../src-main/contract/dto.ts';
import { badgesOf, FILTERS, matches } from '../../src-renderer/src/components/library/photo-words.ts';

const base: Photo = {
  id: 1,
  albumId: 1,
  path: '/scans/a.jpg',
  name: 'a.jpg',
  sha256: 'a'.repeat(64),
  bytes: 1000,
  mtimeMs: 0,
  width: 640,
  height: 480,
  state: 'ok',
  detection: 'done',
  error: null,
  faceCount: 3,
  enabledFaceCount: 2,
  exportedAt: null,
  needsReview: false,
  restored: false,
  url: '/media/photo/1',
  thumbUrl: '/media/thumb/1',
};

const texts = (photo: Photo) => badgesOf(photo).map((b) => b.text);
const shownBy = (photo: Photo) => FILTERS.filter((f) => matches(photo, f.id)).map((f) => f.label);

describe("a photo's badges and filters", () => {
  test('say in words that its faces need review, and the "Needs review" filter picks it', () => {
    const photo = { ...base, needsReview: true };
    assert.deepEqual(texts(photo), ['3 faces', 'Needs review']);
    assert.equal(badgesOf(photo)[1]?.tone, 'warn');
    assert.deepEqual(shownBy(photo), ['All', 'Has faces', 'Needs review']);
  });

  test('say it is restored and exported, each with its filter', () => {
    const photo = { ...base, restored: true, exportedAt: '2026-11-29T10:00:00.000Z' };
    assert.deepEqual(texts(photo), ['3 faces', 'Restored', 'Exported']);
    assert.deepEqual(shownBy(photo), ['All', 'Has faces', 'Restored', 'Exported']);
  });

  test('a photo whose faces were reviewed and not yet rendered has neither badge', () => {
    assert.deepEqual(texts(base), ['3 faces']);
    assert.deepEqual(shownBy(base), ['All', 'Has faces']);
  });
});
