import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FolderListing } from '../../src-main/contract/dto.ts';
import {
  crumbsOf,
  ORIGINALS_REASON,
  primaryAction,
  whyNotMade,
} from '../../src-renderer/src/components/folders/browsing.ts';

/* The folder browser's words and its one button, from a listing. */

function listing(over: Partial<FolderListing> = {}): FolderListing {
  return {
    path: '/home/ada/Scans/1962',
    parent: '/home/ada/Scans',
    folders: [{ name: 'Beach', path: '/home/ada/Scans/1962/Beach', holdsOriginals: false }],
    files: [
      { name: 'a.jpg', path: '/home/ada/Scans/1962/a.jpg', bytes: 1 },
      { name: 'b.jpg', path: '/home/ada/Scans/1962/b.jpg', bytes: 1 },
    ],
    roots: [
      { name: 'Home', path: '/home/ada' },
      { name: 'Scans', path: '/home/ada/Scans' },
    ],
    holdsOriginals: false,
    ...over,
  };
}

test("an export's folder of originals cannot be chosen, and the button says why in words", () => {
  assert.deepEqual(primaryAction('folder', listing(), new Set()), {
    label: 'Choose this folder',
    paths: ['/home/ada/Scans/1962'],
    hint: '',
    refused: false,
  });
  assert.deepEqual(primaryAction('folder', listing({ holdsOriginals: true }), new Set()), {
    label: 'Choose this folder',
    paths: null,
    hint: ORIGINALS_REASON,
    refused: true,
  });
  assert.match(
    ORIGINALS_REASON,
    /^This folder holds originals of this album\. Heirloom never writes beside them/,
  );
});

test('photos: the whole folder when nothing is ticked, else what is ticked, in words', () => {
  assert.deepEqual(primaryAction('photos', listing(), new Set()).paths, ['/home/ada/Scans/1962']);
  const some = primaryAction(
    'photos',
    listing(),
    new Set(['/home/ada/Scans/1962/a.jpg', '/home/ada/Scans/1962/Beach']),
  );
  assert.equal(some.label, 'Import 1 photo and 1 folder');
  assert.deepEqual(some.paths, ['/home/ada/Scans/1962/a.jpg', '/home/ada/Scans/1962/Beach']);
  const all = primaryAction(
    'photos',
    listing(),
    new Set(['/home/ada/Scans/1962/a.jpg', '/home/ada/Scans/1962/b.jpg']),
  );
  assert.deepEqual(all.paths, ['/home/ada/Scans/1962'], 'every photo ticked is the folder');
  assert.equal(
    primaryAction('model', listing({ files: [] }), new Set()).hint,
    'No model files (.onnx, .pth) in this folder.',
  );
});

test('the path starts at the deepest place holding the folder', () => {
  assert.deepEqual(
    crumbsOf(listing()).map((c) => c.name),
    ['Scans', '1962'],
  );
});

test("New folder's refusals read as sentences", () => {
  assert.equal(
    whyNotMade('folder.create: name: a folder name cannot contain / or \\'),
    'A folder name cannot contain / or \\.',
  );
  assert.equal(
    whyNotMade('folder.create: name: there is already something named “Exports” in /home/ada'),
    'There is already something named “Exports” in /home/ada.',
  );
});
