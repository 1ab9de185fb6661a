import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../src-main/contract/errors.ts';
import { createAlbum } from '../../src-main/core/library/albums.ts';
import type { Library } from '../../src-main/core/library/db.ts';
import { addExport, listExports } from '../../src-main/core/library/exports.ts';
import {
  createJob,
  getJob,
  interruptRunning,
  jobParams,
  jobSummary,
  listJobs,
  markItemDone,
  markItemFailed,
  markItemWriting,
  pendingItems,
  setJobState,
} from '../../src-main/core/library/jobs.ts';
import { addPhotos, removePhotos } from '../../src-main/core/library/photos.ts';
import { newLibrary, photoFile } from './helpers.ts';

const isCode = (code: string) => (error: unknown) => error instanceof AppError && error.code === code;

function albumOfThree(lib: Library): { albumId: number; photoIds: number[] } {
  const albumId = createAlbum(lib, 'Grandma').id;
  const photoIds = addPhotos(
    lib,
    albumId,
    ['/a.jpg', '/b.jpg', '/c.jpg'].map((p) => photoFile(p)),
  ).added;
  return { albumId, photoIds };
}

const counters = (lib: Library, jobId: number) => {
  const job = getJob(lib, jobId);
  return [job.total, job.done, job.failed];
};

describe('jobs', () => {
  test('a summary is the job without its items, with the same counters', (t) => {
    const lib = newLibrary(t);
    const { albumId, photoIds } = albumOfThree(lib);
    const { id } = createJob(lib, { kind: 'export', albumId, photoIds });
    markItemDone(lib, id, 1, '/out/a.jpg');
    markItemFailed(lib, id, 2, 'damaged');
    const { items, ...whole } = getJob(lib, id);
    assert.equal(items!.length, 3);
    assert.deepEqual(jobSummary(lib, id), whole);
    assert.equal(setJobState(lib, id, 'running').items, undefined);
    assert.throws(() => jobSummary(lib, 999), isCode('NOT_FOUND'));
  });

  test('are created queued, with one pending item per photo in the order given, and their params', (t) => {
    const lib = newLibrary(t);
    const { albumId, photoIds } = albumOfThree(lib);
    const job = createJob(lib, {
      kind: 'export',
      albumId,
      photoIds: [photoIds[2]!, photoIds[0]!],
      params: { q: 90 },
    });
    assert.deepEqual(
      [job.kind, job.state, job.albumId, job.total, job.done, job.failed, job.finishedAt],
      ['export', 'queued', albumId, 2, 0, 0, null],
    );
    assert.deepEqual(job.items, [
      { photoId: photoIds[2], path: '/c.jpg', state: 'pending', output: null, error: null },
      { photoId: photoIds[0], path: '/a.jpg', state: 'pending', output: null, error: null },
    ]);
    assert.deepEqual(jobParams(lib, job.id), { q: 90 });
    assert.throws(() => createJob(lib, { kind: 'detect', albumId, photoIds: [999] }), isCode('NOT_FOUND'));
    assert.throws(() => createJob(lib, { kind: 'detect', albumId: 999, photoIds }), isCode('NOT_FOUND'));
    assert.equal(listJobs(lib).length, 1, 'a job with an unknown photo or album is not created at all');
  });

  test('count done and failed items as they finish, each item once', (t) => {
    const lib = newLibrary(t);
    const { albumId, photoIds } = albumOfThree(lib);
    const { id } = createJob(lib, { kind: 'export', albumId, photoIds });
    markItemWriting(lib, id, 1, { tempPath: '/out/.a.tmp', outputPath: '/out/a.jpg' });
    assert.equal(getJob(lib, id).items?.[0]?.output, null, 'not written yet');
    markItemDone(lib, id, 1, '/out/a-1.jpg');
    markItemDone(lib, id, 1, '/out/a-1.jpg');
    markItemFailed(lib, id, 2, 'the disk is full');
    assert.deepEqual(counters(lib, id), [3, 1, 1]);
    markItemDone(lib, id, 2, '/out/b.jpg');
    assert.deepEqual(counters(lib, id), [3, 2, 0], 'a failed item done again counts as done only');
    const items = getJob(lib, id).items!;
    assert.deepEqual(
      items.map((i) => [i.state, i.output, i.error]),
      [
        ['done', '/out/a-1.jpg', null],
        ['done', '/out/b.jpg', null],
        ['pending', null, null],
      ],
    );
    assert.throws(() => markItemDone(lib, id, 9), isCode('NOT_FOUND'));
  });

  test('finished, get their finish time; resumed, lose it', (t) => {
    const lib = newLibrary(t);
    const { albumId, photoIds } = albumOfThree(lib);
    const { id } = createJob(lib, { kind: 'detect', albumId, photoIds });
    const failed = setJobState(lib, id, 'failed', 'the engine could not start');
    assert.deepEqual([failed.state, failed.error], ['failed', 'the engine could not start']);
    assert.ok(failed.finishedAt);
    const running = setJobState(lib, id, 'running');
    assert.deepEqual([running.finishedAt, running.error], [null, null]);
  });

  test('queued or running when the app stopped become interrupted, and resume from their pending items', (t) => {
    const lib = newLibrary(t);
    const { albumId, photoIds } = albumOfThree(lib);
    const running = createJob(lib, { kind: 'export', albumId, photoIds }).id;
    const queued = createJob(lib, { kind: 'detect', albumId, photoIds }).id;
    const done = createJob(lib, { kind: 'detect', albumId, photoIds }).id;
    setJobState(lib, running, 'running');
    setJobState(lib, done, 'done');
    markItemDone(lib, running, 1, '/out/a.jpg');
    markItemWriting(lib, running, 2, { tempPath: '/out/.b.tmp', outputPath: '/out/b.jpg' });

    assert.deepEqual(interruptRunning(lib), [running, queued]);
    assert.deepEqual(
      listJobs(lib).map((j) => [j.id, j.state]),
      [
        [done, 'done'],
        [queued, 'interrupted'],
        [running, 'interrupted'],
      ],
    );
    assert.deepEqual(pendingItems(lib, running), [
      {
        seq: 2,
        photoId: photoIds[1],
        path: '/b.jpg',
        state: 'writing',
        tempPath: '/out/.b.tmp',
        outputPath: '/out/b.jpg',
      },
      { seq: 3, photoId: photoIds[2], path: '/c.jpg', state: 'pending', tempPath: null, outputPath: null },
    ]);
    assert.deepEqual(interruptRunning(lib), [], 'nothing runs any more');
  });

  test("keep their items' paths when the photos are removed", (t) => {
    const lib = newLibrary(t);
    const { albumId, photoIds } = albumOfThree(lib);
    const { id } = createJob(lib, { kind: 'export', albumId, photoIds });
    removePhotos(lib, [photoIds[0]!]);
    assert.deepEqual(getJob(lib, id).items?.[0], {
      photoId: null,
      path: '/a.jpg',
      state: 'pending',
      output: null,
      error: null,
    });
    assert.deepEqual(
      listJobs(lib, { albumId }).map((j) => j.id),
      [id],
    );
    assert.deepEqual(listJobs(lib, { albumId: albumId + 1 }), []);
  });

  test('an export and its item marked done are written together, or not at all', (t) => {
    const lib = newLibrary(t);
    const { albumId, photoIds } = albumOfThree(lib);
    const { id } = createJob(lib, { kind: 'export', albumId, photoIds });
    const exportAndMark = (fail: boolean) =>
      lib.transaction(() => {
        addExport(lib, {
          jobId: id,
          photoId: photoIds[0]!,
          output: '/out/a.jpg',
          model: { name: 'codeformer', sha256: 'cc' },
          faces: [],
        });
        markItemDone(lib, id, 1, '/out/a.jpg');
        if (fail) throw new Error('crash before commit');
      });
    assert.throws(() => exportAndMark(true), /crash before commit/);
    assert.deepEqual([listExports(lib).length, ...counters(lib, id)], [0, 3, 0, 0]);
    exportAndMark(false);
    assert.deepEqual([listExports(lib).length, ...counters(lib, id)], [1, 3, 1, 0]);
  });
});
