import type {
  Box,
  DamageStroke,
  Face,
  FaceBlend,
  FaceOrigin,
  FaceTask,
  Landmarks,
} from '../../contract/dto.ts';
import { notFound, type Library } from './db.ts';
import { readingOrder } from './reading-order.ts';

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
  blend: FaceBlend;
  number: number;
  task: FaceTask;
  damage: string;
}

function toFace(row: FaceRow): Face {
  return {
    id: row.id,
    photoId: row.photo_id,
    number: row.number,
    box: [row.box_x, row.box_y, row.box_width, row.box_height],
    landmarks: JSON.parse(row.landmarks) as Landmarks,
    score: row.score,
    origin: row.origin,
    enabled: row.enabled === 1,
    fidelity: row.fidelity,
    blend: row.blend,
    task: row.task,
    damage: JSON.parse(row.damage) as DamageStroke[],
  };
}

const SELECT_FACES = `SELECT id, photo_id, box_x, box_y, box_width, box_height, landmarks, score, origin, enabled,
  fidelity, blend, number, task, damage FROM faces`;

/** The photo's faces by number. */
export function listFaces(lib: Library, photoId: number): Face[] {
  if (!lib.statement(`SELECT 1 FROM photos WHERE id = ?`).get(photoId)) throw notFound('photo', photoId);
  const rows = lib.statement(`${SELECT_FACES} WHERE photo_id = ? ORDER BY number`).all(photoId) as FaceRow[];
  return rows.map(toFace);
}

export function getFace(lib: Library, faceId: number): Face {
  const row = lib.statement(`${SELECT_FACES} WHERE id = ?`).get(faceId) as FaceRow | undefined;
  if (!row) throw notFound('face', faceId);
  return toFace(row);
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
  fidelity, number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * The detector's new findings replace the photo's detected faces, in one transaction; faces the user drew
 * stay. A new detection is a new start: every face, drawn ones included, is numbered again in reading order,
 * and the photo needs review again. Returns all the photo's faces.
 */
export function replaceDetectedFaces(lib: Library, photoId: number, faces: readonly DetectedFace[]): Face[] {
  lib.transaction(() => {
    const fidelity = albumFidelity(lib, photoId);
    lib.statement(`DELETE FROM faces WHERE photo_id = ? AND origin = 'detected'`).run(photoId);
    const drawn = lib
      .statement(`SELECT id, box_x, box_y, box_width, box_height FROM faces WHERE photo_id = ?`)
      .all(photoId) as { id: number; box_x: number; box_y: number; box_width: number; box_height: number }[];
    type Entry = { box: Box; drawnId?: number; found?: DetectedFace };
    const entries: Entry[] = [
      ...drawn.map((d) => ({ box: [d.box_x, d.box_y, d.box_width, d.box_height] as Box, drawnId: d.id })),
      ...faces.map((found) => ({ box: found.box, found })),
    ];
    // Drawn faces move out of the way first: numbers are unique per photo.
    lib.statement(`UPDATE faces SET number = -number WHERE photo_id = ?`).run(photoId);
    const insert = lib.statement(INSERT_FACE);
    const renumber = lib.statement(`UPDATE faces SET number = ? WHERE id = ?`);
    readingOrder(entries).forEach((entry, i) => {
      if (entry.drawnId !== undefined) renumber.run(i + 1, entry.drawnId);
      else if (entry.found) {
        const { box, landmarks, score } = entry.found;
        insert.run(photoId, ...box, JSON.stringify(landmarks), score, 'detected', fidelity, i + 1);
      }
    });
    lib.statement(`UPDATE photos SET reviewed = 0 WHERE id = ?`).run(photoId);
  });
  return listFaces(lib, photoId);
}

/**
 * A face the detector missed, in a box the user drew; its landmarks are the caller's estimate. Score 1. It takes
 * the next number after the photo's highest, so no other face's number changes.
 */
export function addDrawnFace(lib: Library, photoId: number, box: Box, landmarks: Landmarks): Face {
  const id = lib.transaction(() => {
    const fidelity = albumFidelity(lib, photoId);
    const { next } = lib
      .statement(`SELECT coalesce(max(number), 0) + 1 AS next FROM faces WHERE photo_id = ?`)
      .get(photoId) as { next: number };
    return Number(
      lib.statement(INSERT_FACE).run(photoId, ...box, JSON.stringify(landmarks), 1, 'drawn', fidelity, next)
        .lastInsertRowid,
    );
  });
  return getFace(lib, id);
}

/**
 * "Restore this face", its own fidelity w, how it is blended in, what is done to it and the damage painted on
 * it; what is not given stays.
 */
export function updateFace(
  lib: Library,
  faceId: number,
  changes: {
    enabled?: boolean;
    fidelity?: number;
    blend?: FaceBlend;
    task?: FaceTask;
    damage?: readonly DamageStroke[];
  },
): Face {
  const enabled = changes.enabled === undefined ? null : changes.enabled ? 1 : 0;
  const damage = changes.damage === undefined ? null : JSON.stringify(changes.damage);
  const { changes: updated } = lib
    .statement(
      `UPDATE faces SET enabled = coalesce(?, enabled), fidelity = coalesce(?, fidelity), blend = coalesce(?, blend),
       task = coalesce(?, task), damage = coalesce(?, damage) WHERE id = ?`,
    )
    .run(enabled, changes.fidelity ?? null, changes.blend ?? null, changes.task ?? null, damage, faceId);
  if (updated === 0) throw notFound('face', faceId);
  return getFace(lib, faceId);
}

/** Deletes the face; the others keep their numbers (a gap is left: "Face 2" still means the same person). */
export function deleteFace(lib: Library, faceId: number): void {
  const { changes } = lib.statement(`DELETE FROM faces WHERE id = ?`).run(faceId);
  if (changes === 0) throw notFound('face', faceId);
}
