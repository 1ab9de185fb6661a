import type { Box } from '../../../../src-main/contract/index.ts';

/*
 * Where the photo sits on the stage: photo pixels → screen (CSS) pixels as `screen = offset + photo · scale`.
 * "Fit" shows the whole photo centred; "1:1" shows one photo pixel per device pixel, panned by dragging.
 * Face boxes are placed with the same numbers, so they follow zoom and pan. Plain functions, tested in
 * tests/renderer/view.test.ts.
 */

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface View {
  readonly scale: number;
  readonly x: number;
  readonly y: number;
}

export interface Rect {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** The whole photo, as large as the stage allows, centred (a small scan is enlarged: its faces are what matter). */
export function fitView(photo: Size, stage: Size, margin = 16): View {
  if (photo.width <= 0 || photo.height <= 0 || stage.width <= 0 || stage.height <= 0) {
    return { scale: 1, x: 0, y: 0 };
  }
  const room = {
    width: Math.max(1, stage.width - 2 * margin),
    height: Math.max(1, stage.height - 2 * margin),
  };
  const scale = Math.min(room.width / photo.width, room.height / photo.height);
  return {
    scale,
    x: (stage.width - photo.width * scale) / 2,
    y: (stage.height - photo.height * scale) / 2,
  };
}

/**
 * One photo pixel per device pixel (what "1:1" means in photo tools), with `focus` (photo pixels: the selected
 * face's centre, or the photo's) in the middle of the stage as far as the photo's edges allow.
 */
export function actualView(
  photo: Size,
  stage: Size,
  devicePixelRatio: number,
  focus?: readonly [number, number],
): View {
  const scale = 1 / (devicePixelRatio > 0 ? devicePixelRatio : 1);
  const [fx, fy] = focus ?? [photo.width / 2, photo.height / 2];
  return clampPan({ scale, x: stage.width / 2 - fx * scale, y: stage.height / 2 - fy * scale }, photo, stage);
}

/** A pan kept sensible: a side larger than the stage cannot leave a gap at its edges; a smaller one is centred. */
export function clampPan(view: View, photo: Size, stage: Size): View {
  const axis = (offset: number, length: number, room: number): number => {
    const shown = length * view.scale;
    if (shown <= room) return (room - shown) / 2;
    return Math.min(0, Math.max(room - shown, offset));
  };
  return {
    scale: view.scale,
    x: axis(view.x, photo.width, stage.width),
    y: axis(view.y, photo.height, stage.height),
  };
}

/** A point on the stage in photo pixels. */
export function toPhoto(view: View, sx: number, sy: number): [number, number] {
  return [(sx - view.x) / view.scale, (sy - view.y) / view.scale];
}

/** A box in photo pixels on the stage. */
export function toScreen(view: View, box: Box): Rect {
  return {
    left: view.x + box[0] * view.scale,
    top: view.y + box[1] * view.scale,
    width: box[2] * view.scale,
    height: box[3] * view.scale,
  };
}

/** The box a drag from a to b draws (any direction), kept inside the photo, in whole pixels. */
export function boxFromDrag(a: readonly [number, number], b: readonly [number, number], photo: Size): Box {
  const clampX = (v: number): number => Math.min(photo.width, Math.max(0, v));
  const clampY = (v: number): number => Math.min(photo.height, Math.max(0, v));
  const x0 = Math.round(clampX(Math.min(a[0], b[0])));
  const y0 = Math.round(clampY(Math.min(a[1], b[1])));
  const x1 = Math.round(clampX(Math.max(a[0], b[0])));
  const y1 = Math.round(clampY(Math.max(a[1], b[1])));
  return [x0, y0, x1 - x0, y1 - y0];
}

/** The smallest face worth adding, in photo pixels: smaller boxes are a slip of the mouse, not a face. */
export const MIN_FACE_PIXELS = 16;

export function bigEnough(box: Box, min = MIN_FACE_PIXELS): boolean {
  return box[2] >= min && box[3] >= min;
}

/** The middle of a box, in photo pixels. */
export function centreOf(box: Box): [number, number] {
  return [box[0] + box[2] / 2, box[1] + box[3] / 2];
}
