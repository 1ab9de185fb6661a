import { FACE_SIZE, alignToTemplate, invertSimilarity, warpToTemplate, type Similarity } from './align.ts';
import { ALIGNED_GROW, strokeMask, wholeMask, type DamageMask, type Stroke } from './damage.ts';
import type { DetectedFace } from './detect.ts';
import { decodePhoto, toRgb8, type Photo, type Raster, type RgbImage } from './image.ts';
import { enlargePhoto, type PhotoEnlarger } from './enlarge.ts';
import { pasteBack, replaceFace, type RestoredFace } from './paste.ts';
import { resizeRaster } from './resize.ts';
import { centerFace } from './retinaface.ts';
import {
  blendThroughDamage,
  damageFromRaster,
  isUndamaged,
  matchGrayTone,
  paintDamageWhite,
  whitePixels,
  type FaceTask,
  type Restorer,
} from './restore.ts';

/** Milliseconds spent in each step of one photo, for `--json` and the benchmarks. */
export interface StepTimes {
  decode: number;
  detect: number;
  align: number;
  restore: number;
  /** The face parser's share of pasting. */
  parse: number;
  paste: number;
  /** Enlarging the background with the upsampler, when one ran. */
  background?: number;
}

export interface RestoreOptions {
  /** CodeFormer's fidelity w (paper default 0.5). */
  readonly fidelity: number;
  /** Integer enlargement of the whole photo. */
  readonly upscale: number;
  readonly detectThreshold?: number;
  /** The faces' five points, given instead of detected (in the photo's pixels, before `upscale`). */
  readonly landmarks?: readonly Landmarks5[];
  /** How every face is blended in (default 'face': through the parser's mask when there is a parser). */
  readonly blend?: 'face' | 'square';
  readonly parser?: FaceMasker;
  /** Enlarges the background when `upscale` > 1 (Real-ESRGAN, upscale.ts); without it, bilinear with a note. */
  readonly background?: PhotoEnlarger;
  /** What is done to each face (default 'restore'); the restorer must be the task's model. */
  readonly task?: FaceTask;
  /** inpaint: the damage, painted white on black at the photo's size (default: its pure-white pixels). */
  readonly damage?: Raster;
  /** Keep only the detected face nearest the photo's centre (official `--only_center_face`). */
  readonly onlyCenterFace?: boolean;
}

type Landmarks5 = readonly (readonly [number, number])[];

/** A face detector: YuNet (detect.ts) or RetinaFace (retinaface.ts). */
export interface FaceFinder {
  detect(image: RgbImage, options?: { threshold?: number }): Promise<DetectedFace[]>;
}

/** Faces given by their points: the box around the points, score 1. */
function givenFaces(landmarks: readonly Landmarks5[]): DetectedFace[] {
  return landmarks.map((points) => {
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const [x0, y0] = [Math.min(...xs), Math.min(...ys)];
    return {
      box: [x0, y0, Math.max(...xs) - x0, Math.max(...ys) - y0],
      score: 1,
      landmarks: points.map(([x, y]) => [x, y] as [number, number]),
    };
  });
}

export interface RestoredPhoto {
  readonly photo: Photo;
  /** The faces found, in the order they were pasted. */
  readonly faces: DetectedFace[];
  /** The whole photo, enlarged `upscale` times. */
  readonly output: Raster;
  readonly ms: StepTimes;
  /** What the user should know about this result, one line each. */
  readonly warnings: string[];
}

