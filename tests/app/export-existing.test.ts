import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Core } from '../../src-main/core/app.ts';
import { coreFor } from '../support/core.ts';
import { photo, YUNET } from '../support/paths.ts';
import { fidelityBlendRestorer } from '../support/restorers.ts';
import { tempDir } from '../support/temp.ts';

/*
 * Exporting where files are already there: export.plan says which names are taken and by what before anything
 * is written; "Keep both" (the default) adds -1, "Replace earlier exports" overwrites only what an earlier export
 * of Heirloom wrote. And no export goes where the album's originals are, however the folder is named.
 */

const cores: Core[] = [];
after(() => Promise.all(cores.map((c) => c.close())));

const FACES = ['0143', '0240', '0342'];

async function albumOf(names: Record<string, string>) {
  const root = fs.realpathSync(tempDir());
  const photos = path.join(root, 'photos');
  for (const [name, from] of Object.entries(names)) {
    fs.mkdirSync(path.dirname(path.join(photos, name)), { recursive: true });
    fs.copyFileSync(from, path.join(photos, name));
  }
  const restorer = path.join(root, 'restorer.onnx');
  fs.writeFileSync(restorer, fidelityBlendRestorer());
  const core = coreFor(
    path.join(root, 'data'),
    { detector: YUNET, restorer },
    { config: { browseRoots: [root] } },
  );
  cores.push(core);
  const album = await core.dispatch('album.create', { name: 'Faces' });
  // A folder brings the photos directly inside it.
  const folders = [...new Set(Object.keys(names).map((name) => path.dirname(path.join(photos, name))))];
  await core.dispatch('photo.import', { albumId: album.id, paths: folders });
  await core.idle();
  const list = await core.dispatch('photo.list', { albumId: album.id });
  return { core, album, root, photos, list, out: path.join(root, 'out') };
}

const faces = () =>
  albumOf(
    Object.fromEntries(FACES.map((n) => [`${n}.png`, photo(`CodeFormer/inputs/cropped_faces/${n}.png`)])),
  );

async function exported(core: Core, input: Parameters<Core['dispatch']>[1]): Promise<void> {
  const job = await core.dispatch('export.start', input);
  await core.idle();
  const done = await core.dispatch('job.get', { jobId: job.id });
  assert.deepEqual([done.state, done.failed], ['done', 0], JSON.stringify(done.items));
}

/** A file's identity: a replaced file is a new one (renamed over the name), a kept one is the same. */
const inode = (file: string): number => fs.statSync(file).ino;

test('export.plan names the files an export would write, and says which are there already and whose', async () => {
  const { core, album, list, out } = await faces();
  const names = FACES.map((n) => `${n}_restored.png`);
  // Nothing there yet, not even the folder.
  const first = await core.dispatch('export.plan', { albumId: album.id, folder: out });
  assert.equal(first.folder, out);
  assert.deepEqual(
    first.files.map((f) => [f.photoId, f.name, f.existing]),
    list.map((p, i) => [p.id, names[i], 'none']),
  );
  assert.equal(fs.existsSync(out), false, 'a plan writes nothing');

  await exported(core, { photoIds: [list[0]!.id, list[1]!.id], folder: out });
  fs.writeFileSync(path.join(out, names[2]!), 'my own picture');
  const second = await core.dispatch('export.plan', { albumId: album.id, folder: out });
  assert.deepEqual(
    second.files.map((f) => f.existing),
    ['export', 'export', 'other'],
  );
  // The same choices as export.start: another pattern and format name other files.
  const webp = await core.dispatch('export.plan', {
    photoIds: [list[0]!.id],
    folder: out,
    format: 'webp',
    pattern: '{album} {name}',
  });
  assert.deepEqual(webp.files, [{ photoId: list[0]!.id, name: 'Faces 0143.webp', existing: 'none' }]);
});

test('Replace earlier exports overwrites what an earlier export wrote; a file of the user of that name is kept, and the new one gets -1', async () => {
  const { core, album, list, out } = await faces();
  const [a, b, c] = FACES.map((n) => path.join(out, `${n}_restored.png`)) as [string, string, string];
  await exported(core, { photoIds: [list[0]!.id, list[1]!.id], folder: out });
  const before = { a: inode(a), b: inode(b) };
  // The user edited one export afterwards, and put a file of their own where the third photo's would go.
  const later = new Date(Date.now() + 10 * 60_000);
  fs.utimesSync(b, later, later);
  const edited = fs.readFileSync(b);
  fs.writeFileSync(c, 'my own picture');
  assert.deepEqual(
    (await core.dispatch('export.plan', { albumId: album.id, folder: out })).files.map((f) => f.existing),
    ['export', 'other', 'other'],
  );

  await exported(core, { albumId: album.id, folder: out, existing: 'replace' });
  assert.deepEqual(fs.readdirSync(out).sort(), [
    '0143_restored.png',
    '0240_restored-1.png',
    '0240_restored.png',
    '0342_restored-1.png',
    '0342_restored.png',
  ]);
  assert.notEqual(inode(a), before.a, 'the earlier export was replaced by a new file');
  assert.equal(inode(b), before.b, 'the edited export is kept');
  assert.deepEqual(fs.readFileSync(b), edited);
  assert.equal(fs.readFileSync(c, 'utf8'), 'my own picture');
  // The history says where each photo went this time.
  const history = await core.dispatch('export.history', { albumId: album.id });
  assert.deepEqual(
    history
      .slice(0, 3)
      .map((r) => path.basename(r.output))
      .sort(),
    ['0143_restored.png', '0240_restored-1.png', '0342_restored-1.png'],
  );
  // Replaced again: still one file of that name, and the -1 copies of the last export are replaced in turn.
  await exported(core, { albumId: album.id, folder: out, existing: 'replace' });
  assert.equal(fs.readdirSync(out).length, 5);
});

