import type { Album, AlbumDefaults, ExportFormat, FaceFinderChoice, Upscale } from '../../contract/dto.ts';
import { AppError } from '../../contract/errors.ts';
import { notFound, now, type Library } from './db.ts';
import { getSettings } from './settings.ts';

interface AlbumRow {
  id: number;
  name: string;
  created_at: string;
  fidelity: number;
  format: ExportFormat;
  pattern: string;
  folder: string | null;
  quality: number | null;
  provenance: number;
  detector: FaceFinderChoice;
  upscale: Upscale;
  photo_count: number;
  face_count: number;
}

/**
 * The counts come from subqueries over the indexes (photos by album, faces by photo), one query for the whole
 * list: no query per album, and no count kept in a column that could drift.
 */
const SELECT_ALBUMS = `
  SELECT a.id, a.name, a.created_at, a.fidelity, a.format, a.pattern, a.folder, a.quality, a.provenance,
    a.detector, a.upscale,
    (SELECT count(*) FROM photos p WHERE p.album_id = a.id) AS photo_count,
    (SELECT count(*) FROM photos p JOIN faces f ON f.photo_id = p.id WHERE p.album_id = a.id) AS face_count
  FROM albums a`;

function toAlbum(row: AlbumRow): Album {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    photoCount: row.photo_count,
    faceCount: row.face_count,
    defaults: {
      fidelity: row.fidelity,
      format: row.format,
      pattern: row.pattern,
      folder: row.folder,
      quality: row.quality,
      provenance: row.provenance === 1,
      detector: row.detector,
      upscale: row.upscale,
    },
  };
}

/**
 * An album name as compared: trimmed, NFC (an "é" typed or pasted is one name), and case-folded by going
 * through upper case, so that "Straße" and "STRASSE" are one name as well as "Ä" and "ä".
 */
export function albumNameKey(name: string): string {
  return name.trim().normalize('NFC').toUpperCase().toLowerCase();
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function nameTaken(name: string): AppError {
  return new AppError('CONFLICT', `There is already an album named "${name.trim()}": choose another name.`);
}

export function getAlbum(lib: Library, albumId: number): Album {
  const row = lib.statement(`${SELECT_ALBUMS} WHERE a.id = ?`).get(albumId) as AlbumRow | undefined;
  if (!row) throw notFound('album', albumId);
  return toAlbum(row);
}

/** Every album, by name as a user reads it (case and accents folded). */
export function listAlbums(lib: Library): Album[] {
  return (lib.statement(`${SELECT_ALBUMS} ORDER BY a.name_key, a.id`).all() as AlbumRow[]).map(toAlbum);
}

/** A new album, its fidelity and provenance from the settings; CONFLICT when the name is taken. */
export function createAlbum(lib: Library, name: string): Album {
  const settings = getSettings(lib);
  try {
    const { lastInsertRowid } = lib
      .statement(
        `INSERT INTO albums (name, name_key, created_at, fidelity, provenance) VALUES (?, ?, ?, ?, ?)`,
      )
      .run(name.trim(), albumNameKey(name), now(), settings.defaultFidelity, settings.provenance ? 1 : 0);
    return getAlbum(lib, Number(lastInsertRowid));
  } catch (error) {
    throw isUniqueViolation(error) ? nameTaken(name) : error;
  }
}

/** CONFLICT when another album has the name; an album may change the case of its own name. */
export function renameAlbum(lib: Library, albumId: number, name: string): Album {
  try {
    const { changes } = lib
      .statement(`UPDATE albums SET name = ?, name_key = ? WHERE id = ?`)
      .run(name.trim(), albumNameKey(name), albumId);
    if (changes === 0) throw notFound('album', albumId);
  } catch (error) {
    throw isUniqueViolation(error) ? nameTaken(name) : error;
  }
  return getAlbum(lib, albumId);
}

/** Changes the defaults given, leaves the others as they are. */
export function updateAlbumDefaults(lib: Library, albumId: number, defaults: Partial<AlbumDefaults>): Album {
  return lib.transaction(() => {
    // A key given as undefined is one not given: it must not erase the current value.
    const given = Object.fromEntries(Object.entries(defaults).filter(([, value]) => value !== undefined));
    const next: AlbumDefaults = { ...getAlbum(lib, albumId).defaults, ...given };
    lib
      .statement(
        `UPDATE albums SET fidelity = ?, format = ?, pattern = ?, folder = ?, quality = ?, provenance = ?,
         detector = ?, upscale = ? WHERE id = ?`,
      )
      .run(
        next.fidelity,
        next.format,
        next.pattern,
        next.folder,
        next.quality,
        next.provenance ? 1 : 0,
        next.detector,
        next.upscale,
        albumId,
      );
    return getAlbum(lib, albumId);
  });
}

/**
 * Forgets the album: its photos, faces, jobs and export history go with it (ON DELETE CASCADE). No file is
 * touched, originals and exports alike.
 */
export function deleteAlbum(lib: Library, albumId: number): void {
  const { changes } = lib.statement(`DELETE FROM albums WHERE id = ?`).run(albumId);
  if (changes === 0) throw notFound('album', albumId);
}
