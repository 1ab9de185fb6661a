import path from 'node:path';
import type { Box, Landmarks } from '../../src-main/contract/dto.ts';
import { openLibrary, type Library } from '../../src-main/core/library/db.ts';
import type { PhotoFile } from '../../src-main/core/library/photos.ts';
import { tempDir } from '../support/temp.ts';

/** A new library in a folder of its own, closed when the test ends. */
export function newLibrary(t: { after(fn: () => void): void }): Library {
  const lib = openLibrary(path.join(tempDir(), 'library', 'library.db'));
  t.after(() => lib.close());
  return lib;
}

export const photoUrl = (photoId: number, sha256: string) => ({
  url: `/media/photos/${photoId}`,
  thumbUrl: `/media/thumb/${photoId}-${sha256}`,
});

/** A file as an import would find it; its content hash made from `content`. */
export function photoFile(file: string, content = file): PhotoFile {
  return {
    path: file,
    sha256: content.padEnd(64, '0').slice(0, 64),
    bytes: 1000,
    mtimeMs: 1_700_000_000_000,
  };
}

/** A detected face at `box`, its landmarks inside it. */
export function detected(box: Box, score = 0.9): { box: Box; landmarks: Landmarks; score: number } {
  const [x, y, w, h] = box;
  return {
    box,
    score,
    landmarks: [
      [x + w * 0.3, y + h * 0.4],
      [x + w * 0.7, y + h * 0.4],
      [x + w * 0.5, y + h * 0.6],
      [x + w * 0.35, y + h * 0.8],
      [x + w * 0.65, y + h * 0.8],
    ],
  };
}

/** Rows of a table, for checking what a cascade left behind. */
export function count(lib: Library, table: string): number {
  return Number(lib.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get());
}
