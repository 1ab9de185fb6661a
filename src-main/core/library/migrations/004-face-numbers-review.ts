import type Database from 'better-sqlite3';
import type { Box } from '../../../contract/dto.ts';
import { readingOrder } from '../reading-order.ts';

export const version = 4;
export const name = 'face finder per album, face numbers and blend, review and restored state';

/**
 * - faces.number: a face keeps the number it was given ("Face 3" stays Face 3 when Face 2 is deleted). Until
 *   now numbers were computed on every read; they are given here once, in the reading order of that time.
 * - albums.detector: the face finder of the album's photos, YuNet (fast) or RetinaFace (the official one).
 * - faces.blend: how a restored face is laid back into the photo — 'face' (through the face-parsing mask: skin,
 *   features and hair, not the background, neck or clothes; the official pipeline's way) or 'square' (the whole
 *   feathered square, for a face the parser gets wrong).
 * - photos.faces_rev counts changes to a photo's faces, kept by triggers so no write path can forget it:
 *   a whole-photo render is "the restored photo" only while the revision it was made from is current.
 * - photos.restored_rev / restored_render: the revision and the cache name of the last whole-photo render.
 * - exports(output): "Replace earlier exports" asks whether a file in the way is one Heirloom wrote.
 * - photos.reviewed: the user has opened the photo since its faces were found. A photo already exported
 *   counts as reviewed; the others are shown as needing review.
 */
export function up(db: Database.Database): void {
  db.exec(`
    ALTER TABLE albums ADD COLUMN detector TEXT NOT NULL DEFAULT 'yunet' CHECK (detector IN ('yunet', 'retinaface'));
    ALTER TABLE faces ADD COLUMN number INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE faces ADD COLUMN blend TEXT NOT NULL DEFAULT 'face' CHECK (blend IN ('face', 'square'));
    ALTER TABLE photos ADD COLUMN faces_rev INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE photos ADD COLUMN restored_rev INTEGER;
    ALTER TABLE photos ADD COLUMN restored_render TEXT;
    ALTER TABLE photos ADD COLUMN reviewed INTEGER NOT NULL DEFAULT 0 CHECK (reviewed IN (0, 1));
    CREATE INDEX exports_by_output ON exports (output);
    UPDATE photos SET reviewed = 1 WHERE id IN (SELECT photo_id FROM exports WHERE photo_id IS NOT NULL);

    CREATE TRIGGER faces_rev_insert AFTER INSERT ON faces BEGIN
      UPDATE photos SET faces_rev = faces_rev + 1 WHERE id = NEW.photo_id;
    END;
    CREATE TRIGGER faces_rev_delete AFTER DELETE ON faces BEGIN
      UPDATE photos SET faces_rev = faces_rev + 1 WHERE id = OLD.photo_id;
    END;
    CREATE TRIGGER faces_rev_update AFTER UPDATE OF enabled, fidelity, blend, box_x, box_y, box_width,
      box_height, landmarks ON faces BEGIN
      UPDATE photos SET faces_rev = faces_rev + 1 WHERE id = NEW.photo_id;
    END;
  `);
  const rows = db
    .prepare(`SELECT id, photo_id, box_x, box_y, box_width, box_height FROM faces ORDER BY photo_id, id`)
    .all() as {
    id: number;
    photo_id: number;
    box_x: number;
    box_y: number;
    box_width: number;
    box_height: number;
  }[];
  const byPhoto = new Map<number, typeof rows>();
  for (const row of rows) byPhoto.set(row.photo_id, [...(byPhoto.get(row.photo_id) ?? []), row]);
  const setNumber = db.prepare(`UPDATE faces SET number = ? WHERE id = ?`);
  for (const faces of byPhoto.values()) {
    const boxed = faces.map((f) => ({ id: f.id, box: [f.box_x, f.box_y, f.box_width, f.box_height] as Box }));
    readingOrder(boxed).forEach((f, i) => setNumber.run(i + 1, f.id));
  }
  db.exec(`CREATE UNIQUE INDEX faces_by_number ON faces (photo_id, number)`);
  // albums.upscale: how many times the album's exports are enlarged (1: the photo's own size).
  // jobs.note: what a job says once about how it was done (an export enlarged by plain resizing).
  db.exec(`
    ALTER TABLE albums ADD COLUMN upscale INTEGER NOT NULL DEFAULT 1 CHECK (upscale IN (1, 2, 3, 4));
    ALTER TABLE jobs ADD COLUMN note TEXT;
  `);
}
