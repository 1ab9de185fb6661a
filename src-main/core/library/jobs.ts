import type { Job, JobItem, JobItemState, JobKind, JobState } from '../../contract/dto.ts';
import { AppError } from '../../contract/errors.ts';
import { notFound, now, type Library } from './db.ts';

interface JobRow {
  id: number;
  kind: JobKind;
  state: JobState;
  album_id: number | null;
  total: number;
  done: number;
  failed: number;
  created_at: string;
  finished_at: string | null;
  error: string | null;
  note: string | null;
}

interface ItemRow {
  seq: number;
  photo_id: number | null;
  path: string;
  state: JobItemState;
  temp_path: string | null;
  output_path: string | null;
  error: string | null;
}

/** An item still to do, as the job runner needs it to resume. */
export interface PendingItem {
  /** The item's place in its job, from 1. */
  readonly seq: number;
  /** Null when the photo was removed since the job was made. */
  readonly photoId: number | null;
  readonly path: string;
  readonly state: 'pending' | 'writing';
  /** For an item that was 'writing' when the app stopped: the temp file to remove, the name it was to get. */
  readonly tempPath: string | null;
  readonly outputPath: string | null;
}

const SELECT_JOBS = `SELECT id, kind, state, album_id, total, done, failed, created_at, finished_at, error, note
  FROM jobs`;

function toJob(row: JobRow, items?: JobItem[]): Job {
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    albumId: row.album_id,
    total: row.total,
    done: row.done,
    failed: row.failed,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    error: row.error,
    note: row.note,
    ...(items ? { items } : {}),
  };
}

function toItem(row: ItemRow): JobItem {
  return {
    photoId: row.photo_id,
    path: row.path,
    state: row.state,
    // Until the item is done, output_path is only the name planned: the file written may get another (-1, -2…).
    output: row.state === 'done' ? row.output_path : null,
    error: row.error,
  };
}

/** The job without its items: what progress and lists need (a job of 10,000 photos is read in one row). */
export function jobSummary(lib: Library, jobId: number): Job {
  const row = lib.statement(`${SELECT_JOBS} WHERE id = ?`).get(jobId) as JobRow | undefined;
  if (!row) throw notFound('job', jobId);
  return toJob(row);
}

/** The job with its items, in their order. */
export function getJob(lib: Library, jobId: number): Job {
  const row = lib.statement(`${SELECT_JOBS} WHERE id = ?`).get(jobId) as JobRow | undefined;
  if (!row) throw notFound('job', jobId);
  const items = lib
    .statement(
      `SELECT seq, photo_id, path, state, temp_path, output_path, error FROM job_items WHERE job_id = ? ORDER BY seq`,
    )
    .all(jobId) as ItemRow[];
  return toJob(row, items.map(toItem));
}

/** Jobs newest first (AUTOINCREMENT ids are in creation order), without their items; or one album's jobs. */
export function listJobs(lib: Library, filter: { albumId?: number } = {}): Job[] {
  const rows = (
    filter.albumId === undefined
      ? lib.statement(`${SELECT_JOBS} ORDER BY id DESC`).all()
      : lib.statement(`${SELECT_JOBS} WHERE album_id = ? ORDER BY id DESC`).all(filter.albumId)
  ) as JobRow[];
  return rows.map((row) => toJob(row));
}

/**
 * A queued job with one item per photo, in the order given, in one transaction. `params` is what the runner
 * needs to do the job (an export's folder, format…), stored as JSON and read back by jobParams. NOT_FOUND when
 * the album or a photo is not in the library.
 */
export function createJob(
  lib: Library,
  job: { kind: JobKind; albumId: number | null; photoIds: readonly number[]; params?: unknown },
): Job {
  const id = lib.transaction(() => {
    if (job.albumId !== null && !lib.statement(`SELECT 1 FROM albums WHERE id = ?`).get(job.albumId)) {
      throw notFound('album', job.albumId);
    }
    const jobId = Number(
      lib
        .statement(`INSERT INTO jobs (kind, album_id, params, total, created_at) VALUES (?, ?, ?, ?, ?)`)
        .run(job.kind, job.albumId, JSON.stringify(job.params ?? {}), job.photoIds.length, now())
        .lastInsertRowid,
    );
    const insert = lib.statement(
      `INSERT INTO job_items (job_id, seq, photo_id, path) SELECT ?, ?, id, path FROM photos WHERE id = ?`,
    );
    job.photoIds.forEach((photoId, i) => {
      if (insert.run(jobId, i + 1, photoId).changes === 0) throw notFound('photo', photoId);
    });
    return jobId;
  });
  return getJob(lib, id);
}

/** The params the job was created with, parsed; the runner checks their shape. */
export function jobParams(lib: Library, jobId: number): unknown {
  const row = lib.statement(`SELECT params FROM jobs WHERE id = ?`).get(jobId) as
    { params: string } | undefined;
  if (!row) throw notFound('job', jobId);
  return JSON.parse(row.params);
}

