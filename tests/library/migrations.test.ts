import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { listAlbums } from '../../src-main/core/library/albums.ts';
import { openLibrary } from '../../src-main/core/library/db.ts';
import { createJob, getJob } from '../../src-main/core/library/jobs.ts';
import { addExport, listExports } from '../../src-main/core/library/exports.ts';
import { listFaces } from '../../src-main/core/library/faces.ts';
import { LATEST_VERSION, migrate } from '../../src-main/core/library/migrate.ts';
import { MIGRATIONS } from '../../src-main/core/library/migrations/index.ts';
import { listPhotos } from '../../src-main/core/library/photos.ts';
import { getSettings, updateSettings } from '../../src-main/core/library/settings.ts';
import { tempDir } from '../support/temp.ts';
import { photoUrl } from './helpers.ts';

/** A library file migrated only up to `version`, as an older Heirloom left it. */
function libraryAt(version: number): { file: string; db: Database.Database } {
  const file = path.join(tempDir(), 'library.db');
  const db = new Database(file);
  db.pragma('foreign_keys = ON');
  migrate(db, version);
  return { file, db };
}

function tables(db: Database.Database): string[] {
  return db
    .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
    .pluck()
    .all() as string[];
}

/** What a version-1 Heirloom would have stored: an album, two photos, faces. */
function insertVersion1Data(db: Database.Database): void {
  db.exec(`
    INSERT INTO albums (id, name, name_key, created_at, fidelity) VALUES (1, 'Grandma', 'grandma', '2024-01-01T00:00:00.000Z', 0.7);
    INSERT INTO photos (id, album_id, path, sha256, bytes, mtime_ms, width, height, detection, added_at)
      VALUES (1, 1, '/photos/a.jpg', 'aa', 100, 1.5, 640, 480, 'done', '2024-01-01T00:00:00.000Z'),
             (2, 1, '/photos/b.jpg', 'bb', 200, 2.5, 0, 0, 'pending', '2024-01-01T00:00:00.000Z');
    INSERT INTO faces (photo_id, box_x, box_y, box_width, box_height, landmarks, score, origin, enabled, fidelity)
      VALUES (1, 10, 10, 50, 50, '[[1,1],[2,1],[1.5,2],[1,3],[2,3]]', 0.9, 'detected', 1, 0.7),
             (1, 100, 10, 50, 50, '[[1,1],[2,1],[1.5,2],[1,3],[2,3]]', 1, 'drawn', 0, 0.3);
  `);
}

