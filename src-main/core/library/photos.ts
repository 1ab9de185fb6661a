import path from 'node:path';
import type { DetectionState, Photo, PhotoState } from '../../contract/dto.ts';
import { AppError } from '../../contract/errors.ts';
import { notFound, now, type Library } from './db.ts';

/**
 * How a host serves a photo and its thumbnail (`/media/...`), from its id and content hash ('' until read): given
 * by the caller, the library knows no URLs.
 */
export type PhotoUrl = (
  photoId: number,
  sha256: string,
  /** The cache name of the photo's restored render, when it pictures the faces' current settings. */
  restoredRender?: string | null,
) => Pick<Photo, 'url' | 'thumbUrl'>;

/** A file as found on disk, to add or to point a photo at. */
export interface PhotoFile {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly mtimeMs: number;
}

/** A row of SELECT_PHOTOS, in its column order. */
type PhotoRow = [
  id: number,
  albumId: number,
  path: string,
  sha256: string,
  bytes: number,
  mtimeMs: number,
  width: number,
  height: number,
  state: PhotoState,
  detection: DetectionState,
  error: string | null,
  faceCount: number,
  enabledFaceCount: number,
  exportedAt: string | null,
  needsReview: 0 | 1,
  restoredRender: string | null,
];

/**
 * One query for a whole album: the counts are read from the faces(photo_id, enabled) index and the latest
 * export from exports(photo_id) (newest = highest id, which AUTOINCREMENT keeps in write order even if the
 * clock steps back). No query per photo.
 */
const SELECT_PHOTOS = `
  SELECT p.id, p.album_id, p.path, p.sha256, p.bytes, p.mtime_ms, p.width, p.height, p.state, p.detection,
    p.error,
    (SELECT count(*) FROM faces f WHERE f.photo_id = p.id),
    (SELECT count(*) FROM faces f WHERE f.photo_id = p.id AND f.enabled = 1),
    (SELECT e.created_at FROM exports e WHERE e.photo_id = p.id ORDER BY e.id DESC LIMIT 1),
    p.reviewed = 0 AND p.detection = 'done' AND EXISTS (SELECT 1 FROM faces f WHERE f.photo_id = p.id),
    CASE WHEN p.restored_rev = p.faces_rev THEN p.restored_render END
  FROM photos p`;

/**
 * Runs a SELECT_PHOTOS query for rows as arrays: better-sqlite3 builds a row object key by key, which for
 * 10,000 photos of 14 columns cost as much again as the query itself (measured here: ~50 → ~27 ms of CPU).
 */
function selectPhotos(lib: Library, where: string, ...params: unknown[]): PhotoRow[] {
  return lib
    .statement(`${SELECT_PHOTOS} ${where}`)
    .raw(true)
    .all(...params) as PhotoRow[];
}

function toPhoto(row: PhotoRow, photoUrl: PhotoUrl): Photo {
  const [
    id,
    albumId,
    file,
    sha256,
    bytes,
    mtimeMs,
    width,
    height,
    state,
    detection,
    error,
    faceCount,
    enabledFaceCount,
    exportedAt,
    needsReview,
    restoredRender,
  ] = row;
  return {
    id,
    albumId,
    path: file,
    name: path.basename(file),
    sha256,
    bytes,
    mtimeMs,
    width,
    height,
    state,
    detection,
    error,
    faceCount,
    enabledFaceCount,
    exportedAt,
    needsReview: needsReview === 1,
    restored: restoredRender !== null && enabledFaceCount > 0,
    ...photoUrl(id, sha256, enabledFaceCount > 0 ? restoredRender : null),
  };
}

function requireAlbum(lib: Library, albumId: number): void {
  if (!lib.statement(`SELECT 1 FROM albums WHERE id = ?`).get(albumId)) throw notFound('album', albumId);
}

export function getPhoto(lib: Library, photoId: number, photoUrl: PhotoUrl): Photo {
  const [row] = selectPhotos(lib, `WHERE p.id = ?`, photoId);
  if (!row) throw notFound('photo', photoId);
  return toPhoto(row, photoUrl);
}

/** The album's photos ordered by path (a folder's photos stay together), or only those in `state`. */
export function listPhotos(lib: Library, albumId: number, photoUrl: PhotoUrl, state?: PhotoState): Photo[] {
  requireAlbum(lib, albumId);
  const rows =
    state === undefined
      ? selectPhotos(lib, `WHERE p.album_id = ? ORDER BY p.path`, albumId)
      : selectPhotos(lib, `WHERE p.album_id = ? AND p.state = ? ORDER BY p.path`, albumId, state);
  return rows.map((row) => toPhoto(row, photoUrl));
}

/**
 * Adds the files to the album by reference, in one transaction (all or none), as state 'ok' and detection
 * 'pending'. A path the album already has is reported in `alreadyThere` and left as it is.
 */
