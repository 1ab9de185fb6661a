import type Database from 'better-sqlite3';

export const version = 1;
export const name = 'albums, photos and faces';

/*
 * Why the schema is as it is:
 * - AUTOINCREMENT ids are never reused. Caches and the renderer key pixels and views by id: with plain rowids,
 *   re-detecting the newest photo's faces (delete, then insert) would hand the new faces the old faces' ids,
 *   and a cached preview of one face would be shown for another.
 * - albums.name_key is the name folded for comparison (see albums.ts), unique: "Grandma" and "grandma" would
 *   confuse a user as two albums. NOCASE only folds ASCII, so the fold is done in JS, where Unicode is known.
 * - photos are kept by reference (path, sha256 of the content, size and mtime to notice an edit).
 *   UNIQUE(album_id, path) is also the index for "photos of an album, ordered by path": a separate index on
 *   album_id would only cost writes.
 * - the face box is box_x, box_y, box_width, box_height: in this project `w` is CodeFormer's fidelity.
 * - faces(photo_id, enabled) lets the photo list count faces and enabled faces from the index alone.
 * - CHECKs hold the contract's enumerations and ranges, so a bug cannot store a state no code expects.
 */
export function up(db: Database.Database): void {
  db.exec(`
    CREATE TABLE albums (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL,
      name_key TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL,
      fidelity REAL NOT NULL DEFAULT 0.5 CHECK (fidelity BETWEEN 0 AND 1),
      format TEXT NOT NULL DEFAULT 'original' CHECK (format IN ('original', 'jpeg', 'png', 'webp', 'tiff')),
      pattern TEXT NOT NULL DEFAULT '{name}_restored',
      folder TEXT,
      quality INTEGER CHECK (quality BETWEEN 1 AND 100),
      provenance INTEGER NOT NULL DEFAULT 1 CHECK (provenance IN (0, 1))
    );

    CREATE TABLE photos (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      album_id INTEGER NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
      path TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      mtime_ms REAL NOT NULL,
      width INTEGER NOT NULL DEFAULT 0,
      height INTEGER NOT NULL DEFAULT 0,
      state TEXT NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'missing', 'unreadable', 'changed')),
      detection TEXT NOT NULL DEFAULT 'pending' CHECK (detection IN ('pending', 'done', 'failed')),
      error TEXT,
      added_at TEXT NOT NULL,
      UNIQUE (album_id, path)
    );
    CREATE INDEX photos_by_sha256 ON photos (sha256);

    CREATE TABLE faces (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      photo_id INTEGER NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
      box_x REAL NOT NULL,
      box_y REAL NOT NULL,
      box_width REAL NOT NULL CHECK (box_width > 0),
      box_height REAL NOT NULL CHECK (box_height > 0),
      landmarks TEXT NOT NULL,
      score REAL NOT NULL,
      origin TEXT NOT NULL CHECK (origin IN ('detected', 'drawn')),
      enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
      fidelity REAL NOT NULL CHECK (fidelity BETWEEN 0 AND 1)
    );
    CREATE INDEX faces_by_photo ON faces (photo_id, enabled);
  `);
}
