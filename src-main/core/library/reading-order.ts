import type { Box } from '../../contract/dto.ts';

/**
 * Faces in reading order: rows from the top, each row left to right — what "Face 1, Face 2…" means to someone
 * looking at a group photo.
 *
 * Rows of people are not level: on Solvay 1927 the back row's heads lie 66 px apart in height (more than a
 * face), while the middle and front rows are only 25 px apart (half a face). No threshold on height alone tells
 * them apart, so a row is ended by what makes a new row to the eye: a face *below* one of the row's faces
 * (their boxes overlap side to side and it is lower by more than half a face), or a face lower than the whole
 * row by more than a face's height. Ties fall back to the caller's order, so the result never varies.
 */
export function readingOrder<T extends { readonly box: Box }>(faces: readonly T[]): T[] {
  const centreX = ({ box }: T) => box[0] + box[2] / 2;
  const centreY = ({ box }: T) => box[1] + box[3] / 2;
  const byY = faces
    .map((face, i) => ({ face, i }))
    .sort((a, b) => centreY(a.face) - centreY(b.face) || centreX(a.face) - centreX(b.face) || a.i - b.i);
  const rows: { face: T; i: number }[][] = [];
  for (const entry of byY) {
    const { box } = entry.face;
    const row = rows.at(-1);
    const below = (above: T) =>
      box[0] < above.box[0] + above.box[2] &&
      above.box[0] < box[0] + box[2] &&
      centreY(entry.face) - centreY(above) > Math.min(box[3], above.box[3]) / 2;
    const lowest = row && Math.max(...row.map((r) => centreY(r.face)));
    if (
      row &&
      lowest !== undefined &&
      !row.some((r) => below(r.face)) &&
      centreY(entry.face) - lowest <= box[3]
    ) {
      row.push(entry);
    } else rows.push([entry]);
  }
  return rows.flatMap((row) =>
    row.sort((a, b) => centreX(a.face) - centreX(b.face) || a.i - b.i).map((r) => r.face),
  );
}
