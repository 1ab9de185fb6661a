import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { folderName, formatBytes, sharedNames } from '../../src-renderer/src/lib/format.ts';

describe('the words for sizes and places', () => {
  test('sizes are decimal, as download pages and file managers say them', () => {
    assert.equal(formatBytes(999), '999 bytes');
    assert.equal(formatBytes(2_100_000), '2.1 MB');
    assert.equal(formatBytes(376_637_898), '377 MB');
    assert.equal(formatBytes(1_500_000_000), '1.5 GB');
  });

  test("a file's folder is the last folder of its path, on Unix and Windows alike", () => {
    assert.equal(folderName('/home/ann/Scans/01.jpg'), 'Scans');
    assert.equal(folderName('C:\\Users\\Ann\\Box 2\\01.jpg'), 'Box 2');
    assert.equal(folderName('01.jpg'), '');
  });

  test('only the names more than one photo has need their folder shown', () => {
    const names = sharedNames([
      { name: '01.jpg' },
      { name: '02.jpg' },
      { name: '01.jpg' },
      { name: '01.jpg' },
    ]);
    assert.deepEqual([...names], ['01.jpg']);
  });
});
