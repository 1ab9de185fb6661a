import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { AppError } from '../../src-main/contract/errors.ts';
import { createAlbum, listAlbums } from '../../src-main/core/library/albums.ts';
import { openLibrary } from '../../src-main/core/library/db.ts';
import { LATEST_VERSION } from '../../src-main/core/library/migrate.ts';
import { tempDir } from '../support/temp.ts';
import { newLibrary } from './helpers.ts';

/** A real library of a few pages, closed, as bytes. */
function libraryBytes(): Buffer {
  const file = path.join(tempDir(), 'library.db');
  const lib = openLibrary(file);
  for (let i = 0; i < 300; i++) createAlbum(lib, `Album ${i} ${'x'.repeat(100)}`);
  lib.close();
  return fs.readFileSync(file);
}

/**
 * The files of a library as a crash leaves them: the last writes still in its write-ahead log (-wal), not yet
 * folded into the file. `write` runs on the library before the "crash".
 */
function crashedLibrary(write: (db: Database.Database) => void): string {
  const running = path.join(tempDir(), 'library.db');
  openLibrary(running).close();
  const db = new Database(running);
  db.pragma('wal_autocheckpoint = 0');
  write(db);
  const file = path.join(tempDir(), 'library.db');
  for (const suffix of ['', '-wal', '-shm']) fs.copyFileSync(running + suffix, file + suffix);
  db.close();
  return file;
}

/** Writes `bytes` as a library, opens it, and checks the refusal and that the folder is exactly as it was. */
function assertRefusedUntouched(bytes: Uint8Array, reason: RegExp): void {
  const dir = tempDir();
  const file = path.join(dir, 'library.db');
  fs.writeFileSync(file, bytes);
  assert.throws(
    () => openLibrary(file),
    (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, 'IO');
      assert.match(error.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
      assert.match(error.message, reason);
      assert.match(error.message, /It was left as it is/);
      return true;
    },
  );
  assert.deepEqual(fs.readFileSync(file), Buffer.from(bytes), 'the file is byte for byte as it was');
  assert.deepEqual(fs.readdirSync(dir), ['library.db'], 'nothing was written beside it');
}

describe('opening the library', () => {
  test('creates the library and its folder, in WAL mode with foreign keys on', (t) => {
    const lib = newLibrary(t);
    assert.ok(fs.existsSync(lib.file));
    assert.equal(lib.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(lib.db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(lib.db.pragma('busy_timeout', { simple: true }), 5000);
    assert.equal(lib.db.pragma('user_version', { simple: true }), LATEST_VERSION);
  });

  test('opened again, keeps what it holds', () => {
    const file = path.join(tempDir(), 'library.db');
    const first = openLibrary(file);
    createAlbum(first, 'Grandma');
    first.close();
    const again = openLibrary(file);
    assert.deepEqual(
      listAlbums(again).map((a) => a.name),
      ['Grandma'],
    );
    again.close();
  });

  test('left by a crash, opens with the writes that were still in its write-ahead log', () => {
    const file = crashedLibrary((db) => {
      db.prepare(
        `INSERT INTO albums (name, name_key, created_at) VALUES ('Grandma', 'grandma', 'now')`,
      ).run();
    });
    assert.ok(fs.statSync(`${file}-wal`).size > 0);
    const lib = openLibrary(file);
    assert.deepEqual(
      listAlbums(lib).map((a) => a.name),
      ['Grandma'],
    );
    lib.close();
  });

  test('an empty file is a new library: it held nothing to lose', () => {
    const file = path.join(tempDir(), 'library.db');
    fs.writeFileSync(file, '');
    const lib = openLibrary(file);
    assert.deepEqual(listAlbums(lib), []);
    lib.close();
  });

  test('a transaction keeps all of its writes or none', (t) => {
    const lib = newLibrary(t);
    assert.throws(() =>
      lib.transaction(() => {
        createAlbum(lib, 'Kept only if all goes well');
        throw new Error('the disk is full');
      }),
    );
    assert.deepEqual(listAlbums(lib), []);
    // A repository's own transaction inside the caller's is part of it, and is undone with it.
    assert.throws(() =>
      lib.transaction(() => {
        lib.transaction(() => createAlbum(lib, 'Nested'));
        throw new Error('later failure');
      }),
    );
    assert.deepEqual(listAlbums(lib), []);
  });
});

describe('a file that is not a library we can read is refused, and left exactly as it is', () => {
  test('a text file named library.db', () => {
    assertRefusedUntouched(Buffer.from('my notes\n'.repeat(50)), /not an SQLite database/);
  });

  test('a photo named library.db, shorter than a database header', () => {
    assertRefusedUntouched(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), /not an SQLite database/);
  });

  test('a library cut short in its header', () => {
    assertRefusedUntouched(libraryBytes().subarray(0, 60), /cut short/);
  });

  test('a library truncated to half its pages', () => {
    const bytes = libraryBytes();
    assertRefusedUntouched(bytes.subarray(0, bytes.length / 2), /not a readable Heirloom library \(damaged/);
  });

  test('a library whose pages past the first were overwritten', () => {
    const bytes = Buffer.from(libraryBytes());
    assert.ok(bytes.length > 8 * 4096, 'a library of several pages');
    bytes.fill(0x41, 4096, bytes.length - 4096);
    assertRefusedUntouched(bytes, /not a readable Heirloom library \(damaged/);
  });

  test('a library with a few damaged pages that only a check of every page finds', () => {
    const bytes = Buffer.from(libraryBytes());
    bytes.fill(0x41, 4 * 4096, 6 * 4096);
    assertRefusedUntouched(bytes, /not a readable Heirloom library \(damaged: .*page/);
  });

  test('a library from a newer Heirloom, saying so', () => {
    const dir = tempDir();
    const file = path.join(dir, 'library.db');
    openLibrary(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    assertRefusedUntouched(
      fs.readFileSync(file),
      new RegExp(`newer Heirloom.*reads up to ${LATEST_VERSION}`),
    );
  });

  test('a library from a newer Heirloom that crashed, its last writes still in its log: file and log unchanged', () => {
    const file = crashedLibrary((db) => db.pragma(`user_version = ${LATEST_VERSION + 1}`));
    // The -shm file is not compared: it is SQLite's shared-memory index of the log, rebuilt by every reader,
    // holding nothing persistent (https://sqlite.org/walformat.html).
    const before = ['', '-wal'].map((suffix) => fs.readFileSync(file + suffix));
    assert.throws(() => openLibrary(file), /newer Heirloom/);
    assert.deepEqual(
      ['', '-wal'].map((suffix) => fs.readFileSync(file + suffix)),
      before,
    );
  });

  test("another program's SQLite database", () => {
    const file = path.join(tempDir(), 'other.db');
    const db = new Database(file);
    db.exec('CREATE TABLE recipes (name TEXT)');
    db.close();
    assertRefusedUntouched(fs.readFileSync(file), /another program's SQLite database/);
  });
});