test('Keep both, the default, never replaces: an earlier export gets a copy with -1 beside it', async () => {
  const { core, list, out } = await faces();
  const photoIds = [list[0]!.id];
  await exported(core, { photoIds, folder: out });
  const first = inode(path.join(out, '0143_restored.png'));
  await exported(core, { photoIds, folder: out });
  await exported(core, { photoIds, folder: out, existing: 'keep' });
  assert.deepEqual(fs.readdirSync(out).sort(), [
    '0143_restored-1.png',
    '0143_restored-2.png',
    '0143_restored.png',
  ]);
  assert.equal(inode(path.join(out, '0143_restored.png')), first);
});

test('two photos of one name in one export never replace each other, and replace their own earlier copies', async () => {
  const { core, album, out } = await albumOf({
    '1962/beach.png': photo('CodeFormer/inputs/cropped_faces/0143.png'),
    '1963/beach.png': photo('CodeFormer/inputs/cropped_faces/0240.png'),
  });
  await exported(core, { albumId: album.id, folder: out });
  assert.deepEqual(fs.readdirSync(out).sort(), ['beach_restored-1.png', 'beach_restored.png']);
  const plan = await core.dispatch('export.plan', { albumId: album.id, folder: out });
  assert.deepEqual(
    plan.files.map((f) => [f.name, f.existing]),
    [
      ['beach_restored.png', 'export'],
      ['beach_restored.png', 'export'],
    ],
  );
  await exported(core, { albumId: album.id, folder: out, existing: 'replace' });
  assert.deepEqual(fs.readdirSync(out).sort(), ['beach_restored-1.png', 'beach_restored.png']);
});

test("no export goes where the album's originals are: listed as such, refused by plan and start, through a link too", async () => {
  const { core, album, list, root, photos, out } = await faces();
  // The folder picker marks it, from above and inside.
  const above = await core.dispatch('folder.list', { path: root, albumId: album.id });
  assert.deepEqual(
    above.folders.map((f) => [f.name, f.holdsOriginals]),
    [
      ['data', false],
      ['photos', true],
    ],
  );
  assert.equal(
    (await core.dispatch('folder.list', { path: photos, albumId: album.id })).holdsOriginals,
    true,
  );
  assert.equal(
    (await core.dispatch('folder.list', { path: photos })).holdsOriginals,
    false,
    'no album asked',
  );
  await assert.rejects(core.dispatch('folder.list', { path: photos, albumId: 999 }), { code: 'NOT_FOUND' });

  const link = path.join(root, 'shortcut');
  fs.symlinkSync(photos, link);
  for (const folder of [photos, link, `${photos}/`]) {
    for (const route of ['export.plan', 'export.start'] as const) {
      await assert.rejects(core.dispatch(route, { albumId: album.id, folder }), {
        code: 'INVALID_INPUT',
        message: new RegExp(
          `^${route.replace('.', '\\.')}: folder: .* holds originals \\(0143\\.png\\); choose another folder$`,
        ),
      });
    }
  }
  // Exporting one photo is refused too where the album's other photos are.
  fs.mkdirSync(path.join(photos, 'more'));
  fs.renameSync(path.join(photos, '0342.png'), path.join(photos, 'more', '0342.png'));
  await core.dispatch('photo.import', { albumId: album.id, paths: [path.join(photos, 'more', '0342.png')] });
  await core.idle();
  await assert.rejects(
    core.dispatch('export.start', { photoIds: [list[0]!.id], folder: path.join(photos, 'more') }),
    {
      message: /holds originals \(0342\.png\)/,
    },
  );
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(fs.readdirSync(photos).sort(), ['0143.png', '0240.png', 'more']);
});

test('New folder through the core: made inside the folder shown, refused in words when the name cannot be', async () => {
  const { core, album, root, photos } = await faces();
  const made = await core.dispatch('folder.create', { parent: root, name: 'Restored', albumId: album.id });
  assert.deepEqual([made.path, made.parent, made.holdsOriginals], [path.join(root, 'Restored'), root, false]);
  await assert.rejects(core.dispatch('folder.create', { parent: root, name: 'Restored' }), {
    code: 'CONFLICT',
    message: /already something named “Restored”/,
  });
  await assert.rejects(core.dispatch('folder.create', { parent: root, name: 'a/b' }), {
    code: 'INVALID_INPUT',
    message: /^folder\.create: name: a folder name cannot contain \/ or \\$/,
  });
  await assert.rejects(core.dispatch('folder.create', { parent: root }), {
    code: 'INVALID_INPUT',
    message: /name/,
  });
  assert.deepEqual(fs.readdirSync(photos).sort(), ['0143.png', '0240.png', '0342.png']);
});
