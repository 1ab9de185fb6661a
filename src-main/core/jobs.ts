import fs from 'node:fs/promises';
import path from 'node:path';
import type { Box, Job, JobState, Landmarks, Upscale } from '../contract/dto.ts';
import { AppError } from '../contract/errors.ts';
import type { EventName, Events } from '../contract/events.ts';
import type { EngineClient } from './engine-client.ts';
import { engineFace } from './engine-face.ts';
import { whyPhotoFailed } from './failures.ts';
import { makeFolder } from './files.ts';
import {
  addExport,
  getAlbum,
  getPhoto,
  jobParams,
  jobSummary,
  listFaces,
  markItemDone,
  markItemFailed,
  markItemWriting,
  pendingItems,
  replaceDetectedFaces,
  setJobNote,
  setJobState,
  setPhotoDetection,
  setPhotoState,
  type Library,
  type PendingItem,
  type PhotoUrl,
} from './library/index.ts';
import { exportName, type WrittenFormat } from './naming.ts';
import { isEarlierExport } from './earlier-exports.ts';
import { identify, UNREAD } from './import.ts';
import { publish, recover, temporaryName } from './publish.ts';

/** What an export job was asked for, stored with it so a resumed job writes the same files. */
export interface ExportParams {
  readonly folder: string;
  readonly format: 'original' | WrittenFormat;
  readonly pattern: string;
  readonly quality: number | null;
  readonly provenance: boolean;
  readonly album: string;
  /** A taken name: keep the file there and add -1 (the default), or replace it when an earlier export wrote it. */
  readonly existing?: 'keep' | 'replace';
  /** How many times each photo is enlarged; 1 (the photo's own size) when not given. */
  readonly upscale?: Upscale;
}

interface Exporting extends ExportParams {
  readonly model: ModelInfo;
}

export interface ModelInfo {
  readonly name: string;
  readonly sha256: string;
  /** The colorization and inpainting models installed (null: not installed), which faces of those tasks use. */
  readonly taskModels?: {
    readonly colorize: { readonly name: string; readonly sha256: string } | null;
    readonly inpaint: { readonly name: string; readonly sha256: string } | null;
  };
}

export interface JobServices {
  readonly lib: Library;
  readonly engine: Pick<EngineClient, 'request'>;
  readonly photoUrl: PhotoUrl;
  readonly version: string;
  emit<E extends EventName>(event: E, data: Events[E]): void;
  model(): Promise<ModelInfo>;
}

interface EngineFace {
  readonly box: number[];
  readonly landmarks: number[][];
  readonly score: number;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

/** Said once on an export job that enlarged a photo by plain resizing (Job.note). */
export const RESIZED_NOTE =
  'Enlarged by plain resizing: the photo enlarger (Real-ESRGAN) is not installed. Install it on the Models screen for sharper detail.';

/** What the engine's export replies, as far as the job needs it (engine-process/ops.ts). */
interface Exported {
  readonly enlargedBy: 'none' | 'real-esrgan' | 'resizing';
}
/** The engine's export progress, after each tile it enlarges: how far enlarging has got, 0–1. */
interface ExportProgress {
  readonly enlarging: number;
}

/** Why a job stopped before its end: the user cancelled it, or the app is closing (it resumes later). */
type StopReason = 'cancelled' | 'closing';

/**
 * Runs the persistent jobs (detection after import, album export) one photo at a time, recording each photo's
 * outcome as it goes, so that a crash or a quit loses at most the photo in hand: on the next start the job is
 * "interrupted" and `resume` continues with what is not done. A photo that fails is recorded with its reason
 * and the job goes on. Jobs run side by side; the engine's queue orders their work by priority.
 */
export class JobRunner {
  private readonly running = new Map<number, { controller: AbortController; done: Promise<void> }>();

  constructor(private readonly services: JobServices) {}

  /** Starts (or continues) a queued, interrupted or failed job. */
  start(jobId: number): Job {
    if (this.running.has(jobId)) return jobSummary(this.services.lib, jobId);
    const job = setJobState(this.services.lib, jobId, 'running');
    this.services.emit('job.state', { jobId, state: 'running', error: null });
    const controller = new AbortController();
    const done = this.run(job, controller.signal).finally(() => this.running.delete(jobId));
    this.running.set(jobId, { controller, done });
    return job;
  }

