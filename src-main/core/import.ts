import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../contract/errors.ts';
import { isImagePath, noPhotosIn } from './files.ts';
import { sha256File } from './hash.ts';
import {
  addPhotos,
  findPhotosBySha256,
  getPhoto,
  relinkPhoto,
  setPhotoState,
  type Library,
  type PhotoFile,
  type PhotoUrl,
} from './library/index.ts';

/** What is on disk at `file` now: its content hash, size and time. */
export async function fileFacts(file: string): Promise<PhotoFile> {
  const stat = await fsp.stat(file);
  return { path: file, sha256: await sha256File(file), bytes: stat.size, mtimeMs: stat.mtimeMs };
}

export interface ImportResult {
  added: number[];
  relinked: number[];
  alreadyThere: number;
  skipped: { path: string; reason: string }[];
}

/**
 * The photos the user named (files, and the photos directly inside folders), added by reference: read to hash
 * them, never copied or written. A file whose content the album already holds at a path that is gone is the
 * same photo moved: it is relinked, keeping its faces and decisions.
 */
export async function importPaths(
  lib: Library,
  albumId: number,
  paths: readonly string[],
  photoUrl: PhotoUrl,
): Promise<ImportResult> {
  const files: string[] = [];
  const skipped: { path: string; reason: string }[] = [];
  for (const given of paths) {
    const input = path.resolve(given);
    const stat = await fsp.stat(input).catch(() => undefined);
    if (!stat) skipped.push({ path: input, reason: 'no such file or folder' });
    else if (stat.isDirectory()) {
      const entries = await fsp.readdir(input, { withFileTypes: true }).catch(() => undefined);
      if (!entries) {
        skipped.push({ path: input, reason: 'the folder cannot be read' });
        continue;
      }
      const images = entries
        .filter((e) => isImagePath(e.name) && (e.isFile() || e.isSymbolicLink()))
        .map((e) => path.join(input, e.name))
        .sort();
      if (images.length === 0) skipped.push({ path: input, reason: await noPhotosIn(input) });
      for (const image of images) files.push(image);
    } else if (!isImagePath(input)) {
      skipped.push({ path: input, reason: 'not a kind of photo Heirloom reads (.jpg .png .webp .tif .gif)' });
    } else files.push(input);
  }
  const toAdd: PhotoFile[] = [];
  const relinked: number[] = [];
  for (const file of files) {
    let facts: PhotoFile;
    try {
      facts = await fileFacts(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      skipped.push({
        path: file,
        reason: code === 'EACCES' ? 'permission denied' : `cannot be read (${code})`,
      });
      continue;
    }
    const moved = findPhotosBySha256(lib, albumId, facts.sha256, photoUrl).find(
      (p) => p.path !== file && !fs.existsSync(p.path),
    );
    if (moved) {
      try {
        relinkPhoto(lib, moved.id, facts);
        relinked.push(moved.id);
        continue;
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
      }
    }
    toAdd.push(facts);
  }
  const { added, alreadyThere } = addPhotos(lib, albumId, toAdd);
  return { added, relinked, alreadyThere: alreadyThere.length, skipped };
}

/**
 * Looks at one original again: gone → missing; edited elsewhere (its content hash differs) → changed;
 * unreadable → unreadable; there and the same → ok (a moved-back file is ok again). Size and time are
 * compared first, so an unchanged photo is not read.
 */
export async function checkPhoto(lib: Library, photoId: number, photoUrl: PhotoUrl): Promise<void> {
  const photo = getPhoto(lib, photoId, photoUrl);
  const stat = await fsp.stat(photo.path).catch((error: NodeJS.ErrnoException) => error);
  if (stat instanceof Error) {
    if (stat.code === 'ENOENT' || stat.code === 'ENOTDIR') setPhotoState(lib, photoId, 'missing');
    else setPhotoState(lib, photoId, 'unreadable', `cannot be read (${stat.code})`);
    return;
  }
  if (photo.state === 'changed') return;
  if (stat.size === photo.bytes && stat.mtimeMs === photo.mtimeMs) {
    if (photo.state !== 'ok') setPhotoState(lib, photoId, 'ok');
    return;
  }
  const sha256 = await sha256File(photo.path).catch(() => undefined);
  if (sha256 === undefined) setPhotoState(lib, photoId, 'unreadable', 'cannot be read');
  else if (sha256 !== photo.sha256) setPhotoState(lib, photoId, 'changed');
  else {
    // Touched but not changed (copied back, opened and saved unchanged): remember the new time.
    relinkPhoto(lib, photoId, { path: photo.path, sha256, bytes: stat.size, mtimeMs: stat.mtimeMs });
  }
}
