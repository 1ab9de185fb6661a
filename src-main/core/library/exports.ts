import type { ExportRecord } from '../../contract/dto.ts';
import { notFound, now, type Library } from './db.ts';

interface ExportRow {
  id: number;
  job_id: number | null;
  photo_id: number | null;
  output: string;
  created_at: string;
  model_name: string;
  model_sha256: string;
  faces: string;
}

function toRecord(row: ExportRow): ExportRecord {
  return {
    id: row.id,
    jobId: row.job_id,
    photoId: row.photo_id,
    output: row.output,
    createdAt: row.created_at,
    model: { name: row.model_name, sha256: row.model_sha256 },
    faces: JSON.parse(row.faces) as ExportRecord['faces'],
  };
}

const SELECT_EXPORTS = `SELECT id, job_id, photo_id, output, created_at, model_name, model_sha256, faces FROM exports`;

/**
 * Remembers a file written for a photo: the model and each face's w, so an export can be explained and made
 * again. The album is the photo's. The job runner calls this in the transaction that marks the item done.
 */
export function addExport(
  lib: Library,
  record: {
    jobId: number | null;
    photoId: number;
    output: string;
    model: { name: string; sha256: string };
    faces: readonly { faceId: number; fidelity: number }[];
  },
): ExportRecord {
  const row = lib
    .statement(
      `INSERT INTO exports (job_id, photo_id, album_id, output, created_at, model_name, model_sha256, faces)
       SELECT ?, id, album_id, ?, ?, ?, ?, ? FROM photos WHERE id = ?
       RETURNING id, job_id, photo_id, output, created_at, model_name, model_sha256, faces`,
    )
    .get(
      record.jobId,
      record.output,
      now(),
      record.model.name,
      record.model.sha256,
      JSON.stringify(record.faces.map(({ faceId, fidelity }) => ({ faceId, fidelity }))),
      record.photoId,
    ) as ExportRow | undefined;
  if (!row) throw notFound('photo', record.photoId);
  return toRecord(row);
}

/** The exports of an album (photos since removed included), of a photo, or all; newest first. */
export function listExports(
  lib: Library,
  filter: { albumId?: number; photoId?: number } = {},
): ExportRecord[] {
  const where: string[] = [];
  const params: number[] = [];
  for (const [column, value] of [
    ['album_id', filter.albumId],
    ['photo_id', filter.photoId],
  ] as const) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  const sql = `${SELECT_EXPORTS} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`;
  return (lib.statement(sql).all(...params) as ExportRow[]).map(toRecord);
}

/**
 * The last export written to `output` (the job that wrote it, and when it was recorded), or undefined: what
 * "Replace earlier exports" asks before it overwrites a file (core/earlier-exports.ts).
 */
export function lastExportTo(
  lib: Library,
  output: string,
): { jobId: number | null; createdAt: string } | undefined {
  const row = lib
    .statement(`SELECT job_id, created_at FROM exports WHERE output = ? ORDER BY id DESC LIMIT 1`)
    .get(output) as { job_id: number | null; created_at: string } | undefined;
  return row && { jobId: row.job_id, createdAt: row.created_at };
}
