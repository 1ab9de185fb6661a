import sharp from 'sharp';
import type { RgbImage } from './image.ts';

/** Resizes an RGB image by `scale` (rounded size); sharp reduces with area averaging, enlarges bilinearly. */
export async function resizeRgb(image: RgbImage, scale: number): Promise<RgbImage> {
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  return resizeRgbTo(image, width, height);
}

export async function resizeRgbTo(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  const { data, info } = await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(width, height, { kernel: width < image.width ? 'lanczos3' : 'linear', fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}
