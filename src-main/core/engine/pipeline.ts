import sharp from 'sharp';
import { FACE_SIZE, alignToTemplate, warpToTemplate, type Similarity } from './align.ts';
import type { DetectedFace, FaceDetector } from './detect.ts';
import { decodePhoto, type Photo, type Raster } from './image.ts';
import { pasteBack } from './paste.ts';
import { resizeRgbTo } from './resize.ts';
import { matchGrayTone, type Restorer } from './restore.ts';

/** Milliseconds spent in each step of one photo, for `--json` and the benchmarks. */
export interface StepTimes {
  decode: number;
  detect: number;
  align: number;
  restore: number;
  paste: number;
}

export interface RestoreOptions {
  /** CodeFormer's fidelity weight w (paper default 0.5). */
  readonly fidelity: number;
  /** Integer enlargement of the whole photo. */
  readonly upscale: number;
  readonly detectThreshold?: number;
}

export interface RestoredPhoto {
  readonly photo: Photo;
  readonly faces: DetectedFace[];
  readonly output: Raster;
  readonly ms: StepTimes;
}

/** Milliseconds since `start`, to 0.1 ms. */
function since(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

/** The photo enlarged `upscale` times, bilinear as the official background path (§8.4); a copy at ×1. */
export async function enlargeRaster(raster: Raster, upscale: number): Promise<Raster> {
  if (upscale === 1) return { ...raster, data: raster.data.slice() };
  const { width, height, channels, depth } = raster;
  const bytes = Buffer.from(raster.data.buffer, raster.data.byteOffset, raster.data.byteLength);
  const { data, info } = await sharp(bytes, {
    raw: { width, height, channels, ...(depth === 16 ? { depth: 'ushort' } : {}) },
  })
    .resize(width * upscale, height * upscale, { kernel: 'linear', fit: 'fill' })
    .raw({ depth: depth === 16 ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    channels,
    depth,
    data:
      depth === 16
        ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
        : new Uint8Array(data),
  };
}

/** Whole photo: detect → align → restore → paste back, every face at the same fidelity. */
export async function restorePhoto(
  bytes: Uint8Array,
  detector: FaceDetector,
  restorer: Restorer,
  options: RestoreOptions,
): Promise<RestoredPhoto> {
  let t = performance.now();
  const photo = await decodePhoto(bytes);
  const ms: StepTimes = { decode: since(t), detect: 0, align: 0, restore: 0, paste: 0 };

  t = performance.now();
  const faces = await detector.detect(photo.rgb, { threshold: options.detectThreshold });
  ms.detect = since(t);

  t = performance.now();
  const output = await enlargeRaster(photo.pixels, options.upscale);
  ms.paste += since(t);
  for (const face of faces) {
    t = performance.now();
    const toTemplate: Similarity = alignToTemplate(face.landmarks);
    const crop = warpToTemplate(photo.rgb, toTemplate);
    ms.align += since(t);

    t = performance.now();
    const restored = await restorer.restore(crop, options.fidelity);
    ms.restore += since(t);

    t = performance.now();
    pasteBack(output, photo.gray ? matchGrayTone(restored, crop) : restored, toTemplate, options.upscale);
    ms.paste += since(t);
  }
  return { photo, faces, output, ms };
}

/**
 * An already aligned face (`--aligned`): resized to 512×512 if needed (bilinear, as the official script),
 * restored, no detection and no paste-back. The output is the 512×512 face, gray-toned for gray inputs.
 */
export async function restoreAlignedFace(
  bytes: Uint8Array,
  restorer: Restorer,
  fidelity: number,
): Promise<RestoredPhoto> {
  let t = performance.now();
  const photo = await decodePhoto(bytes);
  const crop =
    photo.rgb.width === FACE_SIZE && photo.rgb.height === FACE_SIZE
      ? photo.rgb
      : await resizeRgbTo(photo.rgb, FACE_SIZE, FACE_SIZE);
  const ms: StepTimes = { decode: since(t), detect: 0, align: 0, restore: 0, paste: 0 };
  t = performance.now();
  const restored = await restorer.restore(crop, fidelity);
  ms.restore = since(t);
  t = performance.now();
  const face = photo.gray ? matchGrayTone(restored, crop) : restored;
  const data = new Uint8Array(FACE_SIZE * FACE_SIZE * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(255, Math.max(0, Math.round(face[i]!)));
  ms.paste = since(t);
  const output: Raster = { width: FACE_SIZE, height: FACE_SIZE, channels: 3, depth: 8, data };
  return { photo, faces: [], output, ms };
}
