import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../src-main/contract/errors.ts';
import { createAlbum } from '../../src-main/core/library/albums.ts';
import { addExport, listExports } from '../../src-main/core/library/exports.ts';
import { addPhotos } from '../../src-main/core/library/photos.ts';
import { getSettings, updateSettings } from '../../src-main/core/library/settings.ts';
import { newLibrary, photoFile } from './helpers.ts';

const model = { name: 'codeformer-v0.1.0', sha256: 'ab'.repeat(32) };

describe('export history', () => {
  test("records the model and each face's w, listed by album or by photo, newest first", (t) => {
    const lib = newLibrary(t);
    const grandma = createAlbum(lib, 'Grandma');
    const other = createAlbum(lib, 'Other');
    const [a, b] = addPhotos(lib, grandma.id, [photoFile('/a.jpg'), photoFile('/b.jpg')]).added as [
      number,
      number,
    ];
    const [c] = addPhotos(lib, other.id, [photoFile('/c.jpg')]).added as [number];
    const faces = [
      { faceId: 1, fidelity: 0.5 },
      { faceId: 2, fidelity: 0.9 },
    ];
    const first = addExport(lib, { jobId: null, photoId: a, output: '/out/a.jpg', model, faces });
    assert.deepEqual(first, {
      id: first.id,
      jobId: null,
      photoId: a,
      output: '/out/a.jpg',
      createdAt: first.createdAt,
      model,
      faces,
    });
    const second = addExport(lib, { jobId: null, photoId: b, output: '/out/b.jpg', model, faces: [] });
    const third = addExport(lib, { jobId: null, photoId: a, output: '/out/a-1.jpg', model, faces: [] });
    const elsewhere = addExport(lib, { jobId: null, photoId: c, output: '/out/c.jpg', model, faces: [] });

    const ids = (records: { id: number }[]) => records.map((r) => r.id);
    assert.deepEqual(ids(listExports(lib, { albumId: grandma.id })), [third.id, second.id, first.id]);
    assert.deepEqual(ids(listExports(lib, { photoId: a })), [third.id, first.id]);
    assert.deepEqual(ids(listExports(lib)), [elsewhere.id, third.id, second.id, first.id]);
    assert.throws(
      () => addExport(lib, { jobId: null, photoId: 999, output: '/x.jpg', model, faces: [] }),
      (error: unknown) => error instanceof AppError && error.code === 'NOT_FOUND',
    );
  });
});

describe('settings', () => {
  test('are the defaults until changed, and change only what is given', (t) => {
    const lib = newLibrary(t);
    assert.deepEqual(getSettings(lib), {
      defaultFidelity: 0.5,
      provenance: true,
      provider: 'auto',
      modelMirror: '',
    });
    assert.deepEqual(updateSettings(lib, { defaultFidelity: 0.3 }), {
      defaultFidelity: 0.3,
      provenance: true,
      provider: 'auto',
      modelMirror: '',
    });
    assert.deepEqual(updateSettings(lib, { provenance: false, provider: 'cuda' }), {
      defaultFidelity: 0.3,
      provenance: false,
      provider: 'cuda',
      modelMirror: '',
    });
  });

  test('a stored value of the wrong kind reads as the default, so a library edited by hand still opens', (t) => {
    const lib = newLibrary(t);
    lib.db.exec(
      `INSERT INTO settings (key, value) VALUES ('defaultFidelity', '"high"'), ('provenance', 'nope'), ('provider', '"tpu"'), ('modelMirror', '42')`,
    );
    assert.deepEqual(getSettings(lib), {
      defaultFidelity: 0.5,
      provenance: true,
      provider: 'auto',
      modelMirror: '',
    });
  });
});