  resume(jobId: number): Job {
    const job = jobSummary(this.services.lib, jobId);
    if (job.state === 'done' || job.state === 'cancelled') {
      throw new AppError('CONFLICT', `job ${jobId} is ${job.state}: there is nothing to resume`);
    }
    return this.start(jobId);
  }

  async cancel(jobId: number): Promise<Job> {
    const job = jobSummary(this.services.lib, jobId);
    const running = this.running.get(jobId);
    if (running) {
      running.controller.abort('cancelled' satisfies StopReason);
      await running.done;
    } else if (job.state === 'queued' || job.state === 'interrupted' || job.state === 'failed') {
      setJobState(this.services.lib, jobId, 'cancelled');
      this.services.emit('job.state', { jobId, state: 'cancelled', error: null });
    }
    return jobSummary(this.services.lib, jobId);
  }

  /** Stops every job where it stands; they are 'interrupted' and resume on request. */
  async close(): Promise<void> {
    const all = [...this.running.values()];
    for (const { controller } of all) controller.abort('closing' satisfies StopReason);
    await Promise.all(all.map((r) => r.done));
  }

  /** Resolves when no job is running (tests, and a host that wants to quit after the work). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** Stops the album's running jobs (before the album is deleted, jobs and all). */
  async stopAlbum(albumId: number): Promise<void> {
    const jobs = [...this.running.entries()].filter(
      ([id]) => jobSummary(this.services.lib, id).albumId === albumId,
    );
    for (const [, { controller }] of jobs) controller.abort('cancelled' satisfies StopReason);
    await Promise.all(jobs.map(([, r]) => r.done));
  }

  /** False once the job is gone from the library (its album was deleted). */
  private exists(jobId: number): boolean {
    try {
      jobSummary(this.services.lib, jobId);
      return true;
    } catch (error) {
      if (error instanceof AppError && error.code === 'NOT_FOUND') return false;
      throw error;
    }
  }

  /**
   * One job from where it stands to its end. It never rejects: what goes wrong with one photo is that photo's
   * failure, recorded on its item; what stops the whole job is recorded on the job.
   */
  private async run(job: Job, signal: AbortSignal): Promise<void> {
    const { lib, emit } = this.services;
    const items = pendingItems(lib, job.id);
    const started = performance.now();
    let finishedHere = 0;
    /** `enlarging`: how far enlarging `next` has got (0–1), while an export enlarges it. */
    const progress = (next: PendingItem | undefined, enlarging: number | null = null): void => {
      const now = jobSummary(lib, job.id);
      const left = now.total - now.done - now.failed;
      const perItem = finishedHere > 0 ? (performance.now() - started) / finishedHere / 1000 : null;
      emit('job.progress', {
        jobId: job.id,
        done: now.done,
        total: now.total,
        failed: now.failed,
        current: next ? path.basename(next.path) : null,
        etaSeconds: perItem === null ? null : Math.round(perItem * left),
        enlarging,
      });
    };
    const finish = (state: JobState, error: string | null): void => {
      if (!this.exists(job.id)) return;
      setJobState(lib, job.id, state, error);
      emit('job.state', { jobId: job.id, state, error });
    };
    try {
      const exporting = job.kind === 'export' ? await this.prepareExport(job) : undefined;
      progress(items[0]);
      for (const [i, item] of items.entries()) {
        if (signal.aborted) break;
        try {
          if (exporting) await this.exportOne(job.id, item, exporting, signal, (f) => progress(item, f));
          else await this.detectOne(job.id, item, signal);
        } catch (error) {
          // What the photo's own handling could not record (the photo was removed while it was worked on).
          if (!this.exists(job.id)) return;
          await this.photoFailed(job.id, item, error);
        }
        finishedHere++;
        progress(items[i + 1]);
      }
      finish(signal.aborted ? (signal.reason === 'closing' ? 'interrupted' : 'cancelled') : 'done', null);
    } catch (error) {
      finish('failed', error instanceof AppError ? error.message : await whyPhotoFailed(error, ''));
    }
  }

