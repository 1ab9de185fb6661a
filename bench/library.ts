/**
 * The library's list queries on a large album: 10,000 photos (a family's scans), a face on every other photo,
 * an export on every tenth, among 50 albums. Prints JSON of the median of 20 runs (after a warm-up), with the
 * machine's load average and CPU count.
 * Usage: node --import tsx bench/library.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAlbum, listAlbums } from '../src-main/core/library/albums.ts';
import { openLibrary } from '../src-main/core/library/db.ts';
import { addExport } from '../src-main/core/library/exports.ts';
import { replaceDetectedFaces } from '../src-main/core/library/faces.ts';
import { addPhotos, listPhotos } from '../src-main/core/library/photos.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heirloom-bench-'));
try {
  const lib = openLibrary(path.join(dir, 'library.db'));
  for (let i = 0; i < 49; i++) createAlbum(lib, `Album ${i}`);
  const album = createAlbum(lib, 'Scans');
  const files = Array.from({ length: 10_000 }, (_, i) => ({
    path: `/home/user/Pictures/scans/box ${i % 40}/scan ${String(i).padStart(5, '0')}.tif`,
    sha256: i.toString(16).padStart(64, '0'),
    bytes: 40_000_000,
    mtimeMs: 1_700_000_000_000 + i,
  }));
  const { added } = addPhotos(lib, album.id, files);
  const landmarks: [number, number][] = [
    [30, 40],
    [70, 40],
    [50, 60],
    [35, 80],
    [65, 80],
  ];
  const model = { name: 'codeformer', sha256: 'ab'.repeat(32) };
  lib.transaction(() => {
    added.forEach((photoId, i) => {
      if (i % 2 === 0) {
        const face = { box: [0, 0, 100, 100] as [number, number, number, number], landmarks, score: 0.9 };
        replaceDetectedFaces(lib, photoId, [face as Parameters<typeof replaceDetectedFaces>[2][number]]);
      }
      if (i % 10 === 0) addExport(lib, { jobId: null, photoId, output: `/out/${i}.jpg`, model, faces: [] });
    });
  });

  const median = (fn: () => unknown): number => {
    fn();
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const start = performance.now();
      fn();
      times.push(performance.now() - start);
    }
    return Math.round(times.sort((a, b) => a - b)[times.length >> 1]! * 100) / 100;
  };
  const photoUrl = (id: number, sha256: string) => ({
    url: `/media/photos/${id}`,
    thumbUrl: `/media/thumb/${id}-${sha256}`,
  });
  const photoList10k_ms = median(() => listPhotos(lib, album.id, photoUrl));
  const albumList_ms = median(() => listAlbums(lib));
  // Wall-clock times: on a busy machine they grow with the load, which is printed to read them by.
  const loadAverage = Math.round(os.loadavg()[0]! * 100) / 100;
  console.log(
    JSON.stringify({ photoList10k_ms, albumList_ms, loadAverage, cpus: os.availableParallelism() }),
  );
  lib.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
