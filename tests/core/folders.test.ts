import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AppError } from '../../src-main/contract/errors.ts';
import { createFolder, listFolder, originalFolders } from '../../src-main/core/folders.ts';
import { createLimiter } from '../../src-main/core/limit.ts';
import { tempDir } from '../support/temp.ts';

/*
 * folder.list and folder.create: the browser mode's file picker, confined to the user's home and the folders the
 * host was given.
 */

// os.homedir() reads HOME: each test file runs in a process of its own, so the home here is a folder of ours.
const home = fs.realpathSync(tempDir());
const elsewhere = fs.realpathSync(tempDir());
const savedHome = process.env.HOME;
before(() => (process.env.HOME = home));
after(() => (process.env.HOME = savedHome));

function touch(file: string, bytes = 0): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.alloc(bytes));
}

async function refusal(work: Promise<unknown>): Promise<AppError> {
  const error = await work.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError, String(error));
  return error;
}

test('a folder lists its visible sub-folders and photos, each in the order a person sorts names', async () => {
  const dir = path.join(home, 'Scans');
  for (const name of [
    'IMG_10.jpg',
    'img_2.JPG',
    'IMG_1.jpeg',
    'b.png',
    'A.tif',
    'c.webp',
    'd.gif',
    'e.TIFF',
  ]) {
    touch(path.join(dir, name), name.length);
  }
  touch(path.join(dir, 'notes.txt'));
  touch(path.join(dir, 'model.onnx'));
  touch(path.join(dir, '.hidden.jpg'));
  touch(path.join(dir, '._IMG_1.jpeg'));
  for (const name of ['1962', '1950s', 'box 10', 'Box 9', '.thumbnails']) fs.mkdirSync(path.join(dir, name));
  // A folder named like a photo is a folder.
  fs.mkdirSync(path.join(dir, 'album.jpg'));

  const listing = await listFolder([], dir);
  assert.equal(listing.path, dir);
  assert.equal(listing.parent, home);
  assert.deepEqual(
    listing.folders.map((f) => f.name),
    ['1950s', '1962', 'album.jpg', 'Box 9', 'box 10'],
  );
  assert.deepEqual(
    listing.folders.map((f) => f.path),
    listing.folders.map((f) => path.join(dir, f.name)),
  );
  assert.deepEqual(
    listing.files.map((f) => [f.name, f.bytes]),
    [
      ['A.tif', 5],
      ['b.png', 5],
      ['c.webp', 6],
      ['d.gif', 5],
      ['e.TIFF', 6],
      ['IMG_1.jpeg', 10],
      ['img_2.JPG', 9],
      ['IMG_10.jpg', 10],
    ],
  );
  assert.deepEqual(listing.roots, [{ name: 'Home', path: home }]);
});

test('model files are listed instead of photos when asked for', async () => {
  const dir = path.join(home, 'Downloads');
  touch(path.join(dir, 'codeformer.pth'), 3);
  touch(path.join(dir, 'yunet.ONNX'), 4);
  touch(path.join(dir, 'photo.jpg'));
  const listing = await listFolder([], dir, 'models');
  assert.deepEqual(
    listing.files.map((f) => [f.name, f.bytes]),
    [
      ['codeformer.pth', 3],
      ['yunet.ONNX', 4],
    ],
  );
});

test('no path is the first root, whose parent is null; the folders given are roots too', async () => {
  touch(path.join(elsewhere, 'Photos', 'x.jpg'));
  const top = await listFolder([elsewhere]);
  assert.equal(top.path, home);
  assert.equal(top.parent, null);
  assert.deepEqual(top.roots, [
    { name: 'Home', path: home },
    { name: path.basename(elsewhere), path: elsewhere },
  ]);
  const given = await listFolder([elsewhere], elsewhere);
  assert.equal(given.parent, null, 'the top of a given root');
  const inside = await listFolder([elsewhere], path.join(elsewhere, 'Photos'));
  assert.equal(inside.parent, elsewhere);
  assert.deepEqual(
    inside.files.map((f) => f.path),
    [path.join(elsewhere, 'Photos', 'x.jpg')],
  );
  // A root that does not exist (a drive not mounted) is left out, not fatal.
  const roots = await listFolder([path.join(elsewhere, 'gone'), elsewhere]);
  assert.deepEqual(
    roots.roots.map((r) => r.path),
    [home, elsewhere],
  );
});

