import { FACE_SIZE, alignToTemplate, warpToTemplate, type Similarity } from './align.ts';
import type { DetectedFace, FaceDetector } from './detect.ts';
import { decodePhoto, toRgb8, type Photo, type Raster } from './image.ts';
import { pasteBack, replaceFace } from './paste.ts';
import { resizeRaster } from './resize.ts';
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
  /** The faces found, in the order they were pasted. */
  readonly faces: DetectedFace[];
  /** The whole photo, enlarged `upscale` times. */
  readonly output: Raster;
  readonly ms: StepTimes;
}

export interface RestoredAlignedFace {
  readonly photo: Photo;
  /** The 512×512 face. */
  readonly output: Raster;
  readonly ms: Pick<StepTimes, 'decode' | 'restore'>;
  /** What the user should know about this result, one line each. */
  readonly warnings: string[];
}

/** Milliseconds since `start`, to 0.1 ms. */
function since(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

/** The photo enlarged `upscale` times, bilinear as the official background path (§8.4); a copy at ×1. */
export function enlargeRaster(raster: Raster, upscale: number): Raster {
  if (upscale === 1) return { ...raster, data: raster.data.slice() };
  return resizeRaster(raster, raster.width * upscale, raster.height * upscale);
}

/** Whole photo: detect → align → restore → paste back, every face at the same fidelity. */
export async function restorePhoto(
  bytes: Uint8Array,
  detector: FaceDetector,
  restorer: Restorer,
  options: RestoreOptions,
): Promise<RestoredPhoto> {
  let t = performance.now();
  const photo = await decodePhoto(bytes, { upscale: options.upscale });
  const ms: StepTimes = { decode: since(t), detect: 0, align: 0, restore: 0, paste: 0 };

  t = performance.now();
  const faces = await detector.detect(photo.rgb, { threshold: options.detectThreshold });
  ms.detect = since(t);

  t = performance.now();
  const output = enlargeRaster(photo.pixels, options.upscale);
  ms.paste += since(t);
  const faceMs = await restoreFacesOnto(
    photo,
    output,
    faces.map((f) => ({ landmarks: f.landmarks, fidelity: options.fidelity })),
    restorer,
    { upscale: options.upscale },
  );
  ms.align += faceMs.align;
  ms.restore += faceMs.restore;
  ms.paste += faceMs.paste;
  return { photo, faces, output, ms };
}

/** A face to restore: where its five points are in the photo, and its own fidelity w. */
export interface FaceToRestore {
  readonly landmarks: readonly (readonly [number, number])[];
  readonly fidelity: number;
}

export interface PasteOptions {
  /** `canvas` is the photo enlarged this many times (default 1). */
  readonly upscale?: number;
  /** `canvas` is the part of the photo from (x0, y0) (default the whole photo): a preview's crop. */
  readonly origin?: { readonly x0: number; readonly y0: number };
  /** Runs before each face (the engine process's cancel checkpoint). */
  readonly beforeEach?: () => Promise<void>;
}

/**
 * Aligns, restores and pastes each face onto `canvas`, in order, each at its own w (later faces win where they
 * overlap, §8.4); black-and-white photos keep their tone. The one loop behind the CLI, previews and exports.
 */
export async function restoreFacesOnto(
  photo: Photo,
  canvas: Raster,
  faces: readonly FaceToRestore[],
  restorer: Restorer,
  options: PasteOptions = {},
): Promise<Pick<StepTimes, 'align' | 'restore' | 'paste'>> {
  const ms = { align: 0, restore: 0, paste: 0 };
  const { x0, y0 } = options.origin ?? { x0: 0, y0: 0 };
  for (const face of faces) {
    await options.beforeEach?.();
    let t = performance.now();
    const toTemplate: Similarity = alignToTemplate(face.landmarks);
    const crop = warpToTemplate(photo.rgb, toTemplate);
    ms.align += since(t);

    t = performance.now();
    const restored = await restorer.restore(crop, face.fidelity);
    ms.restore += since(t);

    t = performance.now();
    // The same transform measured from the canvas's corner.
    const onCanvas = {
      ...toTemplate,
      tx: toTemplate.tx + toTemplate.a * x0 - toTemplate.b * y0,
      ty: toTemplate.ty + toTemplate.b * x0 + toTemplate.a * y0,
    };
    pasteBack(canvas, photo.gray ? matchGrayTone(restored, crop) : restored, onCanvas, options.upscale ?? 1);
    ms.paste += since(t);
  }
  return ms;
}

/**
 * An already aligned face (`--aligned`): resized to 512×512 if needed (bilinear, as the official script, with a
 * warning when that stretches it), restored, no detection and no paste-back. The output is the 512×512 face in
 * the input's depth and layout (gray faces gray-toned, alpha kept).
 */
export async function restoreAlignedFace(
  bytes: Uint8Array,
  restorer: Restorer,
  fidelity: number,
): Promise<RestoredAlignedFace> {
  let t = performance.now();
  const photo = await decodePhoto(bytes);
  const { width, height } = photo.pixels;
  const warnings =
    width === height
      ? []
      : [`the face is ${width}×${height}, not square: it was stretched to ${FACE_SIZE}×${FACE_SIZE}`];
  const square = width === FACE_SIZE && height === FACE_SIZE;
  const output = square
    ? { ...photo.pixels, data: photo.pixels.data.slice() }
    : resizeRaster(photo.pixels, FACE_SIZE, FACE_SIZE);
  const crop = square ? photo.rgb : toRgb8(output);
  const decode = since(t);
  t = performance.now();
  const restored = await restorer.restore(crop, fidelity);
  const ms = { decode, restore: since(t) };
  // The whole 512 square is the face: pasting it with the identity and no feather replaces every pixel.
  replaceFace(output, photo.gray ? matchGrayTone(restored, crop) : restored);
  return { photo, output, ms, warnings };
}
