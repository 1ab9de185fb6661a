import fs from 'node:fs/promises';
import path from 'node:path';
import type { ExportPlan } from '../contract/dto.ts';
import { lastExportTo, type Library } from './library/index.ts';
import { createLimiter } from './limit.ts';
import { exportName, type NameChoices } from './naming.ts';

/*
 * "Replace earlier exports" overwrites only what Heirloom itself wrote (ARCHITECTURE.md rule 3): a file the
 * library's exports table records at that very path, written by another job than the one running, and not
 * changed since — its modification time is that of the write, shortly before the export was recorded. Anything
 * else at that name (the user's own file, an export they edited or replaced afterwards) is kept, and the new
 * file gets -1 as with "Keep both".
 */

/** File systems that keep times to 2 s (FAT) may round a file's time up past the moment it was recorded. */
const ROUNDING_MS = 2000;
/** A photo is written, then recorded at once: a file older than this before its record is not that write. */
const WRITTEN_BEFORE_RECORD_MS = 60 * 60 * 1000;

/** Whether `file` is an earlier export's, unchanged since, that "Replace earlier exports" may overwrite. */
export async function isEarlierExport(lib: Library, file: string, runningJobId?: number): Promise<boolean> {
  const record = lastExportTo(lib, file);
  // The running job's own file: two photos of one name in one export never replace each other.
  if (!record || (runningJobId !== undefined && record.jobId === runningJobId)) return false;
  const stat = await fs.lstat(file).catch(() => undefined);
  if (!stat?.isFile()) return false;
  const recorded = Date.parse(record.createdAt);
  return stat.mtimeMs <= recorded + ROUNDING_MS && stat.mtimeMs >= recorded - WRITTEN_BEFORE_RECORD_MS;
}

/** Originals looked at at once: "same as the original" reads each one's first bytes. */
const AT_ONCE = 16;

/**
 * The files an export would write into `folder`, in the photos' order, and what is at each name now (`export.plan`):
 * nothing, an earlier export (see above), or another file.
 */
export async function planExport(
  lib: Library,
  photos: readonly { readonly id: number; readonly path: string }[],
  folder: string,
  choices: NameChoices,
): Promise<ExportPlan> {
  const limit = createLimiter(AT_ONCE);
  const files = await Promise.all(
    photos.map((photo) =>
      limit(async () => {
        const { stem, ext } = await exportName(photo.path, choices, { guess: true });
        const file = path.join(folder, stem + ext);
        const there = await fs.lstat(file).catch(() => undefined);
        const existing = !there ? 'none' : (await isEarlierExport(lib, file)) ? 'export' : 'other';
        return { photoId: photo.id, name: stem + ext, existing } as const;
      }),
    ),
  );
  return { folder, files };
}