const FINISHED: readonly JobState[] = ['done', 'failed', 'cancelled'];

/**
 * Moves the job to `state`, with why it failed. A finished job (done, failed, cancelled) gets its finished_at;
 * one that runs again (resumed) loses it.
 */
export function setJobState(lib: Library, jobId: number, state: JobState, error: string | null = null): Job {
  const { changes } = lib
    .statement(`UPDATE jobs SET state = ?, error = ?, finished_at = ? WHERE id = ?`)
    .run(state, error, FINISHED.includes(state) ? now() : null, jobId);
  if (changes === 0) throw notFound('job', jobId);
  return jobSummary(lib, jobId);
}

/** Says `note` on the job (Job.note), in place of what it said before. */
export function setJobNote(lib: Library, jobId: number, note: string): void {
  const { changes } = lib.statement(`UPDATE jobs SET note = ? WHERE id = ?`).run(note, jobId);
  if (changes === 0) throw notFound('job', jobId);
}

/**
 * At startup: the jobs that were queued or running when the app stopped become 'interrupted' (job.resume
 * continues them). Returns their ids, oldest first.
 */
export function interruptRunning(lib: Library): number[] {
  return lib
    .statement(`UPDATE jobs SET state = 'interrupted' WHERE state IN ('queued', 'running') RETURNING id`)
    .pluck()
    .all()
    .map(Number)
    .sort((a, b) => a - b);
}

/** Items not yet done or failed, in order: 'pending' ones and 'writing' ones a crash cut short. */
export function pendingItems(lib: Library, jobId: number): PendingItem[] {
  const rows = lib
    .statement(
      `SELECT seq, photo_id, path, state, temp_path, output_path FROM job_items
       WHERE job_id = ? AND state IN ('pending', 'writing') ORDER BY seq`,
    )
    .all(jobId) as ItemRow[];
  return rows.map((row) => ({
    seq: row.seq,
    photoId: row.photo_id,
    path: row.path,
    state: row.state as 'pending' | 'writing',
    tempPath: row.temp_path,
    outputPath: row.output_path,
  }));
}

function noItem(jobId: number, seq: number): AppError {
  return new AppError('NOT_FOUND', `Job ${jobId} has no item ${seq}.`);
}

function itemState(lib: Library, jobId: number, seq: number): JobItemState {
  const state = lib
    .statement(`SELECT state FROM job_items WHERE job_id = ? AND seq = ?`)
    .pluck()
    .get(jobId, seq) as JobItemState | undefined;
  if (state === undefined) throw noItem(jobId, seq);
  return state;
}

/** Recorded before an export's bytes are written: a crash after this leaves a temp file the resume removes. */
export function markItemWriting(
  lib: Library,
  jobId: number,
  seq: number,
  files: { tempPath: string; outputPath: string },
): void {
  const { changes } = lib
    .statement(
      `UPDATE job_items SET state = 'writing', temp_path = ?, output_path = ? WHERE job_id = ? AND seq = ?`,
    )
    .run(files.tempPath, files.outputPath, jobId, seq);
  if (changes === 0) throw noItem(jobId, seq);
}

/**
 * The item is finished. Its job's done/failed counters change in the same transaction, by what the item was
 * before: marking an item twice counts it once, and an item failed then redone moves from failed to done.
 */
function finishItem(
  lib: Library,
  jobId: number,
  seq: number,
  state: 'done' | 'failed',
  update: { output: string | null; error: string | null },
): void {
  lib.transaction(() => {
    const before = itemState(lib, jobId, seq);
    lib
      .statement(
        `UPDATE job_items SET state = ?, error = ?, output_path = coalesce(?, output_path),
           temp_path = CASE WHEN ? = 'done' THEN NULL ELSE temp_path END
         WHERE job_id = ? AND seq = ?`,
      )
      .run(state, update.error, update.output, state, jobId, seq);
    if (before === state) return;
    const delta = (s: JobItemState): number => (state === s ? 1 : 0) - (before === s ? 1 : 0);
    lib
      .statement(`UPDATE jobs SET done = done + ?, failed = failed + ? WHERE id = ?`)
      .run(delta('done'), delta('failed'), jobId);
  });
}

/** Done; `output` is the file an export wrote (its temp file was renamed to it, so temp_path is cleared). */
export function markItemDone(lib: Library, jobId: number, seq: number, output: string | null = null): void {
  finishItem(lib, jobId, seq, 'done', { output, error: null });
}

/** Failed, with why in one line; the job goes on with the next item. */
export function markItemFailed(lib: Library, jobId: number, seq: number, error: string): void {
  finishItem(lib, jobId, seq, 'failed', { output: null, error });
}