export interface RestoredAlignedFace {
  readonly photo: Photo;
  /** No faces are looked for in an aligned face (and a whole photo's result is never taken for one). */
  readonly faces?: never;
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

/**
 * Whole photo: detect (or take the given points) → align → restore → paste back, every face at the same
 * fidelity. `detector` may be undefined only when the landmarks are given.
 */
export async function restorePhoto(
  bytes: Uint8Array,
  detector: FaceFinder | undefined,
  restorer: Restorer,
  options: RestoreOptions,
): Promise<RestoredPhoto> {
  let t = performance.now();
  const photo = await decodePhoto(bytes, { upscale: options.upscale });
  const ms: StepTimes = { decode: since(t), detect: 0, align: 0, restore: 0, parse: 0, paste: 0 };

  t = performance.now();
  let faces: DetectedFace[];
  if (options.landmarks) faces = givenFaces(options.landmarks);
  else if (detector) faces = await detector.detect(photo.rgb, { threshold: options.detectThreshold });
  else throw new Error('restorePhoto needs a detector or the landmarks');
  if (options.onlyCenterFace) faces = centerFace(faces, photo.rgb.width, photo.rgb.height);
  ms.detect = since(t);

  t = performance.now();
  const warnings: string[] = [];
  // The background is enlarged from the original, then the faces pasted onto it (§8.4 "Background").
  const enlarged = await enlargePhoto(photo.pixels, options.upscale, options.background);
  let output = enlarged.canvas;
  if (enlarged.enlargedBy === 'real-esrgan') ms.background = since(t);
  else ms.paste += since(t);
  if (enlarged.enlargedBy === 'resizing') {
    warnings.push(
      'the background was enlarged by plain resizing (bilinear): install Real-ESRGAN ×2 for a sharper one',
    );
  }
  const task = options.task ?? 'restore';
  // A colorized face needs colour channels to land in (a gray canvas would take its luma).
  if (task === 'colorize') output = inColour(output);
  // Inpainting: the faces are pasted whole onto a copy, which comes back through the damage mask only.
  const damage = task === 'inpaint' ? damageOf(photo, photo.rgb, options.damage, warnings) : undefined;
  const onto = damage ? { ...output, data: output.data.slice() } : output;
  const faceMs = await restoreFacesOnto(
    damage ? { ...photo, rgb: paintDamageWhite(photo.rgb, damage) } : photo,
    onto,
    faces.map((f) => ({
      landmarks: f.landmarks,
      fidelity: options.fidelity,
      blend: damage ? 'square' : options.blend,
    })),
    restorer,
    {
      upscale: options.upscale,
      keepColour: task !== 'restore',
      ...(options.parser && !damage ? { parser: options.parser } : {}),
    },
  );
  if (damage) {
    t = performance.now();
    blendThroughDamage(output, onto, damage, options.upscale);
    ms.paste += since(t);
  }
  ms.align += faceMs.align;
  ms.restore += faceMs.restore;
  ms.parse += faceMs.parse;
  ms.paste += faceMs.paste;
  return { photo, faces, output, ms, warnings };
}

/** The colour version of a raster: gray copied to R, G and B (alpha kept); a colour raster as it is. */
export function inColour(raster: Raster): Raster {
  if (raster.channels >= 3) return raster;
  const alpha = raster.channels === 2;
  const channels = alpha ? 4 : 3;
  const n = raster.width * raster.height;
  const data = raster.depth === 16 ? new Uint16Array(n * channels) : new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    const v = raster.data[i * raster.channels]!;
    data[i * channels] = data[i * channels + 1] = data[i * channels + 2] = v;
    if (alpha) data[i * channels + 3] = raster.data[i * 2 + 1]!;
  }
  return { ...raster, channels, data };
}

/**
 * The damage to inpaint: the painted mask, which must be the photo's size, else the photo's pure-white pixels
 * (inference_inpainting.py). An empty one is said, as it leaves the photo as it was.
 */
