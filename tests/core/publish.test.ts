import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { publish, recover, temporaryName } from '../../src-main/core/publish.ts';
import { tempDir } from '../support/temp.ts';

function written(folder: string, bytes = 'photo'): string {
  const temp = temporaryName(folder, 7, 3);
  fs.writeFileSync(temp, bytes);
  return temp;
}

test('publish gives the first free name, commits it, then removes the temporary name', async () => {
  const folder = tempDir();
  fs.writeFileSync(path.join(folder, 'a_restored.jpg'), 'someone else');
  const temp = written(folder);
  const committed: string[] = [];
  const final = await publish(temp, folder, 'a_restored', '.jpg', (f) => {
    // At commit time the file is already complete under its final name.
    assert.equal(fs.readFileSync(f, 'utf8'), 'photo');
    committed.push(f);
  });
  assert.equal(final, path.join(folder, 'a_restored-1.jpg'));
  assert.deepEqual(committed, [final]);
  assert.equal(fs.readFileSync(path.join(folder, 'a_restored.jpg'), 'utf8'), 'someone else');
  assert.equal(fs.existsSync(temp), false);
});

test('a commit that fails leaves the temporary file for recovery, which finds the published name', async () => {
  const folder = tempDir();
  const temp = written(folder);
  // The crash this stands for: the link was made, the database transaction never ran.
  await assert.rejects(
    publish(temp, folder, 'b', '.png', () => {
      throw new Error('killed before the commit');
    }),
  );
  assert.equal(fs.existsSync(temp), true);
  const found = await recover(temp, folder, 'b', '.png');
  assert.equal(found, path.join(folder, 'b.png'));
  assert.equal(fs.existsSync(temp), false);
  assert.deepEqual(fs.readdirSync(folder), ['b.png']);
});

test('recovery removes a partial write that was never published, and finds nothing to record', async () => {
  const folder = tempDir();
  fs.writeFileSync(path.join(folder, 'c.png'), 'an older export, not ours');
  const temp = written(folder, 'half a pho');
  assert.equal(await recover(temp, folder, 'c', '.png'), undefined);
  assert.deepEqual(fs.readdirSync(folder), ['c.png']);
  assert.equal(await recover(temp, folder, 'c', '.png'), undefined, 'nothing left: nothing to do');
});

test('without hard links the name is reserved and the file renamed over it, never over a taken name', async () => {
  const folder = tempDir();
  fs.writeFileSync(path.join(folder, 'd.tif'), 'taken');
  const temp = written(folder);
  const noLinks = async (): Promise<void> => {
    throw Object.assign(new Error('operation not permitted'), { code: 'EPERM' });
  };
  const final = await publish(temp, folder, 'd', '.tif', () => {}, noLinks);
  assert.equal(final, path.join(folder, 'd-1.tif'));
  assert.equal(fs.readFileSync(final, 'utf8'), 'photo');
  assert.equal(fs.readFileSync(path.join(folder, 'd.tif'), 'utf8'), 'taken');
  assert.equal(fs.existsSync(temp), false);
});