test('a path outside every root, or a link that leads out of them, is refused, naming the path', async () => {
  const outside = await refusal(listFolder([], elsewhere));
  assert.equal(outside.code, 'INVALID_INPUT');
  assert.match(outside.message, new RegExp(`${elsewhere}.*outside the folders Heirloom may browse`));
  // `..` is resolved before the check: it cannot climb out of home.
  const climbing = await refusal(listFolder([], path.join(home, '..', path.basename(elsewhere))));
  assert.equal(climbing.code, 'INVALID_INPUT');

  fs.mkdirSync(path.join(elsewhere, 'private'), { recursive: true });
  const link = path.join(home, 'escape');
  fs.symlinkSync(path.join(elsewhere, 'private'), link);
  const escaping = await refusal(listFolder([], link));
  assert.equal(escaping.code, 'INVALID_INPUT');
  assert.match(escaping.message, /escape/);
  // Not even listed: it could not be opened.
  assert.ok(!(await listFolder([])).folders.some((f) => f.name === 'escape'));

  // A link that stays inside is a folder like any other.
  fs.mkdirSync(path.join(home, 'Real'), { recursive: true });
  fs.symlinkSync(path.join(home, 'Real'), path.join(home, 'Shortcut'));
  const names = (await listFolder([])).folders.map((f) => f.name);
  assert.ok(names.includes('Shortcut') && names.includes('Real'), names.join(', '));
});

test('a missing folder is NOT_FOUND; a file, or a relative path, is INVALID_INPUT; each names the path', async () => {
  const missing = await refusal(listFolder([], path.join(home, 'no such folder')));
  assert.equal(missing.code, 'NOT_FOUND');
  assert.match(missing.message, /no such folder: .*no such folder$/);
  touch(path.join(home, 'a-file.jpg'));
  const file = await refusal(listFolder([], path.join(home, 'a-file.jpg')));
  assert.equal(file.code, 'INVALID_INPUT');
  assert.match(file.message, /a-file\.jpg is not a folder/);
  const relative = await refusal(listFolder([], 'Pictures'));
  assert.equal(relative.code, 'INVALID_INPUT');
  assert.match(relative.message, /must be absolute, not Pictures/);
});

test('entries that cannot be read (dangling links, link loops) are left out; the rest is listed', async () => {
  const dir = path.join(home, 'Odd');
  touch(path.join(dir, 'good.jpg'), 7);
  fs.symlinkSync(path.join(dir, 'deleted.jpg'), path.join(dir, 'dangling.jpg'));
  fs.symlinkSync(path.join(dir, 'loop-b.jpg'), path.join(dir, 'loop-a.jpg'));
  fs.symlinkSync(path.join(dir, 'loop-a.jpg'), path.join(dir, 'loop-b.jpg'));
  fs.symlinkSync(path.join(dir, 'nothing'), path.join(dir, 'dangling-folder'));
  fs.symlinkSync(path.join(dir, 'good.jpg'), path.join(dir, 'linked.jpg'));
  const listing = await listFolder([], dir);
  assert.deepEqual(
    listing.files.map((f) => [f.name, f.bytes]),
    [
      ['good.jpg', 7],
      ['linked.jpg', 7],
    ],
  );
  assert.deepEqual(listing.folders, []);
});

test('a folder of 10,000 files is listed whole and in order', async () => {
  const dir = path.join(home, 'Big');
  fs.mkdirSync(dir);
  for (let i = 0; i < 5000; i++) {
    fs.writeFileSync(path.join(dir, `scan ${i}.jpg`), '');
    fs.writeFileSync(path.join(dir, `scan ${i}.xmp`), '');
  }
  const listing = await listFolder([], dir);
  assert.equal(listing.files.length, 5000);
  assert.deepEqual(
    listing.files.slice(0, 3).map((f) => f.name),
    ['scan 0.jpg', 'scan 1.jpg', 'scan 2.jpg'],
  );
  assert.equal(listing.files.at(-1)!.name, 'scan 4999.jpg');
});

test('New folder makes the folder inside the one shown and lists it, empty, with the way back up', async () => {
  const exportsDir = path.join(home, 'Exports');
  fs.mkdirSync(exportsDir);
  const made = await createFolder([], exportsDir, 'Summer 1962 – restored');
  const folder = path.join(exportsDir, 'Summer 1962 – restored');
  assert.equal(fs.statSync(folder).isDirectory(), true);
  assert.deepEqual(
    [made.path, made.parent, made.folders, made.files, made.holdsOriginals],
    [folder, exportsDir, [], [], false],
  );
  assert.deepEqual(made.roots, [{ name: 'Home', path: home }]);
  // The folder it was made in lists it now, among the others.
  assert.ok((await listFolder([], exportsDir)).folders.some((f) => f.path === folder));
});