function damageOf(photo: Photo, rgb: RgbImage, painted: Raster | undefined, warnings: string[]): DamageMask {
  const { width, height } = photo.pixels;
  if (painted && (painted.width !== width || painted.height !== height)) {
    throw new Error(
      `the damage mask is ${painted.width}×${painted.height} but the photo is ${width}×${height}: paint it at the photo's size`,
    );
  }
  // `rgb` is the photo, or the aligned face resized to 512×512; the mask goes with it.
  const resized =
    painted && (rgb.width !== width || rgb.height !== height)
      ? resizeRaster(painted, rgb.width, rgb.height)
      : painted;
  const damage = resized ? damageFromRaster(resized) : whitePixels(rgb);
  if (isUndamaged(damage)) {
    warnings.push(
      painted
        ? 'the damage mask is black everywhere: nothing was inpainted'
        : 'no damage marked (no pure-white pixels, and no mask given): nothing was inpainted',
    );
  }
  return damage;
}

/** A face to restore: where its five points are in the photo, its own fidelity w, and how it is blended in. */
export interface FaceToRestore {
  readonly landmarks: readonly (readonly [number, number])[];
  readonly fidelity: number;
  /** 'face' (default): through the parser's mask when there is a parser; 'square': the feathered square. */
  readonly blend?: 'face' | 'square';
  /**
   * What is done to it (default 'restore'): 'colorize' pastes the face in its own colours, 'inpaint' repairs the
   * `damage` painted on it and changes nothing else (no damage: the face is left as it is).
   */
  readonly task?: FaceTask;
  /** The damage painted on the face, in the photo's pixels, for 'inpaint'. */
  readonly damage?: readonly Stroke[];
}

/** What makes the parsing mask of a restored face (parse-mask.ts FaceParser). */
export interface FaceMasker {
  mask(face: RestoredFace): Promise<Float32Array>;
}

/** The model of each task, opened when a face first needs it. */
export type RestorerFor = (task: FaceTask) => Promise<Restorer>;

export interface PasteOptions {
  /** `canvas` is the photo enlarged this many times (default 1). */
  readonly upscale?: number;
  /** `canvas` is the part of the photo from (x0, y0) (default the whole photo): a preview's crop. */
  readonly origin?: { readonly x0: number; readonly y0: number };
  /** Runs before each face (the engine process's cancel checkpoint). */
  readonly beforeEach?: () => Promise<void>;
  /** Faces restored before (the engine's RestoredFaces): one found there is pasted without a restore. */
  readonly memory?: FaceMemory;
  /** The face parser: faces blended 'face' are pasted through its mask (§8.4 steps 7–8). */
  readonly parser?: FaceMasker;
  /**
   * A mask the parser made for the same face of the same photo at another w stands in for the face's own (the
   * slider's prepared steps, which a drag blends between: a face's outline barely moves with w, and parsing
   * costs about as much as restoring at a new w). Without one, the face's own mask is made. `borrowed` in the
   * result counts the faces pasted so.
   */
  readonly nearMasks?: boolean;
  /**
   * Paste the faces in their own colours on a black-and-white photo too, instead of turning them gray and
   * matching the photo's tone (§8.4 "Gray inputs"): what colorization is for. Faces whose task is not 'restore'
   * always keep their colours.
   */
  readonly keepColour?: boolean;
}

/**
 * Parsing masks of the restored faces, per parser: a face recalled from memory is the same array, so its mask
 * is made once; both go when the face leaves memory. A gray photo's face is parsed after its tone match (what
 * the official helper parses), so the two kinds are kept apart.
 */
const masks = new WeakMap<FaceMasker, WeakMap<RestoredFace, Map<boolean, Float32Array>>>();
/** The last mask made for each face of a photo (its points and tone), whatever its w: see `nearMasks`. */
const lastMasks = new WeakMap<Photo, Map<string, Float32Array>>();