  /** A failure of one photo: recorded on its item (and on the photo, where it says what became of the file). */
  private async photoFailed(jobId: number, item: PendingItem, error: unknown): Promise<void> {
    const { lib, photoUrl } = this.services;
    const errno = (error as NodeJS.ErrnoException | undefined)?.code;
    const code = error instanceof AppError ? error.code : errno === 'ENOENT' ? 'NOT_FOUND' : undefined;
    let reason = await whyPhotoFailed(error, item.path);
    const photoId = item.photoId;
    if (photoId !== null) {
      try {
        getPhoto(lib, photoId, photoUrl);
        if (code === 'NOT_FOUND') setPhotoState(lib, photoId, 'missing');
        else if (code === 'CONFLICT') setPhotoState(lib, photoId, 'changed');
        else if (code === 'IO') setPhotoState(lib, photoId, 'unreadable', reason);
      } catch (gone) {
        if (!(gone instanceof AppError && gone.code === 'NOT_FOUND')) throw gone;
        // Removed while it was worked on: whatever failed then (a face for a photo no longer there) is why.
        reason = 'the photo was removed from the album';
      }
    }
    markItemFailed(lib, jobId, item.seq, reason);
  }

  private isStop(error: unknown, signal: AbortSignal): boolean {
    return signal.aborted && error instanceof AppError && error.code === 'CANCELLED';
  }

  private async detectOne(jobId: number, item: PendingItem, signal: AbortSignal): Promise<void> {
    const { lib, engine, emit, photoUrl } = this.services;
    if (item.photoId === null) {
      markItemFailed(lib, jobId, item.seq, 'the photo was removed from the album');
      return;
    }
    let photo = getPhoto(lib, item.photoId, photoUrl);
    try {
      if (photo.sha256 === UNREAD) {
        // Just imported: read it once for its content hash; a moved photo the album had takes this path.
        const moved = await identify(lib, photo, photoUrl);
        if (moved !== undefined) {
          markItemDone(lib, jobId, item.seq);
          emit('photo.updated', { photoId: moved, albumId: photo.albumId });
          return;
        }
        photo = getPhoto(lib, photo.id, photoUrl);
      }
      const found = await engine.request<{ width: number; height: number; faces: EngineFace[] }>(
        'detect',
        { path: photo.path, sha256: photo.sha256, detector: getAlbum(lib, photo.albumId).defaults.detector },
        { priority: 'detect', signal },
      );
      lib.transaction(() => {
        replaceDetectedFaces(
          lib,
          photo.id,
          found.faces.map((f) => ({
            box: f.box.map(round2) as Box,
            landmarks: f.landmarks.map((p) => p.map(round2)) as Landmarks,
            score: Math.round(f.score * 1e4) / 1e4,
          })),
        );
        setPhotoDetection(lib, photo.id, { state: 'done', width: found.width, height: found.height });
        if (photo.state !== 'ok') setPhotoState(lib, photo.id, 'ok');
        markItemDone(lib, jobId, item.seq);
      });
    } catch (error) {
      if (this.isStop(error, signal)) return;
      await this.photoFailed(jobId, item, error);
      setPhotoDetection(lib, photo.id, { state: 'failed', error: await whyPhotoFailed(error, photo.path) });
    }
    emit('photo.updated', { photoId: photo.id, albumId: photo.albumId });
  }