test('New folder refuses, in words, a name some system would not take, and makes nothing', async () => {
  const parent = path.join(home, 'Names');
  fs.mkdirSync(parent);
  const refused: [string, RegExp][] = [
    ['', /give the new folder a name/],
    ['   ', /give the new folder a name/],
    ['.', /“\.” is not a name a folder can have/],
    ['..', /“\.\.” is not a name a folder can have/],
    ['a/b', /cannot contain \/ or \\/],
    ['a\\b', /cannot contain \/ or \\/],
    ['1962: the beach', /cannot contain : \(Windows refuses them\)/],
    ['what? <really>', /cannot contain \? < > \(Windows refuses them\)/],
    ['tab\there', /cannot contain control characters/],
    ['final.', /cannot end with a space or a dot/],
    ['final ', /cannot end with a space or a dot/],
    ['.hidden', /hidden folder/],
    ['CON', /Windows keeps the name “CON” for a device/],
    ['nul.txt', /Windows keeps the name “nul\.txt” for a device/],
    ['x'.repeat(256), /too long/],
  ];
  for (const [name, words] of refused) {
    const error = await refusal(createFolder([], parent, name));
    assert.equal(error.code, 'INVALID_INPUT', name);
    assert.match(error.message, /^folder\.create: name: /, name);
    assert.match(error.message, words, name);
  }
  assert.deepEqual(fs.readdirSync(parent), []);
  // Names that look odd but every system takes.
  for (const name of ['1962 (beach)', 'Großmutter’s photos', 'CONSOLE', 'com0', '…and more']) {
    await createFolder([], parent, name);
  }
  assert.equal(fs.readdirSync(parent).length, 5);
});

test('New folder refuses a name already there (folder or file) as CONFLICT, and leaves it as it was', async () => {
  const parent = path.join(home, 'Taken');
  touch(path.join(parent, 'Exports', 'keep.jpg'), 4);
  touch(path.join(parent, 'notes'), 3);
  for (const name of ['Exports', 'notes']) {
    const error = await refusal(createFolder([], parent, name));
    assert.equal(error.code, 'CONFLICT', name);
    assert.match(error.message, new RegExp(`already something named “${name}” in ${parent}`));
  }
  assert.deepEqual(fs.readdirSync(path.join(parent, 'Exports')), ['keep.jpg']);
  assert.equal(fs.statSync(path.join(parent, 'notes')).size, 3);
});

test('New folder is confined like the listing: outside the roots, through a link out of them, or in no folder', async () => {
  const outside = await refusal(createFolder([], elsewhere, 'Exports'));
  assert.equal(outside.code, 'INVALID_INPUT');
  assert.match(outside.message, /^folder\.create: .* is outside the folders Heirloom may browse/);
  fs.mkdirSync(path.join(elsewhere, 'target'), { recursive: true });
  fs.symlinkSync(path.join(elsewhere, 'target'), path.join(home, 'way-out'));
  assert.equal(
    (await refusal(createFolder([], path.join(home, 'way-out'), 'Exports'))).code,
    'INVALID_INPUT',
  );
  assert.deepEqual(fs.readdirSync(path.join(elsewhere, 'target')), []);
  const missing = await refusal(createFolder([], path.join(home, 'not here'), 'Exports'));
  assert.equal(missing.code, 'NOT_FOUND');
  assert.equal(fs.existsSync(path.join(home, 'not here')), false);
  const relative = await refusal(createFolder([], 'Pictures', 'Exports'));
  assert.match(relative.message, /parent: must be absolute, not Pictures/);
  // A folder the host was given is a root like home.
  const given = await createFolder([elsewhere], elsewhere, 'Exports');
  assert.equal(given.path, path.join(elsewhere, 'Exports'));
});

test("the folders holding an album's originals are marked, in the listing and among its sub-folders, links too", async () => {
  const scans = path.join(home, 'Album scans');
  touch(path.join(scans, '1962', 'beach.jpg'));
  touch(path.join(scans, '1962', 'Restored', 'beach_restored.jpg'));
  fs.mkdirSync(path.join(scans, 'Empty'));
  fs.symlinkSync(path.join(scans, '1962'), path.join(home, 'Beach link'));
  const originals = await originalFolders([path.join(scans, '1962', 'beach.jpg')]);

  const above = await listFolder([], scans, 'photos', originals);
  assert.equal(above.holdsOriginals, false);
  assert.deepEqual(
    above.folders.map((f) => [f.name, f.holdsOriginals]),
    [
      ['1962', true],
      ['Empty', false],
    ],
  );
  assert.equal((await listFolder([], path.join(scans, '1962'), 'photos', originals)).holdsOriginals, true);
  // Only the folder itself: the one inside it holds no original.
  const inside = await listFolder([], path.join(scans, '1962', 'Restored'), 'photos', originals);
  assert.equal(inside.holdsOriginals, false);
  // Reached through a link, it is the same folder.
  assert.ok(
    (await listFolder([], home, 'photos', originals)).folders.find((f) => f.name === 'Beach link')!
      .holdsOriginals,
  );
  // Without an album, nothing is marked.
  assert.equal((await listFolder([], path.join(scans, '1962'))).holdsOriginals, false);
});

test('the limiter runs at most its number of tasks at once, and every task to its end', async () => {
  const limit = createLimiter(3);
  let running = 0;
  let most = 0;
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      limit(async () => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 1 + (i % 4)));
        running--;
        if (i === 7) throw new Error('seven');
        return i;
      }).catch((error: Error) => error.message),
    ),
  );
  assert.equal(most, 3);
  assert.deepEqual(
    results,
    Array.from({ length: 20 }, (_, i) => (i === 7 ? 'seven' : i)),
  );
});
