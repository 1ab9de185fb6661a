import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { expandInputs, writeNewFile } from '../../src-main/core/files.ts';
import { tempDir } from '../support/temp.ts';

/** A link() that fails as a FAT/exFAT stick or many network shares do: no hard links there. */
function noHardLinks(code: string) {
  return async (): Promise<void> => {
    throw Object.assign(new Error(`${code}: operation not permitted, link`), { code });
  };
}

describe('writing an output file', () => {
  test('never replaces an existing file: a taken name gets -1, -2, …', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'photo.jpg'), 'the original');
    const first = await writeNewFile(dir, 'photo', '.jpg', Buffer.from('one'));
    const second = await writeNewFile(dir, 'photo', '.jpg', Buffer.from('two'));
    assert.deepEqual([path.basename(first), path.basename(second)], ['photo-1.jpg', 'photo-2.jpg']);
    assert.equal(fs.readFileSync(path.join(dir, 'photo.jpg'), 'utf8'), 'the original');
    assert.equal(fs.readFileSync(second, 'utf8'), 'two');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['photo-1.jpg', 'photo-2.jpg', 'photo.jpg']);
  });

  for (const code of ['EPERM', 'ENOTSUP', 'EISDIR']) {
    test(`works where the file system has no hard links (link fails with ${code}), still never replacing a file`, async () => {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, 'photo.png'), 'the original');
      const written = await writeNewFile(dir, 'photo', '.png', Buffer.from('restored'), {
        link: noHardLinks(code),
      });
      assert.equal(path.basename(written), 'photo-1.png');
      assert.equal(fs.readFileSync(written, 'utf8'), 'restored');
      assert.equal(fs.readFileSync(path.join(dir, 'photo.png'), 'utf8'), 'the original');
      assert.deepEqual(fs.readdirSync(dir).sort(), ['photo-1.png', 'photo.png'], 'no temporary file is left');
    });
  }

  test('a real failure to write is reported, and leaves nothing behind', async () => {
    const dir = tempDir();
    const failing = async (): Promise<void> => {
      throw Object.assign(new Error('EIO: i/o error, link'), { code: 'EIO' });
    };
    await assert.rejects(writeNewFile(dir, 'photo', '.png', Buffer.from('x'), { link: failing }), /EIO/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});

describe('expanding the inputs of a batch', () => {
  test('a folder gives its photos, following links; a dangling link stays listed to be reported', async () => {
    const dir = tempDir();
    const elsewhere = tempDir();
    fs.writeFileSync(path.join(dir, 'b.jpg'), 'x');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
    fs.writeFileSync(path.join(elsewhere, 'real.png'), 'x');
    fs.symlinkSync(path.join(elsewhere, 'real.png'), path.join(dir, 'a.png'));
    fs.symlinkSync(path.join(elsewhere, 'gone.png'), path.join(dir, 'c.png'));
    fs.mkdirSync(path.join(elsewhere, 'sub.jpg'));
    fs.symlinkSync(path.join(elsewhere, 'sub.jpg'), path.join(dir, 'd.jpg'));
    const files = (await expandInputs([dir])).map((f) => path.basename(f));
    assert.deepEqual(files, ['a.png', 'b.jpg', 'c.png']);
  });

  test('a folder with no photos stays in the list, so it is reported instead of doing nothing', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
    assert.deepEqual(await expandInputs([dir]), [dir]);
  });
});
