import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { photo, SOLVAY } from './paths.ts';

/** What the album folder's made-up photos carry, for the tests that read it back from the exports. */
export const MADE = {
  exifJpeg: 'camera.jpg',
  make: 'Heirloom Test Camera',
  model: 'Model 1',
  dpi: 300,
  deepPng: 'scan16.png',
} as const;

/**
 * A folder of photos like a user's album: real photos from ../shared/photos (a group photo, old ones, black
 * and white ones, colour), plus two made from them that the shared set lacks: a JPEG with camera EXIF and
 * 300 DPI, and a 16-bit PNG with a Display P3 profile (a scan).
 */
export async function albumFolder(folder: string): Promise<string[]> {
  fs.mkdirSync(folder, { recursive: true });
  const real = [
    SOLVAY,
    photo('CodeFormer/inputs/whole_imgs/00.jpg'),
    photo('CodeFormer/inputs/whole_imgs/03.jpg'),
    photo('CodeFormer/inputs/whole_imgs/06.png'),
    photo('DeOldify/test_images/1870Girl.jpg'),
    photo('CodeFormer/inputs/gray_faces/Einstein01.png'),
    photo('GFPGAN/inputs/whole_imgs/Blake_Lively.jpg'),
    photo('Bringing-Old-Photos-Back-to-Life/test_images/old_w_scratch/b.png'),
    photo('Bringing-Old-Photos-Back-to-Life/test_images/old/a.png'),
  ];
  for (const file of real) fs.copyFileSync(file, path.join(folder, path.basename(file)));
  await sharp(photo('CodeFormer/inputs/whole_imgs/04.jpg'))
    .withExif({ IFD0: { Make: MADE.make, Model: MADE.model } })
    .withMetadata({ density: MADE.dpi })
    .jpeg({ quality: 90 })
    .toFile(path.join(folder, MADE.exifJpeg));
  await sharp(photo('CodeFormer/inputs/whole_imgs/02.png'))
    .toColourspace('rgb16')
    .withIccProfile('p3')
    .png()
    .toFile(path.join(folder, MADE.deepPng));
  return fs.readdirSync(folder).sort();
}