async function maskOf(
  parser: FaceMasker,
  restored: RestoredFace,
  pasted: RestoredFace,
  gray: boolean,
  of: { readonly photo: Photo; readonly face: FaceToRestore; readonly near: boolean },
): Promise<{ mask: Float32Array; borrowed: boolean }> {
  let byFace = masks.get(parser);
  if (!byFace) masks.set(parser, (byFace = new WeakMap()));
  let byTone = byFace.get(restored);
  if (!byTone) byFace.set(restored, (byTone = new Map()));
  let mask = byTone.get(gray);
  if (mask) return { mask, borrowed: false };
  let last = lastMasks.get(of.photo);
  const key = JSON.stringify([of.face.landmarks, gray]);
  const near = of.near ? last?.get(key) : undefined;
  if (near) return { mask: near, borrowed: true };
  byTone.set(gray, (mask = await parser.mask(pasted)));
  if (!last) lastMasks.set(of.photo, (last = new Map()));
  last.set(key, mask);
  return { mask, borrowed: false };
}

/** Which model and provider restored a face: both change the pixels (a GPU's sums differ from the CPU's). */
export type RestoredBy = Pick<Restorer, 'model' | 'provider'>;

/** Restored faces of one photo, kept by whoever calls restoreFacesOnto, per model that restored them. */
export interface FaceMemory {
  /** The face as `by` restored it before at its w (and damage), or undefined. */
  recall(face: FaceToRestore, by: RestoredBy): RestoredFace | undefined;
  remember(face: FaceToRestore, by: RestoredBy, restored: RestoredFace): void;
}

/** What pasting the faces cost: the steps' milliseconds, and how many faces the network ran for. */
export interface FacesPasted extends Pick<StepTimes, 'align' | 'restore' | 'parse' | 'paste'> {
  /** Faces the restorer ran for. */
  restored: number;
  /** Faces found in `memory`, pasted without a restore. */
  recalled: number;
  /** Faces pasted through a mask made at another w (`nearMasks`). */
  borrowed: number;
}

/**
 * Aligns, restores and pastes each face onto `canvas`, in order, each at its own w and by its own task's model
 * (later faces win where they overlap, §8.4); black-and-white photos keep their tone, except in colorized
 * faces. An inpainted face comes in only through its painted damage. The one loop behind the CLI, previews
 * and exports. `restorer` is the model of every face, or the model of each face's task.
 */
export async function restoreFacesOnto(
  photo: Photo,
  canvas: Raster,
  faces: readonly FaceToRestore[],
  restorer: Restorer | RestorerFor,
  options: PasteOptions = {},
): Promise<FacesPasted> {
  const done = { align: 0, restore: 0, parse: 0, paste: 0, restored: 0, recalled: 0, borrowed: 0 };
  const { x0, y0 } = options.origin ?? { x0: 0, y0: 0 };
  const k = options.upscale ?? 1;
  const modelFor: RestorerFor = typeof restorer === 'function' ? restorer : () => Promise.resolve(restorer);
  for (const face of faces) {
    await options.beforeEach?.();
    const task = face.task ?? 'restore';
    // The damage on the output: the canvas pixels whose centres lie under the strokes, which are given from the
    // photo's top-left corner (pixel i spans i…i+1, as the editor draws them). Nothing painted, nothing to
    // repair: the face is left as it is.
    const damage =
      task === 'inpaint'
        ? strokeMask(canvas.width, canvas.height, face.damage ?? [], {
            a: 1 / k,
            b: 0,
            tx: 0.5 / k + x0,
            ty: 0.5 / k + y0,
          })
        : undefined;
    if (task === 'inpaint' && !damage) continue;
    const model = await modelFor(task);

    let t = performance.now();
    const toTemplate: Similarity = alignToTemplate(face.landmarks);
    const crop = warpToTemplate(photo.rgb, toTemplate);
    let input = crop;
    if (damage) {
      // The crop's pixel (u, v) samples the photo at the template's inverse of (u, v), a point in pixel-centre
      // terms (OpenCV's warp): half a pixel less than in the strokes' corner-based terms.
      const fromTemplate = invertSimilarity(toTemplate);
      const toStrokes = { ...fromTemplate, tx: fromTemplate.tx + 0.5, ty: fromTemplate.ty + 0.5 };
      const painted = strokeMask(FACE_SIZE, FACE_SIZE, face.damage ?? [], toStrokes, ALIGNED_GROW);
      input = paintDamageWhite(crop, wholeMask(painted, FACE_SIZE, FACE_SIZE));
    }
    done.align += since(t);

    t = performance.now();
    let restored = options.memory?.recall(face, model);
    if (restored) done.recalled++;
    else {
      restored = await model.restore(input, face.fidelity);
      options.memory?.remember(face, model, restored);
      done.restored++;
    }
    done.restore += since(t);

    t = performance.now();
    // A repair on a black-and-white photo is black and white too, in the tone of the face around it (the crop
    // before its damage was painted white); a colorized face keeps its colours.
    const grayTone = photo.gray && !options.keepColour && task !== 'colorize';
    const pasted = grayTone ? matchGrayTone(restored, crop) : restored;
    let faceMask: Float32Array | undefined;
    if (face.blend !== 'square' && options.parser && !damage) {
      const near = !!options.nearMasks;
      const made = await maskOf(options.parser, restored, pasted, grayTone, { photo, face, near });
      faceMask = made.mask;
      if (made.borrowed) done.borrowed++;
    }
    done.parse += since(t);

    t = performance.now();
    // The same transform measured from the canvas's corner.
    const onCanvas = {
      ...toTemplate,
      tx: toTemplate.tx + toTemplate.a * x0 - toTemplate.b * y0,
      ty: toTemplate.ty + toTemplate.b * x0 + toTemplate.a * y0,
    };
    pasteBack(canvas, pasted, onCanvas, k, faceMask, damage);
    done.paste += since(t);
  }
  return done;
}

