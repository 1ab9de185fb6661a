import type Database from 'better-sqlite3';

export const version = 5;
export const name = 'what is done to each face: restore, colorize or repair painted damage';

/**
 * - faces.task: 'restore' (CodeFormer at the face's w), 'colorize' (the colorization model, that face only) or
 *   'inpaint' (the inpainting model, through the damage the user painted).
 * - faces.damage: the painted strokes, JSON `[{ radius, points: [[x, y], …] }, …]` in the photo's pixels. Kept when
 *   the task changes, so switching back to "Repair damage" finds the paint again.
 * - The revision trigger counts the two as changes of the faces (a whole-photo render made before is stale).
 */
export function up(db: Database.Database): void {
  db.exec(`
    ALTER TABLE faces ADD COLUMN task TEXT NOT NULL DEFAULT 'restore'
      CHECK (task IN ('restore', 'colorize', 'inpaint'));
    ALTER TABLE faces ADD COLUMN damage TEXT NOT NULL DEFAULT '[]';
    DROP TRIGGER faces_rev_update;
    CREATE TRIGGER faces_rev_update AFTER UPDATE OF enabled, fidelity, blend, task, damage, box_x, box_y,
      box_width, box_height, landmarks ON faces BEGIN
      UPDATE photos SET faces_rev = faces_rev + 1 WHERE id = NEW.photo_id;
    END;
  `);
}
