import type { Box, Face, FaceOrigin, Landmarks } from '../../contract/dto.ts';
import { notFound, type Library } from './db.ts';

/** A face as the detector gives it. */
export interface DetectedFace {
  readonly box: Box;
  readonly landmarks: Landmarks;
  readonly score: number;
}

interface FaceRow {
  id: number;
  photo_id: number;
  box_x: number;
  box_y: number;
  box_width: number;
  box_height: number;
  landmarks: string;
  score: number;
  origin: FaceOrigin;
  enabled: number;
  fidelity: number;
}

function toFace(row: FaceRow, number: number): Face {
  return {
    id: row.id,
    photoId: row.photo_id,
    number,
    box: [row.box_x, row.box_y, row.box_width, row.box_height],
    landmarks: JSON.parse(row.landmarks) as Landmarks,
    score: row.score,
    origin: row.origin,
    enabled: row.enabled === 1,
    fidelity: row.fidelity,
  };
}

const centreX = (row: FaceRow): number => row.box_x + row.box_width / 2;
const centreY = (row: FaceRow): number => row.box_y + row.box_height / 2;

/**
 * Faces in reading order: rows from the top, each row left to right — what "Face 1, Face 2…" means to someone
 * looking at a group photo. Sorting by centre y alone would number a row of people by how they tilt their
 * heads, so a face belongs to the row begun by the face above it when its centre is less than half a face
 * (the smaller of the two) lower. Ties fall back to id, so the order is the same on every call.
 */
function readingOrder(rows: readonly FaceRow[]): FaceRow[] {
  const byY = [...rows].sort((a, b) => centreY(a) - centreY(b) || centreX(a) - centreX(b) || a.id - b.id);
  const lines: FaceRow[][] = [];
  for (const face of byY) {
    const line = lines.at(-1);
    const first = line?.[0];
    if (line && first && centreY(face) - centreY(first) < Math.min(first.box_height, face.box_height) / 2) {
      line.push(face);
    } else lines.push([face]);
  }
  return lines.flatMap((line) => line.sort((a, b) => centreX(a) - centreX(b) || a.id - b.id));
}

const SELECT_FACES = `SELECT id, photo_id, box_x, box_y, box_width, box_height, landmarks, score, origin, enabled,
  fidelity FROM faces`;

/** The photo's faces in reading order, numbered from 1. */
export function listFaces(lib: Library, photoId: number): Face[] {
  if (!lib.statement(`SELECT 1 FROM photos WHERE id = ?`).get(photoId)) throw notFound('photo', photoId);
  const rows = lib.statement(`${SELECT_FACES} WHERE photo_id = ?`).all(photoId) as FaceRow[];
  return readingOrder(rows).map((row, i) => toFace(row, i + 1));
}

/** One face, numbered as in its photo's list (the number depends on the photo's other faces). */
export function getFace(lib: Library, faceId: number): Face {
  const row = lib.statement(`SELECT photo_id FROM faces WHERE id = ?`).get(faceId) as
    { photo_id: number } | undefined;
  const face = row && listFaces(lib, row.photo_id).find((f) => f.id === faceId);
  if (!face) throw notFound('face', faceId);
  return face;
}

/** New faces start enabled, at their album's fidelity (AlbumDefaults.fidelity). */
function albumFidelity(lib: Library, photoId: number): number {
  const row = lib
    .statement(`SELECT a.fidelity FROM photos p JOIN albums a ON a.id = p.album_id WHERE p.id = ?`)
    .get(photoId) as { fidelity: number } | undefined;
  if (!row) throw notFound('photo', photoId);
  return row.fidelity;
}

const INSERT_FACE = `INSERT INTO faces (photo_id, box_x, box_y, box_width, box_height, landmarks, score, origin,
  fidelity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * The detector's new findings replace the photo's detected faces, in one transaction; faces the user drew
 * stay. Returns all the photo's faces.
 */
export function replaceDetectedFaces(lib: Library, photoId: number, faces: readonly DetectedFace[]): Face[] {
  lib.transaction(() => {
    const fidelity = albumFidelity(lib, photoId);
    lib.statement(`DELETE FROM faces WHERE photo_id = ? AND origin = 'detected'`).run(photoId);
    const insert = lib.statement(INSERT_FACE);
    for (const { box, landmarks, score } of faces) {
      insert.run(photoId, ...box, JSON.stringify(landmarks), score, 'detected', fidelity);
    }
  });
  return listFaces(lib, photoId);
}

/** A face the detector missed, in a box the user drew; its landmarks are the caller's estimate. Score 1. */
export function addDrawnFace(lib: Library, photoId: number, box: Box, landmarks: Landmarks): Face {
  const id = lib.transaction(() => {
    const fidelity = albumFidelity(lib, photoId);
    return Number(
      lib.statement(INSERT_FACE).run(photoId, ...box, JSON.stringify(landmarks), 1, 'drawn', fidelity)
        .lastInsertRowid,
    );
  });
  return getFace(lib, id);
}

/** "Restore this face" and its own fidelity w; what is not given stays. */
export function updateFace(
  lib: Library,
  faceId: number,
  changes: { enabled?: boolean; fidelity?: number },
): Face {
  const enabled = changes.enabled === undefined ? null : changes.enabled ? 1 : 0;
  const { changes: updated } = lib
    .statement(
      `UPDATE faces SET enabled = coalesce(?, enabled), fidelity = coalesce(?, fidelity) WHERE id = ?`,
    )
    .run(enabled, changes.fidelity ?? null, faceId);
  if (updated === 0) throw notFound('face', faceId);
  return getFace(lib, faceId);
}

export function deleteFace(lib: Library, faceId: number): void {
  const { changes } = lib.statement(`DELETE FROM faces WHERE id = ?`).run(faceId);
  if (changes === 0) throw notFound('face', faceId);
}
