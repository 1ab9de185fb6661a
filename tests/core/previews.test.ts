import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pruneCache } from '../../src-main/core/previews.ts';
import { tempDir } from '../support/temp.ts';

test('the render cache keeps the most recently used files under its limit and removes the rest', async () => {
  const dir = tempDir();
  const made: string[] = [];
  for (const [i, kind] of ['preview', 'before', 'render', 'preview', 'render'].entries()) {
    fs.mkdirSync(path.join(dir, kind), { recursive: true });
    const file = path.join(dir, kind, `${i}.png`);
    fs.writeFileSync(file, Buffer.alloc(1000));
    const when = new Date(Date.UTC(2026, 0, 1 + i));
    fs.utimesSync(file, when, when);
    made.push(file);
  }
  // Used again today: the oldest file is now the most recent.
  fs.utimesSync(made[0]!, new Date(), new Date());
  fs.writeFileSync(path.join(dir, 'library.db'), 'not the cache: never touched');

  await pruneCache(dir, 2500);
  assert.deepEqual(
    made.map((f) => fs.existsSync(f)),
    [true, false, false, false, true],
  );
  await pruneCache(dir, 10_000);
  assert.equal(fs.readdirSync(path.join(dir, 'render')).length, 1, 'under the limit nothing goes');
  assert.equal(fs.readFileSync(path.join(dir, 'library.db'), 'utf8'), 'not the cache: never touched');
});