/** What is done to an aligned face besides restoring it. */
export interface AlignedOptions {
  /** Default 'restore'; the restorer must be the task's model. */
  readonly task?: FaceTask;
  /** inpaint: the damage, painted white on black at the face's size (default: its pure-white pixels). */
  readonly damage?: Raster;
}

/**
 * An already aligned face (`--aligned`): resized to 512×512 if needed (bilinear, as the official script, with a
 * warning when that stretches it), restored, no detection and no paste-back. The output is the 512×512 face in
 * the input's depth and layout (gray faces gray-toned, alpha kept), except that a colorized face is in colour,
 * and an inpainted one keeps every pixel outside the damage (inference_inpainting.py's blend).
 */
export async function restoreAlignedFace(
  bytes: Uint8Array,
  restorer: Restorer,
  fidelity: number,
  options: AlignedOptions = {},
): Promise<RestoredAlignedFace> {
  let t = performance.now();
  const photo = await decodePhoto(bytes);
  const { width, height } = photo.pixels;
  const warnings =
    width === height
      ? []
      : [`the face is ${width}×${height}, not square: it was stretched to ${FACE_SIZE}×${FACE_SIZE}`];
  const square = width === FACE_SIZE && height === FACE_SIZE;
  const face = square
    ? { ...photo.pixels, data: photo.pixels.data.slice() }
    : resizeRaster(photo.pixels, FACE_SIZE, FACE_SIZE);
  const crop = square ? photo.rgb : toRgb8(face);
  const task = options.task ?? 'restore';
  const output = task === 'colorize' ? inColour(face) : face;
  const damage = task === 'inpaint' ? damageOf(photo, crop, options.damage, warnings) : undefined;
  const decode = since(t);
  t = performance.now();
  const restored = await restorer.restore(damage ? paintDamageWhite(crop, damage) : crop, fidelity);
  const ms = { decode, restore: since(t) };
  // The whole 512 square is the face: pasting it with the identity and no feather replaces every pixel.
  if (damage) {
    const whole = { ...output, data: output.data.slice() };
    replaceFace(whole, restored);
    blendThroughDamage(output, whole, damage);
  } else replaceFace(output, photo.gray && task === 'restore' ? matchGrayTone(restored, crop) : restored);
  return { photo, output, ms, warnings };
}
