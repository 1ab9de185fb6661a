import type Database from 'better-sqlite3';

export const version = 2;
export const name = 'jobs and exports';

/*
 * - Every column that references another table is indexed: a cascade or SET NULL looks up the child rows by
 *   it, and without an index, removing 10,000 photos would scan job_items and exports once per photo.
 * - job_items.path is the photo's path when the job was made: the item stays readable after its photo is
 *   removed (photo_id then becomes NULL).
 * - job_items.temp_path / output_path are set before an export's file is written, so that after a crash the
 *   resumed job knows which temp file to clean up.
 * - exports are the history of what was written, kept when the photo or the job is forgotten (SET NULL), and
 *   gone with their album: the album's decisions go with it, the written files are never touched.
 */
export function up(db: Database.Database): void {
  db.exec(`
    CREATE TABLE jobs (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      kind TEXT NOT NULL CHECK (kind IN ('detect', 'export')),
      state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
      album_id INTEGER REFERENCES albums (id) ON DELETE CASCADE,
      params TEXT NOT NULL DEFAULT '{}',
      total INTEGER NOT NULL DEFAULT 0,
      done INTEGER NOT NULL DEFAULT 0,
      failed INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      finished_at TEXT,
      error TEXT
    );
    CREATE INDEX jobs_by_album ON jobs (album_id);

    CREATE TABLE job_items (
      job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      seq INTEGER NOT NULL,
      photo_id INTEGER REFERENCES photos (id) ON DELETE SET NULL,
      path TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'writing', 'done', 'failed')),
      temp_path TEXT,
      output_path TEXT,
      error TEXT,
      PRIMARY KEY (job_id, seq)
    ) WITHOUT ROWID;
    CREATE INDEX job_items_by_photo ON job_items (photo_id);

    CREATE TABLE exports (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      job_id INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
      photo_id INTEGER REFERENCES photos (id) ON DELETE SET NULL,
      album_id INTEGER NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
      output TEXT NOT NULL,
      created_at TEXT NOT NULL,
      model_name TEXT NOT NULL,
      model_sha256 TEXT NOT NULL,
      faces TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX exports_by_job ON exports (job_id);
    CREATE INDEX exports_by_photo ON exports (photo_id);
    CREATE INDEX exports_by_album ON exports (album_id);
  `);
}