describe('migrations', () => {
  test('are numbered 1, 2, 3… in order, each with a name', () => {
    assert.deepEqual(
      MIGRATIONS.map((m) => m.version),
      MIGRATIONS.map((_, i) => i + 1),
    );
    for (const m of MIGRATIONS) assert.ok(m.name.length > 0);
    assert.equal(LATEST_VERSION, MIGRATIONS.length);
  });

  test('001 makes an empty database a version 1 library of albums, photos and faces', () => {
    const { db } = libraryAt(1);
    assert.equal(db.pragma('user_version', { simple: true }), 1);
    assert.deepEqual(tables(db), ['albums', 'faces', 'photos']);
    insertVersion1Data(db);
    assert.deepEqual(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
  });

  test('002 keeps the albums, photos and faces of a version 1 library, and adds jobs and exports', () => {
    const { file, db } = libraryAt(1);
    insertVersion1Data(db);
    db.close();

    const lib = openLibrary(file);
    assert.equal(lib.db.pragma('user_version', { simple: true }), LATEST_VERSION);
    const [album] = listAlbums(lib);
    assert.deepEqual([album?.name, album?.photoCount, album?.faceCount], ['Grandma', 2, 2]);
    const photos = listPhotos(lib, 1, photoUrl);
    assert.deepEqual(
      photos.map((p) => [p.path, p.width, p.detection, p.faceCount, p.enabledFaceCount, p.exportedAt]),
      [
        ['/photos/a.jpg', 640, 'done', 2, 1, null],
        ['/photos/b.jpg', 0, 'pending', 0, 0, null],
      ],
    );
    assert.deepEqual(
      listFaces(lib, 1).map((f) => [f.origin, f.enabled, f.fidelity]),
      [
        ['detected', true, 0.7],
        ['drawn', false, 0.3],
      ],
    );

    const job = createJob(lib, { kind: 'export', albumId: 1, photoIds: [1, 2] });
    assert.equal(getJob(lib, job.id).items?.length, 2);
    addExport(lib, {
      jobId: job.id,
      photoId: 1,
      output: '/out/a_restored.jpg',
      model: { name: 'codeformer', sha256: 'cc' },
      faces: [{ faceId: 1, fidelity: 0.7 }],
    });
    assert.equal(listExports(lib, { albumId: 1 }).length, 1);
    lib.close();
  });

  test('003 keeps the jobs and exports of a version 2 library, and adds settings', () => {
    const { file, db } = libraryAt(2);
    insertVersion1Data(db);
    db.exec(`
      INSERT INTO jobs (id, kind, state, album_id, total, done, created_at) VALUES (1, 'export', 'done', 1, 1, 1, '2024-01-02T00:00:00.000Z');
      INSERT INTO job_items (job_id, seq, photo_id, path, state, output_path) VALUES (1, 1, 1, '/photos/a.jpg', 'done', '/out/a.jpg');
      INSERT INTO exports (job_id, photo_id, album_id, output, created_at, model_name, model_sha256, faces)
        VALUES (1, 1, 1, '/out/a.jpg', '2024-01-02T00:00:00.000Z', 'codeformer', 'cc', '[{"faceId":1,"fidelity":0.7}]');
    `);
    db.close();

    const lib = openLibrary(file);
    const job = getJob(lib, 1);
    assert.deepEqual([job.state, job.done, job.items?.[0]?.output], ['done', 1, '/out/a.jpg']);
    assert.equal(listPhotos(lib, 1, photoUrl)[0]?.exportedAt, '2024-01-02T00:00:00.000Z');
    assert.deepEqual(listExports(lib, { photoId: 1 })[0]?.faces, [{ faceId: 1, fidelity: 0.7 }]);
    assert.deepEqual(getSettings(lib), {
      defaultFidelity: 0.5,
      provenance: true,
      provider: 'auto',
      modelMirror: '',
    });
    assert.deepEqual(updateSettings(lib, { provenance: false }), {
      defaultFidelity: 0.5,
      provenance: false,
      provider: 'auto',
      modelMirror: '',
    });
    lib.close();
  });

  test('004 numbers the faces of a version 3 library in reading order, and marks what needs review', () => {
    const { file, db } = libraryAt(3);
    insertVersion1Data(db);
    // A third face, left of the others on photo 1 (inserted last), and photo 2 exported once.
    db.exec(`
      UPDATE photos SET detection = 'done' WHERE id = 2;
      INSERT INTO faces (photo_id, box_x, box_y, box_width, box_height, landmarks, score, origin, enabled, fidelity)
        VALUES (1, 0, 12, 5, 50, '[[1,1],[2,1],[1.5,2],[1,3],[2,3]]', 0.9, 'detected', 1, 0.7),
               (2, 0, 0, 50, 50, '[[1,1],[2,1],[1.5,2],[1,3],[2,3]]', 0.9, 'detected', 1, 0.7);
      INSERT INTO jobs (id, kind, state, album_id, total, done, created_at) VALUES (1, 'export', 'done', 1, 1, 1, '2024-01-02T00:00:00.000Z');
      INSERT INTO exports (job_id, photo_id, album_id, output, created_at, model_name, model_sha256, faces)
        VALUES (1, 2, 1, '/out/b.jpg', '2024-01-02T00:00:00.000Z', 'codeformer', 'cc', '[]');
    `);
    db.close();

    const lib = openLibrary(file);
    assert.deepEqual(
      listFaces(lib, 1).map((f) => [f.number, f.box[0]]),
      [
        [1, 0],
        [2, 10],
        [3, 100],
      ],
    );
    assert.deepEqual(
      listPhotos(lib, 1, photoUrl).map((p) => [p.path, p.needsReview, p.restored]),
      [
        ['/photos/a.jpg', true, false],
        ['/photos/b.jpg', false, false],
      ],
    );
    // The album's new choices start as before 004: YuNet finds faces, exports keep the photo's size.
    const [album] = listAlbums(lib);
    assert.deepEqual([album?.defaults.detector, album?.defaults.upscale], ['yunet', 1]);
    assert.deepEqual(
      listFaces(lib, 1).map((f) => f.blend),
      ['face', 'face', 'face'],
    );
    assert.equal(getJob(lib, 1).note, null);
    assert.throws(
      () => lib.db.prepare(`UPDATE faces SET number = 1 WHERE photo_id = 1`).run(),
      /UNIQUE/,
      'a number is one face of its photo',
    );
    lib.close();
  });

  test('a failing migration leaves the library at the version before it', () => {
    const { db } = libraryAt(1);
    // A table 002 is about to create, there already: 002 fails half-way.
    db.exec('CREATE TABLE exports (id INTEGER)');
    assert.throws(() => migrate(db), /already exists/);
    assert.equal(db.pragma('user_version', { simple: true }), 1);
    assert.ok(!tables(db).includes('jobs'), 'nothing of 002 stayed');
    db.close();
  });
});