export function addPhotos(
  lib: Library,
  albumId: number,
  files: readonly PhotoFile[],
): { added: number[]; alreadyThere: string[] } {
  const insert = lib.statement(
    `INSERT INTO photos (album_id, path, sha256, bytes, mtime_ms, added_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (album_id, path) DO NOTHING RETURNING id`,
  );
  return lib.transaction(() => {
    requireAlbum(lib, albumId);
    const added: number[] = [];
    const alreadyThere: string[] = [];
    const addedAt = now();
    for (const file of files) {
      const row = insert.get(albumId, file.path, file.sha256, file.bytes, file.mtimeMs, addedAt) as
        { id: number } | undefined;
      if (row) added.push(row.id);
      else alreadyThere.push(file.path);
    }
    return { added, alreadyThere };
  });
}

/** The album's photos with this content, oldest first: a moved file is found again by what it holds. */
export function findPhotosBySha256(
  lib: Library,
  albumId: number,
  sha256: string,
  photoUrl: PhotoUrl,
): Photo[] {
  const rows = selectPhotos(lib, `WHERE p.album_id = ? AND p.sha256 = ? ORDER BY p.id`, albumId, sha256);
  return rows.map((row) => toPhoto(row, photoUrl));
}

/**
 * Points the photo at `file` and marks it 'ok': a moved original found again at its new path, or an edited one
 * accepted with its new content (the caller then sets detection 'pending' to find its faces again). Its faces
 * and export history stay. CONFLICT when the album already has another photo at that path.
 */
export function relinkPhoto(lib: Library, photoId: number, file: PhotoFile): void {
  try {
    const { changes } = lib
      .statement(
        `UPDATE photos SET path = ?, sha256 = ?, bytes = ?, mtime_ms = ?, state = 'ok', error = NULL WHERE id = ?`,
      )
      .run(file.path, file.sha256, file.bytes, file.mtimeMs, photoId);
    if (changes === 0) throw notFound('photo', photoId);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw error;
    throw new AppError('CONFLICT', `The album already has a photo at ${file.path}.`, { cause: error });
  }
}

/** What a check of the original found; `error` says why it is unreadable (cleared otherwise). */
export function setPhotoState(
  lib: Library,
  photoId: number,
  state: PhotoState,
  error: string | null = null,
): void {
  const { changes } = lib
    .statement(`UPDATE photos SET state = ?, error = ? WHERE id = ?`)
    .run(state, error, photoId);
  if (changes === 0) throw notFound('photo', photoId);
}

/**
 * Where finding the photo's faces stands, with its upright size once it was decoded (a size not given is kept),
 * and why detection failed (cleared otherwise).
 */
export function setPhotoDetection(
  lib: Library,
  photoId: number,
  detection: { state: DetectionState; width?: number; height?: number; error?: string | null },
): void {
  const { changes } = lib
    .statement(
      `UPDATE photos SET detection = ?, width = coalesce(?, width), height = coalesce(?, height), error = ?
       WHERE id = ?`,
    )
    .run(
      detection.state,
      detection.width ?? null,
      detection.height ?? null,
      detection.error ?? null,
      photoId,
    );
  if (changes === 0) throw notFound('photo', photoId);
}

/**
 * Forgets the photos (their faces go with them; jobs and export history keep their rows, without the photo).
 * Never touches a file. Returns how many there were; ids not in the library are ignored.
 */
export function removePhotos(lib: Library, photoIds: readonly number[]): number {
  // One statement with the ids as a JSON array: no limit on the number of bound variables.
  return lib
    .statement(`DELETE FROM photos WHERE id IN (SELECT value FROM json_each(?))`)
    .run(JSON.stringify(photoIds)).changes;
}

/** The user has looked at the photo's faces: it no longer needs review (until its faces are found again). */
export function markReviewed(lib: Library, photoId: number): void {
  const { changes } = lib.statement(`UPDATE photos SET reviewed = 1 WHERE id = ?`).run(photoId);
  if (changes === 0) throw notFound('photo', photoId);
}

/**
 * Which revision of the photo's faces a render starts from: read before the render, so that a face changed while
 * it ran leaves the render stale instead of marking it current.
 */
export function facesRevision(lib: Library, photoId: number): number {
  const row = lib.statement(`SELECT faces_rev FROM photos WHERE id = ?`).get(photoId) as
    { faces_rev: number } | undefined;
  if (!row) throw notFound('photo', photoId);
  return row.faces_rev;
}

/** A whole-photo render of revision `revision` of the faces is in the cache under `render`. */
export function setRestored(lib: Library, photoId: number, revision: number, render: string): void {
  lib
    .statement(`UPDATE photos SET restored_rev = ?, restored_render = ? WHERE id = ?`)
    .run(revision, render, photoId);
}