  /** The export folder is made and checked before the first photo: a folder that cannot be written fails the job. */
  private async prepareExport(job: Job): Promise<Exporting> {
    const params = jobParams(this.services.lib, job.id) as ExportParams;
    try {
      await makeFolder(params.folder);
      await fs.access(params.folder, fs.constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      const why =
        {
          EACCES: 'permission denied',
          EPERM: 'permission denied',
          EROFS: 'a read-only disk',
          ENOTDIR: 'part of that path is a file',
          ENOENT: 'a folder cannot be made there',
          ENOSPC: 'the disk is full',
        }[code] ?? code;
      throw new AppError('IO', `cannot write to ${params.folder} (${why}): choose another folder`);
    }
    // A missing or damaged model fails the job once, with what to do, rather than every photo.
    return { ...params, model: await this.services.model() };
  }

  /** `onEnlarging` hears how far enlarging the photo has got (0–1), in whole percents, while Real-ESRGAN runs. */
  private async exportOne(
    jobId: number,
    item: PendingItem,
    params: Exporting,
    signal: AbortSignal,
    onEnlarging: (fraction: number) => void,
  ) {
    const { lib, engine, photoUrl } = this.services;
    const { folder } = params;
    if (item.photoId === null) {
      markItemFailed(lib, jobId, item.seq, 'the photo was removed from the album');
      return;
    }
    const photoId = item.photoId;
    const faces = listFaces(lib, photoId).filter((f) => f.enabled);
    // Marks the photo done and records what was written, in one transaction (see publish.ts).
    const { model } = params;
    const commit = (final: string): void =>
      lib.transaction(() => {
        markItemDone(lib, jobId, item.seq, final);
        try {
          // A savepoint of its own: a photo removed from the album while it was exported has no history to keep.
          lib.transaction(() =>
            addExport(lib, {
              jobId,
              photoId,
              output: final,
              model,
              faces: faces.map((f) => ({ faceId: f.id, fidelity: f.fidelity })),
            }),
          );
        } catch (error) {
          if (!(error instanceof AppError && error.code === 'NOT_FOUND')) throw error;
        }
      });
    // A crash while this photo was being written: publish what was written and linked, remove a partial file.
    if (item.state === 'writing' && item.tempPath && item.outputPath) {
      const ext = path.extname(item.outputPath);
      const stem = path.basename(item.outputPath, ext);
      const final = await recover(item.tempPath, folder, stem, ext);
      if (final) {
        commit(final);
        return;
      }
    }
    const photo = getPhoto(lib, photoId, photoUrl);
    if (photo.sha256 === UNREAD) {
      markItemFailed(lib, jobId, item.seq, 'its import is not finished: export it once its faces are found');
      return;
    }
    const temp = temporaryName(folder, jobId, item.seq);
    try {
      const { stem, ext } = await exportName(photo.path, params);
      markItemWriting(lib, jobId, item.seq, { tempPath: temp, outputPath: path.join(folder, stem + ext) });
      let percent = -1;
      const exported = await engine.request<Exported>(
        'export',
        {
          path: photo.path,
          sha256: photo.sha256,
          faces: faces.map(engineFace),
          format: params.format,
          quality: params.quality ?? undefined,
          provenance: params.provenance
            ? {
                version: this.services.version,
                faces: faces.map((f) => ({ number: f.number, fidelity: f.fidelity })),
                date: new Date().toISOString(),
              }
            : null,
          upscale: params.upscale ?? 1,
          out: temp,
        },
        {
          priority: 'export',
          // Previews go between its tiles and faces: the user's editing does not wait for a long export.
          pauses: true,
          signal,
          // A 40 MP photo is some 200 tiles of 448 px: one event per whole percent is enough to follow it.
          onProgress: (data) => {
            const now = Math.floor((data as ExportProgress).enlarging * 100);
            if (now === percent) return;
            percent = now;
            onEnlarging(now / 100);
          },
        },
      );
      // Said once per job, on the first photo that needed it (a resumed job that said it says no more).
      if (exported.enlargedBy === 'resizing' && jobSummary(lib, jobId).note === null) {
        setJobNote(lib, jobId, RESIZED_NOTE);
      }
      // "Replace earlier exports" overwrites a file an earlier export wrote, never any other (earlier-exports.ts).
      const replaceable =
        params.existing === 'replace' ? (taken: string) => isEarlierExport(lib, taken, jobId) : undefined;
      await publish(temp, folder, stem, ext, commit, undefined, replaceable);
    } catch (error) {
      await fs.rm(temp, { force: true });
      if (this.isStop(error, signal)) return;
      await this.photoFailed(jobId, item, error);
    }
  }
}
