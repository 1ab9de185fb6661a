import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Photo } from '../contract/dto.ts';
import { isImagePath, noPhotosIn } from './files.ts';
import { sha256File } from './hash.ts';
import {
  addPhotos,
  findPhotosBySha256,
  getPhoto,
  relinkPhoto,
  removePhotos,
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
  alreadyThere: number;
  skipped: { path: string; reason: string }[];
}

/**
 * The photos the user named (files, and the photos directly inside folders), added by reference: never
 * copied or written. Only listed and measured here, so an import of thousands of scans answers at once; each
 * is read (hashed) by the detection job that follows (`identify`), with progress, where a photo the album
 * already had at a path that is gone is recognised by its content and relinked.
 */
export async function importPaths(
  lib: Library,
  albumId: number,
  paths: readonly string[],
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
  for (const file of files) {
    const stat = await fsp.stat(file).catch(() => undefined);
    if (!stat?.isFile()) skipped.push({ path: file, reason: 'no such file (a link to nothing?)' });
    // The content hash is not known yet: UNREAD until the detection job reads the file.
    else toAdd.push({ path: file, sha256: UNREAD, bytes: stat.size, mtimeMs: stat.mtimeMs });
  }
  const { added, alreadyThere } = addPhotos(lib, albumId, toAdd);
  return { added, alreadyThere: alreadyThere.length, skipped };
}

/** The sha256 of a photo whose file has not been read yet (just imported). */
export const UNREAD = '';

/**
 * Reads a just-imported photo's content hash. If the album has a photo with that content whose file is gone,
 * this is that photo, moved: the old entry (with its faces and decisions) is pointed here and the new one
 * removed; its id is returned. Otherwise the hash is recorded and undefined returned.
 */
export async function identify(lib: Library, photo: Photo, photoUrl: PhotoUrl): Promise<number | undefined> {
  const facts = await fileFacts(photo.path);
  const moved = findPhotosBySha256(lib, photo.albumId, facts.sha256, photoUrl).find(
    (p) => p.id !== photo.id && !fs.existsSync(p.path),
  );
  if (!moved) {
    relinkPhoto(lib, photo.id, facts);
    return undefined;
  }
  lib.transaction(() => {
    removePhotos(lib, [photo.id]);
    relinkPhoto(lib, moved.id, facts);
  });
  return moved.id;
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
    // The same file as before: one that was missing or could not be opened is back, but one that could not be
    // decoded still cannot be, and keeps its reason.
    const openedBefore = photo.state === 'unreadable' && !photo.error?.startsWith('cannot be read');
    if (photo.state !== 'ok' && !openedBefore) setPhotoState(lib, photoId, 'ok');
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
